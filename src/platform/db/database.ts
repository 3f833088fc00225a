/**
 * The database port of DESIGN.md: PGlite in the data directory by default, PostgreSQL when
 * `database.url` is set. Both speak the same SQL (PostgreSQL's), run the same migrations and
 * pass one contract suite.
 */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  /** parameterised query ($1, $2, ...); rejects with UnavailableError when the database is unreachable */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** run fn in one transaction: committed when it resolves, rolled back when it rejects */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** idempotent */
  close(): Promise<void>;
}

/** One versioned migration; ids sort in the order they apply (e.g. "control-0001-tenants"). */
export interface Migration {
  id: string;
  sql: string;
}
