/**
 * The registrar (RFC 3261 §10.3) as a SipService over a LocationStore, with digest auth
 * (RFC 7616/8760), Path (RFC 3327), SIP outbound flows (RFC 5626) and brute-force brakes.
 *
 * Answers go through the Responder the server hands over (a server transaction). handleRequest
 * returns true at once and answers asynchronously; every rejection becomes a response: a dead
 * store is 503 with Retry-After, anything else 500.
 *
 * Brakes, chosen for SIP (it has no 429):
 * - per-source-IP token bucket ("pike"): 503 + Retry-After, so well-behaved UAs back off;
 * - failed digest answers, counted per source IP and per (AOR, source IP): at the threshold that
 *   key is locked out and answered 403 "Forbidden (too many failed authentications)"; 403 (not
 *   503) because a UA must not fail over and retry the same wrong password elsewhere. Keying by
 *   source means a wrong-password flood from one address never locks the right user out on
 *   another address.
 */
import {
  ConfigError,
  ConflictError,
  UnavailableError,
  describeError,
  newTag,
  silentLogger,
  type Logger,
  type Scheduler,
  type TimerHandle,
} from '../../lib/index.js';
import type { Bus } from '../../platform/index.js';
import { DigestAuthenticator, type DigestAlgorithm, type DigestVerifyResult, type VerifyOptions } from '../auth/index.js';
import { createResponse, parseUri, type AuthHeader, type SipRequest } from '../message/index.js';
import type { HeldSubscribers, Responder, SipService, SubscriberDirectory } from '../server/index.js';
import type { ReceiveContext } from '../transaction/index.js';
import { aorOf } from './aor.js';
import { applyContacts, contactHeaderValue, isRejection, parseContacts, type BindingChange, type ParsedContacts, type Rejection } from './binding-update.js';
import { FailureThrottle } from './failure-throttle.js';
import { isExpiringLocationStore, type Binding, type BindingSource, type LocationStore } from './location-store.js';
import { publishRegistrationEvents, registrationEvent, REGISTRATIONS_TOPIC, type RegistrationEvent } from './registration-events.js';
import { SourceRateLimiter } from './source-rate-limiter.js';

export interface AuthFailureLimits {
  /** failures allowed per window before a lockout */
  maxFailures: number;
  windowMs: number;
}

export interface RegistrarOptions {
  store: LocationStore;
  directory: SubscriberDirectory;
  scheduler: Scheduler;
  /** this SIP node (recorded in BindingSource for flows) */
  nodeId: string;
  /** nonce secret shared by every node; used when authenticatorFor is absent */
  authSecret?: string | Buffer;
  /** digest algorithms offered, preferred first; default SHA-256, MD5 (RFC 8760 §2.4) */
  algorithms?: DigestAlgorithm[];
  nonceTtlMs?: number;
  /** bring your own authenticator per realm (then the caller owns and closes it) */
  authenticatorFor?: (realm: string) => DigestAuthenticator;
  bus?: Bus;
  logger?: Logger;
  minExpires?: number;
  maxExpires?: number;
  defaultExpires?: number;
  maxBindingsPerAor?: number;
  /** failed authentications per source IP; default 30 per 60 s */
  failuresPerSource?: AuthFailureLimits;
  /** failed authentications per (AOR, source IP); default 10 per 60 s */
  failuresPerAorSource?: AuthFailureLimits;
  /** lockout length; default 300 s */
  lockoutMs?: number;
  /** per-source-IP REGISTER rate (token bucket); default 200/s, burst 200; false disables */
  pike?: { ratePerSecond: number; burst: number } | false;
  /** Retry-After seconds on 503; default 5 */
  retryAfterS?: number;
  /** how many times a concurrent update is retried (read, compute, replace); default 5 */
  maxConflictRetries?: number;
  /** housekeeping (sweeping the brake tables); default 30 s */
  housekeepingMs?: number;
}

type Rejected = Rejection & { challenge?: 'fresh' | 'stale' };
/** what a REGISTER gets: a rejection, or 200 with the AOR's bindings */
type Outcome = Rejected | { status: 200; bindings: Binding[]; flows: boolean };

const NOT_LOCAL: Rejected = Object.freeze({ status: 403, reason: 'Not a local domain' });
const UNAUTHORIZED: Rejected = Object.freeze({ status: 401, reason: 'Unauthorized', challenge: 'fresh' });
const STALE: Rejected = Object.freeze({ status: 401, reason: 'Unauthorized', challenge: 'stale' });

