import { createHash } from 'node:crypto';
import t from 'tap';
import { ProvisioningStore } from '../../../src/control/index.js';
import { openControlDb, tempDataDir } from '../../unit/control/control-db.js';

const USERS = 100_000;

function* lines(): Generator<string> {
  for (let i = 0; i < USERS; i++) yield `user${i}@bulk${i % 10}.example.com;pw${i}`;
}

t.test(`import of ${USERS} users on PGlite`, async (t) => {
  const store = new ProvisioningStore({ db: await openControlDb(t, tempDataDir(t)) });
  const started = performance.now();
  let batches = 0;
  const report = await store.importUsers(lines(), { onProgress: () => batches++ });
  const ms = performance.now() - started;
  t.comment(`imported ${report.imported} users in ${(ms / 1000).toFixed(1)} s (${Math.round(report.imported / (ms / 1000))} users/s, ${batches} batches)`);
  t.equal(report.imported, USERS);
  t.equal(report.errors.length, 0);
  t.equal(report.createdDomains.length, 10);
  t.equal((await store.listUsers()).total, USERS);
  const sample = await store.userCredentials('user4242', 'bulk2.example.com');
  t.equal(sample?.ha1Md5, createHash('md5').update('user4242:bulk2.example.com:pw4242').digest('hex'));

  const rerunStart = performance.now();
  const rerun = await store.importUsers(lines());
  t.comment(`re-import (all skipped) in ${((performance.now() - rerunStart) / 1000).toFixed(1)} s`);
  t.equal(rerun.skipped, USERS);
  t.equal(rerun.imported, 0);
});
