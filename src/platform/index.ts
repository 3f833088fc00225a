export * from './config-schema.js';
export * from './load-config.js';
export * from './pino-logger.js';
export * from './metrics.js';
export * from './health.js';
export * from './http-server.js';
export * from './bus/index.js';
export * from './db/index.js';
