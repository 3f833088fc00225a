/** The SIP layer: message, transport, transaction, dialog, auth, and the server core. */
export * as message from './message/index.js';
export * as transport from './transport/index.js';
export * as transaction from './transaction/index.js';
export * as dialog from './dialog/index.js';
export * as auth from './auth/index.js';
export { SipServer, type SipServerOptions, type SipService, type SipCore, type SubscriberDirectory, type PacketAffinity, type Responder, OptionsService } from './server/index.js';
