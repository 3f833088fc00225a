/**
 * The non-INVITE client transaction: RFC 3261 §17.1.2 (Figure 6), with RFC 4320's reading that
 * a timeout is reported to the TU and never dressed up as a received 408.
 *
 *   trying --1xx--> proceeding --200-699--> completed --Timer K--> terminated
 *   trying --200-699--> completed
 *   trying / proceeding --Timer F or transport error--> terminated (TU informed)
 */
import type { SipRequest, SipResponse } from '../message/types.js';
import type { OutboundTarget } from '../transport/types.js';
import { TransactionBase, type TransitionTable } from './transaction-base.js';
import { isReliableTarget, type ClientTransactionUser, type TransactionHost } from './types.js';

export type NonInviteClientState = 'trying' | 'proceeding' | 'completed' | 'terminated';

const TRANSITIONS: TransitionTable<NonInviteClientState> = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['completed', 'terminated'],
  completed: ['terminated'],
  terminated: [],
};

export interface NonInviteClientTransactionOptions {
  host: TransactionHost;
  request: SipRequest;
  target: OutboundTarget;
  user: ClientTransactionUser;
}

export class NonInviteClientTransaction extends TransactionBase<NonInviteClientState> {
  readonly kind = 'non-invite-client' as const;
  readonly target: OutboundTarget;
  readonly reliable: boolean;
  private readonly user: ClientTransactionUser;

  constructor(options: NonInviteClientTransactionOptions) {
    super(options.host, options.request, 'trying', TRANSITIONS);
    this.target = options.target;
    this.reliable = isReliableTarget(options.target);
    this.user = options.user;
  }

  /** §17.1.2.2: enter Trying, send, Timer E at T1 (unreliable only) and Timer F at 64*T1. */
  start(): void {
    const t = this.host.timers;
    this.host.send(this.request, this.target, this);
    if (this.terminated) return;
    if (!this.reliable) this.armRetransmit(t.t1, 'E');
    this.armLifetime(64 * t.t1, 'F');
  }

  receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.current) {
      case 'trying':
      case 'proceeding':
        if (status < 200) {
          // §17.1.2.2: a provisional moves Trying to Proceeding; Timer E keeps running (it is
          // re-armed at T2 from now on) and so does Timer F.
          if (this.current === 'trying') this.transition('proceeding');
          this.deliver(response);
          return;
        }
        // §17.1.2.2: a final response -> Completed, Timer K (T4, 0 over reliable transports).
        this.transition('completed');
        this.cancelTimers();
        this.deliver(response);
        if (this.terminated) return;
        if (this.reliable) this.finish('terminated');
        else {
          this.armLifetime(this.host.timers.t4, 'K');
          this.shedViews(undefined);
        }
        return;
      case 'completed':
        // §17.1.2.2: Completed buffers final response retransmissions.
        return;
      case 'terminated':
        return;
    }
  }

  transportFailed(err: Error): void {
    // §17.1.2.2 / §17.1.4: a transport error in Trying or Proceeding ends the transaction.
    if (this.current !== 'trying' && this.current !== 'proceeding') return;
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
      case 'E':
        this.onTimerE();
        return;
      case 'F':
        this.onTimerF();
        return;
      case 'K':
        this.onTimerK();
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

  private deliver(response: SipResponse): void {
    try {
      this.user.onResponse(response, this);
    } catch (err) {
      this.host.logger.error({ err, txn: this.id }, 'transaction user threw on response');
    }
  }

  /**
   * §17.1.2.2: Timer E retransmits; in Trying the interval doubles up to T2, in Proceeding it
   * is T2 straight away.
   */
  private onTimerE(): void {
    if (this.current !== 'trying' && this.current !== 'proceeding') return;
    this.host.send(this.request, this.target, this);
    const t2 = this.host.timers.t2;
    const next = this.current === 'trying' ? Math.min(this.retransmitInterval * 2, t2) : t2;
    if (this.current === 'trying' || this.current === 'proceeding') this.armRetransmit(next, 'E');
  }

  /** §17.1.2.2: Timer F (64*T1) is a timeout reported to the TU (RFC 4320: not a 408). */
  private onTimerF(): void {
    if (this.current !== 'trying' && this.current !== 'proceeding') return;
    try {
      this.user.onTimeout?.(this);
    } catch (err) {
      this.host.logger.error({ err, txn: this.id }, 'transaction user threw on timeout');
    }
    this.finish('terminated');
  }

  /** §17.1.2.2: Timer K absorbs response retransmissions, then the transaction ends. */
  private onTimerK(): void {
    if (this.current === 'completed') this.finish('terminated');
  }
}
