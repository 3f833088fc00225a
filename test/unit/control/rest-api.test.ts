import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import { silentLogger } from '../../../src/lib/index.js';
import { ProvisioningStore, registerProvisioningRoutes, type RegistrationView, type RegistrationsPort } from '../../../src/control/index.js';
import { openControlDb, tempDataDir } from './control-db.js';

interface Ctx {
  app: FastifyInstance;
  store: ProvisioningStore;
  operator: string;
  acmeKey: string;
  acmeId: string;
  otherKey: string;
  removed: string[];
}

async function setup(t: Test): Promise<Ctx> {
  const store = new ProvisioningStore({ db: await openControlDb(t, tempDataDir(t)) });
  const bindings: RegistrationView[] = [
    { aor: 'sip:alice@acme.com', contact: 'sip:alice@10.0.0.1:5060', expiresAt: '2030-01-01T00:00:00.000Z' },
    { aor: 'sip:zed@other.net', contact: 'sip:zed@10.0.0.2:5060', expiresAt: '2030-01-01T00:00:00.000Z', userAgent: 'baresip' },
  ];
  const removed: string[] = [];
  const registrations: RegistrationsPort = {
    list: async (aor) => bindings.filter((b) => aor === undefined || b.aor === aor),
    remove: async (aor) => {
      removed.push(aor);
      return bindings.filter((b) => b.aor === aor).length;
    },
    count: async () => new Set(bindings.map((b) => b.aor)).size,
  };
  const app = Fastify({ logger: false });
  t.teardown(() => app.close());
  await registerProvisioningRoutes(app, { store, registrations, logger: silentLogger });
  await app.ready();
  const acme = await store.createTenant('acme');
  const other = await store.createTenant('other');
  await store.createDomain('acme.com', acme.id);
  await store.createDomain('other.net', other.id);
  return {
    app,
    store,
    operator: (await store.createApiKey('ops')).token,
    acmeKey: (await store.createApiKey('acme', acme.id)).token,
    acmeId: acme.id,
    otherKey: (await store.createApiKey('other', other.id)).token,
    removed,
  };
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

t.test('REST provisioning API', async (t) => {
  const c = await setup(t);
  const { app } = c;

  t.test('auth: 401 without or with a wrong key, 403 for another tenant', async (t) => {
    const none = await app.inject({ method: 'GET', url: '/api/v1/users' });
    t.equal(none.statusCode, 401);
    t.equal(none.headers['www-authenticate'], 'Bearer');
    t.match(none.json(), { error: /Bearer/ });
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/users', headers: auth('wrong') })).statusCode, 401);
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/users', headers: { authorization: 'Basic abc' } })).statusCode, 401);
    t.equal((await app.inject({ method: 'POST', url: '/api/v1/tenants', headers: auth(c.acmeKey), payload: { name: 'x' } })).statusCode, 403, 'tenant key cannot create tenants');
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/tenants/${c.acmeId}`, headers: auth(c.otherKey) })).statusCode, 403);
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/tenants/${c.acmeId}`, headers: auth(c.acmeKey) })).statusCode, 200);
    const tenants = await app.inject({ method: 'GET', url: '/api/v1/tenants', headers: auth(c.acmeKey) });
    t.same(tenants.json().map((x: { name: string }) => x.name), ['acme'], 'a tenant key lists only its tenant');
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/domains?tenantId=' + c.acmeId, headers: auth(c.otherKey) })).statusCode, 403);
  });

  t.test('tenants and domains CRUD', async (t) => {
    const created = await app.inject({ method: 'POST', url: '/api/v1/tenants', headers: auth(c.operator), payload: { name: 'third' } });
    t.equal(created.statusCode, 201);
    const id = created.json().id as string;
    t.equal((await app.inject({ method: 'POST', url: '/api/v1/tenants', headers: auth(c.operator), payload: { name: 'third' } })).statusCode, 409);
    const bad = await app.inject({ method: 'POST', url: '/api/v1/tenants', headers: auth(c.operator), payload: {} });
    t.equal(bad.statusCode, 400);
    t.match(bad.json(), { field: 'name', reason: /required/ });
    const dom = await app.inject({ method: 'POST', url: '/api/v1/domains', headers: auth(c.operator), payload: { name: 'third.io', tenantId: id } });
    t.equal(dom.statusCode, 201);
    t.equal((await app.inject({ method: 'POST', url: '/api/v1/domains', headers: auth(c.operator), payload: { name: 'third.io', tenantId: id } })).statusCode, 409);
    const badDomain = await app.inject({ method: 'POST', url: '/api/v1/domains', headers: auth(c.operator), payload: { name: 'no spaces.io', tenantId: id } });
    t.match(badDomain.json(), { field: 'name' });
    t.equal(badDomain.statusCode, 400);
    t.match((await app.inject({ method: 'POST', url: '/api/v1/domains', headers: auth(c.operator), payload: { name: 'x.io', tenantId: 'missing' } })).json(), { field: 'tenantId' });
    t.equal((await app.inject({ method: 'POST', url: '/api/v1/domains', headers: auth(c.acmeKey), payload: { name: 'x.io', tenantId: id } })).statusCode, 403);
    const own = await app.inject({ method: 'POST', url: '/api/v1/domains', headers: auth(c.acmeKey), payload: { name: 'sub.acme.com' } });
    t.equal(own.json().tenantId, c.acmeId, 'a tenant key creates domains in its tenant');
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/domains/third.io', headers: auth(c.acmeKey) })).statusCode, 403);
    t.equal((await app.inject({ method: 'DELETE', url: '/api/v1/domains/third.io', headers: auth(c.operator) })).statusCode, 204);
    t.equal((await app.inject({ method: 'DELETE', url: '/api/v1/domains/third.io', headers: auth(c.operator) })).statusCode, 404);
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/tenants/${id}`, headers: auth(c.operator) })).statusCode, 204);
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/tenants/${id}`, headers: auth(c.operator) })).statusCode, 404);
    const list = await app.inject({ method: 'GET', url: '/api/v1/domains', headers: auth(c.acmeKey) });
    t.same(list.json().map((d: { name: string }) => d.name), ['acme.com', 'sub.acme.com']);
  });

  t.test('users CRUD, validation, paging', async (t) => {
    const post = (payload: object, token = c.acmeKey) => app.inject({ method: 'POST', url: '/api/v1/users', headers: auth(token), payload });
    const alice = await post({ username: 'alice', domain: 'acme.com', password: 'secret', displayName: 'Alice' });
    t.equal(alice.statusCode, 201);
    const id = alice.json().id as string;
    t.notOk('password' in alice.json() || 'ha1Md5' in alice.json(), 'no secrets in responses');
    t.equal((await post({ username: 'alice', domain: 'acme.com', password: 'x' })).statusCode, 409);
    const missing = await post({ username: 'bob', domain: 'acme.com' });
    t.equal(missing.statusCode, 400);
    t.match(missing.json(), { field: 'password', reason: /required/ });
    const badName = await post({ username: 'b o b', domain: 'acme.com', password: 'x' });
    t.match(badName.json(), { field: 'username' });
    t.match((await post({ username: 'bob', domain: 'nowhere.org', password: 'x' })).json(), { field: 'domain', reason: /unknown/ });
    t.equal((await post({ username: 'bob', domain: 'other.net', password: 'x' })).statusCode, 403, "another tenant's domain");
    const badJson = await app.inject({ method: 'POST', url: '/api/v1/users', headers: { ...auth(c.acmeKey), 'content-type': 'application/json' }, payload: '{"username":' });
    t.equal(badJson.statusCode, 400, 'malformed JSON is a 400, not a crash');

    t.match((await app.inject({ method: 'GET', url: `/api/v1/users/${id}`, headers: auth(c.acmeKey) })).json(), { username: 'alice', displayName: 'Alice' });
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/users/${id}`, headers: auth(c.otherKey) })).statusCode, 403);
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/users/nope', headers: auth(c.acmeKey) })).statusCode, 404);

    const patched = await app.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, headers: auth(c.acmeKey), payload: { password: 'new', enabled: false, displayName: null } });
    t.equal(patched.statusCode, 200);
    t.match(patched.json(), { enabled: false, displayName: null });
    const md5 = createHash('md5').update('alice:acme.com:new').digest('hex');
    t.equal((await c.store.userCredentials('alice', 'acme.com'))?.ha1Md5, md5);
    const badPatch = await app.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, headers: auth(c.acmeKey), payload: { enabled: 'maybe' } });
    t.equal(badPatch.statusCode, 400);
    t.match(badPatch.json(), { field: 'enabled' });

    for (let i = 0; i < 5; i++) await post({ username: `u${i}`, domain: 'acme.com', password: 'pw' });
    await post({ username: 'zed', domain: 'other.net', password: 'pw' }, c.otherKey);
    const page = await app.inject({ method: 'GET', url: '/api/v1/users?limit=2&offset=2&domain=acme.com', headers: auth(c.acmeKey) });
    t.match(page.json(), { total: 6, limit: 2, offset: 2 });
    t.same(page.json().items.map((u: { username: string }) => u.username), ['u1', 'u2']);
    const scoped = await app.inject({ method: 'GET', url: '/api/v1/users?limit=100', headers: auth(c.acmeKey) });
    t.equal(scoped.json().total, 6, 'a tenant key never sees other tenants\u2019 users');
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/users', headers: auth(c.operator) })).json().total, 7);
    const badLimit = await app.inject({ method: 'GET', url: '/api/v1/users?limit=0', headers: auth(c.acmeKey) });
    t.equal(badLimit.statusCode, 400);
    t.match(badLimit.json(), { field: 'limit' });

    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/users/${id}`, headers: auth(c.otherKey) })).statusCode, 403);
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/users/${id}`, headers: auth(c.acmeKey) })).statusCode, 204);
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/users/${id}`, headers: auth(c.acmeKey) })).statusCode, 404);
  });

  t.test('import over text/csv', async (t) => {
    const csv = ['carol@acme.com;pw', 'dave@acme.com;pw;Dave', 'broken line', 'erin@newdomain.acme.org;pw', 'zed@other.net;pw'].join('\r\n');
    const res = await app.inject({ method: 'POST', url: '/api/v1/users/import', headers: { ...auth(c.acmeKey), 'content-type': 'text/csv' }, payload: csv });
    t.equal(res.statusCode, 200);
    t.match(res.json(), { imported: 3, skipped: 0, errorCount: 2, createdDomains: ['newdomain.acme.org'] });
    t.same(res.json().errors.map((e: { line: number }) => e.line), [3, 5]);
    t.equal((await c.store.findDomain('newdomain.acme.org'))?.tenantId, c.acmeId);
    const again = await app.inject({ method: 'POST', url: '/api/v1/users/import?update=true', headers: { ...auth(c.acmeKey), 'content-type': 'text/csv' }, payload: 'carol@acme.com;new' });
    t.match(again.json(), { imported: 0, updated: 1 });
    const json = await app.inject({ method: 'POST', url: '/api/v1/users/import', headers: auth(c.acmeKey), payload: { x: 1 } });
    t.equal(json.statusCode, 400);
    t.match(json.json(), { field: 'body' });
    const unauth = await app.inject({ method: 'POST', url: '/api/v1/users/import', headers: { 'content-type': 'text/csv' }, payload: 'a@acme.com;pw' });
    t.equal(unauth.statusCode, 401);
  });

  t.test('registrations through the port, scoped by tenant', async (t) => {
    const all = await app.inject({ method: 'GET', url: '/api/v1/registrations', headers: auth(c.operator) });
    t.equal(all.json().length, 2);
    const mine = await app.inject({ method: 'GET', url: '/api/v1/registrations', headers: auth(c.acmeKey) });
    t.same(mine.json().map((r: RegistrationView) => r.aor), ['sip:alice@acme.com']);
    const byAor = await app.inject({ method: 'GET', url: '/api/v1/registrations?aor=' + encodeURIComponent('sip:zed@other.net'), headers: auth(c.operator) });
    t.match(byAor.json(), [{ aor: 'sip:zed@other.net', userAgent: 'baresip' }]);
    const forbidden = await app.inject({ method: 'DELETE', url: '/api/v1/registrations/' + encodeURIComponent('sip:zed@other.net'), headers: auth(c.acmeKey) });
    t.equal(forbidden.statusCode, 403);
    const del = await app.inject({ method: 'DELETE', url: '/api/v1/registrations/' + encodeURIComponent('sip:alice@acme.com'), headers: auth(c.acmeKey) });
    t.equal(del.statusCode, 200);
    t.same(del.json(), { removed: 1 });
    t.same(c.removed, ['sip:alice@acme.com']);
    t.equal((await app.inject({ method: 'DELETE', url: '/api/v1/registrations/' + encodeURIComponent('sip:nobody@acme.com'), headers: auth(c.acmeKey) })).statusCode, 404);
  });

  t.test('registrations count: every AOR, for operators only', async (t) => {
    const count = await app.inject({ method: 'GET', url: '/api/v1/registrations/count', headers: auth(c.operator) });
    t.equal(count.statusCode, 200);
    t.same(count.json(), { aors: 2 });
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/registrations/count', headers: auth(c.acmeKey) })).statusCode, 403);
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/registrations/count' })).statusCode, 401);
  });

  t.test('OpenAPI at /openapi.json and Swagger UI at /docs', async (t) => {
    const spec = await app.inject({ method: 'GET', url: '/openapi.json' });
    t.equal(spec.statusCode, 200);
    const doc = spec.json();
    t.equal(doc.openapi, '3.0.3');
    t.ok(doc.paths['/api/v1/users'], 'users documented');
    t.ok(doc.paths['/api/v1/users/{id}'].patch, 'PATCH documented');
    t.ok(doc.components.securitySchemes.bearerAuth);
    const docs = await app.inject({ method: 'GET', url: '/docs/' });
    t.equal(docs.statusCode, 200);
    t.match(docs.body, /swagger/i);
  });
});

t.test('registrations without a SIP role answer 503', async (t) => {
  const store = new ProvisioningStore({ db: await openControlDb(t, tempDataDir(t)) });
  const app = Fastify({ logger: false });
  t.teardown(() => app.close());
  await registerProvisioningRoutes(app, { store, logger: silentLogger, documentation: false });
  const key = await store.createApiKey('ops');
  const res = await app.inject({ method: 'GET', url: '/api/v1/registrations', headers: auth(key.token) });
  t.equal(res.statusCode, 503);
  t.equal((await app.inject({ method: 'GET', url: '/openapi.json' })).statusCode, 404, 'documentation can be left to the caller');
});
