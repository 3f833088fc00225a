/**
 * One branch of a response context (RFC 3261 §16.6-§16.8): a forwarded request, its client
 * transaction, Timer C for INVITE, and whether a CANCEL is owed (§9.1: not before a provisional).
 *
 *   pending --started--> calling --1xx--> proceeding --final--> completed
 *   pending --never started (forking stopped)--> completed
 *   calling --final / timeout / transport error--> completed
 */
import { ConflictError, type TimerHandle } from '../../lib/index.js';
import type { SipRequest, SipResponse } from '../message/index.js';
import type { ClientTransaction } from '../transaction/index.js';
import type { OutboundTarget } from '../transport/index.js';

export type BranchState = 'pending' | 'calling' | 'proceeding' | 'completed';

const TRANSITIONS: Readonly<Record<BranchState, readonly BranchState[]>> = {
  pending: ['calling', 'completed'],
  calling: ['proceeding', 'completed'],
  proceeding: ['completed'],
  completed: [],
};

export class ProxyBranch {
  private current: BranchState = 'pending';
  txn: ClientTransaction | undefined;
  /** the final response of this branch (a synthetic 408/503 on timeout or transport error) */
  final: SipResponse | undefined;
  /** §9.1: a CANCEL was asked for before any provisional arrived; send it on the first 1xx */
  cancelOwed = false;
  /** a CANCEL went out for this branch */
  cancelSent = false;
  timerC: TimerHandle | undefined;
  /** §16.8: after Timer C sent a CANCEL, how long we wait for the 487 before assuming 408 */
  guard: TimerHandle | undefined;
  /** the client transaction reached Terminated (or never existed) */
  txnDone = false;

  constructor(
    readonly request: SipRequest,
    readonly target: OutboundTarget,
  ) {}

  get state(): BranchState {
    return this.current;
  }

  get isPending(): boolean {
    return this.current === 'calling' || this.current === 'proceeding';
  }

  /** throws on an illegal move: a bug, never input */
  transition(to: BranchState): void {
    if (!TRANSITIONS[this.current].includes(to)) throw new ConflictError(`proxy branch: illegal transition ${this.current} -> ${to}`);
    this.current = to;
  }

  stopTimers(): void {
    this.timerC?.cancel();
    this.timerC = undefined;
    this.guard?.cancel();
    this.guard = undefined;
  }
}
