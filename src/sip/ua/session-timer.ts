/**
 * The session timer of one dialog (RFC 4028): who refreshes, and when. The refresher sends a
 * refresh at half the interval (§10); the other side sends BYE when no refresh came by
 * `interval - min(32, interval/3)` seconds (§10). Negotiation helpers are pure.
 */
import type { Scheduler, TimerHandle } from '../../lib/index.js';
import type { SipRequest } from '../message/index.js';
import { parseMinSE, parseSessionExpires, supports, type Refresher, type SessionExpires } from './ua-messages.js';
import type { SessionTimerSettings } from './ua-host.js';

/** RFC 4028 §4: the smallest Session-Expires anybody may use */
export const MIN_SE_FLOOR = 90;

export type SessionRole = 'local' | 'remote';

export interface ActiveSession {
  interval: number;
  refresher: SessionRole;
}

/**
 * RFC 4028 §8.1 / §9: what a UAS answers to a dialog-forming or refreshing request. `reject`
 * is the Min-SE to put in a 422 when the request's interval is below ours.
 */
export function negotiateAsUas(
  req: SipRequest,
  ours: SessionTimerSettings | undefined,
): { reject: number } | { session: SessionExpires | undefined; requireTimer: boolean } {
  const asked = parseSessionExpires(req.headers.get('Session-Expires'));
  const uacSupports = supports(req, 'timer');
  const minSE = Math.max(MIN_SE_FLOOR, ours?.minSE ?? MIN_SE_FLOOR);
  if (asked !== undefined) {
    // §9: an interval below our Min-SE is refused with 422
    if (asked.interval < minSE) return { reject: minSE };
    // §9: we may shorten it, never below the request's Min-SE
    const theirMin = Math.max(MIN_SE_FLOOR, parseMinSE(req.headers.get('Min-SE')) ?? MIN_SE_FLOOR);
    const interval = ours === undefined ? asked.interval : Math.max(theirMin, Math.min(asked.interval, ours.interval));
    // §9: the UAC's choice stands; otherwise uac when it supports timers, else we refresh
    const refresher: Refresher = asked.refresher ?? (uacSupports ? 'uac' : 'uas');
    return { session: { interval, refresher }, requireTimer: uacSupports };
  }
  // §9: no Session-Expires in the request: we may still ask for one, refreshing it ourselves
  // unless the UAC supports timers
  if (ours === undefined) return { session: undefined, requireTimer: false };
  return { session: { interval: Math.max(minSE, ours.interval), refresher: uacSupports ? 'uac' : 'uas' }, requireTimer: uacSupports };
}

/** the role that results from a Session-Expires in a 2xx of a transaction in which we were `side` */
export function roleOf(se: SessionExpires, side: 'uac' | 'uas'): SessionRole {
  // §7.4 (UAC) and §9 (UAS): a response without refresher means the UAC refreshes
  return (se.refresher ?? 'uac') === side ? 'local' : 'remote';
}

export class SessionTimer {
  #timer: TimerHandle | undefined;
  #session: ActiveSession | undefined;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly onRefreshDue: () => void,
    private readonly onExpired: () => void,
  ) {}

  get session(): ActiveSession | undefined {
    return this.#session;
  }

  /** (re)start after a successful refresh or negotiation; undefined turns the timer off */
  start(session: ActiveSession | undefined): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#session = session;
    if (session === undefined) return;
    const ms = session.interval * 1000;
    if (session.refresher === 'local') {
      this.#timer = this.scheduler.setTimeout(() => this.onRefreshDue(), ms / 2);
    } else {
      this.#timer = this.scheduler.setTimeout(() => this.onExpired(), ms - Math.min(32_000, ms / 3));
    }
  }

  /** the refresh we sent failed: BYE at expiry like a non-refresher (§10) */
  expireAt(msFromNow: number): void {
    this.#timer?.cancel();
    this.#timer = this.scheduler.setTimeout(() => this.onExpired(), Math.max(0, msFromNow));
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#session = undefined;
  }
}
