/**
 * Server side of SIP digest authentication (RFC 3261 §22.2–§22.4, RFC 7616, RFC 8760).
 *
 * Nonces are stateless (see stateless-nonce.ts), so every node sharing `secret` can verify the
 * answer to a challenge another node sent. Only nonce-count replay tracking is per node: in the
 * window of its own recent nonces (StatelessNonce) for the nonces it issued, in a bounded map for
 * another node's.
 */
import type { Scheduler } from '../../lib/index.js';
import type { AuthHeader } from '../message/index.js';
import {
  computeDigestResponse,
  digestEquals,
  hashNameOf,
  parseAlgorithm,
  type DigestAlgorithm,
  type DigestHashName,
  type DigestQop,
} from './digest.js';
import { formatDigestHeader } from './format.js';
import { NonceCountTracker } from './nonce-count-tracker.js';
import { StatelessNonce } from './stateless-nonce.js';

export interface DigestAuthenticatorOptions {
  realm: string;
  /** shared by every node of the deployment */
  secret: string | Buffer;
  scheduler: Scheduler;
  /** nonce lifetime; default 300 s */
  nonceTtlMs?: number;
  /** one challenge per algorithm, in this order (RFC 8760 §2.4: preferred first); default ['SHA-256', 'MD5'] */
  algorithms?: DigestAlgorithm[];
  /** accept RFC 2069-style answers without qop from MD5 clients (RFC 7616 §3.4, "backward compatibility"); default true */
  allowLegacyNoQop?: boolean;
  /** offer qop="auth,auth-int" instead of qop="auth"; default false */
  offerAuthInt?: boolean;
  /** bound on the nonce-count replay map for other nodes' nonces; default 100 000 */
  maxTrackedNonces?: number;
}

export type DigestFailureReason =
  | 'missing'
  | 'malformed'
  | 'unknown-user'
  | 'bad-response'
  | 'stale'
  | 'replay'
  | 'realm'
  | 'algorithm'
  | 'uri';

export type DigestVerifyResult =
  | { ok: true; username: string; algorithm: DigestAlgorithm }
  | { ok: false; reason: DigestFailureReason; username?: string };

/** Returns the stored HA1 (lower-case hex) for the user under the given hash, or undefined when unknown. */
export type Ha1Lookup = (username: string, realm: string, algorithm: DigestHashName) => Promise<string | undefined>;

export interface VerifyOptions {
  /**
   * The Request-URI, to check the digest-uri against (RFC 2617 §3.2.2.5). A string is compared
   * exactly; a function decides. Omitted: not checked.
   */
  requestUri?: string | ((digestUri: string) => boolean);
}

/** An answer whose header and nonce passed, waiting for the user's HA1 (DigestAuthenticator.verify). */
interface PendingDigest {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  qop: DigestQop | undefined;
  nc: number | undefined;
  ncRaw: string | undefined;
  cnonce: string | undefined;
  issuedAt: number;
  expired: boolean;
  /** the nonce's place among this node's own (StatelessNonce.check), -1 for another node's */
  slot: number;
  wallNow: number;
}

const NC_PATTERN = /^[0-9a-fA-F]{8}$/;

/** stands for the nonce while a challenge template is formatted: quote() leaves it as it is */
const NONCE_SLOT = '\u0000nonce\u0000';

export class DigestAuthenticator {
  readonly realm: string;
  private readonly scheduler: Scheduler;
  private readonly nonceTtlMs: number;
  private readonly algorithms: readonly DigestAlgorithm[];
  private readonly allowLegacyNoQop: boolean;
  private readonly offerAuthInt: boolean;
  private readonly nonces: StatelessNonce;
  private readonly nonceCounts: NonceCountTracker;
  /** challenge texts split around the nonce (see challenge()), built on first use */
  private freshTemplates: (readonly [string, string])[] | undefined;
  private staleTemplates: (readonly [string, string])[] | undefined;

