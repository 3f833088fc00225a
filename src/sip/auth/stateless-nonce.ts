/**
 * Stateless nonces: base64url(timestamp || salt || HMAC-SHA256(secret, timestamp || salt || realm)).
 *
 * Any node holding the same secret can check a nonce it did not issue, so a REGISTER may be
 * challenged by one SIP node and answered to another (DESIGN.md: nodes are stateless where the
 * protocol allows). RFC 7616 §3.3 suggests exactly this shape: a time stamp plus a private key hash.
 * The timestamp is wall time because it crosses processes.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const TIMESTAMP_BYTES = 8;
/**
 * Random salt: without it every challenge minted in the same millisecond would share a nonce,
 * and the per-nonce nc tracking would then reject the second client's nc=1 as a replay.
 */
const SALT_BYTES = 8;
const STAMP_BYTES = TIMESTAMP_BYTES + SALT_BYTES;
/** HMAC-SHA256 output truncated to 128 bits: ample against forgery and keeps the nonce short. */
const MAC_BYTES = 16;
const NONCE_BYTES = STAMP_BYTES + MAC_BYTES;

export type NonceCheck =
  | { valid: true; issuedAt: number; expired: boolean }
  | { valid: false };

export class StatelessNonce {
  private readonly key: Buffer;

  constructor(
    secret: string | Buffer,
    private readonly realm: string,
    private readonly ttlMs: number,
  ) {
    this.key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  }

  /** a fresh nonce stamped with `wallNow` (ms since epoch) */
  issue(wallNow: number): string {
    const buf = Buffer.alloc(NONCE_BYTES);
    buf.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(wallNow))), 0);
    randomBytes(SALT_BYTES).copy(buf, TIMESTAMP_BYTES);
    this.mac(buf.subarray(0, STAMP_BYTES)).copy(buf, STAMP_BYTES);
    return buf.toString('base64url');
  }

  /** authenticity first, then age; never throws on garbage */
  check(nonce: string, wallNow: number): NonceCheck {
    if (nonce.length === 0 || nonce.length > 64 || !/^[A-Za-z0-9_-]+$/.test(nonce)) return { valid: false };
    const buf = Buffer.from(nonce, 'base64url');
    if (buf.length !== NONCE_BYTES) return { valid: false };
    const stamp = buf.subarray(0, STAMP_BYTES);
    if (!timingSafeEqual(this.mac(stamp), buf.subarray(STAMP_BYTES))) return { valid: false };
    const issuedAt = Number(stamp.readBigUInt64BE(0));
    // A nonce from the future (clock skew between nodes beyond a few seconds) is treated as expired.
    const age = wallNow - issuedAt;
    const expired = age > this.ttlMs || age < -5_000;
    return { valid: true, issuedAt, expired };
  }

  private mac(stamp: Buffer): Buffer {
    return createHmac('sha256', this.key).update(stamp).update(':').update(this.realm, 'utf8').digest().subarray(0, MAC_BYTES);
  }
}

/** A client nonce (RFC 7616 §3.4: cnonce) */
export function newCnonce(): string {
  return randomBytes(12).toString('base64url');
}
