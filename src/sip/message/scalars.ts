/** Scalar header values (RFC 3261 §20.16 CSeq, §20.22 Max-Forwards, §20.14 Content-Length, §20.19 Expires). */
import { parseUint, scanToken, skipWs } from './syntax.js';
import type { CSeq } from './types.js';

/** CSeq sequence numbers are 32-bit (RFC 3261 §8.1.1.5: "MUST be expressible as a 32-bit unsigned integer"). */
export const MAX_CSEQ = 0xffffffff;

/** `1*DIGIT LWS Method`; undefined when malformed or out of range (RFC 4475 §3.1.2.4). */
export function parseCSeq(value: string): CSeq | undefined {
  let i = 0;
  while (i < value.length && value.charCodeAt(i) >= 48 && value.charCodeAt(i) <= 57) i++;
  const seq = parseUint(value.slice(0, i), MAX_CSEQ);
  if (seq === undefined) return undefined;
  const m = skipWs(value, i);
  if (m === i) return undefined;
  const end = scanToken(value, m);
  if (end === m || end !== value.length) return undefined;
  return { seq, method: value.slice(m, end) };
}

/** Max-Forwards is 0..255 (RFC 3261 §25.1: 1*DIGIT, §8.1.1.6 starts at 70; RFC 4475 §3.1.2.4 rejects 300). */
export function parseMaxForwards(value: string): number | undefined {
  return parseUint(value, 255);
}

/** delta-seconds / Content-Length: decimal up to 2^32-1. */
export function parseDeltaSeconds(value: string): number | undefined {
  return parseUint(value, 0xffffffff);
}

/** an option-tag or method list: comma separated tokens */
export function parseTokenList(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const t = v.trim();
    if (t !== '' && scanToken(t, 0) === t.length) out.push(t);
  }
  return out;
}
