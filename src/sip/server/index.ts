export { SipServer, type SipServerOptions } from './sip-server.js';
export type { SipService } from './sip-service.js';
export { OptionsService } from './options-service.js';
export { stampVia } from './via-stamp.js';
export { statelessErrorResponse } from './stateless-reply.js';
export type { PacketAffinity } from './sip-server.js';
export type { Responder } from './sip-service.js';
export type { SipCore } from './sip-service.js';
export type { HeldSubscribers, SubscriberDirectory } from './directory.js';
