/** The SIP layer: message, transport, transaction, dialog, auth, and the server core. */
export * as message from './message/index.js';
export * as transport from './transport/index.js';
export * as transaction from './transaction/index.js';
export * as dialog from './dialog/index.js';
export * as auth from './auth/index.js';
export { SipServer, type SipServerOptions, type SipService, type SipCore, type SubscriberDirectory, type HeldSubscribers, type PacketAffinity, type Responder, OptionsService } from './server/index.js';
export * as registrar from './registrar/index.js';
export * as proxy from './proxy/index.js';
export { Registrar, MemoryLocationStore, RedisLocationStore, registrationsView, type LocationStore, type Binding, type LocationChange } from './registrar/index.js';
export { Proxy } from './proxy/index.js';
export * as ua from './ua/index.js';
