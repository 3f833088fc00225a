import type { Test } from 'tap';
import { ClosedError, ConflictError, InvalidInputError } from '../../../src/lib/index.js';
import { runMigrations, type Database, type Queryable } from '../../../src/platform/index.js';

/**
 * The one behaviour both database adapters must show. A harness opens a handle on the same
 * storage every time (PGlite: the same data directory; PostgreSQL: the same server), so a test
 * can close and reopen to see what survived. Names are unique per test because the storage is
 * shared by every test in a file.
 */
export interface DatabaseHarness {
  open(): Promise<Database>;
}

let counter = 0;
/** a prefix unique to this test, usable in table, constraint and migration names */
function prefix(): string {
  return `ct_${process.pid}_${Date.now().toString(36)}_${counter++}`;
}

export function databaseContract(t: Test, h: DatabaseHarness): void {
  const withDb = (name: string, fn: (t: Test, db: Database, p: string) => Promise<void>): void => {
    t.test(name, async (t) => {
      const db = await h.open();
      t.teardown(() => db.close());
      await fn(t, db, prefix());
    });
  };

  withDb('parameterised queries: values travel as parameters, rowCount counts', async (t, db, p) => {
    await db.query(`CREATE TABLE ${p}_items (id int8 PRIMARY KEY, name text NOT NULL, meta jsonb, at timestamptz)`);
    const ins = await db.query<{ id: number; name: string }>(
      `INSERT INTO ${p}_items (id, name, meta, at) VALUES ($1, $2, $3, $4), ($5, $6, NULL, NULL) RETURNING id, name`,
      [1, "O'Brien; DROP TABLE x --", JSON.stringify({ skills: ['en', 'fr'] }), new Date('2024-05-01T10:00:00Z'), 2, 'two'],
    );
    t.equal(ins.rowCount, 2);
    t.same(ins.rows, [
      { id: 1, name: "O'Brien; DROP TABLE x --" },
      { id: 2, name: 'two' },
    ]);
    const one = await db.query<{ id: number; name: string; meta: unknown; at: Date | null }>(`SELECT * FROM ${p}_items WHERE id = $1`, [1]);
    t.equal(one.rowCount, 1);
    const row = one.rows[0]!;
    t.equal(row.id, 1, 'int8 reads as a number');
    t.same(row.meta, { skills: ['en', 'fr'] }, 'jsonb reads as an object');
    t.ok(row.at instanceof Date, 'timestamptz reads as a Date');
    t.equal(row.at?.toISOString(), '2024-05-01T10:00:00.000Z');
    const big = await db.query<{ n: bigint | number }>('SELECT 9007199254740993::int8 AS n');
    t.equal(big.rows[0]!.n, 9007199254740993n, 'an int8 beyond 2^53 reads as a bigint');
    t.equal((await db.query(`UPDATE ${p}_items SET name = $1`, ['x'])).rowCount, 2);
    t.equal((await db.query(`DELETE FROM ${p}_items WHERE id = $1`, [99])).rowCount, 0);
    t.equal((await db.query(`SELECT * FROM ${p}_items WHERE name = $1`, ['none'])).rows.length, 0);
    const nul = await db.query<{ v: string | null }>('SELECT $1::text AS v', [null]);
    t.equal(nul.rows[0]!.v, null);
  });

  withDb('several statements in one call without parameters (the form migrations use)', async (t, db, p) => {
    const r = await db.query<{ n: number }>(`CREATE TABLE ${p}_m (n int); INSERT INTO ${p}_m VALUES (1), (2); SELECT count(*)::int AS n FROM ${p}_m`);
    t.same(r.rows, [{ n: 2 }], 'the last statement answers');
    const u = await db.query(`INSERT INTO ${p}_m VALUES (3); UPDATE ${p}_m SET n = n + 1 WHERE n > 1`);
    t.equal(u.rowCount, 2, 'rowCount is the last statement\'s own');
  });

  withDb('concurrent queries all complete', async (t, db, p) => {
    await db.query(`CREATE TABLE ${p}_c (n int PRIMARY KEY)`);
    await Promise.all(Array.from({ length: 20 }, (_, i) => db.query(`INSERT INTO ${p}_c VALUES ($1)`, [i])));
    t.same((await db.query(`SELECT count(*)::int AS n FROM ${p}_c`)).rows, [{ n: 20 }]);
  });

  withDb('transaction: commits when fn resolves and returns its value', async (t, db, p) => {
    await db.query(`CREATE TABLE ${p}_t (n int)`);
    const out = await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${p}_t VALUES ($1)`, [1]);
      await tx.query(`INSERT INTO ${p}_t VALUES ($1)`, [2]);
      return (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${p}_t`)).rows[0]!.n;
    });
    t.equal(out, 2, 'fn sees its own writes');
    t.same((await db.query(`SELECT n FROM ${p}_t ORDER BY n`)).rows, [{ n: 1 }, { n: 2 }]);
  });

  withDb('transaction: rolls back when fn rejects; the caller gets its own error back', async (t, db, p) => {
    await db.query(`CREATE TABLE ${p}_t (n int)`);
    const mine = new Error('changed my mind');
    const err = await db
      .transaction(async (tx) => {
        await tx.query(`INSERT INTO ${p}_t VALUES ($1)`, [1]);
        throw mine;
      })
      .catch((e: unknown) => e);
    t.equal(err, mine, 'the very same error object');
    t.same((await db.query(`SELECT * FROM ${p}_t`)).rows, [], 'nothing was kept');
  });

  withDb('transaction: the tx handle is dead once the transaction has ended', async (t, db) => {
    let leaked: Queryable | undefined;
    await db.transaction(async (tx) => {
      leaked = tx;
      await tx.query('SELECT 1');
    });
    await t.rejects(leaked!.query('SELECT 1'), ClosedError);
  });

  withDb('transaction: a failing statement inside rolls the whole transaction back', async (t, db, p) => {
    await db.query(`CREATE TABLE ${p}_t (n int PRIMARY KEY)`);
    await db.query(`INSERT INTO ${p}_t VALUES (1)`);
    await t.rejects(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${p}_t VALUES ($1)`, [2]);
        await tx.query(`INSERT INTO ${p}_t VALUES ($1)`, [1]);
      }),
      ConflictError,
    );
    t.same((await db.query(`SELECT n FROM ${p}_t`)).rows, [{ n: 1 }], 'the row inserted first was rolled back');
    t.equal(await db.transaction(async (tx) => (await tx.query('SELECT 1 AS one')).rows.length), 1, 'the database is usable afterwards');
  });

  withDb('unique violation is a ConflictError naming the constraint', async (t, db, p) => {
    await db.query(`CREATE TABLE ${p}_u (id int, email text, CONSTRAINT ${p}_email_key UNIQUE (email))`);
    await db.query(`INSERT INTO ${p}_u VALUES ($1, $2)`, [1, 'a@example.com']);
    const err = await db.query(`INSERT INTO ${p}_u VALUES ($1, $2)`, [2, 'a@example.com']).catch((e: unknown) => e);
    t.ok(err instanceof ConflictError, 'ConflictError');
    t.match((err as Error).message, `${p}_email_key`);
    t.match((err as Error).message, 'a@example.com', 'the detail says which key');
    t.equal(((err as Error).cause as { code?: string }).code, '23505', 'the driver error is the cause');
  });

  withDb('bad SQL and bad input are InvalidInputError with the reason; the database stays usable', async (t, db, p) => {
    const syntax = await db.query('SELEC 1').catch((e: unknown) => e);
    t.ok(syntax instanceof InvalidInputError, 'syntax error');
    t.match((syntax as Error).message, /42601.*syntax error/);
    t.match((syntax as Error).message, 'SELEC 1', 'quotes the statement');
    await t.rejects(db.query(`SELECT * FROM ${p}_missing`), InvalidInputError, 'unknown table');
    await t.rejects(db.query('SELECT $1::int AS n', ['not a number']), InvalidInputError, 'bad parameter');
    await db.query(`CREATE TABLE ${p}_nn (v text NOT NULL)`);
    await t.rejects(db.query(`INSERT INTO ${p}_nn VALUES ($1)`, [null]), InvalidInputError, 'not-null violation');
    t.same((await db.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
  });

  withDb('migrations: applied once, in id order, each atomically', async (t, db, p) => {
    const m1 = { id: `${p}-0001`, sql: `CREATE TABLE ${p}_tenants (id text PRIMARY KEY)` };
    const m2 = { id: `${p}-0002`, sql: `ALTER TABLE ${p}_tenants ADD COLUMN name text; INSERT INTO ${p}_tenants VALUES ('t1', 'one')` };
    // given out of order: 0002 needs 0001's table, so only id order works
    t.same(await runMigrations(db, [m2, m1]), [m1.id, m2.id]);
    t.same(await runMigrations(db, [m1, m2]), [], 'a re-run applies nothing');
    t.same((await db.query(`SELECT id, name FROM ${p}_tenants`)).rows, [{ id: 't1', name: 'one' }]);
    const recorded = await db.query<{ id: string; applied_at: Date }>('SELECT id, applied_at FROM schema_migrations WHERE id LIKE $1 ORDER BY id', [`${p}-%`]);
    t.same(recorded.rows.map((r) => r.id), [m1.id, m2.id]);
    t.ok(recorded.rows.every((r) => r.applied_at instanceof Date), 'applied_at recorded');

    const bad = { id: `${p}-0003`, sql: `CREATE TABLE ${p}_half (n int); SELEC oops` };
    const later = { id: `${p}-0004`, sql: `CREATE TABLE ${p}_later (n int)` };
    await t.rejects(runMigrations(db, [m1, m2, bad, later]), InvalidInputError, 'a broken migration fails the run');
    t.same((await db.query('SELECT id FROM schema_migrations WHERE id = $1', [bad.id])).rows, [], 'and is not recorded');
    t.same((await db.query(`SELECT to_regclass('${p}_half') AS r`)).rows, [{ r: null }], 'nor half-applied');
    t.same((await db.query(`SELECT to_regclass('${p}_later') AS r`)).rows, [{ r: null }], 'later ones wait for it');
    const fixed = { id: bad.id, sql: `CREATE TABLE ${p}_half (n int)` };
    t.same(await runMigrations(db, [m1, m2, fixed, later]), [fixed.id, later.id]);

    await t.rejects(runMigrations(db, [m1, m1]), InvalidInputError, 'duplicate ids are refused');
    await t.rejects(runMigrations(db, [{ id: '', sql: 'SELECT 1' }]), InvalidInputError, 'empty ids are refused');
  });

  t.test('data survives close and reopen', async (t) => {
    const p = prefix();
    const first = await h.open();
    await runMigrations(first, [{ id: `${p}-0001`, sql: `CREATE TABLE ${p}_keep (v text)` }]);
    await first.query(`INSERT INTO ${p}_keep VALUES ($1)`, ['kept']);
    await first.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${p}_keep VALUES ($1)`, ['kept in tx']);
    });
    await first.close();
    const second = await h.open();
    t.teardown(() => second.close());
    t.same((await second.query(`SELECT v FROM ${p}_keep ORDER BY v`)).rows, [{ v: 'kept' }, { v: 'kept in tx' }]);
    t.same(await runMigrations(second, [{ id: `${p}-0001`, sql: 'SELECT 1' }]), [], 'the migration record survived too');
  });

  t.test('close: idempotent; later calls fail with ClosedError', async (t) => {
    const db = await h.open();
    await db.close();
    await db.close();
    await Promise.all([db.close(), db.close()]);
    await t.rejects(db.query('SELECT 1'), ClosedError);
    await t.rejects(db.transaction(async () => 1), ClosedError);
  });
}
