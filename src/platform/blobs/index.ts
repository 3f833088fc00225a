export { validateBlobKey, validateBlobPrefix } from './blob-store.js';
export type { BlobStore } from './blob-store.js';
export { LocalBlobStore } from './local-blob-store.js';
export { S3BlobStore } from './s3-blob-store.js';
export type { S3BlobStoreOptions } from './s3-blob-store.js';
export { openBlobStore } from './open-blob-store.js';
export type { BlobsConfig } from './open-blob-store.js';
