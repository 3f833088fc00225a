import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { controlMigrations } from '../../../src/control/index.js';
import { openDatabase, runMigrations, type Database } from '../../../src/platform/index.js';

/** a fresh data directory, removed when the test ends */
export function tempDataDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencx-control-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** PGlite in dataDir with the control migrations applied; closed when the test ends */
export async function openControlDb(t: { teardown(fn: () => Promise<void> | void): void }, dataDir: string): Promise<Database> {
  const db = await openDatabase({ dataDir });
  t.teardown(() => db.close());
  await runMigrations(db, controlMigrations);
  return db;
}
