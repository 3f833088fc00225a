/**
 * The response context of a stateful proxy (RFC 3261 §16.2, §16.6-§16.10): the server
 * transaction's request, its branches in q-value groups (parallel inside a group, groups one
 * after the other), Timer C, best response selection and CANCEL.
 *
 *   resolving --targets known--> forking --final sent--> answered --all branches ended--> terminated
 *   resolving --error / CANCEL--> answered
 *   forking --every branch ended with nothing more to send--> terminated
 */
import { ConflictError, describeError, newTag, type Logger } from '../../lib/index.js';
import { createResponse, type SipRequest, type SipResponse } from '../message/index.js';
import type { Responder, SipCore } from '../server/index.js';
import type { ClientTransactionUser, Transaction } from '../transaction/index.js';
import type { OutboundTarget } from '../transport/index.js';
import { ProxyBranch } from './proxy-branch.js';
import { buildCancel, withoutTopVia } from './request-forwarding.js';
import { selectBestResponse } from './response-selection.js';

export type ContextState = 'resolving' | 'forking' | 'answered' | 'terminated';

const TRANSITIONS: Readonly<Record<ContextState, readonly ContextState[]>> = {
  resolving: ['forking', 'answered', 'terminated'],
  forking: ['answered', 'terminated'],
  answered: ['terminated'],
  terminated: [],
};

/** One forwarded copy and where it goes. */
export interface BranchPlan {
  request: SipRequest;
  target: OutboundTarget;
}

export interface ContextHost {
  readonly core: SipCore;
  readonly timerCMs: number;
  readonly logger: Logger;
  /** the context reached Terminated: forget it */
  contextDone(ctx: ResponseContext): void;
}

const NO_RESPONSES: ClientTransactionUser = { onResponse() {} };

/**
 * The context is the user of its branches' client transactions itself (the branch is found by
 * its request): no closures per branch, which would be kept as long as the transaction (32 s).
 */
export class ResponseContext implements ClientTransactionUser {
  private current: ContextState = 'resolving';
  private readonly pendingGroups: BranchPlan[][] = [];
  private readonly branches: ProxyBranch[] = [];
  private readonly finals: SipResponse[] = [];
  private readonly isInvite: boolean;
  /** §16.7 items 5 and 10, §16.10: no new branches once set */
  private stopForking = false;
  private cancelled = false;

  constructor(
    readonly request: SipRequest,
    readonly server: Responder,
    private readonly host: ContextHost,
  ) {
    this.isInvite = request.method === 'INVITE';
  }

  get state(): ContextState {
    return this.current;
  }

  get branchCount(): number {
    return this.branches.length;
  }

  /** §16.6 / §16.5: start forking over q-groups (highest q first); an empty list answers 480. */
  start(groups: BranchPlan[][]): void {
    if (this.current !== 'resolving') return;
    if (this.cancelled) return; // §16.10: a CANCEL arrived while we looked targets up (487 already sent)
    for (const g of groups) if (g.length > 0) this.pendingGroups.push(g);
    if (this.pendingGroups.length === 0) {
      this.reject(480);
      return;
    }
    this.transition('forking');
    this.nextGroup();
  }

  /** Answer locally (validation, auth, lookup errors) while no branch exists. */
  reject(status: number, headers?: [string, string][], reason?: string): void {
    if (this.current !== 'resolving') return;
    this.sendFinal(createResponse(this.request, status, reason, headers === undefined ? { toTag: newTag() } : { headers, toTag: newTag() }), false);
  }

