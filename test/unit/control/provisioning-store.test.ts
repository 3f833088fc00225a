import { createHash } from 'node:crypto';
import t, { type Test } from 'tap';
import { ConflictError, NotFoundError } from '../../../src/lib/index.js';
import { MemoryBus } from '../../../src/platform/index.js';
import { InvalidFieldError, PROVISIONING_CHANGED_TOPIC, ProvisioningStore, parseImportLine, type ProvisioningChange } from '../../../src/control/index.js';
import { openControlDb, tempDataDir } from './control-db.js';

async function rejectsField(t: Test, promise: Promise<unknown>, field: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof InvalidFieldError && err.field === field, `rejected naming field ${field}`);
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

t.test('tenants, domains and users: CRUD, conflicts, not found, HA1 values', async (t) => {
  const db = await openControlDb(t, tempDataDir(t));
  const bus = new MemoryBus();
  t.teardown(() => bus.close());
  const changes: ProvisioningChange[] = [];
  await bus.subscribe(PROVISIONING_CHANGED_TOPIC, (m) => changes.push(JSON.parse(m) as ProvisioningChange));
  const store = new ProvisioningStore({ db, bus });

  const acme = await store.createTenant('acme');
  t.match(acme, { id: String, name: 'acme', createdAt: /^\d{4}-\d\d-\d\dT/ });
  await t.rejects(store.createTenant('acme'), ConflictError);
  await t.rejects(store.createTenant('  '), InvalidFieldError);
  await t.rejects(store.getTenant('nope'), NotFoundError);

  const domain = await store.createDomain('Example.COM', acme.id);
  t.equal(domain.name, 'example.com', 'domains are stored lower-cased');
  await t.rejects(store.createDomain('example.com', acme.id), ConflictError);
  await rejectsField(t, store.createDomain('bad domain!', acme.id), 'name');
  await t.rejects(store.createDomain('other.org', 'missing'), NotFoundError);

  const alice = await store.createUser({ username: 'alice', domain: 'example.com', password: 'secret', displayName: 'Alice' });
  t.match(alice, { username: 'alice', domain: 'example.com', tenantId: acme.id, displayName: 'Alice', enabled: true });
  await t.rejects(store.createUser({ username: 'alice', domain: 'EXAMPLE.com', password: 'x' }), ConflictError);
  await rejectsField(t, store.createUser({ username: 'bob', domain: 'unknown.org', password: 'x' }), 'domain');
  await rejectsField(t, store.createUser({ username: 'a@b', domain: 'example.com', password: 'x' }), 'username');
  await rejectsField(t, store.createUser({ username: 'bob', domain: 'example.com', password: '' }), 'password');

  const creds = await store.userCredentials('alice', 'example.com');
  t.same(creds, { ha1Md5: md5('alice:example.com:secret'), ha1Sha256: sha256('alice:example.com:secret'), enabled: true }, 'HA1 = H(user:realm:password), realm = domain');
  t.equal(await store.userCredentials('Alice', 'example.com'), undefined, 'user part is case-sensitive');

  const updated = await store.updateUser(alice.id, { password: 'new', enabled: false, displayName: null });
  t.match(updated, { enabled: false, displayName: null });
  t.same(await store.userCredentials('alice', 'example.com'), { ha1Md5: md5('alice:example.com:new'), ha1Sha256: sha256('alice:example.com:new'), enabled: false });
  await t.rejects(store.updateUser('nope', { enabled: true }), NotFoundError);

  await store.createUser({ username: 'bob', domain: 'example.com', password: 'pw' });
  const page = await store.listUsers({ domain: 'example.com', limit: 1 });
  t.equal(page.total, 2);
  t.same(page.items.map((u) => u.username), ['alice']);
  const page2 = await store.listUsers({ domain: 'example.com', limit: 1, offset: 1 });
  t.same(page2.items.map((u) => u.username), ['bob']);

  await store.deleteUser(alice.id);
  await t.rejects(store.deleteUser(alice.id), NotFoundError);
  t.equal(await store.findUser('alice', 'example.com'), undefined);

  await store.deleteDomain('example.com');
  t.equal((await store.listUsers()).total, 0, 'deleting a domain deletes its users');
  await store.deleteTenant(acme.id);
  t.same(await store.listTenants(), []);

  await new Promise((r) => setImmediate(r));
  t.ok(changes.some((c) => c.kind === 'user' && c.action === 'created' && c.username === 'alice'), 'user creation published');
  t.ok(changes.some((c) => c.kind === 'user' && c.action === 'updated'), 'user update published');
  t.ok(changes.some((c) => c.kind === 'domain' && c.action === 'deleted' && c.domain === 'example.com'), 'domain deletion published');
});

t.test('ensureDefaultTenant is idempotent and keeps other tenants\u2019 domains', async (t) => {
  const store = new ProvisioningStore({ db: await openControlDb(t, tempDataDir(t)) });
  const other = await store.createTenant('other');
  await store.createDomain('pbx.other.net', other.id);
  const first = await store.ensureDefaultTenant(['127.0.0.1', 'MyHost.local', 'pbx.other.net']);
  const again = await store.ensureDefaultTenant(['127.0.0.1', '[::1]']);
  t.equal(first.id, again.id);
  t.equal(first.name, 'default');
  t.same((await store.listDomains(first.id)).map((d) => d.name), ['127.0.0.1', '[::1]', 'myhost.local']);
  t.equal((await store.findDomain('pbx.other.net'))?.tenantId, other.id);
});

