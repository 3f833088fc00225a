import type { SipRequest } from '../message/index.js';
import type { ReceiveContext, ServerTransaction } from '../transaction/index.js';

/**
 * A SIP service plugged into the server (OPTIONS answering now; registrar, proxy and B2BUA
 * later). The server offers each new request to its services in order, like a processor chain:
 * the first that returns true owns the transaction and must answer it.
 */
export interface SipService {
  readonly name: string;
  /** methods this service may answer; together they form the Allow header */
  readonly methods: readonly string[];
  /** option tags this service implements (Supported, and the Require check) */
  readonly extensions?: readonly string[];
  handleRequest(request: SipRequest, txn: ServerTransaction, ctx: ReceiveContext): boolean;
}
