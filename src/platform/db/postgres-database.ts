import pg from 'pg';
import { ClosedError, ConfigError, describeError, silentLogger, type Logger } from '../../lib/index.js';
import type { Database, QueryResult, Queryable } from './database.js';
import { mapDatabaseError } from './map-database-error.js';

/**
 * PostgreSQL through a pg Pool, for many-machine setups.
 *
 * Outages: while the server is down every call rejects with UnavailableError within
 * connectTimeoutMs (a refused connection fails at once); broken connections are dropped from the
 * pool, and the next call after the server comes back opens a fresh one, so recovery needs no
 * action. pg emits 'error' on idle and on checked-out clients when the server goes away; every
 * such emitter has a listener here, so an outage is logged and never crashes the process.
 */
export interface PostgresDatabaseOptions {
  /** postgres:// or postgresql:// URL */
  url: string;
  logger?: Logger;
  /** per connection attempt; default 3000 ms */
  connectTimeoutMs?: number;
  /** pool size; default 10 */
  maxConnections?: number;
  /** close connections idle this long; default 10000 ms */
  idleTimeoutMs?: number;
  /**
   * client-side bound on one statement (pg's query_timeout), for a server that stops answering
   * without closing its sockets; default none, since migrations may legitimately run long
   */
  queryTimeoutMs?: number;
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable database url)';
  }
}

/** int8 as a number when safe, else a bigint, exactly as PGlite does, so rows look the same on both adapters */
const INT8_OID = 20;
function parseInt8(v: string): number | bigint {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : BigInt(v);
}
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

type PgResult = pg.QueryResult<Record<string, unknown>>;

/** a multi-statement simple query resolves with one result per statement; the caller wants the last */
function lastResult<R>(r: PgResult | PgResult[]): QueryResult<R> {
  const last = Array.isArray(r) ? r[r.length - 1] : r;
  if (last === undefined) return { rows: [], rowCount: 0 };
  return { rows: last.rows as R[], rowCount: last.rowCount ?? last.rows.length };
}

export class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  private readonly log: Logger;
  private readonly pool: pg.Pool;
  private readonly target: string;
  private closing: Promise<void> | undefined;

  constructor(options: PostgresDatabaseOptions) {
    if (!/^postgres(ql)?:\/\//i.test(options.url)) {
      throw new ConfigError(`database.url must be a postgres:// or postgresql:// URL, got ${redact(options.url)}`, 'database.url');
    }
    this.target = redact(options.url);
    this.log = (options.logger ?? silentLogger).child({ component: 'postgres-database' });
    const config: pg.PoolConfig = {
      connectionString: options.url,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
      max: options.maxConnections ?? 10,
      idleTimeoutMillis: options.idleTimeoutMs ?? 10_000,
      keepAlive: true,
      types: typeParsers,
      // idle connections must not keep the process alive on their own
      allowExitOnIdle: true,
    };
    if (options.queryTimeoutMs !== undefined) config.query_timeout = options.queryTimeoutMs;
    this.pool = new pg.Pool(config);
    // an idle client whose server went away: pg-pool drops it; we only log
    this.pool.on('error', (err) => {
      this.log.warn({ err: describeError(err), target: this.target }, 'idle PostgreSQL connection lost');
    });
  }

  /** make the pool and check the server answers; rejects with UnavailableError (and leaves nothing open) when it does not */
  static async open(options: PostgresDatabaseOptions): Promise<PostgresDatabase> {
    const db = new PostgresDatabase(options);
    try {
      await db.query('SELECT 1');
    } catch (err) {
      await db.close();
      throw err;
    }
    db.log.info({ target: db.target }, 'PostgreSQL database open');
    return db;
  }

  async query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    this.assertOpen();
    try {
      const r = (await this.pool.query(sql, params === undefined ? undefined : [...params])) as PgResult | PgResult[];
      return lastResult<R>(r);
    } catch (err) {
      throw mapDatabaseError(err, { target: this.target, sql });
    }
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw mapDatabaseError(err, { target: this.target });
    }
    // while checked out, pg-pool has no listener on the client: without this, a server dying mid-transaction would be an unhandled 'error'
    let broken: unknown;
    const onError = (err: unknown): void => {
      broken = err;
      this.log.warn({ err: describeError(err), target: this.target }, 'PostgreSQL connection lost during a transaction');
    };
    client.on('error', onError);
    let finished = false;
    const tx: Queryable = {
      query: async <R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> => {
        // the client goes back to the pool afterwards: a late call must not run on someone else's connection
        if (finished) throw new ClosedError('this transaction has already ended');
        try {
          const r = (await client.query(sql, params === undefined ? undefined : [...params])) as PgResult | PgResult[];
          return lastResult<R>(r);
        } catch (err) {
          throw mapDatabaseError(err, { target: this.target, sql });
        }
      },
    };
    try {
      await tx.query('BEGIN');
      let result: T;
      try {
        result = await fn(tx);
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
          broken ??= rollbackErr;
        });
        throw err;
      }
      await tx.query('COMMIT');
      return result;
    } finally {
      finished = true;
      client.off('error', onError);
      // a connection that failed is destroyed rather than handed to the next caller
      client.release(broken === undefined ? undefined : broken instanceof Error ? broken : new Error(describeError(broken)));
    }
  }

  close(): Promise<void> {
    this.closing ??= this.pool.end().catch((err: unknown) => {
      this.log.warn({ err: describeError(err) }, 'closing the PostgreSQL pool failed');
    });
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new ClosedError(`PostgreSQL database ${this.target} is closed`);
  }
}
