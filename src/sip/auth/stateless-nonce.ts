/**
 * Stateless nonces: base64url(timestamp || salt || HMAC-SHA256(secret, timestamp || salt || realm)).
 *
 * Any node holding the same secret can check a nonce it did not issue, so a REGISTER may be
 * challenged by one SIP node and answered to another (DESIGN.md: nodes are stateless where the
 * protocol allows). RFC 7616 §3.3 suggests exactly this shape: a time stamp plus a private key hash.
 * The timestamp is wall time because it crosses processes.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

const TIMESTAMP_BYTES = 8;
/**
 * Salt: without it every challenge minted in the same millisecond would share a nonce, and the
 * per-nonce nc tracking would then reject the second client's nc=1 as a replay. It is a random
 * prefix drawn once per instance plus a counter (unique within the instance, and between
 * instances unless two draw the same 32 random bits): a randomBytes() call per challenge cost
 * about as much as the HMAC.
 */
const SALT_BYTES = 8;
/** HMAC-SHA256 block size (RFC 2104 §2) */
const BLOCK_BYTES = 64;
const STAMP_BYTES = TIMESTAMP_BYTES + SALT_BYTES;
/** HMAC-SHA256 output truncated to 128 bits: ample against forgery and keeps the nonce short. */
const MAC_BYTES = 16;
const NONCE_BYTES = STAMP_BYTES + MAC_BYTES;

export type NonceCheck =
  | { valid: true; issuedAt: number; expired: boolean }
  | { valid: false };

export class StatelessNonce {
  /** the key XOR ipad / opad (RFC 2104), so one MAC is two one-shot hashes */
  private readonly innerPad: Buffer;
  private readonly outerPad: Buffer;
  private readonly realmSuffix: Buffer;
  private readonly saltPrefix: number;
  private counter = 0;

  constructor(
    secret: string | Buffer,
    private readonly realm: string,
    private readonly ttlMs: number,
  ) {
    const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
    const block = Buffer.alloc(BLOCK_BYTES);
    (key.length > BLOCK_BYTES ? hash('sha256', key, 'buffer') : key).copy(block);
    this.innerPad = Buffer.from(block.map((b) => b ^ 0x36));
    this.outerPad = Buffer.from(block.map((b) => b ^ 0x5c));
    this.realmSuffix = Buffer.from(`:${this.realm}`, 'utf8');
    this.saltPrefix = randomBytes(4).readUInt32BE(0);
  }

  /** a fresh nonce stamped with `wallNow` (ms since epoch) */
  issue(wallNow: number): string {
    const buf = Buffer.alloc(NONCE_BYTES);
    // the 64-bit big-endian millisecond stamp as two 32-bit halves: the same bytes as
    // writeBigUInt64BE, without a BigInt per challenge
    const ms = Math.max(0, Math.floor(wallNow));
    buf.writeUInt32BE(Math.floor(ms / 0x1_0000_0000) >>> 0, 0);
    buf.writeUInt32BE(ms >>> 0, 4);
    buf.writeUInt32BE(this.saltPrefix, TIMESTAMP_BYTES);
    this.counter = (this.counter + 1) >>> 0;
    buf.writeUInt32BE(this.counter, TIMESTAMP_BYTES + 4);
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
    const issuedAt = stamp.readUInt32BE(0) * 0x1_0000_0000 + stamp.readUInt32BE(4);
    // A nonce from the future (clock skew between nodes beyond a few seconds) is treated as expired.
    const age = wallNow - issuedAt;
    const expired = age > this.ttlMs || age < -5_000;
    return { valid: true, issuedAt, expired };
  }

  /** HMAC-SHA256(key, stamp ":" realm) truncated (RFC 2104), the same bytes as createHmac gives */
  private mac(stamp: Buffer): Buffer {
    const inner = hash('sha256', Buffer.concat([this.innerPad, stamp, this.realmSuffix]), 'buffer');
    return hash('sha256', Buffer.concat([this.outerPad, inner]), 'buffer').subarray(0, MAC_BYTES);
  }
}

/** A client nonce (RFC 7616 §3.4: cnonce) */
export function newCnonce(): string {
  return randomBytes(12).toString('base64url');
}
