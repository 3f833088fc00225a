/**
 * Seeds and mutations shared by test/unit/sip/message/fuzz.test.ts and bench/fuzz/run.ts
 * (fast-check arbitraries): byte flips, truncation, insertion, header-line duplication.
 */
import fc from 'fast-check';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');

/** the RFC 4475 files of a conformance folder (empty when it is missing) */
export function tortureSeeds(conformance: string | undefined): Buffer[] {
  const dir = conformance === undefined ? undefined : path.join(conformance, 'sip-torture');
  if (dir === undefined || !existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.dat')).sort().map((f) => readFileSync(path.join(dir, f)));
}

const token = fc.stringMatching(/^[A-Za-z0-9.!%*_+`'~-]{1,12}$/);
const user = fc.stringMatching(/^[A-Za-z0-9.!*_+'~-]{1,12}$/);
const host = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5}){0,2}$/),
  fc.ipV4(),
  fc.ipV6().map((a) => `[${a}]`),
);

/** generated valid requests and responses */
export const validMessage: fc.Arbitrary<Buffer> = fc
  .record({
    method: fc.constantFrom('INVITE', 'OPTIONS', 'REGISTER', 'BYE', 'MESSAGE', 'X-CUSTOM'),
    user,
    host,
    port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    branch: token,
    display: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
    tag: token,
    seq: fc.integer({ min: 0, max: 0xffffffff }),
    response: fc.option(fc.integer({ min: 100, max: 699 }), { nil: undefined }),
    vias: fc.integer({ min: 1, max: 3 }),
    body: fc.uint8Array({ maxLength: 40 }),
    compact: fc.boolean(),
  })
  .map((r) => {
    const hp = r.host + (r.port === undefined ? '' : ':' + String(r.port));
    const display = r.display === undefined ? '' : '"' + r.display.replace(/[\\"\r\n]/g, '') + '" ';
    const lines = [
      r.response === undefined ? `${r.method} sip:${r.user}@${hp} SIP/2.0` : `SIP/2.0 ${r.response} Whatever`,
      ...Array.from({ length: r.vias }, (_, i) => `${r.compact ? 'v' : 'Via'}: SIP/2.0/UDP ${hp};branch=z9hG4bK${r.branch}${i};rport`),
      `${r.compact ? 't' : 'To'}: <sip:${r.user}@${hp}>`,
      `${r.compact ? 'f' : 'From'}: ${display}<sip:${r.user}@${hp}>;tag=${r.tag}`,
      `${r.compact ? 'i' : 'Call-ID'}: ${r.tag}@${r.user}`,
      `CSeq: ${r.seq} ${r.method}`,
      'Max-Forwards: 70',
      `Contact: <sip:${r.user}@${hp};transport=udp>;expires=60`,
      `${r.compact ? 'l' : 'Content-Length'}: ${r.body.length}`,
      '',
    ];
    return Buffer.concat([crlf(...lines, ''), Buffer.from(r.body)]);
  });

type Mutation = (b: Buffer) => Buffer;

const flip: fc.Arbitrary<Mutation> = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([i, v]) => (b: Buffer) => {
  if (b.length === 0) return b;
  const c = Buffer.from(b);
  c[i % c.length] = v;
  return c;
});
const truncate: fc.Arbitrary<Mutation> = fc.nat().map((n) => (b: Buffer) => b.subarray(0, b.length === 0 ? 0 : n % b.length));
const SPECIAL = [' ', '\t', '\r\n', '\r\n ', ';', ',', ':', '"', '\\', '<', '>', '@', '%', '=', '[', ']', '\x00', 'é', '\r', '\n'];
const insert: fc.Arbitrary<Mutation> = fc
  .tuple(fc.nat(), fc.oneof(fc.constantFrom(...SPECIAL), fc.string({ maxLength: 6 })))
  .map(([i, s]) => (b: Buffer) => {
    const at = b.length === 0 ? 0 : i % b.length;
    return Buffer.concat([b.subarray(0, at), Buffer.from(s, 'utf8'), b.subarray(at)]);
  });
const duplicateLine: fc.Arbitrary<Mutation> = fc.nat().map((i) => (b: Buffer) => {
  const lines = b.toString('latin1').split('\r\n');
  const head = lines.indexOf('');
  const limit = head === -1 ? lines.length : head;
  if (limit <= 1) return b;
  const k = 1 + (i % (limit - 1));
  lines.splice(k, 0, lines[k] ?? '');
  return Buffer.from(lines.join('\r\n'), 'latin1');
});

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(flip, truncate, insert, duplicateLine);

/** a seed (corpus or generated) with 0-4 mutations applied */
export function mutatedMessage(corpus: Buffer[]): fc.Arbitrary<Buffer> {
  const seed = fc.oneof(fc.constantFrom(...corpus), validMessage);
  return fc.tuple(seed, fc.array(mutation, { maxLength: 4 })).map(([b, ms]) => ms.reduce((acc, m) => m(acc), b));
}
