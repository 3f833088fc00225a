/**
 * 32-bit FNV-1a: a cheap, stable, non-cryptographic hash for hot paths (deterministic tags and
 * branches, picking the worker that owns a Call-ID). Never for anything an attacker must not predict.
 */
export function fnv1a32(text: string, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * 64 bits of FNV-1a (two seeds) as a short token-safe string: a stable id derived from `text`.
 * Both hashes in one pass over the text (the same values as two fnv1a32 calls): the proxy
 * computes one per forwarded request.
 */
export function stableToken(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193);
  }
  return (a >>> 0).toString(36) + (b >>> 0).toString(36);
}
