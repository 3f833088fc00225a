/**
 * Digest computations shared by the server (DigestAuthenticator) and the client
 * (answerChallenge): RFC 2617 §3.2.2, RFC 7616 §3.4, RFC 8760 (SIP digest with SHA-256).
 */
import { hash, timingSafeEqual } from 'node:crypto';

/** The algorithms opencx speaks. RFC 8760 §2.2 registers SHA-256 (and SHA-512-256) for SIP. */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

/** The algorithm whose hash function an HA1 is stored under (users are stored as HA1 only). */
export type DigestHashName = 'MD5' | 'SHA-256';

export type DigestQop = 'auth' | 'auth-int';

const ALGORITHMS: ReadonlyMap<string, DigestAlgorithm> = new Map([
  ['md5', 'MD5'],
  ['md5-sess', 'MD5-sess'],
  ['sha-256', 'SHA-256'],
  ['sha-256-sess', 'SHA-256-sess'],
]);

/**
 * Algorithm token from a header (case-insensitive, RFC 7616 §3.3), or undefined when unsupported.
 * An absent parameter means MD5 (RFC 2617 §3.2.1, RFC 7616 §3.3).
 */
export function parseAlgorithm(token: string | undefined): DigestAlgorithm | undefined {
  if (token === undefined) return 'MD5';
  return ALGORITHMS.get(token.trim().toLowerCase());
}

export function hashNameOf(algorithm: DigestAlgorithm): DigestHashName {
  return algorithm.startsWith('SHA-256') ? 'SHA-256' : 'MD5';
}

export function isSessionAlgorithm(algorithm: DigestAlgorithm): boolean {
  return algorithm.endsWith('-sess');
}

const NODE_HASH: Record<DigestHashName, string> = { MD5: 'md5', 'SHA-256': 'sha256' };

/** H(data) as lower-case hex (RFC 7616 §3.4.1: "the output ... is represented as lower-case hex"). */
export function digestHash(algorithm: DigestAlgorithm | DigestHashName, data: string | Buffer): string {
  return hash(NODE_HASH[hashNameOf(algorithm as DigestAlgorithm)], data, 'hex');
}

/** HA1 = H(username:realm:password) (RFC 7616 §3.4.2), what the user store keeps instead of passwords. */
export function ha1(algorithm: DigestAlgorithm | DigestHashName, username: string, realm: string, password: string): string {
  return digestHash(algorithm, `${username}:${realm}:${password}`);
}

export interface DigestResponseInput {
  algorithm: DigestAlgorithm;
  /** the stored HA1 for the base algorithm, H(user:realm:password) */
  ha1: string;
  nonce: string;
  method: string;
  uri: string;
  /** undefined selects the legacy RFC 2069 computation (RFC 2617 §3.2.2.1) */
  qop: DigestQop | undefined;
  nc?: string | undefined;
  cnonce?: string | undefined;
  /** entity body for qop=auth-int (RFC 7616 §3.4.3); empty when absent */
  body?: Buffer | string | undefined;
}

/** request-digest (RFC 7616 §3.4.1, RFC 2617 §3.2.2.1), lower-case hex. */
export function computeDigestResponse(input: DigestResponseInput): string {
  const { algorithm } = input;
  let a1Hash = input.ha1.toLowerCase();
  // -sess: HA1 = H(H(user:realm:pass):nonce:cnonce) (RFC 7616 §3.4.2)
  if (isSessionAlgorithm(algorithm)) a1Hash = digestHash(algorithm, `${a1Hash}:${input.nonce}:${input.cnonce ?? ''}`);
  // RFC 7616 §3.4.3: A2 = method:uri, plus :H(entity-body) for auth-int
  const a2 =
    input.qop === 'auth-int'
      ? `${input.method}:${input.uri}:${digestHash(algorithm, input.body ?? '')}`
      : `${input.method}:${input.uri}`;
  const ha2 = input.qop === 'auth-int' ? digestHash(algorithm, a2) : ha2Of(algorithm, a2);
  if (input.qop === undefined) return digestHash(algorithm, `${a1Hash}:${input.nonce}:${ha2}`);
  return digestHash(algorithm, `${a1Hash}:${input.nonce}:${input.nc ?? ''}:${input.cnonce ?? ''}:${input.qop}:${ha2}`);
}

/** Constant-time comparison of two hex digests (case-insensitive); unequal lengths are unequal. */
export function digestEquals(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  // ASCII (every digest): compared here, folding A-Z, without two lower-cased copies and two
  // Buffers per check. Every position is visited whatever differs, so the time taken says
  // nothing about where the digests part (the branch on case only looks at each character).
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if ((x | y) > 127) return digestEqualsSlow(a, b);
    diff |= (x >= 65 && x <= 90 ? x + 32 : x) ^ (y >= 65 && y <= 90 ? y + 32 : y);
  }
  return diff === 0;
}

function digestEqualsSlow(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase(), 'latin1');
  const y = Buffer.from(b.toLowerCase(), 'latin1');
  if (x.length !== y.length) return false;
  return timingSafeEqual(x, y);
}

/**
 * H(method:digest-uri) without a body (qop=auth or none) depends on the request line only: nearly
 * every REGISTER to one domain has the same. Kept per hash function, a few hundred at most (a
 * full cache starts over), so half the hashing of each answer checked is a Map lookup.
 */
const HA2_CACHE_MAX = 512;
const ha2Caches: Record<DigestHashName, Map<string, string>> = { MD5: new Map(), 'SHA-256': new Map() };

function ha2Of(algorithm: DigestAlgorithm, a2: string): string {
  const cache = ha2Caches[hashNameOf(algorithm)];
  let ha2 = cache.get(a2);
  if (ha2 === undefined) {
    ha2 = digestHash(algorithm, a2);
    if (cache.size >= HA2_CACHE_MAX) cache.clear();
    // the key may be a slice of a request's text: keep a copy of its own
    cache.set(Buffer.from(a2, 'utf8').toString('utf8'), ha2);
  }
  return ha2;
}
