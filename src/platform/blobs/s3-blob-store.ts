import { createReadStream, promises as fs } from 'node:fs';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { ClosedError, NotFoundError, UnavailableError, describeError, silentLogger, type Logger } from '../../lib/index.js';
import { validateBlobKey, validateBlobPrefix, type BlobStore } from './blob-store.js';

export interface S3BlobStoreOptions {
  bucket: string;
  /** default us-east-1: S3-compatible stores (MinIO, Ceph, s3rver) accept any region */
  region?: string | undefined;
  /** an S3-compatible endpoint, e.g. http://minio:9000 */
  endpoint?: string | undefined;
  /** bucket in the path rather than the host name: what most S3-compatible stores need */
  forcePathStyle?: boolean | undefined;
  /** both or neither; neither means the SDK's default chain (environment, instance role) */
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  /** give up on a TCP connect after this long (default 3000 ms) */
  connectTimeoutMs?: number;
  /** give up on a request that has not completed after this long (default 60000 ms: uploads of long recordings) */
  requestTimeoutMs?: number;
  /** attempts per call including the first (default 2): enough for a dropped keep-alive socket, short enough to fail fast */
  maxAttempts?: number;
  logger?: Logger;
}

/** S3 error names that mean "no such object" (HeadObject has no body, so it only gives NotFound). */
const MISSING = new Set(['NoSuchKey', 'NotFound']);

function awsErrorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

function httpStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('$metadata' in err)) return undefined;
  const meta = err.$metadata;
  if (typeof meta !== 'object' || meta === null || !('httpStatusCode' in meta)) return undefined;
  return typeof meta.httpStatusCode === 'number' ? meta.httpStatusCode : undefined;
}

/** The SDK's logger shape, at debug level: it logs every command's input and output at info. */
function sdkLogger(logger: Logger): { debug(...c: unknown[]): void; info(...c: unknown[]): void; warn(...c: unknown[]): void; error(...c: unknown[]): void } {
  const log = (...content: unknown[]): void => logger.debug({ sdk: content }, 'aws-sdk');
  return { debug: log, info: log, warn: log, error: log };
}

/**
 * Blobs as objects in one S3 bucket, key = object key. Timeouts and a small retry budget make an
 * unreachable store fail within seconds with UnavailableError instead of hanging a caller (a
 * recorder's stop(), an HTTP request).
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  readonly bucket: string;
  private readonly config: S3ClientConfig;
  /** the AWS SDK is loaded on first use: a server without S3 never pays its start-up time and memory */
  private sdk: Promise<{ S3: typeof import('@aws-sdk/client-s3'); client: S3Client }> | undefined;
  private readonly where: string;
  private readonly logger: Logger;
  private readonly maxAttempts: number;
  private closed = false;

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.logger = options.logger ?? silentLogger;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 2);
    this.where = `S3 bucket "${options.bucket}"${options.endpoint === undefined ? '' : ` at ${options.endpoint}`}`;
    const credentials =
      options.accessKeyId !== undefined && options.secretAccessKey !== undefined
        ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }
        : {};
    this.config = {
      region: options.region ?? 'us-east-1',
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.forcePathStyle === undefined ? {} : { forcePathStyle: options.forcePathStyle }),
      ...credentials,
      // retries are ours (see call()): a streamed upload needs a fresh stream per attempt
      maxAttempts: 1,
      // the SDK otherwise prints some warnings straight to the console; ours are logged in call()
      logger: sdkLogger(this.logger),
      // S3-compatible stores often reject the newer flexible checksums (aws-chunked trailers);
      // send and check them only where the API requires them
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: options.connectTimeoutMs ?? 3000,
        requestTimeout: options.requestTimeoutMs ?? 60_000,
        throwOnRequestTimeout: true,
      },
    };
  }

  private s3(): Promise<{ S3: typeof import('@aws-sdk/client-s3'); client: S3Client }> {
    this.sdk ??= import('@aws-sdk/client-s3').then((S3) => ({ S3, client: new S3.S3Client(this.config) }));
    return this.sdk;
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    validateBlobKey(key);
    await this.call('put', key, () => this.s3().then(({ S3, client }) => client.send(new S3.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: data }))));
  }

  async putFile(key: string, filePath: string): Promise<void> {
    validateBlobKey(key);
    this.checkOpen();
    let size: number;
    try {
      const stat = await fs.stat(filePath);
      if (!stat.isFile()) throw new Error('not a file');
      size = stat.size;
    } catch (err) {
      throw new NotFoundError(`cannot upload ${filePath}: ${describeError(err)}`, { cause: err });
    }
    // a stream body needs its length up front; the SDK then sends it without buffering.
    // call() runs the function again on a retry, so each attempt gets a fresh stream.
    await this.call('putFile', key, () =>
      this.s3().then(({ S3, client }) => client.send(new S3.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: createReadStream(filePath), ContentLength: size }))),
    );
  }

  async get(key: string): Promise<Uint8Array> {
    validateBlobKey(key);
    const out = await this.call('get', key, async () => {
      const res = await this.s3().then(({ S3, client }) => client.send(new S3.GetObjectCommand({ Bucket: this.bucket, Key: key })));
      if (res.Body === undefined) return new Uint8Array(0);
      return res.Body.transformToByteArray();
    });
    return out;
  }

  async exists(key: string): Promise<boolean> {
    validateBlobKey(key);
    try {
      await this.call('exists', key, () => this.s3().then(({ S3, client }) => client.send(new S3.HeadObjectCommand({ Bucket: this.bucket, Key: key }))));
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    validateBlobKey(key);
    try {
      await this.call('delete', key, () => this.s3().then(({ S3, client }) => client.send(new S3.DeleteObjectCommand({ Bucket: this.bucket, Key: key }))));
    } catch (err) {
      // S3 answers 204 for a missing key; some compatible stores answer 404
      if (err instanceof NotFoundError) return;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    validateBlobPrefix(prefix);
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('list', prefix, () =>
        this.s3().then(({ S3, client }) => client.send(new S3.ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token === undefined ? {} : { ContinuationToken: token }) }),
        )),
      );
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys.sort();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // frees the keep-alive sockets so neither the process nor a test server is held open
    if (this.sdk !== undefined) (await this.sdk).client.destroy();
  }

  private async call<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      this.checkOpen();
      try {
        return await fn();
      } catch (err) {
        const status = httpStatus(err);
        const name = awsErrorName(err) ?? '';
        if (MISSING.has(name) || (status === 404 && name !== 'NoSuchBucket')) {
          throw new NotFoundError(`no blob "${key}" in ${this.where}`, { cause: err });
        }
        const reason = status === undefined ? describeError(err) : `HTTP ${status} ${name}: ${describeError(err)}`;
        // 4xx other than throttling will not get better by asking again
        const retryable = status === undefined || status >= 500 || status === 429;
        if (retryable && attempt < this.maxAttempts && !this.closed) {
          this.logger.debug({ op, key, attempt, err: reason }, 'S3 call failed, retrying');
          continue;
        }
        this.logger.warn({ op, key, err: reason }, 'S3 blob store call failed');
        throw new UnavailableError(`${this.where}: ${op} "${key}" failed: ${reason}`, { cause: err });
      }
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError('blob store is closed');
  }
}
