/**
 * The INVITE client transaction: RFC 3261 §17.1.1 (Figure 5) as corrected by RFC 6026 §7.2
 * (the Accepted state and Timer M, so 2xx retransmissions reach the TU instead of being taken
 * for stray responses).
 *
 *   calling --1xx--> proceeding --2xx--> accepted --Timer M--> terminated
 *      |                 |                    (2xx retransmissions to the TU)
 *      +-----300-699-----+--> completed (ACK sent) --Timer D--> terminated
 *   calling --Timer B / transport error--> terminated
 */
import type { SipRequest, SipResponse } from '../message/types.js';
import type { OutboundTarget } from '../transport/types.js';
import { TransactionBase, type TransitionTable } from './transaction-base.js';
import { isReliableTarget, type ClientTransactionUser, type TransactionHost } from './types.js';

export type InviteClientState = 'calling' | 'proceeding' | 'accepted' | 'completed' | 'terminated';

const TRANSITIONS: TransitionTable<InviteClientState> = {
  calling: ['proceeding', 'accepted', 'completed', 'terminated'],
  proceeding: ['accepted', 'completed', 'terminated'],
  accepted: ['terminated'],
  completed: ['terminated'],
  terminated: [],
};

export interface InviteClientTransactionOptions {
  host: TransactionHost;
  request: SipRequest;
  target: OutboundTarget;
  user: ClientTransactionUser;
}

export class InviteClientTransaction extends TransactionBase<InviteClientState> {
  readonly kind = 'invite-client' as const;
  readonly target: OutboundTarget;
  readonly reliable: boolean;
  private readonly user: ClientTransactionUser;
  /** the ACK sent for the non-2xx final response, resent for each retransmission of it */
  private ack: SipRequest | undefined;

  constructor(options: InviteClientTransactionOptions) {
    super(options.host, options.request, 'calling', TRANSITIONS);
    this.target = options.target;
    this.reliable = isReliableTarget(options.target);
    this.user = options.user;
  }

  /** the ACK generated for a non-2xx final response, once there is one (§17.1.1.3) */
  get ackRequest(): SipRequest | undefined {
    return this.ack;
  }

  /** §17.1.1.2: enter Calling, send the INVITE, start Timer A (unreliable only) and Timer B. */
  start(): void {
    const t = this.host.timers;
    this.host.send(this.request, this.target, this);
    if (this.terminated) return;
    if (!this.reliable) this.armRetransmit(t.t1, 'A');
    this.armLifetime(64 * t.t1, 'B');
  }

  receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.current) {
      case 'calling':
      case 'proceeding':
        if (status < 200) {
          // §17.1.1.2: a provisional response moves Calling to Proceeding and stops
          // retransmissions; Timer B only guards the Calling state.
          if (this.current === 'calling') {
            this.transition('proceeding');
            this.cancelTimers();
          }
          this.deliver(response);
        } else if (status < 300) {
          // RFC 6026 §7.2: a 2xx moves to Accepted and starts Timer M, so later 2xx from
          // other forks or retransmissions still match this transaction and reach the TU.
          this.transition('accepted');
          this.cancelTimers();
          this.armLifetime(64 * this.host.timers.t1, 'M');
          this.deliver(response);
          if (!this.terminated) this.shedViews(undefined);
        } else {
          // §17.1.1.2: 300-699 -> Completed, ACK it, report it, Timer D (0 over reliable).
          this.transition('completed');
          this.cancelTimers();
          this.ack = this.host.buildAck(this.request, response);
          this.host.send(this.ack, this.target, this);
          this.deliver(response);
          if (this.terminated) return;
          if (this.reliable) this.finish('terminated');
          else {
            this.armLifetime(this.host.timers.timerD, 'D');
            this.shedViews(this.ack);
          }
        }
        return;
      case 'accepted':
        // RFC 6026 §7.2: 2xx retransmissions (and 2xx from other forks) pass to the TU; a
        // provisional or non-2xx this late is meaningless and is dropped.
        if (status >= 200 && status < 300) this.deliver(response);
        return;
      case 'completed':
        // §17.1.1.2: a retransmitted final response is answered with the same ACK and is not
        // passed up again.
        if (status >= 300 && this.ack !== undefined) this.host.send(this.ack, this.target, this);
        return;
      case 'terminated':
        return;
    }
  }

  transportFailed(err: Error): void {
    // §17.1.1.2 / Figure 5: a transport error in Calling (the INVITE) or Completed (the ACK)
    // ends the transaction and is reported to the TU (§17.1.4).
    if (this.current !== 'calling' && this.current !== 'completed') return;
    if (this.current === 'calling') {
      try {
        this.user.onTransportError?.(err, this);
      } catch (userErr) {
        this.host.logger.error({ err: userErr, txn: this.id }, 'transaction user threw on transport error');
      }
    }
    this.finish('terminated');
  }

  /** one of the timers this machine armed fell due (named as in RFC 3261 §17; '100': the Trying delay) */
  fireDeadline(timer: string): void {
    switch (timer) {
      case 'A':
        this.onTimerA();
        return;
      case 'B':
        this.onTimerB();
        return;
      case 'D':
        this.onTimerD();
        return;
      case 'M':
        this.onTimerM();
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

  /** §17.1.1.2: Timer A retransmits the INVITE and doubles; only armed over unreliable transports. */
  private onTimerA(): void {
    if (this.current !== 'calling') return;
    this.host.send(this.request, this.target, this);
    if (this.current === 'calling') this.armRetransmit(this.retransmitInterval * 2, 'A');
  }

  /** §17.1.1.2: Timer B (64*T1) in Calling is a timeout reported to the TU. */
  private onTimerB(): void {
    if (this.current !== 'calling') return;
    try {
      this.user.onTimeout?.(this);
    } catch (err) {
      this.host.logger.error({ err, txn: this.id }, 'transaction user threw on timeout');
    }
    this.finish('terminated');
  }

  /** §17.1.1.2: Timer D absorbs final-response retransmissions, then the transaction ends. */
  private onTimerD(): void {
    if (this.current === 'completed') this.finish('terminated');
  }

  /** RFC 6026 §7.2: Timer M ends the Accepted state. */
  private onTimerM(): void {
    if (this.current === 'accepted') this.finish('terminated');
  }
}