/** a REGISTER past the checks that need neither the directory nor the store */
interface Checked {
  req: SipRequest;
  ctx: ReceiveContext;
  domain: string;
  aor: string;
  aorKey: string;
  callId: string;
  cseq: number;
  parsed: ParsedContacts | Rejection;
}

/** one read-compute step of update(): `write` is the binding set to store, undefined when nothing changes */
interface UpdateStep {
  outcome: Outcome;
  write: Binding[] | undefined;
  changes: BindingChange[];
  now: number;
}

const LOCKED_REASON = 'Forbidden (too many failed authentications)';

type AuthOutcome = { ok: true; username: string } | { ok: false; stale: boolean; count: boolean };

function authOutcome(result: DigestVerifyResult): AuthOutcome {
  if (result.ok) return { ok: true, username: result.username };
  // a missing Authorization is the normal first leg, a stale nonce a silent retry: neither counts
  return { ok: false, stale: result.reason === 'stale', count: result.reason !== 'missing' && result.reason !== 'stale' };
}

/** The RFC 1123 date has one-second resolution: one formatting per second is enough. */
let dateSecond = Number.NaN;
let dateText = '';
function httpDate(nowMs: number): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

export class Registrar implements SipService {
  readonly name = 'registrar';
  readonly methods = ['REGISTER'] as const;
  /**
   * REGISTER is answered without a transaction (RFC 3261 §8.2.7, as Kamailio's registrar does
   * with sl_send_reply): a retransmission is processed again and gets the same answer (an equal
   * CSeq changes nothing), and no Completed transaction holds the request and its response for
   * Timer J's 32 s — at 10,000 registrations/s that alone would be 640,000 live transactions.
   */
  readonly statelessMethods = ['REGISTER'] as const;
  readonly extensions = ['path', 'outbound'] as const;

  private readonly store: LocationStore;
  private readonly directory: SubscriberDirectory;
  private readonly scheduler: Scheduler;
  private readonly log: Logger;
  private readonly bus: Bus | undefined;
  private readonly nodeId: string;
  private readonly limits: { minExpires: number; maxExpires: number; defaultExpires: number };
  private readonly maxBindings: number;
  private readonly retryAfterS: number;
  private readonly maxConflictRetries: number;
  private readonly sourceFailures: FailureThrottle;
  private readonly aorFailures: FailureThrottle;
  private readonly pike: SourceRateLimiter | undefined;
  private readonly authenticators = new Map<string, DigestAuthenticator>();
  private readonly authenticatorFor: (realm: string) => DigestAuthenticator;
  private readonly ownsAuthenticators: boolean;
  private readonly housekeeping: TimerHandle;
  private readonly stopExpiredListener: (() => void) | undefined;
  private closed = false;

  constructor(options: RegistrarOptions) {
    this.store = options.store;
    this.directory = options.directory;
    this.scheduler = options.scheduler;
    this.log = options.logger ?? silentLogger;
    this.bus = options.bus;
    this.nodeId = options.nodeId;
    this.limits = {
      minExpires: options.minExpires ?? 60,
      maxExpires: options.maxExpires ?? 3600,
      defaultExpires: options.defaultExpires ?? 3600,
    };
    if (this.limits.minExpires > this.limits.maxExpires) throw new ConfigError('registrar minExpires is above maxExpires', 'sip.registrar.minExpires');
    this.maxBindings = options.maxBindingsPerAor ?? 10;
    this.retryAfterS = options.retryAfterS ?? 5;
    this.maxConflictRetries = options.maxConflictRetries ?? 5;
    const lockoutMs = options.lockoutMs ?? 300_000;
    const perSource = options.failuresPerSource ?? { maxFailures: 30, windowMs: 60_000 };
    const perAor = options.failuresPerAorSource ?? { maxFailures: 10, windowMs: 60_000 };
    this.sourceFailures = new FailureThrottle({ clock: this.scheduler, ...perSource, lockoutMs });
    this.aorFailures = new FailureThrottle({ clock: this.scheduler, ...perAor, lockoutMs });
    const pike = options.pike ?? { ratePerSecond: 200, burst: 200 };
    this.pike = pike === false ? undefined : new SourceRateLimiter({ clock: this.scheduler, ...pike });

    if (options.authenticatorFor !== undefined) {
      this.authenticatorFor = options.authenticatorFor;
      this.ownsAuthenticators = false;
    } else {
      const secret = options.authSecret;
      if (secret === undefined || secret.length === 0) throw new ConfigError('registrar needs authSecret (shared by every SIP node) or authenticatorFor', 'sip.registrar.authSecret');
      this.ownsAuthenticators = true;
      this.authenticatorFor = (realm) => {
        let a = this.authenticators.get(realm);
        if (a === undefined) {
          a = new DigestAuthenticator({
            realm,
            secret,
            scheduler: this.scheduler,
            ...(options.algorithms !== undefined ? { algorithms: options.algorithms } : {}),
            ...(options.nonceTtlMs !== undefined ? { nonceTtlMs: options.nonceTtlMs } : {}),
          });
          this.authenticators.set(realm, a);
        }
        return a;
      };
    }
    this.housekeeping = this.scheduler.setInterval(() => this.sweepBrakes(), options.housekeepingMs ?? 30_000);
    if (isExpiringLocationStore(this.store)) {
      this.stopExpiredListener = this.store.onExpired((expired) => {
        if (!this.eventsHeard()) return;
        const at = this.scheduler.wallNow();
        this.publish(expired.bindings.map((b) => registrationEvent('expired', b, this.nodeId, at)));
      });
    }
  }

