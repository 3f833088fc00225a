/**
 * The transaction layer (RFC 3261 §17): owns every client and server transaction, matches
 * incoming messages to them (§17.1.3, §17.2.3, RFC 2543 fallback, CANCEL per §9.2) in O(1) with
 * two Maps, and is the only piece that touches the injected `send`. Everything else is the four
 * machines.
 */
import { ClosedError, ConflictError, InvalidInputError, silentLogger, type Logger, type Scheduler, type TimerHandle } from '../../lib/index.js';
import { BRANCH_MAGIC_COOKIE } from '../../lib/index.js';
import { flatString, formatUri, formatVia, type SipMessage, type SipRequest, type SipResponse } from '../message/index.js';
import type { OutboundTarget } from '../transport/types.js';
import { DeadlineQueues } from './deadline-queue.js';
import { InviteClientTransaction } from './invite-client-transaction.js';
import { InviteServerTransaction } from './invite-server-transaction.js';
import { buildNon2xxAck, buildTrying } from './message-builders.js';
import { NonInviteClientTransaction } from './non-invite-client-transaction.js';
import { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import { responseTarget } from './response-target.js';
import { resolveTimers, type TimerSettings } from './timers.js';
import type { ClientTransactionUser, ReceiveContext, ServerTransactionUser, Transaction, TransactionHost } from './types.js';

export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

/** The transaction user's side of the layer (delegate with optional hooks, STYLE.md §6). */
export interface TransactionLayerDelegate {
  /** a new request (anything but ACK, and CANCEL when onCancel is absent) with its server transaction */
  onRequest(request: SipRequest, txn: ServerTransaction, ctx: ReceiveContext): void;
  /**
   * a new CANCEL with its own server transaction and the INVITE server transaction it targets
   * (§9.2), undefined when none matches (the TU answers 481)
   */
  onCancel?(cancel: SipRequest, txn: NonInviteServerTransaction, invite: InviteServerTransaction | undefined, ctx: ReceiveContext): void;
  /** an ACK no transaction absorbed: the ACK for a 2xx (§17, §13.3.1.4) or a stray one */
  onAck?(ack: SipRequest, ctx: ReceiveContext, invite: InviteServerTransaction | undefined): void;
  /** a response matching no client transaction (§18.1.2); a proxy forwards it statelessly (§16.7) */
  onStrayResponse?(response: SipResponse, ctx: ReceiveContext): void;
  /** Timer H fired on an INVITE server transaction (§17.2.1) */
  onServerTimeout?(txn: ServerTransaction): void;
  /** a response could not be sent (§17.2.4) */
  onServerTransportError?(err: Error, txn: ServerTransaction): void;
  onServerTerminated?(txn: ServerTransaction): void;
}

export interface TransactionLayerOptions {
  scheduler: Scheduler;
  /** hand a message to the transport; a rejection is a transport error (§17.1.4, §17.2.4) */
  send(message: SipMessage, target: OutboundTarget): Promise<void>;
  delegate: TransactionLayerDelegate;
  timers?: Partial<TimerSettings>;
  logger?: Logger;
}

const SEP = '\u0001';

/** states in which a transaction only absorbs retransmissions (see drain) */
const SETTLED: ReadonlySet<string> = new Set(['completed', 'confirmed', 'accepted', 'terminated']);

/** §17.2.3: ACK matches the INVITE it acknowledges; CANCEL is its own transaction (§9.2). */
function matchMethod(method: string): string {
  return method === 'ACK' ? 'INVITE' : method;
}

function isRfc3261Branch(branch: string | undefined): branch is string {
  return branch !== undefined && branch.startsWith(BRANCH_MAGIC_COOKIE) && branch.length > BRANCH_MAGIC_COOKIE.length;
}

/**
 * The server-side key of a request, or undefined when the request lacks what matching needs.
 * `method` overrides the method part (CANCEL looks for its INVITE). The key is flat: built from
 * pieces of the message text, it would otherwise keep that text alive as long as the transaction.
 */
function serverKey(req: SipRequest, method: string): string | undefined {
  const via = req.topVia;
  if (via === undefined) return undefined;
  if (isRfc3261Branch(via.branch)) {
    // §17.2.3: branch + sent-by + method.
    return flatString(via.branch + SEP + via.host + ':' + (via.port ?? '') + SEP + method);
  }
  // §17.2.3 RFC 2543 fallback: Request-URI, From tag, Call-ID, CSeq number and top Via; the To
  // tag is part of the key except for INVITE, whose ACK carries the tag of our response
  // (checked in receiveAck) and whose CANCEL carries none.
  const cseq = req.cseq;
  const callId = req.callId;
  if (cseq === undefined || callId === undefined) return undefined;
  const toTag = method === 'INVITE' ? '' : (req.toTag ?? '');
  return flatString('2543' + SEP + formatUri(req.uri) + SEP + (req.fromTag ?? '') + SEP + callId + SEP + cseq.seq + SEP + formatVia(via) + SEP + toTag + SEP + method);
}

interface DrainWaiter {
  resolve(): void;
  timer: TimerHandle | undefined;
}

export class TransactionLayer {
  private readonly host: TransactionHost;
  private readonly deadlines: DeadlineQueues;
  private readonly sendFn: (message: SipMessage, target: OutboundTarget) => Promise<void>;
  private readonly delegate: TransactionLayerDelegate;
  private readonly logger: Logger;
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  private readonly serverUser: ServerTransactionUser;
  private drainWaiters: DrainWaiter[] = [];
  private closed = false;

  constructor(options: TransactionLayerOptions) {
    this.sendFn = options.send;
    this.delegate = options.delegate;
    this.logger = options.logger ?? silentLogger;
    const timers = resolveTimers(options.timers);
    this.deadlines = new DeadlineQueues(options.scheduler, this.logger);
    this.host = {
      scheduler: options.scheduler,
      deadlines: this.deadlines,
      timers,
      logger: this.logger,
      send: (message, target, txn) => this.transmit(message, target, txn),
      terminated: (txn) => this.forget(txn),
      buildAck: buildNon2xxAck,
      buildTrying,
    };
    const delegate = this.delegate;
    this.serverUser = {
      onTimeout: (txn) => delegate.onServerTimeout?.(txn as ServerTransaction),
      onTransportError: (err, txn) => delegate.onServerTransportError?.(err, txn as ServerTransaction),
      onTerminated: (txn) => delegate.onServerTerminated?.(txn as ServerTransaction),
    };
  }

  get timers(): TimerSettings {
    return this.host.timers;
  }

  /** live transactions, client and server (for metrics and drain) */
  get activeCount(): number {
    return this.clients.size + this.servers.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Start a client transaction for `request` (§17.1): INVITE gets §17.1.1, anything else
   * §17.1.2. The request's top Via must carry an RFC 3261 branch. ACK is no transaction: send
   * the ACK for a 2xx with sendStateless().
   */
  createClientTransaction(request: SipRequest, target: OutboundTarget, user: ClientTransactionUser): ClientTransaction {
    if (this.closed) throw new ClosedError('transaction layer is closed');
    if (request.method === 'ACK') throw new InvalidInputError('ACK does not create a client transaction (RFC 3261 §17.1.1.3, §13.2.2.4)');
    const branch = request.topVia?.branch;
    if (!isRfc3261Branch(branch)) throw new InvalidInputError('client request needs a top Via with an RFC 3261 branch (§8.1.1.7)');
    // §17.1.3: branch + CSeq method; CANCEL shares the INVITE's branch but not its method.
    const key = flatString(branch + SEP + request.method);
    if (this.clients.has(key)) throw new ConflictError(`a client transaction already exists for branch ${branch} ${request.method}`);
    const options = { host: this.host, request, target, user };
    const txn = request.method === 'INVITE' ? new InviteClientTransaction(options) : new NonInviteClientTransaction(options);
    txn.matchKey = key;
    this.clients.set(key, txn);
    txn.start();
    return txn;
  }

  /** Send outside any transaction: the ACK for a 2xx, a stateless forward. Failures are logged. */
  sendStateless(message: SipMessage, target: OutboundTarget): void {
    if (this.closed) return;
    try {
      this.sendFn(message, target).catch(this.logStatelessFailure);
    } catch (err) {
      this.logStatelessFailure(err);
    }
  }

  /** A response from the transport (§17.1.3): branch + CSeq method pick the client transaction. */
  receiveResponse(response: SipResponse, ctx: ReceiveContext): void {
    if (this.closed) return;
    const branch = response.topVia?.branch;
    const method = response.cseq?.method;
    const txn = branch === undefined || method === undefined ? undefined : this.clients.get(branch + SEP + method);
    if (txn === undefined) {
      try {
        this.delegate.onStrayResponse?.(response, ctx);
      } catch (err) {
        this.userThrew(err);
      }
      return;
    }
    txn.receiveResponse(response);
    if (this.drainWaiters.length > 0 && response.status >= 200) this.checkDrain();
  }

  /** A request from the transport (§17.2.3): retransmissions are absorbed, new ones reach the TU. */
  receiveRequest(request: SipRequest, ctx: ReceiveContext): void {
    if (this.closed) return;
    const method = request.method;
    const key = serverKey(request, matchMethod(method));
    if (key === undefined) {
      this.logger.debug({ method }, 'request without the Via/CSeq/Call-ID matching needs: dropped');
      return;
    }
    if (method === 'ACK') {
      this.receiveAck(request, key, ctx);
      return;
    }
    const existing = this.servers.get(key);
    if (existing !== undefined) {
      // answered where the retransmission came from: the client may have moved to another
      // connection or transport (a TCP reconnect, a NAT rebinding)
      existing.receiveRetransmission(responseTarget(request.topVia, ctx));
      return;
    }
    const options = { host: this.host, request, target: responseTarget(request.topVia, ctx), user: this.serverUser };
    if (method === 'INVITE') {
      const txn = new InviteServerTransaction(options);
      this.adoptServer(txn, key);
      try {
        this.delegate.onRequest(request, txn, ctx);
      } catch (err) {
        this.userThrew(err);
      }
      return;
    }
    const txn = new NonInviteServerTransaction(options);
    this.adoptServer(txn, key);
    if (method === 'CANCEL' && this.delegate.onCancel !== undefined) {
      try {
        this.delegate.onCancel(request, txn, this.findCancelTarget(request), ctx);
      } catch (err) {
        this.userThrew(err);
      }
      return;
    }
    try {
      this.delegate.onRequest(request, txn, ctx);
    } catch (err) {
      this.userThrew(err);
    }
  }

  /** §9.2: the INVITE server transaction a CANCEL targets (same key as the INVITE would have). */
  findCancelTarget(cancel: SipRequest): InviteServerTransaction | undefined {
    const key = serverKey(cancel, 'INVITE');
    const txn = key === undefined ? undefined : this.servers.get(key);
    return txn instanceof InviteServerTransaction ? txn : undefined;
  }

  /** Resolves when no transaction still owes or awaits a final response, or when `deadlineMs` has passed (graceful shutdown). */
  drain(deadlineMs: number): Promise<void> {
    if (this.closed || this.unsettledCount() === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter: DrainWaiter = { resolve, timer: undefined };
      waiter.timer = this.host.scheduler.setTimeout(() => this.releaseWaiter(waiter), deadlineMs);
      this.drainWaiters.push(waiter);
    });
  }

  /** Stop every timer and forget every transaction; TUs are not told. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const txn of this.clients.values()) txn.dispose();
    for (const txn of this.servers.values()) txn.dispose();
    this.clients.clear();
    this.servers.clear();
    this.deadlines.close();
    for (const waiter of this.drainWaiters) {
      waiter.timer?.cancel();
      waiter.resolve();
    }
    this.drainWaiters = [];
  }

  private receiveAck(ack: SipRequest, key: string, ctx: ReceiveContext): void {
    const txn = this.servers.get(key);
    const invite = txn instanceof InviteServerTransaction ? txn : undefined;
    if (invite !== undefined && this.ackToTagMatches(ack, invite) && invite.receiveAck()) return;
    // RFC 6026 §7.1 / §17: an ACK for a 2xx is not part of the transaction; it goes to the TU.
    try {
      this.delegate.onAck?.(ack, ctx, invite);
    } catch (err) {
      this.userThrew(err);
    }
  }

  /** §17.2.3 (RFC 2543 fallback): the ACK's To tag must be the one of our response. */
  private ackToTagMatches(ack: SipRequest, invite: InviteServerTransaction): boolean {
    if (isRfc3261Branch(ack.topVia?.branch)) return true;
    const sent = invite.lastResponse;
    return sent !== undefined && sent.toTag === ack.toTag;
  }

  private adoptServer(txn: ServerTransaction, key: string): void {
    txn.matchKey = key;
    this.servers.set(key, txn);
    txn.start();
  }

  private transmit(message: SipMessage, target: OutboundTarget, txn: Transaction): void {
    if (this.closed) return;
    let pending: Promise<void>;
    try {
      pending = this.sendFn(message, target);
    } catch (err) {
      // report a synchronous throw asynchronously too, so a machine is never re-entered
      // in the middle of its own transition
      pending = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    pending.catch(txn.sendFailed);
    if (this.drainWaiters.length > 0 && message.kind === 'response' && message.status >= 200) this.checkDrain();
  }

  /**
   * Graceful stop waits for transactions that still owe an answer or await one. Those that only
   * linger to absorb retransmissions (Completed, Confirmed, Accepted: Timers J, I, K, L, M) hold
   * nothing a peer is waiting for, so they do not hold up a shutdown.
   */
  private unsettledCount(): number {
    let n = 0;
    for (const txn of this.clients.values()) if (!SETTLED.has(txn.state)) n++;
    for (const txn of this.servers.values()) if (!SETTLED.has(txn.state)) n++;
    return n;
  }

  private checkDrain(): void {
    if (this.drainWaiters.length === 0 || this.unsettledCount() > 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) {
      waiter.timer?.cancel();
      waiter.resolve();
    }
  }

  private forget(txn: Transaction): void {
    const key = (txn as ClientTransaction | ServerTransaction).matchKey;
    const map: Map<string, Transaction> = txn.kind === 'invite-client' || txn.kind === 'non-invite-client' ? this.clients : this.servers;
    if (map.get(key) === txn) map.delete(key);
    this.checkDrain();
  }

  private releaseWaiter(waiter: DrainWaiter): void {
    const index = this.drainWaiters.indexOf(waiter);
    if (index >= 0) this.drainWaiters.splice(index, 1);
    waiter.resolve();
  }

  /** A TU hook that throws never breaks the layer (STYLE.md §6); inline try/catch, no closure per message. */
  private userThrew(err: unknown): void {
    this.logger.error({ err }, 'transaction user threw');
  }

  private readonly logStatelessFailure = (err: unknown): void => {
    this.logger.warn({ err }, 'stateless send failed');
  };
}
