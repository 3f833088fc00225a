import type { Logger, Scheduler } from '../../lib/index.js';
import type { SipMessage, SipRequest, SipResponse } from '../message/index.js';
import type { ReceiveContext, TransactionLayer } from '../transaction/index.js';
import type { OutboundTarget, TransportAddress, TransportProtocol } from '../transport/index.js';

/** What a service answers through: a server transaction, or the stateless responder. */
export interface Responder {
  respond(response: SipResponse): void;
}

/**
 * A SIP service plugged into the server (OPTIONS answering now; registrar, proxy and B2BUA
 * later). The server offers each new request to its services in order, like a processor chain:
 * the first that returns true owns the request and must answer it.
 */
export interface SipService {
  readonly name: string;
  /** methods this service may answer; together they form the Allow header */
  readonly methods: readonly string[];
  /** option tags this service implements (Supported, and the Require check) */
  readonly extensions?: readonly string[];
  /**
   * Methods this service answers statelessly (RFC 3261 §8.2.7) when they arrive outside a
   * dialog: no transaction, no timers; a retransmission is simply answered again, with the
   * same To tag. Only for requests whose answer does not change state (OPTIONS pings).
   */
  readonly statelessMethods?: readonly string[];
  /** narrows statelessMethods: only requests this accepts are answered statelessly */
  statelessFor?(request: SipRequest): boolean;
  /**
   * True when this service will relay the request as a proxy (RFC 3261 §16) rather than answer
   * it as a UAS: the server then skips its UAS checks (§8.2), which do not apply to requests
   * passing through, and the proxy validates per §16.3 itself.
   */
  forwards?(request: SipRequest): boolean;
  /**
   * True when this service wants a new request as a UAS even though a later service in the chain
   * would relay it (a B2BUA ahead of the proxy): the request then gets the §8.2 UAS checks and is
   * offered to the services in chain order instead of going to the relay.
   */
  claims?(request: SipRequest): boolean;
  /** a CANCEL with the INVITE server transaction it targets (§9.2, §16.10): true when handled */
  handleCancel?(cancel: SipRequest, txn: Responder, invite: Responder | undefined, ctx: ReceiveContext): boolean;
  handleRequest(request: SipRequest, responder: Responder, ctx: ReceiveContext): boolean;
  /** called once when the service is added to a server, with what it needs to originate traffic */
  attach?(core: SipCore): void;
  /** an ACK no transaction absorbed (ACK for a 2xx, §13.3.1.4 / §16.6): true when handled */
  handleAck?(ack: SipRequest, ctx: ReceiveContext): boolean;
  /** a response matching no client transaction (§16.7 forwards it statelessly): true when handled */
  handleStrayResponse?(response: SipResponse, ctx: ReceiveContext): boolean;
  /** stop timers and background work; idempotent */
  close?(): Promise<void> | void;
}

/** The server's facilities offered to services (proxy, registrar, later B2BUA). */
export interface SipCore {
  readonly transactions: TransactionLayer;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** serialize and send outside any transaction (ACK for 2xx, stateless forwarding) */
  send(message: SipMessage, target: OutboundTarget): Promise<void>;
  /** the listener of a protocol and address family, for Via, Record-Route and Contact */
  localAddress(protocol: TransportProtocol, family: 4 | 6): TransportAddress | undefined;
  /** the host name or address to advertise for that listener (sip.advertisedHost, else the bound address) */
  advertisedHost(local: TransportAddress): string;
  /** a stable id of this node (for flows bound to its connections, RFC 5626) */
  readonly nodeId: string;
}