  handleRequest(request: SipRequest, responder: Responder, ctx: ReceiveContext): boolean {
    if (request.method !== 'REGISTER') return false;
    const ip = ctx.source.address;
    if (this.closed) {
      this.reply(request, responder, { status: 503, reason: 'Registrar shutting down', headers: [['Retry-After', String(this.retryAfterS)]] });
      return true;
    }
    if (this.pike !== undefined && !this.pike.allow(ip)) {
      this.reply(request, responder, { status: 503, reason: 'Too many requests from this address', headers: [['Retry-After', String(this.retryAfterS)]] });
      return true;
    }
    if (this.sourceFailures.isLocked(ip)) {
      this.reply(request, responder, { status: 403, reason: LOCKED_REASON });
      return true;
    }
    let outcome: Outcome | Promise<Outcome>;
    try {
      outcome = this.process(request, ctx);
    } catch (err) {
      this.reply(request, responder, this.failure(err, request));
      return true;
    }
    if (outcome instanceof Promise) {
      outcome.then(
        (result) => this.reply(request, responder, result),
        (err: unknown) => this.reply(request, responder, this.failure(err, request)),
      );
    } else {
      this.reply(request, responder, outcome);
    }
    return true;
  }

  /** stops timers and the expiry listener; the store is owned by whoever made it. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.housekeeping.cancel();
    this.stopExpiredListener?.();
    if (this.ownsAuthenticators) for (const a of this.authenticators.values()) a.close();
    this.authenticators.clear();
  }

  /** sizes of the brake tables (metrics, tests) */
  get trackedSources(): { failures: number; aorFailures: number; pike: number } {
    return { failures: this.sourceFailures.size, aorFailures: this.aorFailures.size, pike: this.pike?.size ?? 0 };
  }

  /**
   * §10.3 for one REGISTER. A directory held in memory and a store in this process answer at
   * once: then so does this, with no promise, no async frame and no microtask hop per step (a
   * REGISTER storm feels each). Otherwise it returns a promise. May throw (a closed store).
   */
  private process(req: SipRequest, ctx: ReceiveContext): Outcome | Promise<Outcome> {
    // §10.3 step 1: only our own domains; we are never a relay for somebody else's
    const domain = req.uri.host.toLowerCase();
    if (req.uri.scheme === 'tel') return NOT_LOCAL;
    const held = this.directory.held?.();
    if (held !== undefined) return held.isLocalDomain(domain) ? this.processLocal(req, ctx, domain, held) : NOT_LOCAL;
    return this.directory.isLocalDomain(domain).then((local) => (local ? this.processLocal(req, ctx, domain, undefined) : NOT_LOCAL));
  }

  /** §10.3 steps 2-6 for a domain of ours */
  private processLocal(req: SipRequest, ctx: ReceiveContext, domain: string, held: HeldSubscribers | undefined): Outcome | Promise<Outcome> {
    const to = req.to;
    const aor = to === undefined ? undefined : aorOf(to.uri);
    if (to === undefined || aor === undefined) return { status: 400, reason: 'Invalid To address of record' };
    // §10.3 step 5: the AOR must belong to the domain of the Request-URI
    if (to.uri.host.toLowerCase() !== domain) return { status: 404, reason: 'Address of record not in this domain' };
    const callId = req.callId;
    const cseq = req.cseq;
    if (callId === undefined || cseq === undefined) return { status: 400, reason: 'Missing Call-ID or CSeq' };

    const ip = ctx.source.address;
    const aorKey = aor + '|' + ip;
    if (this.aorFailures.isLocked(aorKey)) return { status: 403, reason: LOCKED_REASON };

    // §10.3 step 6 checks that need no store round trip go first (400, 423)
    const parsed = parseContacts(req.contacts, req.expires, this.limits);
    const checked: Checked = { req, ctx, domain, aor, aorKey, callId, cseq: cseq.seq, parsed };
    // §10.3 step 3: authenticate (RFC 3261 §22.4; RFC 7616 §3.3 for stale)
    if (held !== undefined) return this.authenticated(checked, this.authenticateNow(req, domain, held));
    return this.authenticate(req, domain).then((auth) => this.authenticated(checked, auth));
  }

