export * from './clock.js';
export * from './errors.js';
export * from './events.js';
export * from './logger.js';
export * from './ids.js';
export * from './hash.js';
export * from './udp-lookup.js';
export * from './network.js';
