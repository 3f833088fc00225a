import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { UnavailableError } from '../../../../src/lib/index.js';
import { LOCK_FILE_NAME, PgliteDatabase, openDatabase } from '../../../../src/platform/index.js';
import { databaseContract } from '../../../helpers/contract/database-contract.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'opencx-pglite-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

t.test('contract', async (t) => {
  const dataDir = path.join(root, 'contract');
  databaseContract(t, { open: () => openDatabase({ dataDir }) });
});

t.test('openDatabase without a url keeps PGlite files in <dataDir>/db', async (t) => {
  const dataDir = path.join(root, 'layout');
  const db = await openDatabase({ dataDir });
  t.teardown(() => db.close());
  t.equal(db.kind, 'pglite');
  t.ok(existsSync(path.join(dataDir, 'db', 'PG_VERSION')), 'a PostgreSQL cluster in <dataDir>/db');
  t.equal(readFileSync(path.join(dataDir, 'db', LOCK_FILE_NAME), 'utf8').trim(), String(process.pid), 'locked by us');
  await db.close();
  t.notOk(existsSync(path.join(dataDir, 'db', LOCK_FILE_NAME)), 'close releases the lock');
});

t.test('one process per data directory', async (t) => {
  const dir = path.join(root, 'locked');

  await t.test('a second open in this process is refused, and allowed after close', async (t) => {
    const db = await PgliteDatabase.open({ dataDir: dir });
    const err = await PgliteDatabase.open({ dataDir: dir }).catch((e: unknown) => e);
    t.ok(err instanceof UnavailableError, 'UnavailableError');
    t.match((err as Error).message, /a(n opencx)? server may be running on that data directory/);
    await db.close();
    const again = await PgliteDatabase.open({ dataDir: dir });
    await again.close();
  });

  await t.test('a directory open in another process is refused with a clear message', async (t) => {
    const entry = fileURLToPath(new URL('../../../../src/platform/db/index.js', import.meta.url));
    const script = `
      const { PgliteDatabase } = await import(${JSON.stringify(entry)});
      const db = await PgliteDatabase.open({ dataDir: ${JSON.stringify(dir)} });
      process.stdout.write('open\\n');
      process.stdin.on('data', () => {}).on('end', async () => { await db.close(); process.exit(0); });
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    t.teardown(() => {
      child.kill('SIGKILL');
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('open')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`child exited (${String(code)}) before opening`)));
    });
    const err = await PgliteDatabase.open({ dataDir: dir }).catch((e: unknown) => e);
    t.ok(err instanceof UnavailableError, 'UnavailableError');
    t.match((err as Error).message, `locked by process ${String(child.pid)}`);
    t.match((err as Error).message, 'server may be running on that data directory');
    child.stdin.end();
    t.equal(await exited, 0, 'the other process closed cleanly');
    const db = await PgliteDatabase.open({ dataDir: dir });
    await db.close();
  });

  await t.test('a stale lock left by a dead process is taken over', async (t) => {
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    writeFileSync(path.join(dir, LOCK_FILE_NAME), `${String(dead.pid)}\n`);
    const db = await PgliteDatabase.open({ dataDir: dir });
    t.equal(readFileSync(path.join(dir, LOCK_FILE_NAME), 'utf8').trim(), String(process.pid));
    await db.close();
  });
});

t.test('an unusable data directory is an UnavailableError', async (t) => {
  const file = path.join(root, 'a-file');
  writeFileSync(file, 'not a directory');
  await t.rejects(PgliteDatabase.open({ dataDir: path.join(file, 'db') }), UnavailableError);
});
