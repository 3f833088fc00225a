/**
 * Stateless nonces: base64url(timestamp || salt || HMAC-SHA256(secret, timestamp || salt || realm)).
 *
 * Any node holding the same secret can check a nonce it did not issue, so a REGISTER may be
 * challenged by one SIP node and answered to another (DESIGN.md: nodes are stateless where the
 * protocol allows). RFC 7616 §3.3 suggests exactly this shape: a time stamp plus a private key hash.
 * The timestamp is wall time because it crosses processes.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { makeRoom } from './bounded-map.js';

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

/**
 * How many nonces issued here and not answered yet are remembered (see StatelessNonce.check):
 * enough for a few seconds of challenges at tens of thousands per second, a few MB at most.
 */
const MAX_UNANSWERED = 32_768;

export class StatelessNonce {
  /**
   * Nonces this instance issued that no answer has come back with yet, to when they were issued.
   * The answer to our own recent challenge (nearly every REGISTER's second leg, every INVITE
   * after a 407) is then known authentic without computing the MAC again; a nonce from another
   * node, a later reuse (nc > 1) or one pushed out of this bounded map is checked by its MAC as
   * before. Only nonces we minted ever get in, so nothing here can be forged from outside.
   */
  private readonly unanswered = new Map<string, number>();
  /** the key XOR ipad / opad (RFC 2104) with room for the rest, so one MAC is two one-shot hashes */
  private readonly innerInput: Buffer;
  private readonly outerInput: Buffer;
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
    const realmSuffix = Buffer.from(`:${this.realm}`, 'utf8');
    // inner: ipad-key || stamp || ":" realm; outer: opad-key || inner digest (32 bytes)
    this.innerInput = Buffer.concat([Buffer.from(block.map((b) => b ^ 0x36)), Buffer.alloc(STAMP_BYTES), realmSuffix]);
    this.outerInput = Buffer.concat([Buffer.from(block.map((b) => b ^ 0x5c)), Buffer.alloc(32)]);
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
    const nonce = buf.toString('base64url');
    makeRoom(this.unanswered, MAX_UNANSWERED);
    this.unanswered.set(nonce, ms);
    return nonce;
  }

  /** authenticity first, then age; never throws on garbage */
  check(nonce: string, wallNow: number): NonceCheck {
    const issued = this.unanswered.get(nonce);
    if (issued !== undefined) {
      this.unanswered.delete(nonce);
      return this.aged(issued, wallNow);
    }
    if (nonce.length === 0 || nonce.length > 64 || !/^[A-Za-z0-9_-]+$/.test(nonce)) return { valid: false };
    const buf = Buffer.from(nonce, 'base64url');
    if (buf.length !== NONCE_BYTES) return { valid: false };
    const stamp = buf.subarray(0, STAMP_BYTES);
    if (!timingSafeEqual(this.mac(stamp), buf.subarray(STAMP_BYTES))) return { valid: false };
    return this.aged(stamp.readUInt32BE(0) * 0x1_0000_0000 + stamp.readUInt32BE(4), wallNow);
  }

  private aged(issuedAt: number, wallNow: number): NonceCheck {
    // A nonce from the future (clock skew between nodes beyond a few seconds) is treated as expired.
    const age = wallNow - issuedAt;
    const expired = age > this.ttlMs || age < -5_000;
    return { valid: true, issuedAt, expired };
  }

  /** HMAC-SHA256(key, stamp ":" realm) truncated (RFC 2104), the same bytes as createHmac gives */
  private mac(stamp: Buffer): Buffer {
    // the two hash inputs live in buffers made once, pads and realm already in place: only the
    // stamp and the inner digest are copied in (calls never overlap: all of this is synchronous)
    const innerInput = this.innerInput;
    stamp.copy(innerInput, BLOCK_BYTES, 0, STAMP_BYTES);
    const inner = hash('sha256', innerInput, 'buffer');
    inner.copy(this.outerInput, BLOCK_BYTES);
    return hash('sha256', this.outerInput, 'buffer').subarray(0, MAC_BYTES);
  }
}

/** A client nonce (RFC 7616 §3.4: cnonce) */
export function newCnonce(): string {
  return randomBytes(12).toString('base64url');
}
