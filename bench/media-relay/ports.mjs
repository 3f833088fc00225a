// Free UDP port ranges for the engines' media ports, read from /proc/net/udp{,6}.
import fs from 'node:fs';

/** UDP ports bound right now on this host (any address, IPv4 and IPv6). */
export function boundUdpPorts() {
  const ports = new Set();
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try { text = fs.readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (local) ports.add(parseInt(local.split(':').pop(), 16));
    }
  }
  return ports;
}

/**
 * A range of `size` consecutive ports with nothing bound in it, below the kernel's ephemeral range
 * (so sockets bound to port 0 by anyone, the load generator included, never land in it), not
 * overlapping `avoid` ([min, max] pairs). Engines still skip a port that gets taken later.
 */
export function freeUdpRange(size, avoid = []) {
  let ephemeralLow = 32768;
  try { ephemeralLow = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768; } catch { /* default */ }
  const bound = boundUdpPorts();
  const candidates = [];
  for (let lo = 10000; lo + size - 1 < ephemeralLow; lo += 500) candidates.push(lo);
  // above the ephemeral range too, if the space below is too small
  for (let lo = 61000; lo + size - 1 <= 65535; lo += 500) candidates.push(lo);
  for (const lo of candidates) {
    const hi = lo + size - 1;
    if (avoid.some(([a, b]) => lo <= b && hi >= a)) continue;
    let clear = true;
    for (const p of bound) if (p >= lo && p <= hi) { clear = false; break; }
    if (clear) return [lo, hi];
  }
  throw new Error(`no free range of ${size} UDP ports`);
}
