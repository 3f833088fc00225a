/**
 * The INVITE server transaction: RFC 3261 §17.2.1 (Figure 7) as corrected by RFC 6026 §7.1
 * (the Accepted state and Timer L: the transaction lives on after a 2xx so retransmitted
 * INVITEs are absorbed instead of looking like new requests; the TU retransmits the 2xx itself).
 *
 *   proceeding --2xx from TU--> accepted --Timer L--> terminated
 *   proceeding --300-699 from TU--> completed --ACK--> confirmed --Timer I--> terminated
 *   completed --Timer H or transport error--> terminated (TU informed)
 */
import type { SipRequest, SipResponse } from '../message/types.js';
import type { OutboundTarget } from '../transport/types.js';
import { TransactionBase, type TransitionTable } from './transaction-base.js';
import { isReliableTarget, type ServerTransactionUser, type TransactionHost } from './types.js';

export type InviteServerState = 'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated';

const TRANSITIONS: TransitionTable<InviteServerState> = {
  proceeding: ['accepted', 'completed', 'terminated'],
  accepted: ['terminated'],
  completed: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
};

export interface InviteServerTransactionOptions {
  host: TransactionHost;
  request: SipRequest;
  /** where responses go: see responseTarget() (§18.2.2, RFC 3581 §4) */
  target: OutboundTarget;
  user: ServerTransactionUser;
}

export class InviteServerTransaction extends TransactionBase<InviteServerState> {
  readonly kind = 'invite-server' as const;
  target: OutboundTarget;
  readonly reliable: boolean;
  private readonly user: ServerTransactionUser;
  private last: SipResponse | undefined;

  constructor(options: InviteServerTransactionOptions) {
    super(options.host, options.request, 'proceeding', TRANSITIONS);
    this.target = options.target;
    this.reliable = isReliableTarget(options.target);
    this.user = options.user;
  }

  /** the most recent response sent: the To tag of a non-2xx decides RFC 2543 ACK matching */
  get lastResponse(): SipResponse | undefined {
    return this.last;
  }

  /**
   * §17.2.1: the transaction starts in Proceeding and MUST send 100 Trying unless the TU
   * answers within 200 ms. The retransmission slot is idle in Proceeding, so it holds that timer.
   */
  start(): void {
    this.armRetransmit(this.host.timers.invite100Delay, '100');
  }

  /** The TU's response. Responses the state no longer admits are dropped (a CANCEL/200 race). */
  respond(response: SipResponse): void {
    const status = response.status;
    switch (this.current) {
      case 'proceeding':
        this.cancelRetransmit();
        this.last = response;
        if (status < 200) {
          // §17.2.1: provisional responses go out and keep the transaction in Proceeding.
          this.host.send(response, this.target, this);
        } else if (status < 300) {
          // RFC 6026 §7.1: 2xx -> Accepted with Timer L (64*T1); no retransmissions here,
          // the TU (§13.3.1.4) owns them.
          this.transition('accepted');
          this.armLifetime(64 * this.host.timers.t1, 'L');
          this.host.send(response, this.target, this);
          if (!this.terminated) this.shedViews(response);
        } else {
          // §17.2.1: 300-699 -> Completed; Timer G (unreliable only) and Timer H (always).
          this.transition('completed');
          const t = this.host.timers;
          if (!this.reliable) this.armRetransmit(t.t1, 'G');
          this.armLifetime(64 * t.t1, 'H');
          this.host.send(response, this.target, this);
          if (!this.terminated) this.shedViews(response);
        }
        return;
      case 'accepted':
        // RFC 6026 §7.1: 2xx retransmissions from the TU MUST be passed to the transport.
        if (status >= 200 && status < 300) {
          this.last = response;
          this.host.send(response, this.target, this);
          return;
        }
        break;
      case 'completed':
      case 'confirmed':
      case 'terminated':
        break;
    }
    this.host.logger.debug({ txn: this.id, state: this.current, status }, 'response dropped: transaction already answered');
  }

  /** A retransmission of the INVITE (§17.2.1). */
  receiveRetransmission(from?: OutboundTarget): void {
    if (from !== undefined) this.target = from;
    switch (this.current) {
      case 'proceeding':
        // §17.2.1: resend the most recent provisional response; if the TU has sent none, the
        // 200 ms grace is over anyway, so the 100 Trying goes now.
        if (this.last === undefined) this.sendTrying();
        else this.host.send(this.last, this.target, this);
        return;
      case 'completed':
        // §17.2.1: resend the final response.
        if (this.last !== undefined) this.host.send(this.last, this.target, this);
        return;
      case 'accepted': // RFC 6026 §7.1: absorbed, never passed to the TU
      case 'confirmed': // §17.2.1: absorbed
      case 'terminated':
        return;
    }
  }

  /**
   * An ACK matching this transaction. Returns true when the transaction absorbed it; false when
   * it is the TU's (an ACK for a 2xx, RFC 6026 §7.1 passes it up; §17 it is not ours).
   */
  receiveAck(): boolean {
    switch (this.current) {
      case 'completed':
        // §17.2.1: ACK -> Confirmed; stop G and H; Timer I (T4, 0 over reliable transports).
        this.transition('confirmed');
        this.cancelTimers();
        if (this.reliable) this.finish('terminated');
        else this.armLifetime(this.host.timers.t4, 'I');
        return true;
      case 'confirmed':
        // §17.2.1: Confirmed absorbs further ACKs.
        return true;
      case 'accepted':
      case 'proceeding':
      case 'terminated':
        return false;
    }
  }

  transportFailed(err: Error): void {
    // §17.2.1 / §17.2.4: a transport error in Proceeding or Completed ends the transaction.
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
      case 'G':
        this.onTimerG();
        return;
      case 'H':
        this.onTimerH();
        return;
      case 'I':
        this.onTimerI();
        return;
      case 'L':
        this.onTimerL();
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

  private sendTrying(): void {
    const trying = this.host.buildTrying(this.request);
    this.last = trying;
    this.host.send(trying, this.target, this);
  }

  /** §17.2.1: the TU stayed silent for 200 ms. */
  private onTrying(): void {
    this.retransmitTimer = undefined;
    if (this.current === 'proceeding' && this.last === undefined) this.sendTrying();
  }

  /** §17.2.1: Timer G resends the final response, doubling up to T2. */
  private onTimerG(): void {
    if (this.current !== 'completed' || this.last === undefined) return;
    this.host.send(this.last, this.target, this);
    if (this.current === 'completed') {
      this.armRetransmit(Math.min(this.retransmitInterval * 2, this.host.timers.t2), 'G');
    }
  }

  /** §17.2.1: Timer H (64*T1): the ACK never came; the TU is told. */
  private onTimerH(): void {
    if (this.current !== 'completed') return;
    try {
      this.user.onTimeout?.(this);
    } catch (err) {
      this.host.logger.error({ err, txn: this.id }, 'transaction user threw on timeout');
    }
    this.finish('terminated');
  }

  /** §17.2.1: Timer I absorbs ACK retransmissions, then the transaction ends. */
  private onTimerI(): void {
    if (this.current === 'confirmed') this.finish('terminated');
  }

  /** RFC 6026 §7.1: Timer L ends the Accepted state. */
  private onTimerL(): void {
    if (this.current === 'accepted') this.finish('terminated');
  }
}
