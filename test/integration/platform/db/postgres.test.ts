import t from 'tap';
import { ConfigError, UnavailableError } from '../../../../src/lib/index.js';
import { PostgresDatabase, openDatabase, runMigrations, type Database } from '../../../../src/platform/index.js';
import { databaseContract } from '../../../helpers/contract/database-contract.js';
import { startPostgresServer } from '../../../helpers/postgres-server.js';

const server = await startPostgresServer();
t.teardown(() => server.stop());

/** an outage must surface within this bound, never as a hang */
const OUTAGE_BOUND_MS = 5000;

async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

t.test('contract', async (t) => {
  databaseContract(t, { open: () => openDatabase({ url: server.url, dataDir: '/nonexistent-unused' }) });
});

t.test('two processes migrating at once apply each migration once', async (t) => {
  const dbs: Database[] = await Promise.all([1, 2, 3].map(() => openDatabase({ url: server.url, dataDir: '/unused' })));
  t.teardown(() => Promise.all(dbs.map((db) => db.close())));
  const p = `race_${process.pid}`;
  const migrations = Array.from({ length: 5 }, (_, i) => ({
    id: `${p}-${String(i).padStart(4, '0')}`,
    // not idempotent on purpose: a second application would fail
    sql: `CREATE TABLE ${p}_${i} (n int); SELECT pg_sleep(0.02)`,
  }));
  const results = await Promise.all(dbs.map((db) => runMigrations(db, migrations)));
  t.same(results.flat().sort(), migrations.map((m) => m.id), 'every id applied exactly once across the three');
});

t.test('openDatabase with a url checks the server; nothing listening is an UnavailableError', async (t) => {
  const db = await openDatabase({ url: server.url, dataDir: '/unused' });
  t.equal(db.kind, 'postgres');
  await db.close();
  const started = Date.now();
  const err = await openDatabase({ url: 'postgres://postgres@127.0.0.1:1/postgres', dataDir: '/unused' }).catch((e: unknown) => e);
  t.ok(err instanceof UnavailableError, 'UnavailableError');
  t.match((err as Error).message, /127\.0\.0\.1:1.*unavailable/);
  t.ok(Date.now() - started < OUTAGE_BOUND_MS, 'promptly');
  t.throws(() => new PostgresDatabase({ url: 'mysql://x' }), ConfigError, 'a URL of another scheme');
  const secret = await openDatabase({ url: 'postgres://u:hunter2@127.0.0.1:1/db', dataDir: '/unused' }).catch((e: unknown) => e);
  t.notMatch((secret as Error).message, 'hunter2', 'the password is not in the message');
});

t.test('server stopped: UnavailableError within a bound; restarted: works again by itself', async (t) => {
  const db = await PostgresDatabase.open({ url: server.url, connectTimeoutMs: 1000 });
  t.teardown(() => db.close());
  const p = `outage_${process.pid}`;
  await db.query(`CREATE TABLE ${p} (n int)`);
  await db.query(`INSERT INTO ${p} VALUES (1)`);

  // a transaction holding a connection when the server goes away
  let release!: () => void;
  const hold = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const open = db.transaction(async (tx) => {
    await tx.query(`INSERT INTO ${p} VALUES (2)`);
    entered();
    await hold;
    await tx.query(`INSERT INTO ${p} VALUES (3)`);
  });
  const openResult = open.catch((e: unknown) => e);
  await inside;

  await server.stop({ keepData: true });
  release();
  t.ok((await within(OUTAGE_BOUND_MS, openResult)) instanceof UnavailableError, 'the open transaction fails with UnavailableError');

  for (let i = 0; i < 3; i++) {
    const err = await within(OUTAGE_BOUND_MS, db.query('SELECT 1').catch((e: unknown) => e));
    t.ok(err instanceof UnavailableError, `query ${i + 1} while down: UnavailableError`);
  }
  t.ok((await within(OUTAGE_BOUND_MS, db.transaction(async () => 1).catch((e: unknown) => e))) instanceof UnavailableError, 'transaction while down');

  await server.restart();
  t.same((await db.query(`SELECT n FROM ${p} ORDER BY n`)).rows, [{ n: 1 }], 'back, and the interrupted transaction left nothing');
  t.equal(await db.transaction(async (tx) => (await tx.query('SELECT 1 AS one')).rows.length), 1);
});

t.test('server crashed (immediate shutdown): UnavailableError, then recovery', async (t) => {
  const db = await PostgresDatabase.open({ url: server.url, connectTimeoutMs: 1000 });
  t.teardown(() => db.close());
  await Promise.all([db.query('SELECT 1'), db.query('SELECT 1'), db.query('SELECT 1')]);
  await server.stop({ hard: true, keepData: true });
  t.ok((await within(OUTAGE_BOUND_MS, db.query('SELECT 1').catch((e: unknown) => e))) instanceof UnavailableError);
  await server.restart();
  t.same((await db.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
});
