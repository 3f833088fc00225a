import type { SipRequest, SipResponse } from '../message/index.js';
import type { ReceiveContext } from '../transaction/index.js';

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
  handleRequest(request: SipRequest, responder: Responder, ctx: ReceiveContext): boolean;
}
