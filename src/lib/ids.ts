import { randomBytes } from 'node:crypto';

/**
 * Random bytes come from a pool refilled 4 KiB at a time: a server answering tens of thousands
 * of requests a second makes a tag per response, and one randomBytes() call per tag showed up
 * as a few per cent of the CPU profile.
 */
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let poolOffset = 0;

function takeRandom(bytes: number): Buffer {
  if (bytes > POOL_SIZE) return randomBytes(bytes);
  if (poolOffset + bytes > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return out;
}

/** Random token of the given byte length, URL- and SIP-token-safe (base64url). */
export function randomToken(bytes = 12): string {
  return takeRandom(bytes).toString('base64url');
}

/** RFC 3261 §8.1.1.7: every branch starts with the magic cookie. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

export function newBranch(): string {
  return BRANCH_MAGIC_COOKIE + randomToken(12);
}

/** From/To tags (RFC 3261 §19.3): at least 32 bits of randomness. */
export function newTag(): string {
  return randomToken(8);
}

export function newCallId(host?: string): string {
  const id = randomToken(16);
  return host === undefined ? id : `${id}@${host}`;
}
