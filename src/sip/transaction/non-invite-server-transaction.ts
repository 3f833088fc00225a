/**
 * The non-INVITE server transaction: RFC 3261 §17.2.2 (Figure 8) with RFC 4320:
 * - §4.1: only 100 may be sent as a provisional response to a non-INVITE request, and over an
 *   unreliable transport not before the client's Timer E has grown to T2 (3.5 s with defaults);
 * - §4.2: a transaction-stateful element never sends 408 to a non-INVITE request (by the time
 *   it would arrive the client has already timed out; it only adds to a storm).
 *
 *   trying --100--> proceeding --200-699--> completed --Timer J--> terminated
 *   trying --200-699--> completed
 */
import type { SipRequest, SipResponse } from '../message/types.js';
import type { OutboundTarget } from '../transport/types.js';
import { nonInvite100Earliest } from './timers.js';
import { TransactionBase, type TransitionTable } from './transaction-base.js';
import { isReliableTarget, type ServerTransactionUser, type TransactionHost } from './types.js';

export type NonInviteServerState = 'trying' | 'proceeding' | 'completed' | 'terminated';

const TRANSITIONS: TransitionTable<NonInviteServerState> = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
};

export interface NonInviteServerTransactionOptions {
  host: TransactionHost;
  request: SipRequest;
  target: OutboundTarget;
  user: ServerTransactionUser;
}

export class NonInviteServerTransaction extends TransactionBase<NonInviteServerState> {
  readonly kind = 'non-invite-server' as const;
  target: OutboundTarget;
  readonly reliable: boolean;
  private readonly user: ServerTransactionUser;
  private readonly createdAt: number;
  private last: SipResponse | undefined;

  constructor(options: NonInviteServerTransactionOptions) {
    super(options.host, options.request, 'trying', TRANSITIONS);
    this.target = options.target;
    this.reliable = isReliableTarget(options.target);
    this.user = options.user;
    this.createdAt = options.host.scheduler.now();
  }

  get lastResponse(): SipResponse | undefined {
    return this.last;
  }

  /**
   * Over unreliable transports, arm the RFC 4320 §4.1 100 Trying for a TU that is still silent
   * when the client's retransmission interval reaches T2. Over reliable transports nothing is
   * armed: the client does not retransmit, and a server answering 20k requests/s should not
   * pay for a timer per request.
   */
  start(): void {
    const t = this.host.timers;
    if (!this.reliable && t.nonInvite100) this.armRetransmit(nonInvite100Earliest(t), '100');
  }

  /** The TU's response; RFC 4320 forbidden ones (non-100 1xx, 408, early 100 over UDP) are dropped. */
  respond(response: SipResponse): void {
    const status = response.status;
    if (this.current === 'completed' || this.current === 'terminated') {
      this.host.logger.debug({ txn: this.id, state: this.current, status }, 'response dropped: transaction already answered');
      return;
    }
    if (status === 408) {
      // RFC 4320 §4.2: the 408 is never sent, but the TU has given up: complete silently so
      // retransmissions are absorbed (nothing to resend) until Timer J.
      this.host.logger.debug({ txn: this.id }, 'RFC 4320 §4.2: 408 to a non-INVITE request not sent');
      this.cancelRetransmit();
      this.transition('completed');
      this.completed();
      return;
    }
    if (!this.permitted(status)) return;
    if (status < 200) {
      // §17.2.2: a provisional moves Trying to Proceeding.
      this.cancelRetransmit();
      if (this.current === 'trying') this.transition('proceeding');
      this.last = response;
      this.host.send(response, this.target, this);
      return;
    }
    // §17.2.2: a final response -> Completed; Timer J (64*T1, 0 over reliable transports).
    this.cancelRetransmit();
    this.transition('completed');
    this.last = response;
    this.host.send(response, this.target, this);
    this.completed();
  }

  private completed(): void {
    if (this.terminated) return;
    if (this.reliable) this.finish('terminated');
    else {
      this.armLifetime(64 * this.host.timers.t1, 'J');
      this.shedViews(this.last);
    }
  }

  /** A retransmission of the request (§17.2.2). */
  receiveRetransmission(from?: OutboundTarget): void {
    if (from !== undefined) this.target = from;
    switch (this.current) {
      case 'trying':
        // §17.2.2: absorbed in Trying: nothing has been sent yet, and RFC 4320 §4.1 forbids an
        // early 100 over UDP.
        return;
      case 'proceeding':
      case 'completed':
        // §17.2.2: resend the most recent response.
        if (this.last !== undefined) this.host.send(this.last, this.target, this);
        return;
      case 'terminated':
        return;
    }
  }

  transportFailed(err: Error): void {
    // §17.2.2 / §17.2.4: a transport error in Proceeding or Completed ends the transaction.
    if (this.current !== 'proceeding' && this.current !== 'completed') return;
    try {
      this.user.onTransportError?.(err, this);
    } catch (userErr) {
      this.host.logger.error({ err: userErr, txn: this.id }, 'transaction user threw on transport error');
    }
    this.finish('terminated');
  }

  /** one of the timers this machine armed fell due (named as in RFC 3261 §17; '100': the Trying delay) */
  fireDeadline(timer: string): void {
    switch (timer) {
      case '100':
        this.onTrying();
        return;
      case 'J':
        this.onTimerJ();
        return;
    }
  }

  protected onFinished(): void {
    try {
      this.user.onTerminated?.(this);
    } catch (err) {
      this.host.logger.error({ err, txn: this.id }, 'transaction user threw on terminated');
    }
  }

  private permitted(status: number): boolean {
    let why: string | undefined;
    if (status > 100 && status < 200) {
      why = 'RFC 4320 §4.1: only 100 may be sent as a provisional to a non-INVITE request';
    } else if (status === 100 && !this.reliable) {
      const earliest = this.createdAt + nonInvite100Earliest(this.host.timers);
      if (this.host.scheduler.now() < earliest) why = 'RFC 4320 §4.1: too early for 100 over an unreliable transport';
    }
    if (why === undefined) return true;
    this.host.logger.debug({ txn: this.id, status }, `response dropped: ${why}`);
    return false;
  }

  /** RFC 4320 §4.1: the client's Timer E has reached T2 and the TU is still silent. */
  private onTrying(): void {
    this.retransmitTimer = undefined;
    if (this.current !== 'trying') return;
    this.respond(this.host.buildTrying(this.request));
  }

  /** §17.2.2: Timer J absorbs request retransmissions, then the transaction ends. */
  private onTimerJ(): void {
    if (this.current === 'completed') this.finish('terminated');
  }
}