  /** §10.3 steps 3-7 once the credentials are checked */
  private authenticated(c: Checked, auth: AuthOutcome): Outcome | Promise<Outcome> {
    const { req, ctx, domain, aor, aorKey, parsed } = c;
    if (auth.ok === false) {
      if (auth.count) {
        const ip = ctx.source.address;
        const lockedSource = this.sourceFailures.recordFailure(ip);
        const lockedAor = this.aorFailures.recordFailure(aorKey);
        if (lockedSource || lockedAor) {
          this.log.warn({ aor, ip }, 'registrar: authentication lockout');
          return { status: 403, reason: LOCKED_REASON };
        }
      }
      return auth.stale ? STALE : UNAUTHORIZED;
    }
    // §10.3 step 4: the authenticated user may only register its own AOR
    if (`sip:${auth.username}@${domain}` !== aor) return { status: 403, reason: 'Authenticated user does not match the To address of record' };
    this.aorFailures.recordSuccess(aorKey);

    if (isRejection(parsed)) return parsed;
    const source: BindingSource = { protocol: ctx.source.protocol, address: ctx.source.address, port: ctx.source.port, connectionId: ctx.connectionId, nodeId: this.nodeId };
    const path = req.headers.getAll('Path');
    const flows = parsed.kind === 'contacts' && parsed.flows;
    // RFC 5626 §6: not directly connected and no edge proxy with outbound ("ob" in Path): 439
    if (flows && req.vias.length > 1 && !path.some((p) => /;\s*ob\b/i.test(p))) return { status: 439, reason: 'First Hop Lacks Outbound Support' };
    return this.update(
      aor,
      parsed,
      {
        aor,
        callId: c.callId,
        cseq: c.cseq,
        now: this.scheduler.wallNow(),
        path,
        source,
        userAgent: req.headers.get('User-Agent'),
        maxBindings: this.maxBindings,
      },
      flows,
    );
  }

  /**
   * §10.3 step 7 with optimistic concurrency: read, compute, replace(expectVersion), retry on
   * conflict. At once with a store in this process (readNow / replaceNow), else a promise.
   */
  private update(aor: string, parsed: ParsedContacts, ctx: Parameters<typeof applyContacts>[2], flows: boolean): Outcome | Promise<Outcome> {
    const store = this.store;
    if (store.readNow === undefined || store.replaceNow === undefined) return this.updateLater(aor, parsed, ctx, flows);
    for (let attempt = 0; ; attempt++) {
      const { bindings, version } = store.readNow(aor);
      const step = this.applyStep(bindings, parsed, ctx, flows);
      if (step.write === undefined) return step.outcome;
      try {
        store.replaceNow(aor, step.write, { expectVersion: version });
      } catch (err) {
        if (err instanceof ConflictError && attempt < this.maxConflictRetries) continue;
        throw err;
      }
      return this.written(step);
    }
  }

  /** update() against a store that answers with promises */
  private async updateLater(aor: string, parsed: ParsedContacts, ctx: Parameters<typeof applyContacts>[2], flows: boolean): Promise<Outcome> {
    const store = this.store;
    for (let attempt = 0; ; attempt++) {
      const { bindings, version } = await store.read(aor);
      const step = this.applyStep(bindings, parsed, ctx, flows);
      if (step.write === undefined) return step.outcome;
      try {
        await store.replace(aor, step.write, version);
      } catch (err) {
        if (err instanceof ConflictError && attempt < this.maxConflictRetries) continue;
        throw err;
      }
      return this.written(step);
    }
  }