  /**
   * §16.10: CANCEL every pending branch and create no new ones. While targets are still being
   * looked up, the request itself gets 487 (§9.2).
   */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.stopForking = true;
    if (this.current === 'resolving') {
      this.sendFinal(createResponse(this.request, 487, undefined, { toTag: newTag() }), false);
      return;
    }
    for (const b of this.branches) this.cancelBranch(b);
    this.checkComplete();
  }

  private transition(to: ContextState): void {
    if (!TRANSITIONS[this.current].includes(to)) throw new ConflictError(`response context: illegal transition ${this.current} -> ${to}`);
    this.current = to;
  }

  private nextGroup(): void {
    const group = this.pendingGroups.shift();
    if (group === undefined) return;
    for (const plan of group) this.startBranch(plan);
    // a group may end synchronously (every send failed at once)
    this.checkComplete();
  }

  private startBranch(plan: BranchPlan): void {
    const branch = new ProxyBranch(plan.request, plan.target);
    this.branches.push(branch);
    branch.transition('calling');
    try {
      branch.txn = this.host.core.transactions.createClientTransaction(plan.request, plan.target, this);
    } catch (err) {
      this.host.logger.warn({ err: describeError(err) }, 'proxy: could not start a client transaction');
      branch.txnDone = true;
      this.onBranchFinal(branch, createResponse(branch.request, 503));
      return;
    }
    // §16.6 item 11: Timer C, longer than 3 minutes, guards INVITE branches
    if (this.isInvite && !branch.txnDone && branch.state !== 'completed') this.armTimerC(branch);
  }

  /** ClientTransactionUser: a response on one of our branches */
  onResponse(response: SipResponse, txn: Transaction): void {
    const branch = this.branchOf(txn);
    if (branch !== undefined) this.onBranchResponse(branch, response);
  }

  /** ClientTransactionUser: §16.7, a transaction timeout counts as 408 */
  onTimeout(txn: Transaction): void {
    const branch = this.branchOf(txn);
    if (branch !== undefined) this.onBranchFinal(branch, createResponse(branch.request, 408));
  }

  /** ClientTransactionUser: §16.9, a transport error counts as 503 */
  onTransportError(_err: Error, txn: Transaction): void {
    const branch = this.branchOf(txn);
    if (branch !== undefined) this.onBranchFinal(branch, createResponse(branch.request, 503));
  }

  /** ClientTransactionUser */
  onTerminated(txn: Transaction): void {
    const branch = this.branchOf(txn);
    if (branch !== undefined) this.onBranchTerminated(branch);
  }

  /** the branch whose client transaction this is: each branch has a request of its own */
  private branchOf(txn: Transaction): ProxyBranch | undefined {
    const request = txn.request;
    for (const b of this.branches) if (b.request === request) return b;
    return undefined;
  }

  private armTimerC(branch: ProxyBranch): void {
    branch.timerC?.cancel();
    branch.timerC = this.host.core.scheduler.setTimeout(() => this.onTimerC(branch), this.host.timerCMs);
  }

  /** §16.8: Timer C fired. */
  private onTimerC(branch: ProxyBranch): void {
    branch.timerC = undefined;
    if (branch.state === 'proceeding') {
      // a provisional came: CANCEL it, and give the 487 64*T1 before assuming 408
      this.sendCancel(branch);
      const t1 = this.host.core.transactions.timers.t1;
      branch.guard = this.host.core.scheduler.setTimeout(() => this.onBranchFinal(branch, createResponse(branch.request, 408)), 64 * t1);
    } else if (branch.state === 'calling') {
      // no provisional: behave as if a 408 arrived
      this.onBranchFinal(branch, createResponse(branch.request, 408));
    }
  }

  private onBranchResponse(branch: ProxyBranch, response: SipResponse): void {
    const status = response.status;
    if (status < 200) {
      if (branch.state === 'calling') branch.transition('proceeding');
      if (branch.state !== 'proceeding') return;
      // §9.1: a CANCEL asked for before this provisional can go now
      if (branch.cancelOwed) {
        this.sendCancel(branch);
        return;
      }
      // §16.7 item 2: 101-199 reset Timer C
      if (status > 100 && this.isInvite && branch.timerC !== undefined) this.armTimerC(branch);
      // §16.7 item 5: 100 is not forwarded; other provisionals go upstream at once (while no final went)
      if (status > 100 && this.current === 'forking') this.forward(response);
      return;
    }
    if (status < 300) {
      // §16.7 items 5 and 9: every 2xx of an INVITE is forwarded, even after the first (forks);
      // for other methods only the first final response
      if (branch.state !== 'completed') this.completeBranch(branch, response);
      if (this.isInvite ? this.current !== 'terminated' : this.current === 'forking') {
        if (this.current === 'forking') this.transition('answered');
        this.forward(response);
      }
      // kept as the branch's final until its transaction ends (Timer M: 32 s): packed meanwhile
      response.compact();
      // §16.7 item 10: a final response went upstream: cancel the rest, fork no further
      this.stopForking = true;
      for (const b of this.branches) this.cancelBranch(b);
      this.maybeTerminate();
      return;
    }
    this.onBranchFinal(branch, response);
  }

  /** a non-2xx final (received or synthetic) */
  private onBranchFinal(branch: ProxyBranch, response: SipResponse): void {
    if (branch.state === 'completed') return;
    this.completeBranch(branch, response);
    this.finals.push(response);
    if (response.status >= 600) {
      // §16.7 item 5: a 6xx cancels the other branches and stops forking
      this.stopForking = true;
      for (const b of this.branches) this.cancelBranch(b);
    }
    this.checkComplete();
  }

  private completeBranch(branch: ProxyBranch, response: SipResponse): void {
    branch.stopTimers();
    branch.final = response;
    branch.transition('completed');
  }

  /** §16.7 item 6: when no branch is pending, the next group or the best response. */
  private checkComplete(): void {
    if (this.current !== 'forking') {
      this.maybeTerminate();
      return;
    }
    if (this.branches.some((b) => b.isPending)) return;
    if (!this.stopForking && this.pendingGroups.length > 0) {
      this.nextGroup();
      return;
    }
    this.sendFinal(selectBestResponse(this.finals, this.request), true);
  }

  /** §16.10: CANCEL a pending branch, or owe it the CANCEL until a provisional arrives (§9.1). */
  private cancelBranch(branch: ProxyBranch): void {
    if (!this.isInvite || !branch.isPending || branch.cancelSent) return;
    if (branch.state === 'calling') branch.cancelOwed = true;
    else this.sendCancel(branch);
  }

  private sendCancel(branch: ProxyBranch): void {
    if (branch.cancelSent) return;
    branch.cancelSent = true;
    branch.cancelOwed = false;
    try {
      this.host.core.transactions.createClientTransaction(buildCancel(branch.request), branch.target, NO_RESPONSES);
    } catch (err) {
      this.host.logger.debug({ err: describeError(err) }, 'proxy: CANCEL not sent');
    }
  }

  /** a final response upstream; `ours` means it carries our Via (a branch's response) */
  private sendFinal(response: SipResponse, ours: boolean): void {
    this.transition('answered');
    this.respond(ours ? withoutTopVia(response) : response);
    // the branches' finals are only kept now, until their transactions end (Timer D: 32 s)
    for (const final of this.finals) final.compact();
    this.maybeTerminate();
  }

  /** §16.7 item 3: pop our Via, then hand the response to the server transaction */
  private forward(response: SipResponse): void {
    this.respond(withoutTopVia(response));
  }

  private respond(response: SipResponse): void {
    try {
      this.server.respond(response);
    } catch (err) {
      this.host.logger.debug({ err: describeError(err) }, 'proxy: response not sent upstream');
    }
  }

  private onBranchTerminated(branch: ProxyBranch): void {
    branch.txnDone = true;
    // a client transaction can end without a final for us (Timer C CANCEL path): count it done
    if (branch.isPending && branch.cancelSent && branch.guard === undefined) this.onBranchFinal(branch, createResponse(branch.request, 408));
    this.maybeTerminate();
  }

  private maybeTerminate(): void {
    if (this.current !== 'answered') return;
    if (this.branches.some((b) => !b.txnDone)) return;
    for (const b of this.branches) b.stopTimers();
    this.transition('terminated');
    this.host.contextDone(this);
  }

  /** the transaction layer closed under us: drop timers, tell nobody */
  dispose(): void {
    for (const b of this.branches) b.stopTimers();
    if (this.current !== 'terminated') this.current = 'terminated';
  }

  /** for tests and metrics */
  branchStates(): string[] {
    return this.branches.map((b) => b.state);
  }

  /** the transaction of a branch, for tests */
  branchTransactions(): Transaction[] {
    const out: Transaction[] = [];
    for (const b of this.branches) if (b.txn !== undefined) out.push(b.txn);
    return out;
  }
}
