import { randomBytes } from 'node:crypto';

/** Random token of the given byte length, URL- and SIP-token-safe (base64url). */
export function randomToken(bytes = 12): string {
  return randomBytes(bytes).toString('base64url');
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