  constructor(options: DigestAuthenticatorOptions) {
    this.realm = options.realm;
    this.scheduler = options.scheduler;
    this.nonceTtlMs = options.nonceTtlMs ?? 300_000;
    this.algorithms = options.algorithms !== undefined && options.algorithms.length > 0 ? [...options.algorithms] : ['SHA-256', 'MD5'];
    this.allowLegacyNoQop = options.allowLegacyNoQop ?? true;
    this.offerAuthInt = options.offerAuthInt ?? false;
    this.nonces = new StatelessNonce(options.secret, this.realm, this.nonceTtlMs);
    this.nonceCounts = new NonceCountTracker(this.scheduler, this.nonceTtlMs, options.maxTrackedNonces);
  }

  /** Challenges as structured headers, one per configured algorithm, sharing one nonce. */
  challengeHeaders(opts: { stale?: boolean } = {}): AuthHeader[] {
    return this.headersFor(this.nonces.issue(this.scheduler.wallNow()), opts);
  }

  private headersFor(nonce: string, opts: { stale?: boolean }): AuthHeader[] {
    return this.algorithms.map((algorithm) => {
      const params = new Map<string, string>([
        ['realm', this.realm],
        ['nonce', nonce],
        ['algorithm', algorithm],
        ['qop', this.offerAuthInt ? 'auth,auth-int' : 'auth'],
      ]);
      // stale=true tells the UA to retry with the new nonce without asking the user (RFC 7616 §3.3)
      if (opts.stale === true) params.set('stale', 'true');
      return { scheme: 'Digest', params };
    });
  }

  /** WWW-Authenticate / Proxy-Authenticate values, SHA-256 first by default (RFC 8760 §2.4). */
  challenge(opts: { stale?: boolean } = {}): string[] {
    // Only the nonce differs from one challenge to the next: the text around it is formatted
    // once per stale flag and the fresh nonce (base64url, nothing to quote) is put in between.
    const stale = opts.stale === true;
    let templates = stale ? this.staleTemplates : this.freshTemplates;
    if (templates === undefined) {
      templates = this.headersFor(NONCE_SLOT, { stale }).map((h) => {
        const text = formatDigestHeader(h, 'challenge');
        const at = text.lastIndexOf(NONCE_SLOT); // after the realm: only fixed tokens follow it
        return [text.slice(0, at), text.slice(at + NONCE_SLOT.length)] as const;
      });
      if (stale) this.staleTemplates = templates;
      else this.freshTemplates = templates;
    }
    const nonce = this.nonces.issue(this.scheduler.wallNow());
    const out: string[] = [];
    for (const [before, after] of templates) out.push(before + nonce + after);
    return out;
  }

  /**
   * Check credentials from an Authorization / Proxy-Authorization header. Never throws on bad
   * input; a rejection of `lookupHa1` (store down) propagates so it is not mistaken for a bad
   * password. A forged or garbled nonce yields 'bad-response'.
   */
  async verify(
    method: string,
    credentials: AuthHeader | undefined,
    lookupHa1: Ha1Lookup,
    body?: Buffer | string,
    options: VerifyOptions = {},
  ): Promise<DigestVerifyResult> {
    const pending = this.precheck(credentials, options);
    if ('ok' in pending) return pending;
    return this.conclude(pending, method, await lookupHa1(pending.username, pending.realm, hashNameOf(pending.algorithm)), body);
  }

  /** verify() with an HA1 lookup that answers at once (a directory held in memory): no promise */
  verifyNow(
    method: string,
    credentials: AuthHeader | undefined,
    lookupHa1: (username: string, realm: string, algorithm: DigestHashName) => string | undefined,
    body?: Buffer | string,
    options: VerifyOptions = {},
  ): DigestVerifyResult {
    const pending = this.precheck(credentials, options);
    if ('ok' in pending) return pending;
    return this.conclude(pending, method, lookupHa1(pending.username, pending.realm, hashNameOf(pending.algorithm)), body);
  }

  /** every check that needs no HA1: the header's shape, algorithm, realm, qop, digest-uri, nonce */
  private precheck(credentials: AuthHeader | undefined, options: VerifyOptions): PendingDigest | Extract<DigestVerifyResult, { ok: false }> {
    if (credentials === undefined) return { ok: false, reason: 'missing' };
    const p = credentials.params;
    const username = p.get('username');
    const realm = p.get('realm');
    const nonce = p.get('nonce');
    const uri = p.get('uri');
    const response = p.get('response');
    if (credentials.scheme.toLowerCase() !== 'digest') return { ok: false, reason: 'malformed' };
    if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined) {
      return { ok: false, reason: 'malformed' };
    }
    const algorithm = parseAlgorithm(p.get('algorithm'));
    if (algorithm === undefined || !this.algorithms.includes(algorithm)) return { ok: false, reason: 'algorithm', username };
    if (realm !== this.realm) return { ok: false, reason: 'realm', username };

