/**
 * Stateless nonces: base64url(timestamp || salt || HMAC-SHA256(secret, timestamp || salt || realm)).
 *
 * Any node holding the same secret can check a nonce it did not issue, so a REGISTER may be
 * challenged by one SIP node and answered to another (DESIGN.md: nodes are stateless where the
 * protocol allows). RFC 7616 §3.3 suggests exactly this shape: a time stamp plus a private key hash.
 * The timestamp is wall time because it crosses processes.
 */
import { hash, randomBytes } from 'node:crypto';

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
  /**
   * `slot` >= 0: this instance issued the nonce and still holds its place in the window of its
   * recent nonces, where the nonce-count of its answers is tracked (acceptCount). -1: checked by
   * its MAC alone (another node's nonce), so the caller tracks replays itself.
   */
  | { valid: true; issuedAt: number; expired: boolean; slot: number }
  | { valid: false };

const INVALID: NonceCheck = { valid: false };

/**
 * The window of an instance's own latest nonces: for each, the MAC it was issued with, its time
 * stamp and the highest nonce-count answered with it, in typed arrays indexed by the nonce's
 * counter. The answer to one of them is then known authentic by comparing 16 bytes, and its
 * replay state costs no object, no string kept and no Map entry: at 10,000+ REGISTER/s a Map
 * keyed by nonce text (one entry per answered challenge, kept for the nonce lifetime) was a few
 * per cent of the CPU and tens of MB of old-generation garbage.
 *
 * The window starts at MIN_OWN_SLOTS (~36 KB: a server has an authenticator per realm, so one
 * per tenant domain) and doubles whenever a nonce still within its lifetime would lose its place,
 * up to MAX_OWN_SLOTS (~4.5 MB). A nonce of ours answered after a newer one took its place
 * (131,072 challenges later at the largest: about 9 s at 15,000/s) is authentic but its count is
 * lost: it is reported expired, and the client retries at once with a fresh nonce (stale=true,
 * RFC 7616 §3.3) rather than risk a replay.
 */
