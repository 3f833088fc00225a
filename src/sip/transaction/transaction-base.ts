/**
 * Plumbing shared by the four machines: the transition check, the two timer slots every machine
 * needs (one retransmission timer and one lifetime timer) and termination bookkeeping. Each
 * machine keeps its own state union and transition table (STYLE.md §3).
 */
import { ConflictError, type TimerHandle } from '../../lib/index.js';
import type { SipMessage, SipRequest } from '../message/types.js';
import type { DeadlineOwner } from './deadline-queue.js';
import type { Transaction, TransactionHost, TransactionKind } from './types.js';

let sequence = 0;

export type TransitionTable<S extends string> = Readonly<Record<S, readonly S[]>>;

export abstract class TransactionBase<S extends string> implements Transaction, DeadlineOwner {
  /** the number in `id`: the text is only made when something (a log line) asks for it */
  private readonly seq: number;
  abstract readonly kind: TransactionKind;
  protected current: S;
  /** Timer A, E or G */
  protected retransmitTimer: TimerHandle | undefined;
  /** the interval the retransmission timer was last armed with */
  protected retransmitInterval = 0;
  /** Timer B, D, F, H, I, J, K, L or M */
  protected lifetimeTimer: TimerHandle | undefined;
  private done = false;
  /** the owner's matching key (branch + method, or the RFC 2543 tuple); set by the layer */
  matchKey = '';
  /** one bound handler per transaction, so a send does not allocate a closure (hot path) */
  readonly sendFailed = (err: unknown): void => {
    if (this.done) return;
    this.transportFailed(err instanceof Error ? err : new Error(String(err)));
  };

  protected constructor(
    protected readonly host: TransactionHost,
    readonly request: SipRequest,
    initial: S,
    private readonly table: TransitionTable<S>,
  ) {
    this.current = initial;
    this.seq = ++sequence;
  }

  get id(): string {
    return `txn-${this.seq}`;
  }

  get state(): S {
    return this.current;
  }

  get terminated(): boolean {
    return this.done;
  }

  /** Throws on a move the machine's table does not allow: an illegal move is a bug, never input. */
  protected transition(to: S): void {
    const from = this.current;
    if (!this.table[from].includes(to)) {
      throw new ConflictError(`${this.kind} transaction ${this.id}: illegal transition ${from} -> ${to}`);
    }
    this.current = to;
  }

  /** arm the retransmission slot; `timer` is the name fireDeadline() gets back */
  protected armRetransmit(interval: number, timer: string): void {
    this.retransmitTimer?.cancel();
    this.retransmitInterval = interval;
    this.retransmitTimer = this.host.deadlines.arm(this, timer, interval);
  }

  protected cancelRetransmit(): void {
    this.retransmitTimer?.cancel();
    this.retransmitTimer = undefined;
  }

  /** arm the lifetime slot; `timer` is the name fireDeadline() gets back */
  protected armLifetime(duration: number, timer: string): void {
    this.lifetimeTimer?.cancel();
    this.lifetimeTimer = this.host.deadlines.arm(this, timer, duration);
  }

  /**
   * A timer armed with armRetransmit/armLifetime fell due (called by the layer's deadline
   * queues, never by a TU): each machine dispatches on the name to its handler.
   */
  abstract fireDeadline(timer: string): void;

  protected cancelTimers(): void {
    this.retransmitTimer?.cancel();
    this.retransmitTimer = undefined;
    this.lifetimeTimer?.cancel();
    this.lifetimeTimer = undefined;
  }

  /**
   * Entering a state that only absorbs retransmissions (Completed, Confirmed, Accepted): the
   * typed views of the messages the transaction keeps (parsed Vias, URIs, name-addrs) are
   * dropped and the headers packed into one string each (SipMessage.compact). A later reader
   * gets them unpacked and parsed again; meanwhile the tens of thousands of transactions that
   * wait out Timers J, K, L, M and D hold a few strings per message, which keeps the old
   * generation small and garbage collection cheap.
   */
  protected shedViews(kept: SipMessage | undefined): void {
    this.request.compact();
    kept?.compact();
  }

  /** Move to the terminal state, stop every timer and let the owner forget the transaction. */
  protected finish(terminal: S): void {
    if (this.done) return;
    this.transition(terminal);
    this.cancelTimers();
    this.done = true;
    this.host.terminated(this);
    this.onFinished();
  }

  /** the TU hook for termination */
  protected abstract onFinished(): void;

  abstract transportFailed(err: Error): void;

  dispose(): void {
    this.cancelTimers();
    this.done = true;
  }
}
