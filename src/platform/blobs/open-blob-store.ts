import path from 'node:path';
import { ConfigError, type Logger } from '../../lib/index.js';
import type { Config } from '../config-schema.js';
import type { BlobStore } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';

export type BlobsConfig = Config['blobs'];

/** The one place that picks the blob store adapter from configuration (DESIGN.md: blobs row). */
export function openBlobStore(config: BlobsConfig, dataDir: string, logger?: Logger): BlobStore {
  if (config.kind === 's3') {
    // the schema requires a bucket for s3; checked again so a hand-built config fails clearly
    if (config.bucket === undefined) throw new ConfigError('blobs.bucket is required when blobs.kind is "s3"', 'blobs.bucket');
    if ((config.accessKeyId === undefined) !== (config.secretAccessKey === undefined)) {
      throw new ConfigError('blobs.accessKeyId and blobs.secretAccessKey go together', 'blobs.secretAccessKey');
    }
    return new S3BlobStore({
      bucket: config.bucket,
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: config.forcePathStyle,
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
      ...(logger === undefined ? {} : { logger: logger.child({ component: 'blobs' }) }),
    });
  }
  return new LocalBlobStore(config.dir ?? path.join(dataDir, 'blobs'));
}
