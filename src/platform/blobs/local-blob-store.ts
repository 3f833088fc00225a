import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ClosedError, NotFoundError, UnavailableError, describeError } from '../../lib/index.js';
import { LOCAL_TEMP_DIR, validateBlobKey, validateBlobPrefix, type BlobStore } from './blob-store.js';

function errno(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/**
 * Blobs as files under one directory, key = relative path. Writes go to a temporary file in the
 * same file system and are renamed into place, so a reader (or a crash) never sees half a blob.
 */
export class LocalBlobStore implements BlobStore {
  readonly kind = 'local' as const;
  private closed = false;

  constructor(readonly dir: string) {}

  async put(key: string, data: Uint8Array): Promise<void> {
    await this.writeAtomically(key, (tmp) => fs.writeFile(tmp, data, { flag: 'wx' }));
  }

  async putFile(key: string, filePath: string): Promise<void> {
    try {
      if (!(await fs.stat(filePath)).isFile()) throw new NotFoundError(`cannot upload ${filePath}: not a file`);
    } catch (err) {
      if (errno(err) === 'ENOENT') throw new NotFoundError(`cannot upload ${filePath}: no such file`, { cause: err });
      throw err;
    }
    // copyFile lets the kernel move the bytes (copy_file_range/sendfile): nothing is held in memory
    await this.writeAtomically(key, (tmp) => fs.copyFile(filePath, tmp, fs.constants.COPYFILE_EXCL));
  }

  async get(key: string): Promise<Uint8Array> {
    const file = this.pathOf(key);
    try {
      const buf = await fs.readFile(file);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'EISDIR' || errno(err) === 'ENOTDIR') throw new NotFoundError(`no blob "${key}"`, { cause: err });
      throw this.unavailable('read', key, err);
    }
  }

  async exists(key: string): Promise<boolean> {
    const file = this.pathOf(key);
    try {
      return (await fs.stat(file)).isFile();
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return false;
      throw this.unavailable('stat', key, err);
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    try {
      await fs.rm(file, { force: true });
    } catch (err) {
      // a "directory" of other blobs is not a blob: nothing to delete
      if (errno(err) === 'ENOTDIR' || errno(err) === 'ERR_FS_EISDIR' || errno(err) === 'EISDIR') return;
      throw this.unavailable('delete', key, err);
    }
  }

  async list(prefix: string): Promise<string[]> {
    this.checkOpen();
    validateBlobPrefix(prefix);
    // walk only the directory the prefix points into, not the whole store
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash);
    const keys: string[] = [];
    await this.walk(base, keys);
    return keys.filter((k) => k.startsWith(prefix)).sort();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async walk(relative: string, into: string[]): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(path.join(this.dir, relative), { withFileTypes: true });
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return;
      throw this.unavailable('list', relative, err);
    }
    for (const entry of entries) {
      const key = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (relative === '' && entry.name === LOCAL_TEMP_DIR) continue;
      if (entry.isDirectory()) await this.walk(key, into);
      else if (entry.isFile()) into.push(key);
    }
  }

  private async writeAtomically(key: string, write: (tmp: string) => Promise<void>): Promise<void> {
    const target = this.pathOf(key);
    const tmpDir = path.join(this.dir, LOCAL_TEMP_DIR);
    const tmp = path.join(tmpDir, `${randomUUID()}.part`);
    try {
      await fs.mkdir(tmpDir, { recursive: true });
      await fs.mkdir(path.dirname(target), { recursive: true });
      await write(tmp);
      // on disk before it gets its name: after a power cut the key holds the old or the new blob, not an empty file
      const handle = await fs.open(tmp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(tmp, target);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => {});
      throw this.unavailable('write', key, err);
    }
  }

  private pathOf(key: string): string {
    this.checkOpen();
    return path.join(this.dir, ...validateBlobKey(key).split('/'));
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError('blob store is closed');
  }

  private unavailable(op: string, key: string, err: unknown): UnavailableError {
    return new UnavailableError(`local blob store (${this.dir}): ${op} "${key}" failed: ${describeError(err)}`, { cause: err });
  }
}
