import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite, type Results, type Transaction } from '@electric-sql/pglite';
import { ClosedError, UnavailableError, describeError, silentLogger, type Logger } from '../../lib/index.js';
import type { Database, QueryResult, Queryable } from './database.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { mapDatabaseError } from './map-database-error.js';

/**
 * The embedded database: PostgreSQL compiled to WASM (PGlite), persisting to a directory. One
 * process per directory (see data-dir-lock.ts). PGlite runs one statement at a time, so there is
 * no pool; its own transaction() holds the instance for the length of the callback, so inside
 * fn use tx, never the database itself: a db.query() there waits for the transaction to end,
 * which waits for fn (PostgreSQL would run it on another connection instead).
 */
export interface PgliteDatabaseOptions {
  /** directory holding the PostgreSQL data files; created when missing */
  dataDir: string;
  logger?: Logger;
  /**
   * PostgreSQL's shared_buffers inside the WASM heap. PGlite's postgresql.conf says 128MB, and
   * PostgreSQL touches the whole pool at start, so it alone cost ~110 MB of RSS in every process
   * that opens the database. One backend reading a few small tables does not need it: with 8MB
   * a 100,000-user database opens in ~150 MB of RSS instead of ~275 MB (bench/RESULTS.md).
   */
  sharedBuffers?: string;
}

/** see PgliteDatabaseOptions.sharedBuffers; work_mem and temp_buffers are PostgreSQL's own defaults, wal_buffers follows shared_buffers */
const DEFAULT_SHARED_BUFFERS = '8MB';

const DML = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY']);

type Pg = PGlite | Transaction;

/**
 * Without parameters a statement goes through exec() (simple protocol), which, like PostgreSQL's
 * simple query, accepts several statements: migrations need that. PGlite's affectedRows is a
 * running total across the statements of one exec(), so the last statement's own count is the
 * difference with the one before it.
 */
async function run<R>(pg: Pg, sql: string, params: readonly unknown[] | undefined): Promise<QueryResult<R>> {
  if (params !== undefined && params.length > 0) {
    const r = await pg.query<R>(sql, params as unknown[]);
    return { rows: r.rows, rowCount: countOf(r, 0) };
  }
  const all = await pg.exec(sql);
  const last = all[all.length - 1];
  if (last === undefined) return { rows: [], rowCount: 0 };
  const before = all.length > 1 ? (all[all.length - 2]?.affectedRows ?? 0) : 0;
  return { rows: last.rows as R[], rowCount: countOf(last, before) };
}

function countOf(r: Results<unknown>, before: number): number {
  const command = (r as { command?: string }).command?.toUpperCase();
  if (command !== undefined && DML.has(command)) return Math.max(0, (r.affectedRows ?? 0) - before);
  return r.rows.length;
}

export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  private readonly log: Logger;
  private readonly dir: string;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly pg: PGlite,
    private readonly lock: DataDirLock,
    options: PgliteDatabaseOptions,
  ) {
    this.dir = path.resolve(options.dataDir);
    this.log = (options.logger ?? silentLogger).child({ component: 'pglite-database' });
  }

  /** claim the directory, then start PGlite in it (initdb on first use takes a few seconds) */
  static async open(options: PgliteDatabaseOptions): Promise<PgliteDatabase> {
    const dir = path.resolve(options.dataDir);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new UnavailableError(`cannot create PGlite data directory ${dir}: ${describeError(err)}`, { cause: err });
    }
    const lock = lockDataDir(dir);
    let pg: PGlite;
    try {
      pg = await PGlite.create(dir, {
        startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${options.sharedBuffers ?? DEFAULT_SHARED_BUFFERS}`],
      });
    } catch (err) {
      lock.release();
      throw new UnavailableError(`PGlite could not open ${dir}: ${describeError(err)}`, { cause: err });
    }
    const db = new PgliteDatabase(pg, lock, options);
    db.log.info({ dataDir: dir }, 'PGlite database open');
    return db;
  }

  get dataDir(): string {
    return this.dir;
  }

  async query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    this.assertOpen();
    try {
      return await run<R>(this.pg, sql, params);
    } catch (err) {
      throw mapDatabaseError(err, { target: 'PGlite', sql });
    }
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.assertOpen();
    let fromFn: { err: unknown } | undefined;
    let finished = false;
    try {
      return await this.pg.transaction(async (tx) => {
        const q: Queryable = {
          query: async <R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> => {
            if (finished) throw new ClosedError('this transaction has already ended');
            try {
              return await run<R>(tx, sql, params);
            } catch (err) {
              throw mapDatabaseError(err, { target: 'PGlite', sql });
            }
          },
        };
        try {
          return await fn(q);
        } catch (err) {
          fromFn = { err };
          throw err;
        }
      });
    } catch (err) {
      // errors from fn are the caller's own and pass through unchanged; driver errors (COMMIT) get named
      if (fromFn !== undefined && fromFn.err === err) throw err;
      throw mapDatabaseError(err, { target: 'PGlite' });
    } finally {
      finished = true;
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.pg.close();
      } catch (err) {
        this.log.warn({ err: describeError(err) }, 'PGlite close failed');
      } finally {
        this.lock.release();
      }
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new ClosedError(`PGlite database ${this.dir} is closed`);
  }
}
