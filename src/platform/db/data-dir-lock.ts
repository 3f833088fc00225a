import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { UnavailableError } from '../../lib/index.js';

/**
 * An exclusive claim on a PGlite data directory. PGlite (0.5) takes no lock of its own: two
 * processes opening one directory both "work" and then corrupt each other's pages. So we write
 * `opencx.lock` holding our pid with O_EXCL; a lock whose pid is no longer alive (a crash, a
 * SIGKILL) is stale and taken over.
 *
 * Directories held by this process are also remembered in memory, because a second open from
 * the same process would find its own pid in the file and could not tell it apart.
 */
export const LOCK_FILE_NAME = 'opencx.lock';

const heldHere = new Set<string>();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else, which still means alive
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function inUse(dir: string, detail: string): UnavailableError {
  return new UnavailableError(
    `PGlite data directory ${dir} is in use (${detail}); an opencx server may be running on that data directory. ` +
      'Stop it, or point this process at another data directory or at PostgreSQL (database.url).',
  );
}

export interface DataDirLock {
  release(): void;
}

/** claim dir (which must exist) or throw UnavailableError naming who holds it */
export function lockDataDir(dir: string): DataDirLock {
  const abs = path.resolve(dir);
  if (heldHere.has(abs)) throw inUse(abs, 'already open in this process');
  const file = path.join(abs, LOCK_FILE_NAME);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new UnavailableError(`cannot create lock file ${file}: ${(err as Error).message}`, { cause: err });
      }
      const pid = readPid(file);
      if (pid !== undefined && pid !== process.pid && pidAlive(pid)) throw inUse(abs, `locked by process ${pid}, see ${file}`);
      if (attempt >= 2) throw inUse(abs, `could not take over the stale lock ${file}`);
      // stale: its owner died without cleaning up
      try {
        unlinkSync(file);
      } catch {
        // someone else removed it first; retry the exclusive create
      }
    }
  }
  heldHere.add(abs);
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      heldHere.delete(abs);
      // only remove a lock that is still ours
      if (readPid(file) === process.pid) {
        try {
          unlinkSync(file);
        } catch {
          // already gone: nothing to release
        }
      }
    },
  };
}
