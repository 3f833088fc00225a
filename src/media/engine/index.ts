export * from './api.js';
export { LocalMediaEngine, type LocalMediaEngineOptions } from './local-engine.js';
export { RemoteMediaEngine, type RemoteMediaEngineOptions } from './remote-engine.js';
export { MediaNode, type MediaNodeOptions } from './media-node.js';
export { NODE_KEY_PREFIX, nodeOfId, type MediaNodeInfo } from './bus-protocol.js';