  /** the REGISTER's contacts applied to the bindings read: the answer, and what to write if anything */
  private applyStep(bindings: Binding[], parsed: ParsedContacts, ctx: Parameters<typeof applyContacts>[2], flows: boolean): UpdateStep {
    const now = this.scheduler.wallNow();
    const result = applyContacts(bindings, parsed, { ...ctx, now });
    if (!result.ok) return { outcome: result, write: undefined, changes: [], now };
    const outcome: Outcome = { status: 200, bindings: result.bindings, flows };
    return { outcome, write: result.changes.length === 0 ? undefined : result.bindings, changes: result.changes, now };
  }

  /** after a write: the events, then the answer */
  private written(step: UpdateStep): Outcome {
    if (this.eventsHeard()) this.publish(step.changes.map((c) => registrationEvent(c.type, c.binding, this.nodeId, step.now)));
    return step.outcome;
  }

  private async authenticate(req: SipRequest, domain: string): Promise<AuthOutcome> {
    const { authenticator, credentials, options } = this.digestInputs(req, domain);
    return authOutcome(await authenticator.verify('REGISTER', credentials, (user, _realm, hash) => this.directory.ha1(user, domain, hash), undefined, options));
  }

  /** authenticate() against a directory held in memory, without a promise */
  private authenticateNow(req: SipRequest, domain: string, held: HeldSubscribers): AuthOutcome {
    const { authenticator, credentials, options } = this.digestInputs(req, domain);
    return authOutcome(authenticator.verifyNow('REGISTER', credentials, (user, _realm, hash) => held.ha1(user, domain, hash), undefined, options));
  }

  private digestInputs(req: SipRequest, domain: string): { authenticator: DigestAuthenticator; credentials: AuthHeader | undefined; options: VerifyOptions } {
    const realm = this.directory.realmFor(domain);
    const all = req.authorizations();
    return {
      authenticator: this.authenticatorFor(realm),
      credentials: all.find((c) => c.params.get('realm') === realm) ?? all[0],
      // RFC 2617 §3.2.2.5: the digest-uri names this Request-URI (compared by host: UAs vary in the rest)
      options: { requestUri: (digestUri) => parseUri(digestUri)?.host === req.uri.host },
    };
  }

  private reply(req: SipRequest, responder: Responder, result: Outcome): void {
    const headers: [string, string][] = [];
    if ('bindings' in result) {
      const now = this.scheduler.wallNow();
      for (const b of result.bindings) headers.push(['Contact', contactHeaderValue(b, now)]);
      // RFC 3327 §5.3: echo Path only to a UA that said it supports it
      if (req.supported.includes('path')) for (const p of req.headers.getAll('Path')) headers.push(['Path', p]);
      if (result.flows) headers.push(['Require', 'outbound']); // RFC 5626 §6
      headers.push(['Supported', 'path, outbound']);
      headers.push(['Date', httpDate(now)]); // §10.3 step 8, RFC 1123 date
    } else {
      if (result.challenge !== undefined) {
        const realm = this.directory.realmFor(req.uri.host.toLowerCase());
        for (const c of this.authenticatorFor(realm).challenge({ stale: result.challenge === 'stale' })) headers.push(['WWW-Authenticate', c]);
      }
      if (result.headers !== undefined) headers.push(...result.headers);
    }
    const reason = 'bindings' in result ? 'OK' : result.reason;
    try {
      responder.respond(createResponse(req, result.status, reason, { toTag: newTag(), headers }));
    } catch (err) {
      this.log.debug({ err: describeError(err) }, 'registrar response not sent');
    }
  }

  private failure(err: unknown, req: SipRequest): Rejected {
    if (err instanceof UnavailableError) {
      this.log.warn({ err: describeError(err), callId: req.callId }, 'registrar: location store or directory unavailable');
      return { status: 503, reason: 'Location service unavailable', headers: [['Retry-After', String(this.retryAfterS)]] };
    }
    if (err instanceof ConflictError) {
      return { status: 500, reason: 'Concurrent registration updates, retry', headers: [['Retry-After', '1']] };
    }
    this.log.error({ err: describeError(err), callId: req.callId }, 'registrar failed on a REGISTER');
    return { status: 500, reason: 'Server Internal Error' };
  }

  /** building and JSON-encoding an event per REGISTER is wasted when no one subscribes (the bus knows) */
  private eventsHeard(): boolean {
    return this.bus !== undefined && this.bus.hasSubscribers(REGISTRATIONS_TOPIC);
  }

  private publish(events: RegistrationEvent[]): void {
    if (events.length > 0) publishRegistrationEvents(this.bus, events, this.log);
  }

  private sweepBrakes(): void {
    this.sourceFailures.sweep();
    this.aorFailures.sweep();
    this.pike?.sweep();
  }
}
