/** The RFC 3261 §17 transaction layer: four state machines, matching, and the layer that owns them. */
export { TransactionLayer, type TransactionLayerOptions, type TransactionLayerDelegate, type ClientTransaction, type ServerTransaction } from './transaction-layer.js';
export { InviteClientTransaction, type InviteClientState, type InviteClientTransactionOptions } from './invite-client-transaction.js';
export { NonInviteClientTransaction, type NonInviteClientState, type NonInviteClientTransactionOptions } from './non-invite-client-transaction.js';
export { InviteServerTransaction, type InviteServerState, type InviteServerTransactionOptions } from './invite-server-transaction.js';
export { NonInviteServerTransaction, type NonInviteServerState, type NonInviteServerTransactionOptions } from './non-invite-server-transaction.js';
export { responseTarget } from './response-target.js';
export { buildNon2xxAck, buildTrying } from './message-builders.js';
export { DEFAULT_TIMERS, resolveTimers, nonInvite100Earliest, type TimerSettings } from './timers.js';
export type { Transaction, TransactionKind, TransactionHost, ReceiveContext, ClientTransactionUser, ServerTransactionUser } from './types.js';
