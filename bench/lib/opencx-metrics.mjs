// What the runners read from a running opencx and from SIPp's pcaps: /metrics summed per name, a
// 1 s sampler of metrics, CPU and memory, the wait until the engine has drained, and the RTP
// payload of a pcap (the audio SIPp's rtp_stream sends).
import fs from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { treeCpuSeconds, treeMemoryKb } from './common.mjs';

/** GET /metrics and sum each metric over its label sets. */
export async function scrape(httpPort) {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(3000) });
  const out = {};
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) out[m[1]] = (out[m[1]] ?? 0) + Number(m[3]);
  }
  return out;
}

/**
 * Sample /metrics, the server's CPU and memory every `everyMs` until stop(). `extra()` adds fields
 * to each sample; `afterSample()` runs after each one. Each reading carries its own time: a scrape
 * under load can take a while.
 */
export function sampler(server, httpPort, { everyMs = 1000, extra = () => ({}), afterSample = () => {} } = {}) {
  const samples = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t = Date.now();
      try {
        const m = await scrape(httpPort);
        samples.push({ t: Date.now(), m, cpu: treeCpuSeconds(server.pid), mem: treeMemoryKb(server.pid), ...extra() });
        afterSample();
      } catch (e) {
        samples.push({ t, error: String(e?.message ?? e) });
      }
      const wait = everyMs - (Date.now() - t);
      if (wait > 0 && !stopped) await delay(wait);
    }
  })();
  return { samples, last: () => samples.filter((s) => s.m).at(-1), stop: async () => { stopped = true; await loop; } };
}

/** Wait until every named gauge reads 0 (or timeoutS): { ok, afterS, m }. */
export async function waitDrained(httpPort, timeoutS, gauges) {
  const t0 = Date.now();
  let m = null;
  while (Date.now() - t0 < timeoutS * 1000) {
    try { m = await scrape(httpPort); } catch { m = null; }
    if (m && gauges.every((g) => (m[g] ?? 0) === 0)) return { ok: true, afterS: (Date.now() - t0) / 1000, m };
    await delay(500);
  }
  return { ok: false, afterS: (Date.now() - t0) / 1000, m };
}

/** The RTP payload of every packet of a pcap (Ethernet, Linux cooked or raw IPv4/UDP/RTP) concatenated. */
export function rtpPayloadOfPcap(file) {
  const b = fs.readFileSync(file);
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && b.readUInt32BE(0) !== 0xa1b2c3d4 && b.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${file}: not a pcap file`);
  const u32 = (o) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const link = u32(20);
  const l2 = link === 1 ? 14 : link === 113 ? 16 : link === 101 ? 0 : -1;
  if (l2 < 0) throw new Error(`${file}: link type ${link} not handled`);
  const parts = [];
  for (let off = 24; off + 16 <= b.length;) {
    const incl = u32(off + 8);
    const pkt = b.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    const ip = pkt.subarray(l2);
    if (ip.length < 20 || ip[0] >> 4 !== 4 || ip[9] !== 17) continue;
    const udp = ip.subarray((ip[0] & 15) * 4);
    const rtp = udp.subarray(8, udp.readUInt16BE(4));
    if (rtp.length < 12 || rtp[0] >> 6 !== 2) continue;
    let h = 12 + (rtp[0] & 15) * 4;
    if (rtp[0] & 0x10) h += 4 + rtp.readUInt16BE(h + 2) * 4;
    let end = rtp.length;
    if (rtp[0] & 0x20) end -= rtp[end - 1];
    parts.push(rtp.subarray(h, end));
  }
  return Buffer.concat(parts);
}
