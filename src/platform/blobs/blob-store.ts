/**
 * Where recordings, voicemail and uploaded prompts live (DESIGN.md: blobs row). One interface,
 * two adapters — a local directory and S3 (or anything that speaks its API) — that pass the same
 * contract test suite.
 */
import { InvalidInputError } from '../../lib/index.js';

export interface BlobStore {
  readonly kind: 'local' | 's3';
  put(key: string, data: Uint8Array): Promise<void>;
  /** upload a local file, streamed rather than read into memory (recordings can be long) */
  putFile(key: string, filePath: string): Promise<void>;
  /** NotFoundError when there is no such blob */
  get(key: string): Promise<Uint8Array>;
  exists(key: string): Promise<boolean>;
  /** deleting a missing blob is not an error */
  delete(key: string): Promise<void>;
  /** keys starting with prefix, sorted */
  list(prefix: string): Promise<string[]>;
  /** idempotent; later calls fail with ClosedError */
  close(): Promise<void>;
}

const MAX_KEY_LENGTH = 1024;

/**
 * Keys look like relative POSIX paths ("recordings/2026/abc.wav"). The same rules hold for both
 * adapters so a key that works on a developer's disk also works on S3 and the reverse; the local
 * adapter depends on them to stay inside its directory.
 */
export function validateBlobKey(key: string): string {
  if (key.length === 0) throw new InvalidInputError('blob key is empty');
  if (key.length > MAX_KEY_LENGTH) throw new InvalidInputError(`blob key is longer than ${MAX_KEY_LENGTH} characters`);
  checkPathLike(key, 'blob key');
  if (key.endsWith('/')) throw new InvalidInputError(`blob key "${key}" ends with "/"`);
  return key;
}

/** A list() prefix: empty, or a partial key under the same rules. */
export function validateBlobPrefix(prefix: string): string {
  if (prefix.length > MAX_KEY_LENGTH) throw new InvalidInputError(`blob prefix is longer than ${MAX_KEY_LENGTH} characters`);
  if (prefix.length > 0) checkPathLike(prefix, 'blob prefix');
  return prefix;
}

function checkPathLike(value: string, what: string): void {
  if (value.startsWith('/') || /^[A-Za-z]:/.test(value)) throw new InvalidInputError(`${what} "${value}" is an absolute path`);
  if (value.includes('\\')) throw new InvalidInputError(`${what} "${value}" contains a backslash`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidInputError(`${what} contains a control character`);
  const segments = value.split('/');
  // the last segment of a prefix may be empty ("recordings/"); inner ones may not
  for (const [i, segment] of segments.entries()) {
    if (segment === '..' || segment === '.') throw new InvalidInputError(`${what} "${value}" contains a "${segment}" segment`);
    if (segment === '' && i < segments.length - 1) throw new InvalidInputError(`${what} "${value}" contains an empty segment`);
  }
  // the local adapter keeps its temporary files under this name
  if (segments[0] === LOCAL_TEMP_DIR) throw new InvalidInputError(`${what} "${value}" uses the reserved name ${LOCAL_TEMP_DIR}`);
}

export const LOCAL_TEMP_DIR = '.tmp';
