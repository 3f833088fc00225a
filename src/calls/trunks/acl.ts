import net from 'node:net';

/**
 * Source-address ACLs for inbound trunks: "10.0.0.0/8", "2001:db8::/32", or a single address.
 * Matching is done on the bytes of the address so IPv4-mapped IPv6 ("::ffff:192.0.2.1", what a
 * dual-stack socket reports) matches an IPv4 rule.
 */
export interface Cidr {
  bytes: Uint8Array;
  prefix: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const [addr = '', len] = text.trim().split('/');
  const bytes = addressBytes(addr);
  if (bytes === undefined) return undefined;
  const max = bytes.length * 8;
  const prefix = len === undefined ? max : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (len !== undefined && !/^\d+$/.test(len))) return undefined;
  return { bytes, prefix };
}

export function cidrContains(cidr: Cidr, address: string): boolean {
  let bytes = addressBytes(address);
  if (bytes === undefined) return false;
  if (bytes.length === 16 && cidr.bytes.length === 4 && isV4Mapped(bytes)) bytes = bytes.subarray(12);
  if (bytes.length !== cidr.bytes.length) return false;
  const full = Math.floor(cidr.prefix / 8);
  for (let i = 0; i < full; i++) if (bytes[i] !== cidr.bytes[i]) return false;
  const rest = cidr.prefix % 8;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((bytes[full] as number) & mask) === ((cidr.bytes[full] as number) & mask);
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

function addressBytes(address: string): Uint8Array | undefined {
  const a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const kind = net.isIP(a);
  if (kind === 4) return new Uint8Array(a.split('.').map(Number));
  if (kind !== 6) return undefined;
  // expand "::" and an embedded IPv4 tail
  let text = a;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4 !== null) {
    const p = (v4[1] as string).split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -(v4[1] as string).length) + `${((p[0] << 8) | p[1]).toString(16)}:${((p[2] << 8) | p[3]).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const tl = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - tl.length).fill('0'), ...tl];
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}
