/**
 * Address strings for received datagrams, built once per peer: the native engine reports a
 * source as numbers, and a steady peer (an RTP stream, a trunk) should not cost a string per
 * datagram. The tables are cleared when they grow past their bound, so a scan from many
 * sources costs memory only up to that bound.
 */
const MAX_ENTRIES = 4096;

interface V6Entry {
  w0: number;
  w1: number;
  w2: number;
  w3: number;
  text: string;
}

export class PeerAddressCache {
  private readonly v4 = new Map<number, string>();
  private readonly v6 = new Map<number, V6Entry>();
  private lastV6: V6Entry = { w0: 0, w1: 0, w2: 0, w3: 1, text: '::1' };

  /** `n` is the address as a host-order 32-bit number */
  ipv4(n: number): string {
    let text = this.v4.get(n);
    if (text === undefined) {
      text = dotted(n);
      if (this.v4.size >= MAX_ENTRIES) this.v4.clear();
      this.v4.set(n, text);
    }
    return text;
  }

  /** the address as four host-order 32-bit words */
  ipv6(w0: number, w1: number, w2: number, w3: number): string {
    const last = this.lastV6;
    if (last.w3 === w3 && last.w2 === w2 && last.w1 === w1 && last.w0 === w0) return last.text;
    const key = (w0 ^ Math.imul(w1, 31) ^ Math.imul(w2, 961) ^ Math.imul(w3, 29791)) | 0;
    let entry = this.v6.get(key);
    if (entry === undefined || entry.w0 !== w0 || entry.w1 !== w1 || entry.w2 !== w2 || entry.w3 !== w3) {
      entry = { w0, w1, w2, w3, text: formatIpv6(w0, w1, w2, w3) };
      if (this.v6.size >= MAX_ENTRIES) this.v6.clear();
      this.v6.set(key, entry);
    }
    this.lastV6 = entry;
    return entry.text;
  }
}

function dotted(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * The text form Node's dgram reports (libuv's inet_ntop, RFC 5952 style): lower-case hex, the
 * longest run of two or more zero groups written as `::`, IPv4-mapped and IPv4-compatible
 * addresses with a dotted tail.
 */
export function formatIpv6(w0: number, w1: number, w2: number, w3: number): string {
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  if (bestBase === 0 && (bestLen === 6 || (bestLen === 7 && g[7] !== 1) || (bestLen === 5 && g[5] === 0xffff))) {
    return (bestLen === 5 ? '::ffff:' : '::') + dotted(w3 >>> 0);
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestBase) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += (g[i] ?? 0).toString(16);
  }
  return out;
}