t.test('API keys: token returned once, only its hash stored', async (t) => {
  const db = await openControlDb(t, tempDataDir(t));
  const store = new ProvisioningStore({ db });
  t.equal(await store.countApiKeys(), 0);
  const tenant = await store.createTenant('acme');
  const operator = await store.createApiKey('ops');
  const scoped = await store.createApiKey('acme key', tenant.id);
  t.match(operator.token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  t.same(await store.verifyApiKey(operator.token), { id: operator.id, tenantId: null, label: 'ops' });
  t.same(await store.verifyApiKey(scoped.token), { id: scoped.id, tenantId: tenant.id, label: 'acme key' });
  t.equal(await store.verifyApiKey(operator.token + 'x'), undefined);
  t.equal(await store.verifyApiKey(''), undefined);
  const stored = await db.query<{ hash: string }>('SELECT hash FROM api_keys');
  t.notOk(stored.rows.some((r) => r.hash.includes(operator.token)), 'token not stored');
  await t.rejects(store.createApiKey('x', 'missing'), NotFoundError);
});

t.test('import: errors, skipped duplicates, update, domains created under the tenant', async (t) => {
  const store = new ProvisioningStore({ db: await openControlDb(t, tempDataDir(t)) });
  const other = await store.createTenant('other');
  await store.createDomain('theirs.org', other.id);
  const progress: number[] = [];
  const report = await store.importUsers(
    ['# header comment', 'alice@example.com;secret', 'bob@example.com;pw;Bob B', '', 'no-at-sign;pw', 'carol@example.com', 'dave@theirs.org;pw', 'alice@example.com;again', 'sip:erin@Example.com;pw\r', 'a;b;c;d'],
    { onProgress: (p) => progress.push(p.imported) },
  );
  t.equal(report.imported, 3);
  t.equal(report.skipped, 1, 'a repeated user is skipped without update');
  t.same(report.createdDomains, ['example.com']);
  t.same(report.errors.map((e) => e.line), [5, 6, 7, 10]);
  t.match(report.errors[2]?.reason, /another tenant/);
  t.ok(progress.length > 0);
  const def = await store.findTenantByName('default');
  t.equal((await store.findDomain('example.com'))?.tenantId, def?.id, 'unknown domain created under the default tenant');
  t.equal((await store.findUser('bob', 'example.com'))?.displayName, 'Bob B');
  t.equal((await store.userCredentials('alice', 'example.com'))?.ha1Md5, md5('alice:example.com:secret'), 'first line wins without update');

  const rerun = await store.importUsers(['alice@example.com;changed', 'frank@example.com;pw'], {});
  t.same({ imported: rerun.imported, updated: rerun.updated, skipped: rerun.skipped }, { imported: 1, updated: 0, skipped: 1 });

  const updated = await store.importUsers(
    (async function* () {
      yield 'alice@example.com;changed';
      yield 'alice@example.com;changed-twice';
    })(),
    { update: true },
  );
  t.same({ imported: updated.imported, updated: updated.updated }, { imported: 0, updated: 1 });
  t.equal((await store.userCredentials('alice', 'example.com'))?.ha1Md5, md5('alice:example.com:changed-twice'), 'last line wins with update');

  const scoped = await store.importUsers(['zed@new.other.net;pw', 'y@example.com;pw'], { tenantId: other.id });
  t.equal(scoped.imported, 1);
  t.same(scoped.createdDomains, ['new.other.net']);
  t.equal((await store.findDomain('new.other.net'))?.tenantId, other.id);
  t.equal(scoped.errors[0]?.line, 2, "another tenant's domain is refused");
  await t.rejects(store.importUsers([], { tenantId: 'missing' }), NotFoundError);
});

t.test('parseImportLine', async (t) => {
  t.match(parseImportLine('alice@example.com;p@ss:word'), { ok: true, username: 'alice', domain: 'example.com', password: 'p@ss:word', displayName: null });
  t.match(parseImportLine('  # comment'), { ok: 'blank' });
  t.match(parseImportLine('alice@;pw'), { ok: false, reason: /domain/ });
  t.match(parseImportLine('@example.com;pw'), { ok: false, reason: /username/ });
  t.match(parseImportLine('alice@example.com;'), { ok: false, reason: /password/ });
  t.match(parseImportLine('alice@[::1];pw'), { ok: true, domain: '[::1]' });
});

t.test('users survive closing and reopening the database', async (t) => {
  const dir = tempDataDir(t);
  const { openDatabase, runMigrations } = await import('../../../src/platform/index.js');
  const { controlMigrations } = await import('../../../src/control/index.js');
  const first = await openDatabase({ dataDir: dir });
  await runMigrations(first, controlMigrations);
  const store = new ProvisioningStore({ db: first });
  await store.ensureDefaultTenant(['example.com']);
  await store.createUser({ username: 'alice', domain: 'example.com', password: 'secret' });
  await first.close();

  const second = await openControlDb(t, dir);
  const reopened = new ProvisioningStore({ db: second });
  t.same(await reopened.userCredentials('alice', 'example.com'), {
    ha1Md5: md5('alice:example.com:secret'),
    ha1Sha256: sha256('alice:example.com:secret'),
    enabled: true,
  });
});