const MIN_OWN_SLOTS = 1 << 10;
const MAX_OWN_SLOTS = 1 << 17;
/** 32 bytes in base64url without padding */
const NONCE_CHARS = 43;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export class StatelessNonce {
  /** the key XOR ipad / opad (RFC 2104) with room for the rest, so one MAC is two one-shot hashes */
  private readonly innerInput: Buffer;
  private readonly outerInput: Buffer;
  private readonly saltPrefix: number;
  private counter = 0;
  /** the window of own nonces (MIN_OWN_SLOTS): by slot = counter & ownMask */
  private ownMask = MIN_OWN_SLOTS - 1;
  private ownCounter = new Uint32Array(MIN_OWN_SLOTS);
  /** issue time of the nonce in the slot; -1 for a slot never used */
  private ownIssuedAt = new Float64Array(MIN_OWN_SLOTS).fill(-1);
  /** highest nonce-count accepted for it; -1 while unanswered */
  private ownHighest = new Float64Array(MIN_OWN_SLOTS).fill(-1);
  private ownMac = Buffer.alloc(MIN_OWN_SLOTS * MAC_BYTES);
  /** a nonce being checked, decoded (no allocation per check) */
  private readonly decoded = Buffer.alloc(NONCE_BYTES + 3);

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
    const counter = (this.counter = (this.counter + 1) >>> 0);
    buf.writeUInt32BE(counter, TIMESTAMP_BYTES + 4);
    const mac = this.mac(buf.subarray(0, STAMP_BYTES));
    mac.copy(buf, STAMP_BYTES);
    let slot = counter & this.ownMask;
    const previous = this.ownIssuedAt[slot] as number;
    // the nonce in that place is still alive: a larger window, while there is room for one
    if (previous >= 0 && !this.isExpired(previous, ms) && this.ownMask + 1 < MAX_OWN_SLOTS) {
      this.growWindow();
      slot = counter & this.ownMask;
    }
    this.ownCounter[slot] = counter;
    this.ownIssuedAt[slot] = ms;
    this.ownHighest[slot] = -1;
    mac.copy(this.ownMac, slot * MAC_BYTES);
    return buf.toString('base64url');
  }

  /** authenticity first, then age; never throws on garbage */
  check(nonce: string, wallNow: number): NonceCheck {
    // 43 characters of the base64url alphabet decode to exactly 32 bytes, and nothing else does
    if (nonce.length !== NONCE_CHARS || !BASE64URL.test(nonce)) return INVALID;
    const raw = this.decoded;
    if (raw.write(nonce, 0, 'base64url') !== NONCE_BYTES) return INVALID;
    const issuedAt = raw.readUInt32BE(0) * 0x1_0000_0000 + raw.readUInt32BE(4);
    let ours = false;
    if (raw.readUInt32BE(TIMESTAMP_BYTES) === this.saltPrefix) {
      ours = true;
      const counter = raw.readUInt32BE(TIMESTAMP_BYTES + 4);
      const slot = counter & this.ownMask;
      if (this.ownCounter[slot] === counter && this.ownIssuedAt[slot] === issuedAt) {
        if (!sameBytes(raw, STAMP_BYTES, this.ownMac, slot * MAC_BYTES)) return INVALID;
        return { valid: true, issuedAt, expired: this.isExpired(issuedAt, wallNow), slot };
      }
    }
    if (!sameBytes(raw, STAMP_BYTES, this.mac(raw.subarray(0, STAMP_BYTES)), 0)) return INVALID;
    // ours, but its place in the window went to a newer nonce: its counts are gone (see MIN_OWN_SLOTS)
    return { valid: true, issuedAt, expired: ours || this.isExpired(issuedAt, wallNow), slot: -1 };
  }

  /**
   * Record nonce-count `nc` for the own nonce in `slot` (from check()): false when it is not
   * higher than one accepted before (a replay, RFC 7616 §3.4.5).
   */
  acceptCount(slot: number, nc: number): boolean {
    if (nc <= (this.ownHighest[slot] as number)) return false;
    this.ownHighest[slot] = nc;
    return true;
  }

  /** places in the window of own nonces (for tests) */
  get windowSize(): number {
    return this.ownMask + 1;
  }

  /** own nonces answered at least once and not expired at `wallNow` (for metrics and tests) */
  trackedOwn(wallNow: number): number {
    let n = 0;
    for (let slot = 0; slot <= this.ownMask; slot++) {
      if ((this.ownHighest[slot] as number) >= 0 && !this.isExpired(this.ownIssuedAt[slot] as number, wallNow)) n++;
    }
    return n;
  }

  /** twice the places; each nonce moves to the place its counter names in the larger window */
  private growWindow(): void {
    const size = (this.ownMask + 1) * 2;
    const mask = size - 1;
    const counter = new Uint32Array(size);
    const issuedAt = new Float64Array(size).fill(-1);
    const highest = new Float64Array(size).fill(-1);
    const mac = Buffer.alloc(size * MAC_BYTES);
    for (let slot = 0; slot <= this.ownMask; slot++) {
      if ((this.ownIssuedAt[slot] as number) < 0) continue;
      const c = this.ownCounter[slot] as number;
      const to = c & mask;
      counter[to] = c;
      issuedAt[to] = this.ownIssuedAt[slot] as number;
      highest[to] = this.ownHighest[slot] as number;
      this.ownMac.copy(mac, to * MAC_BYTES, slot * MAC_BYTES, (slot + 1) * MAC_BYTES);
    }
    this.ownMask = mask;
    this.ownCounter = counter;
    this.ownIssuedAt = issuedAt;
    this.ownHighest = highest;
    this.ownMac = mac;
  }

  private isExpired(issuedAt: number, wallNow: number): boolean {
    // A nonce from the future (clock skew between nodes beyond a few seconds) is treated as expired.
    const age = wallNow - issuedAt;
    return age > this.ttlMs || age < -5_000;
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

/** 16 MAC bytes alike, compared in constant time (no early exit) */
function sameBytes(a: Buffer, at: number, b: Buffer, bt: number): boolean {
  let diff = 0;
  for (let i = 0; i < MAC_BYTES; i++) diff |= (a[at + i] as number) ^ (b[bt + i] as number);
  return diff === 0;
}
