/**
 * The SIP services' directory (ProvisionedDirectory) on a real PGlite database: the whole
 * directory in memory, and the snapshot SIP workers receive of it.
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import { ProvisionedDirectory } from '../../../src/cli/subscriber-directory.js';
import { RpcDirectory } from '../../../src/cli/worker-adapters.js';
import { ProvisioningStore } from '../../../src/control/index.js';
import { FakeScheduler, silentLogger } from '../../../src/lib/index.js';
import { MemoryBus } from '../../../src/platform/index.js';
import { openControlDb, tempDataDir } from '../control/control-db.js';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

t.test('the directory is held whole, and a worker answers from its snapshot as the primary would', async (t) => {
  const db = await openControlDb(t, tempDataDir(t));
  const bus = new MemoryBus();
  t.teardown(() => bus.close());
  const store = new ProvisioningStore({ db, bus });
  const tenant = await store.createTenant('acme');
  await store.createDomain('example.com', tenant.id);
  await store.createUser({ username: 'alice', domain: 'example.com', password: 'a-secret' });
  const bob = await store.createUser({ username: 'bob', domain: 'example.com', password: 'b-secret' });
  await store.updateUser(bob.id, { enabled: false });

  const scheduler = new FakeScheduler();
  const directory = new ProvisionedDirectory({ store, db, ownHosts: ['127.0.0.1'], scheduler, logger: silentLogger });
  t.teardown(() => directory.close());
  let loads = 0;
  directory.onLoaded(() => loads++);
  t.equal(directory.snapshot(), undefined, 'nothing to send before the first load');
  t.equal(await directory.preload(), 2);
  t.equal(loads, 1, 'a load that left the copy current is announced');

  const snapshot = directory.snapshot();
  if (snapshot === undefined) throw new Error('a snapshot after the load');
  t.same(snapshot.domains, ['example.com']);
  t.same(snapshot.own, ['127.0.0.1']);
  t.equal(directory.snapshot(1), undefined, 'a directory above the size limit is not sent whole');

  // a worker's copy, through JSON as over IPC: the same answers as the primary's directory
  const worker = new RpcDirectory(async () => {
    throw new Error('a worker with the snapshot does not ask');
  });
  worker.useSnapshot(JSON.parse(JSON.stringify(snapshot)));
  for (const [user, domain] of [['alice', 'example.com'], ['bob', 'example.com'], ['carol', 'example.com'], ['alice', 'other.org']] as const) {
    t.equal(await worker.ha1(user, domain, 'MD5'), await directory.ha1(user, domain, 'MD5'), `MD5 HA1 of ${user}@${domain}`);
    t.equal(await worker.ha1(user, domain, 'SHA-256'), await directory.ha1(user, domain, 'SHA-256'), `SHA-256 HA1 of ${user}@${domain}`);
    t.equal(await worker.userExists(user, domain), await directory.userExists(user, domain), `${user}@${domain} exists or not`);
  }
  t.equal(await worker.ha1('alice', 'example.com', 'MD5'), md5('alice:example.com:a-secret'));
  t.equal(await worker.ha1('bob', 'example.com', 'MD5'), undefined, 'a disabled user has no HA1 in the copy either');
  for (const host of ['example.com', '127.0.0.1', 'other.org']) t.equal(await worker.isLocalDomain(host), await directory.isLocalDomain(host), `is ${host} ours`);

  // a change makes the copy stale until the debounced reload, which is announced again
  await directory.watch(bus);
  await store.createUser({ username: 'carol', domain: 'example.com', password: 'c-secret' });
  t.equal(directory.snapshot(), undefined, 'no snapshot while a change is not loaded');
  scheduler.advance(600);
  await t.resolveMatch(
    (async () => {
      for (let i = 0; i < 200 && loads < 2; i++) await new Promise((r) => setTimeout(r, 10));
      return loads;
    })(),
    2,
    'the reload after the change is announced',
  );
  const again = directory.snapshot();
  t.ok(again !== undefined && again.users.keys.includes('carol@example.com'), 'and its snapshot has the new user');
});
