import t, { type Test } from 'tap';
import type { DialPlanValidator } from '../../../src/control/index.js';
import { auth, telephonyApiFixture } from '../../helpers/contract/rest-api-fixture.js';
import { openControlDb, tempDataDir } from './control-db.js';

/** a stand-in for the dial-plan engine's validator */
const validateDialPlan: DialPlanValidator = (doc) => {
  const rules = (doc as { rules?: { name?: string; target?: unknown }[] }).rules ?? [];
  const errors = rules.filter((r) => r.target === undefined).map((r) => ({ rule: r.name ?? '?', path: '/target', message: 'a rule needs a target' }));
  return errors.length === 0 ? { ok: true } : { ok: false, errors };
};

async function setup(t: Test) {
  return telephonyApiFixture(t, await openControlDb(t, tempDataDir(t)), { otherTenant: 'other', validateDialPlan });
}

t.test('REST telephony API', async (t) => {
  const c = await setup(t);
  const { app, acme, other, ops } = c;

  t.test('401 without or with a wrong key, on every route', async (t) => {
    for (const url of ['/api/v1/trunks', '/api/v1/dids', '/api/v1/dialplan', '/api/v1/cdrs', '/api/v1/cdrs/x']) {
      const none = await app.inject({ method: 'GET', url });
      t.equal(none.statusCode, 401, url);
      t.equal(none.headers['www-authenticate'], 'Bearer');
      t.equal((await app.inject({ method: 'GET', url, headers: auth('wrong') })).statusCode, 401);
    }
  });

  let trunkId = '';
  t.test('trunks: 201, 200, 409, 400 naming the field, 404, 403, no password in answers', async (t) => {
    const created = await acme.post('/api/v1/trunks', {
      name: 'carrier',
      gateways: [{ host: 'sip.carrier.example', port: 5080, transport: 'tcp', weight: 10, priority: 1 }],
      acl: ['203.0.113.0/24'],
      outboundAuth: { username: 'acct', password: 'hunter2', realm: 'carrier' },
      inboundAuth: { username: 'peer', password: 'inbound-secret' },
      numberFormat: 'national',
      countryCode: '1',
    });
    t.equal(created.statusCode, 201, created.body);
    trunkId = created.json().id as string;
    t.match(created.json(), { tenantId: c.acmeId, name: 'carrier', direction: 'both', outboundAuth: { username: 'acct', realm: 'carrier' }, inboundAuth: { username: 'peer', realm: 'opencx' } });
    t.notMatch(created.body, /hunter2|inbound-secret|ha1/i, 'no secret in the answer');
    const fetched = await acme.get(`/api/v1/trunks/${trunkId}`);
    t.equal(fetched.statusCode, 200);
    t.notMatch(fetched.body, /hunter2/);
    t.same((await acme.get('/api/v1/trunks')).json().map((x: { name: string }) => x.name), ['carrier']);
    t.notMatch((await acme.get('/api/v1/trunks')).body, /hunter2/);
    t.equal((await acme.post('/api/v1/trunks', { name: 'carrier', acl: ['10.0.0.1'] })).statusCode, 409);

    const bad = async (body: object, field: string) => {
      const res = await acme.post('/api/v1/trunks', { name: 'x', ...body });
      t.equal(res.statusCode, 400, `${field}: ${res.body}`);
      t.equal(res.json().field, field);
      t.type(res.json().reason, 'string');
    };
    await bad({ acl: ['10.0.0.0/40'] }, 'acl.0');
    await bad({ gateways: [{ host: 'gw.example', port: 70000 }] }, 'gateways.0.port');
    await bad({ gateways: [{ host: 'gw..example' }] }, 'gateways.0.host');
    await bad({ gateways: [{ host: 'gw.example', weight: -1 }] }, 'gateways.0.weight');
    await bad({ gateways: [{ host: 'gw.example', transport: 'sctp' }] }, 'gateways.0.transport');
    await bad({ direction: 'outbound' }, 'gateways');
    await bad({ acl: ['10.0.0.1'], balancing: 'random' }, 'balancing');
    t.equal((await acme.post('/api/v1/trunks', {})).json().field, 'name');

    t.equal((await acme.get('/api/v1/trunks/nope')).statusCode, 404);
    t.equal((await acme.del('/api/v1/trunks/nope')).statusCode, 404);
    t.equal((await other.get(`/api/v1/trunks/${trunkId}`)).statusCode, 403, "another tenant's trunk");
    t.same((await other.get('/api/v1/trunks')).json(), []);
    t.equal((await other.get(`/api/v1/trunks?tenantId=${c.acmeId}`)).statusCode, 403);
    t.equal((await ops.get(`/api/v1/trunks?tenantId=${c.acmeId}`)).json().length, 1, 'an operator picks the tenant');

    const patched = await acme.patch(`/api/v1/trunks/${trunkId}`, { enabled: false, maxConcurrentCalls: 10, callsPerSecond: 1.5 });
    t.equal(patched.statusCode, 200);
    t.match(patched.json(), { enabled: false, maxConcurrentCalls: 10, callsPerSecond: 1.5, countryCode: '1' });
    t.equal((await acme.patch(`/api/v1/trunks/${trunkId}`, { countryCode: null })).json().field, 'countryCode');
    t.equal((await other.patch(`/api/v1/trunks/${trunkId}`, { enabled: true })).statusCode, 403);
    t.same(await c.stores.trunks.outboundCredentials(trunkId), { username: 'acct', password: 'hunter2', realm: 'carrier' }, 'stored for the SIP layer');

    const opsTrunk = await ops.post('/api/v1/trunks', { name: 'default-trunk', acl: ['10.1.0.0/16'] });
    t.equal(opsTrunk.statusCode, 201);
    t.equal(opsTrunk.json().tenantId, c.defaultId, 'an operator without tenantId writes to the default tenant');
    t.match(opsTrunk.json(), { direction: 'inbound', inboundAuth: null, outboundAuth: null, gateways: [], countryCode: null, maxConcurrentCalls: null }, 'nulls survive serialisation');
    t.equal((await ops.post(`/api/v1/trunks?tenantId=${c.otherId}`, { name: 'o', acl: ['10.1.0.0/16'] })).json().tenantId, c.otherId);
    t.equal((await ops.get('/api/v1/trunks')).json().length, 3, 'an operator lists every tenant');
  });

  t.test('DIDs: 201, 409, 400, 404, 403, trunk restriction, delete', async (t) => {
    const created = await acme.post('/api/v1/dids', { number: '+15550100001', target: { type: 'user', user: 'alice@acme.com' }, trunkId });
    t.equal(created.statusCode, 201, created.body);
    const id = created.json().id as string;
    t.match(created.json(), { number: '+15550100001', target: { type: 'user', user: 'alice@acme.com' }, trunkId });
    t.equal((await acme.post('/api/v1/dids', { number: '+15550100001', target: { type: 'reject', status: 603 } })).statusCode, 409);
    t.equal((await acme.post('/api/v1/dids', { number: '5550100', target: { type: 'reject', status: 603 } })).json().field, 'number');
    t.equal((await acme.post('/api/v1/dids', { number: '+15550100002', target: { type: 'fax' } })).json().field, 'target.type');
    t.equal((await acme.post('/api/v1/dids', { number: '+15550100002', target: { type: 'vxml' } })).json().field, 'target.url');
    t.equal((await acme.post('/api/v1/dids', { number: '+15550100002' })).json().field, 'target');
    t.equal((await other.post('/api/v1/dids', { number: '+15550100002', target: { type: 'reject', status: 603 }, trunkId })).json().field, 'trunkId', "another tenant's trunk is unknown");
    t.equal((await other.post('/api/v1/dids', { number: '+15550100002', target: { type: 'reject', status: 603 }, tenantId: c.acmeId })).statusCode, 403);
    t.equal((await acme.get(`/api/v1/dids/${id}`)).statusCode, 200);
    t.equal((await other.get(`/api/v1/dids/${id}`)).statusCode, 403);
    t.equal((await acme.get('/api/v1/dids/nope')).statusCode, 404);
    t.same((await acme.get('/api/v1/dids?number=%2B15550100001')).json().map((d: { id: string }) => d.id), [id]);
    t.equal((await acme.del(`/api/v1/trunks/${trunkId}`)).statusCode, 409, 'a trunk with DIDs restricted to it');
    const moved = await acme.patch(`/api/v1/dids/${id}`, { target: { type: 'vxml', url: 'https://ivr.acme.com/start.vxml' }, trunkId: null });
    t.equal(moved.statusCode, 200);
    t.match(moved.json(), { target: { type: 'vxml', url: 'https://ivr.acme.com/start.vxml' }, trunkId: null });
    t.equal((await acme.del(`/api/v1/dids/${id}`)).statusCode, 204);
    t.equal((await acme.del(`/api/v1/dids/${id}`)).statusCode, 404);
    t.equal((await acme.del(`/api/v1/trunks/${trunkId}`)).statusCode, 204);
  });

  t.test('dial plan: GET version 0, PUT validates (400 lists each rule error), versions, 409 on a stale version', async (t) => {
    t.match((await acme.get('/api/v1/dialplan')).json(), { tenantId: c.acmeId, version: 0, updatedAt: null });
    const doc = { rules: [{ name: 'local', match: '^\\d{4}$', target: { type: 'user', user: '${digits}@acme.com' } }] };
    const put = await acme.put('/api/v1/dialplan', doc);
    t.equal(put.statusCode, 200, put.body);
    t.match(put.json(), { version: 1, document: doc });
    const refused = await acme.put('/api/v1/dialplan', { rules: [{ name: 'a' }, { name: 'b' }, { name: 'ok', target: {} }] });
    t.equal(refused.statusCode, 400);
    t.same(refused.json().errors.map((e: { rule: string }) => e.rule), ['a', 'b'], 'every error with its rule');
    t.equal(refused.json().field, 'document');
    t.equal((await acme.get('/api/v1/dialplan')).json().version, 1);
    t.equal((await acme.put('/api/v1/dialplan?expectedVersion=0', doc)).statusCode, 409);
    t.equal((await acme.put('/api/v1/dialplan?expectedVersion=1', doc)).json().version, 2);
    t.equal((await other.get('/api/v1/dialplan')).json().version, 0, 'per tenant');
    t.equal((await other.get(`/api/v1/dialplan?tenantId=${c.acmeId}`)).statusCode, 403);
    t.equal((await ops.get(`/api/v1/dialplan?tenantId=${c.acmeId}`)).json().version, 2);
    const notObject = await app.inject({ method: 'PUT', url: '/api/v1/dialplan', headers: { ...auth(c.acmeKey), 'content-type': 'application/json' }, payload: '[1]' });
    t.equal(notObject.statusCode, 400);
  });

  t.test('CDRs: filters, paging with nextCursor, by call id, scoping', async (t) => {
    const base = Date.parse('2026-03-01T08:00:00Z');
    for (let i = 0; i < 5; i++) {
      await c.stores.cdrs.insertAll([
        { id: `acme-${i}`, tenantId: c.acmeId, kind: 'call', callId: `call-${i}`, direction: 'inbound', fromNumber: '+15551230000', toNumber: `+1555000000${i}`, setupAt: new Date(base + i * 60_000), endAt: new Date(base + i * 60_000 + 30_000) },
        { id: `acme-${i}-leg`, tenantId: c.acmeId, kind: 'leg', callId: `call-${i}`, legId: 'b', direction: 'outbound', setupAt: new Date(base + i * 60_000 + 1000) },
      ]);
    }
    await c.stores.cdrs.insert({ tenantId: c.otherId, kind: 'call', callId: 'other-call', direction: 'inbound', setupAt: new Date(base) });
    const first = await acme.get('/api/v1/cdrs?kind=call&limit=2');
    t.equal(first.statusCode, 200);
    t.same(first.json().items.map((x: { callId: string }) => x.callId), ['call-4', 'call-3']);
    t.type(first.json().nextCursor, 'string');
    const second = await acme.get(`/api/v1/cdrs?kind=call&limit=2&cursor=${encodeURIComponent(first.json().nextCursor as string)}`);
    t.same(second.json().items.map((x: { callId: string }) => x.callId), ['call-2', 'call-1']);
    const all = await acme.get('/api/v1/cdrs?limit=100');
    t.equal(all.json().items.length, 10);
    t.equal(all.json().nextCursor, null);
    t.equal((await acme.get('/api/v1/cdrs?number=%2B15550000003')).json().items.length, 1);
    t.equal((await acme.get(`/api/v1/cdrs?since=${new Date(base + 120_000).toISOString()}&kind=call`)).json().items.length, 3);
    t.equal((await acme.get('/api/v1/cdrs?since=yesterday')).json().field, 'since');
    t.equal((await acme.get('/api/v1/cdrs?cursor=bogus')).json().field, 'cursor');
    t.equal((await acme.get('/api/v1/cdrs?limit=0')).statusCode, 400);
    t.equal((await ops.get('/api/v1/cdrs?limit=100')).json().items.length, 11, 'an operator sees every tenant');
    const call = await acme.get('/api/v1/cdrs/call-2');
    t.equal(call.statusCode, 200);
    t.same(call.json().map((x: { kind: string }) => x.kind), ['call', 'leg']);
    t.equal(call.json()[0].durationSeconds, 30);
    t.equal((await acme.get('/api/v1/cdrs/other-call')).statusCode, 404, "another tenant's call is not found");
    t.equal((await acme.get('/api/v1/cdrs/nope')).statusCode, 404);
  });

  t.test('OpenAPI documents the telephony routes', async (t) => {
    const spec = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    for (const p of ['/api/v1/trunks', '/api/v1/trunks/{id}', '/api/v1/dids', '/api/v1/dids/{id}', '/api/v1/dialplan', '/api/v1/cdrs', '/api/v1/cdrs/{callId}']) t.ok(spec.paths[p], p);
  });
});
