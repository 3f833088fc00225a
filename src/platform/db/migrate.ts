import { InvalidInputError, silentLogger, type Logger } from '../../lib/index.js';
import type { Database, Migration, Queryable } from './database.js';

/**
 * Versioned migrations, the same on PGlite and PostgreSQL. Applied ids are kept in
 * schema_migrations; each migration runs in its own transaction together with the row that
 * records it, so a failed migration leaves neither half of itself nor its row behind.
 *
 * Several processes may start at once against one PostgreSQL (many roles, many machines): every
 * transaction here first takes one transaction-scoped advisory lock, so they queue and each
 * migration is applied once. CREATE TABLE IF NOT EXISTS is under the lock too, because two
 * concurrent ones can still collide on the catalog. PGlite is single-process and needs no lock.
 */
export interface RunMigrationsOptions {
  logger?: Logger;
}

/** an arbitrary constant naming "opencx schema migrations" among advisory locks */
export const MIGRATION_LOCK_KEY = 4_711_202_405;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  id text PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

async function lock(db: Database, tx: Queryable): Promise<void> {
  if (db.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
}

function checked(migrations: readonly Migration[]): Migration[] {
  const seen = new Set<string>();
  for (const m of migrations) {
    if (typeof m.id !== 'string' || m.id.trim() === '') throw new InvalidInputError('a migration has an empty id');
    if (seen.has(m.id)) throw new InvalidInputError(`migration id "${m.id}" appears twice`);
    if (typeof m.sql !== 'string' || m.sql.trim() === '') throw new InvalidInputError(`migration "${m.id}" has no SQL`);
    seen.add(m.id);
  }
  // plain code-unit order, not locale order: the same on every machine
  return [...migrations].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** apply the migrations not yet applied, in id order; resolves with the ids applied now */
export async function runMigrations(db: Database, migrations: readonly Migration[], options: RunMigrationsOptions = {}): Promise<string[]> {
  const log = (options.logger ?? silentLogger).child({ component: 'migrations' });
  const wanted = checked(migrations);

  const known = await db.transaction(async (tx) => {
    await lock(db, tx);
    await tx.query(CREATE_TABLE);
    const r = await tx.query<{ id: string }>('SELECT id FROM schema_migrations');
    return new Set(r.rows.map((row) => row.id));
  });
  const unknown = [...known].filter((id) => !wanted.some((m) => m.id === id));
  if (unknown.length > 0) log.warn({ ids: unknown }, 'database has migrations this version does not know (a newer version ran here?)');

  const applied: string[] = [];
  for (const m of wanted) {
    if (known.has(m.id)) continue;
    const did = await db.transaction(async (tx) => {
      await lock(db, tx);
      // another process may have applied it while we waited for the lock
      const again = await tx.query('SELECT 1 FROM schema_migrations WHERE id = $1', [m.id]);
      if (again.rows.length > 0) return false;
      await tx.query(m.sql);
      await tx.query('INSERT INTO schema_migrations (id) VALUES ($1)', [m.id]);
      return true;
    });
    if (did) {
      applied.push(m.id);
      log.info({ id: m.id }, 'migration applied');
    }
  }
  return applied;
}
