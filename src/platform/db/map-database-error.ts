import { ConflictError, InvalidInputError, OpencxError, UnavailableError, describeError } from '../../lib/index.js';

/**
 * One table from driver errors (pg, PGlite, Node sockets) to the named errors of src/lib, so
 * callers above the database port never look at SQLSTATEs or errno strings.
 */

/** the fields pg's and PGlite's DatabaseError share */
interface DriverErrorFields {
  code?: unknown;
  constraint?: unknown;
  detail?: unknown;
  table?: unknown;
}

/** Node socket and DNS failures: the server is not there right now */
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ENOENT', // a unix socket path that does not exist
]);

/**
 * SQLSTATE classes (PostgreSQL appendix A) that mean "try again later": 08 connection exception,
 * 53 insufficient resources (too many connections, disk full), 57P01-57P03 the server is shutting
 * down or starting up.
 */
function isUnavailableSqlState(code: string): boolean {
  return code.startsWith('08') || code.startsWith('53') || code === '57P01' || code === '57P02' || code === '57P03';
}

/**
 * pg reports lost connections as plain Errors without a code; these are its messages (pg 8,
 * pg-pool 3) for a socket that closed, a connect timeout and a client already known broken.
 */
const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /connection timeout/i,
  /timeout exceeded when trying to connect/i,
  /not queryable/i,
  /connection error/i,
  /server closed the connection/i,
  // pg's query_timeout: the server stopped answering on an open socket
  /query read timeout/i,
];

/** SQLSTATE classes that mean the statement or its input is wrong: 22 data exception, 42 syntax/access rule, 23 integrity (except unique) */
function isInvalidInputSqlState(code: string): boolean {
  return code.startsWith('22') || code.startsWith('42') || code.startsWith('23') || code.startsWith('2F') || code === '0A000';
}

function fieldsOf(err: unknown): DriverErrorFields {
  return typeof err === 'object' && err !== null ? (err as DriverErrorFields) : {};
}

function snippet(sql: string | undefined): string {
  if (sql === undefined) return '';
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? ` in "${flat.slice(0, 77)}..."` : ` in "${flat}"`;
}

export interface MapErrorContext {
  /** 'PGlite' or a redacted PostgreSQL URL, named in connection errors */
  target: string;
  /** the statement, quoted (shortened) in errors about it; parameters are never quoted */
  sql?: string;
}

/** Is err one of ours already (mapped once, e.g. inside a transaction, and rethrown)? */
function isMapped(err: unknown): err is OpencxError {
  return err instanceof OpencxError;
}

/**
 * Map a driver error to ConflictError (unique/exclusion violation, serialization failure),
 * UnavailableError (connection lost or refused, server shutting down), InvalidInputError (bad
 * SQL, bad parameter, other integrity violations) or, for anything else, an OpencxError naming
 * the SQLSTATE. The driver error is kept as `cause`.
 */
export function mapDatabaseError(err: unknown, ctx: MapErrorContext): Error {
  if (isMapped(err)) return err;
  const f = fieldsOf(err);
  const code = typeof f.code === 'string' ? f.code : undefined;
  const msg = describeError(err);
  const where = snippet(ctx.sql);

  if (code === '23505' || code === '23P01') {
    const constraint = typeof f.constraint === 'string' ? f.constraint : 'unknown';
    const detail = typeof f.detail === 'string' ? `: ${f.detail}` : '';
    return new ConflictError(`unique constraint "${constraint}" violated${detail}`, { cause: err });
  }
  if (code === '40001' || code === '40P01') {
    return new ConflictError(`transaction conflict (${code} ${msg}); retry it`, { cause: err });
  }
  if (code !== undefined && (UNAVAILABLE_ERRNO.has(code) || isUnavailableSqlState(code))) {
    return new UnavailableError(`database ${ctx.target} unavailable: ${msg || code}`, { cause: err });
  }
  if (code !== undefined && isInvalidInputSqlState(code)) {
    return new InvalidInputError(`database rejected the statement${where}: ${code} ${msg}`, 400, 400, { cause: err });
  }
  if (code === undefined && UNAVAILABLE_MESSAGES.some((re) => re.test(msg))) {
    return new UnavailableError(`database ${ctx.target} unavailable: ${msg}`, { cause: err });
  }
  // AggregateError (e.g. ECONNREFUSED on both ::1 and 127.0.0.1) carries the codes inside
  if (err instanceof AggregateError && err.errors.some((e) => UNAVAILABLE_ERRNO.has(String(fieldsOf(e).code)))) {
    return new UnavailableError(`database ${ctx.target} unavailable: ${err.errors.map(describeError).join('; ')}`, { cause: err });
  }
  return new OpencxError(`database error${where}: ${code === undefined ? '' : `${code} `}${msg}`, { cause: err });
}