    const qopRaw = p.get('qop');
    let qop: DigestQop | undefined;
    let nc: number | undefined;
    const ncRaw = p.get('nc');
    const cnonce = p.get('cnonce');
    if (qopRaw !== undefined) {
      const q = qopRaw.trim().toLowerCase();
      if (q !== 'auth' && q !== 'auth-int') return { ok: false, reason: 'malformed', username };
      if (q === 'auth-int' && !this.offerAuthInt) return { ok: false, reason: 'malformed', username };
      // RFC 7616 §3.4: with qop, cnonce and nc MUST be present
      if (ncRaw === undefined || cnonce === undefined || !NC_PATTERN.test(ncRaw)) return { ok: false, reason: 'malformed', username };
      qop = q;
      nc = Number.parseInt(ncRaw, 16);
    } else {
      // RFC 2069 compatibility only exists for MD5 (RFC 7616 §3.4: qop is mandatory otherwise).
      if (!this.allowLegacyNoQop || algorithm !== 'MD5') return { ok: false, reason: 'malformed', username };
    }
    if (isSessionWithoutCnonce(algorithm, cnonce)) return { ok: false, reason: 'malformed', username };

    if (options.requestUri !== undefined) {
      const uriOk = typeof options.requestUri === 'string' ? options.requestUri === uri : options.requestUri(uri);
      if (!uriOk) return { ok: false, reason: 'uri', username };
    }

    const wallNow = this.scheduler.wallNow();
    const nonceCheck = this.nonces.check(nonce, wallNow);
    if (!nonceCheck.valid) return { ok: false, reason: 'bad-response', username };
    return { username, realm, nonce, uri, response, algorithm, qop, nc, ncRaw, cnonce, issuedAt: nonceCheck.issuedAt, expired: nonceCheck.expired, slot: nonceCheck.slot, wallNow };
  }

  /** the answer checked against the stored HA1, then staleness and replay */
  private conclude(d: PendingDigest, method: string, storedHa1: string | undefined, body: Buffer | string | undefined): DigestVerifyResult {
    const { username, algorithm, nonce, nc } = d;
    if (storedHa1 === undefined) return { ok: false, reason: 'unknown-user', username };

    const expected = computeDigestResponse({ algorithm, ha1: storedHa1, nonce, method, uri: d.uri, qop: d.qop, nc: d.ncRaw, cnonce: d.cnonce, body });
    if (!digestEquals(expected, d.response)) return { ok: false, reason: 'bad-response', username };
    // Only a correct answer with an old nonce earns stale=true (RFC 7616 §3.3), so the UA retries silently.
    if (d.expired) return { ok: false, reason: 'stale', username };

    if (nc !== undefined) {
      // our own nonce: its count lives in the nonce window; another node's: in the replay map
      if (d.slot >= 0) return this.nonces.acceptCount(d.slot, nc) ? { ok: true, username, algorithm } : { ok: false, reason: 'replay', username };
      const expiresAt = this.scheduler.now() + Math.max(0, d.issuedAt + this.nonceTtlMs - d.wallNow);
      if (!this.nonceCounts.accept(nonce, nc, expiresAt)) return { ok: false, reason: 'replay', username };
    }
    return { ok: true, username, algorithm };
  }

  /** number of nonces whose nc is being tracked (for metrics and tests) */
  get trackedNonces(): number {
    return this.nonceCounts.size + this.nonces.trackedOwn(this.scheduler.wallNow());
  }

  /** idempotent: cancels the replay-map sweep timer */
  close(): void {
    this.nonceCounts.close();
  }
}

function isSessionWithoutCnonce(algorithm: DigestAlgorithm, cnonce: string | undefined): boolean {
  return algorithm.endsWith('-sess') && cnonce === undefined;
}
