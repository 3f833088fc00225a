export * from './types.js';
export * from './stream-framer.js';
export * from './connection-table.js';
export * from './udp-transport.js';
export * from './stream-transport.js';
export * from './ws-transport.js';
export * from './transport-manager.js';
export * from './memory-transport.js';
