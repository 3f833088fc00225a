/**
 * What the four transaction machines need from their owner, and what they tell their user.
 * The machines are sans-I/O: they never touch a socket. They hand messages to `host.send`, which
 * reports failures back through `transportFailed`, and they only keep time through the
 * Scheduler the host carries (STYLE.md §2, §4).
 */
import type { Logger, Scheduler } from '../../lib/index.js';
import type { SipRequest, SipResponse, SipMessage } from '../message/types.js';
import type { OutboundTarget, TransportAddress } from '../transport/types.js';
import type { DeadlineQueues } from './deadline-queue.js';
import type { TimerSettings } from './timers.js';

export type TransactionKind = 'invite-client' | 'non-invite-client' | 'invite-server' | 'non-invite-server';

/** Where a message came from: the packet's source and, for stream transports, its connection. */
export interface ReceiveContext {
  source: TransportAddress;
  connectionId?: string | undefined;
}

/** The common face of every transaction, as the layer and the TU see it. */
export interface Transaction {
  readonly id: string;
  readonly kind: TransactionKind;
  readonly state: string;
  readonly request: SipRequest;
  /** true once the machine reached Terminated (or was disposed) */
  readonly terminated: boolean;
  /** the layer received a transport error for something this transaction sent (§17.1.4, §17.2.4) */
  transportFailed(err: Error): void;
  /** the same, shaped as a promise rejection handler (bound once per transaction) */
  readonly sendFailed: (err: unknown) => void;
  /** stop every timer without telling the TU (layer shutdown) */
  dispose(): void;
}

export interface TransactionHost {
  readonly scheduler: Scheduler;
  /** where the machines arm their timers (one scheduler timer per duration, see DeadlineQueues) */
  readonly deadlines: DeadlineQueues;
  readonly timers: TimerSettings;
  readonly logger: Logger;
  /** hand a message to the transport; a failure comes back through txn.transportFailed */
  send(message: SipMessage, target: OutboundTarget, txn: Transaction): void;
  /** the machine reached Terminated: the owner forgets it */
  terminated(txn: Transaction): void;
  /** RFC 3261 §17.1.1.3: the ACK a client transaction sends for a non-2xx final response */
  buildAck(request: SipRequest, response: SipResponse): SipRequest;
  /** RFC 3261 §8.2.6.1: a 100 Trying for the request, with its Timestamp copied */
  buildTrying(request: SipRequest): SipResponse;
}

export interface ClientTransactionUser {
  /** every response the TU must see: provisional, final, and 2xx retransmissions (RFC 6026 §7.2) */
  onResponse(response: SipResponse, txn: Transaction): void;
  /** Timer B or F fired (§17.1.1.2, §17.1.2.2); the TU treats it as a 408 */
  onTimeout?(txn: Transaction): void;
  /** the transport could not send the request (§17.1.4); the TU treats it as a 503 */
  onTransportError?(err: Error, txn: Transaction): void;
  onTerminated?(txn: Transaction): void;
}

export interface ServerTransactionUser {
  /** Timer H fired: the ACK for a non-2xx final response never came (§17.2.1) */
  onTimeout?(txn: Transaction): void;
  /** a response could not be sent (§17.2.4) */
  onTransportError?(err: Error, txn: Transaction): void;
  onTerminated?(txn: Transaction): void;
}

export function isReliableTarget(target: OutboundTarget): boolean {
  return target.protocol !== 'udp';
}
