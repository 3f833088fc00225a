import type { Test } from 'tap';
import { ConflictError, NotFoundError } from '../../../src/lib/index.js';
import {
  DialPlanInvalidError,
  InvalidFieldError,
  ProvisioningStore,
  createTelephonyStores,
  type DialPlanValidator,
  type NewCdr,
} from '../../../src/control/index.js';
import type { Database } from '../../../src/platform/index.js';
import { rejectsField, unique } from './store-contract-support.js';

/**
 * What the telephony stores must do on both database adapters. The harness hands over one
 * migrated database shared by every test of the file, so each test makes its own tenants.
 */
export interface TelephonyStoreHarness {
  db(): Database;
}

/** a stand-in for the dial-plan engine's validator: every rule needs a name and a target */
const validator: DialPlanValidator = (doc) => {
  const rules = (doc as { rules?: unknown }).rules;
  if (!Array.isArray(rules)) return { ok: false, errors: [{ rule: '', path: '/rules', message: 'rules must be a list' }] };
  const errors = rules.flatMap((r: { name?: unknown; target?: unknown }, i) => [
    ...(typeof r.name !== 'string' ? [{ rule: `#${i}`, path: `/rules/${i}/name`, message: 'a rule needs a name' }] : []),
    ...(r.target === undefined ? [{ rule: typeof r.name === 'string' ? r.name : `#${i}`, path: `/rules/${i}/target`, message: 'a rule needs a target' }] : []),
  ]);
  return errors.length === 0 ? { ok: true } : { ok: false, errors };
};

export function telephonyStoreContract(t: Test, h: TelephonyStoreHarness): void {
  const setup = async () => {
    const db = h.db();
    const provisioning = new ProvisioningStore({ db });
    const stores = createTelephonyStores({ db, validateDialPlan: validator });
    const tenant = await provisioning.createTenant(unique('acme'));
    const other = await provisioning.createTenant(unique('other'));
    return { db, provisioning, ...stores, tenantId: tenant.id, otherId: other.id };
  };

  t.test('trunks: create with defaults, secrets kept out of the view, list, find by name', async (t) => {
    const s = await setup();
    const trunk = await s.trunks.create(s.tenantId, {
      name: 'carrier-a',
      gateways: [{ host: 'SIP.Carrier.example', port: 5080, transport: 'tcp' }, { host: '[2001:db8::1]' }],
      acl: ['203.0.113.0/24', '2001:DB8::/32', '198.51.100.7'],
      outboundAuth: { username: 'acct', password: 's3cret' },
      inboundAuth: { username: 'peer', password: 'inb0und', realm: 'trunks.example' },
    });
    t.match(trunk, {
      tenantId: s.tenantId,
      name: 'carrier-a',
      direction: 'both',
      balancing: 'failover',
      callerIdStyle: 'pai',
      numberFormat: 'e164',
      countryCode: null,
      optionsPingSeconds: 0,
      maxConcurrentCalls: null,
      callsPerSecond: null,
      enabled: true,
      inboundAuth: { username: 'peer', realm: 'trunks.example' },
      outboundAuth: { username: 'acct', realm: null },
    });
    t.same(trunk.gateways, [
      { host: 'sip.carrier.example', port: 5080, transport: 'tcp', weight: 1, priority: 0 },
      { host: '2001:db8::1', port: 5060, transport: 'udp', weight: 1, priority: 0 },
    ]);
    t.same(trunk.acl, ['203.0.113.0/24', '2001:db8::/32', '198.51.100.7/32']);
    t.notMatch(JSON.stringify(trunk), /s3cret|inb0und|ha1/i, 'no password or HA1 in the view');
    t.same(await s.trunks.outboundCredentials(trunk.id), { username: 'acct', password: 's3cret', realm: null });
    const inbound = await s.trunks.inboundCredentials(trunk.id);
    t.match(inbound, { username: 'peer', realm: 'trunks.example', ha1Md5: /^[0-9a-f]{32}$/, ha1Sha256: /^[0-9a-f]{64}$/ });
    t.same((await s.trunks.list(s.tenantId)).map((x) => x.name), ['carrier-a']);
    t.same(await s.trunks.list(s.otherId), [], 'another tenant sees none');
    t.equal((await s.trunks.findByName(s.tenantId, 'carrier-a'))?.id, trunk.id);
    t.equal(await s.trunks.findByName(s.otherId, 'carrier-a'), undefined);
    t.same(await s.trunks.get(trunk.id), trunk, 'reads back the same');
    t.ok((await s.trunks.findBySource('203.0.113.77')).some((x) => x.id === trunk.id), 'recognised by its source ACL');
    t.ok((await s.trunks.findBySource('2001:db8::99')).some((x) => x.id === trunk.id), 'over IPv6 too');
    t.notOk((await s.trunks.findBySource('192.0.2.1')).some((x) => x.id === trunk.id));
    await s.trunks.update(trunk.id, { enabled: false });
    t.notOk((await s.trunks.findBySource('203.0.113.77')).some((x) => x.id === trunk.id), 'not when disabled');
    await s.trunks.update(trunk.id, { enabled: true });
  });

  t.test('trunks: names unique per tenant (ConflictError), the same name in another tenant is fine', async (t) => {
    const s = await setup();
    await s.trunks.create(s.tenantId, { name: 'pstn', acl: ['10.0.0.0/8'] });
    await t.rejects(s.trunks.create(s.tenantId, { name: 'pstn', acl: ['10.0.0.0/8'] }), ConflictError);
    t.ok(await s.trunks.create(s.otherId, { name: 'pstn', acl: ['10.0.0.0/8'] }));
    const second = await s.trunks.create(s.tenantId, { name: 'pstn2', acl: ['10.0.0.0/8'] });
    await t.rejects(s.trunks.update(second.id, { name: 'pstn' }), ConflictError, 'a rename onto a taken name');
  });

  t.test('trunks: invalid input names the field', async (t) => {
    const s = await setup();
    const field = async (input: object, expected: string) => {
      const err = await s.trunks.create(s.tenantId, { name: unique('t'), ...input }).catch((e: unknown) => e);
      t.ok(err instanceof InvalidFieldError, `${expected}: InvalidFieldError`);
      t.equal((err as InvalidFieldError).field, expected);
    };
    await field({ acl: ['10.0.0.0/33'] }, 'acl.0');
    await field({ acl: ['10.0.0.0/8', 'not-an-ip'] }, 'acl.1');
    await field({ gateways: [{ host: 'ok.example', port: 70000 }] }, 'gateways.0.port');
    await field({ gateways: [{ host: 'bad host' }] }, 'gateways.0.host');
    await field({ gateways: [{ host: 'a.example', weight: -1 }] }, 'gateways.0.weight');
    await field({ direction: 'outbound' }, 'gateways');
    await field({ direction: 'inbound' }, 'acl');
    await field({ acl: ['10.0.0.0/8'], numberFormat: 'national' }, 'countryCode');
    await field({ acl: ['10.0.0.0/8'], countryCode: '012' }, 'countryCode');
    await field({ acl: ['10.0.0.0/8'], callsPerSecond: 0 }, 'callsPerSecond');
    await field({ gateways: [{ host: 'a.example', weight: 0 }], balancing: 'weighted' }, 'gateways');
    await field({ acl: ['10.0.0.0/8'], outboundAuth: { username: 'u', password: '' } }, 'outboundAuth.password');
    await field({ inboundAuth: { username: 'u' } }, 'inboundAuth.password');
    const unknownTenant = await s.trunks.create('no-such-tenant', { name: 'x', acl: ['10.0.0.1'] }).catch((e: unknown) => e);
    t.equal((unknownTenant as InvalidFieldError).field, 'tenantId');
  });

  t.test('trunks: update merges and re-checks; delete; unknown ids are NotFoundError', async (t) => {
    const s = await setup();
    const trunk = await s.trunks.create(s.tenantId, { name: 'gw', gateways: [{ host: '192.0.2.10' }], outboundAuth: { username: 'a', password: 'p' } });
    const updated = await s.trunks.update(trunk.id, { numberFormat: 'national', countryCode: '+44', maxConcurrentCalls: 30, callsPerSecond: 2.5, optionsPingSeconds: 30, enabled: false });
    t.match(updated, { numberFormat: 'national', countryCode: '44', maxConcurrentCalls: 30, callsPerSecond: 2.5, optionsPingSeconds: 30, enabled: false });
    t.same(updated.gateways, trunk.gateways, 'untouched fields stay');
    t.ok(Date.parse(updated.updatedAt) >= Date.parse(trunk.updatedAt));
    t.same(await s.trunks.outboundCredentials(trunk.id), { username: 'a', password: 'p', realm: null }, 'the password survives an update that does not name it');
    await rejectsField(t, s.trunks.update(trunk.id, { countryCode: null }), 'countryCode', 'national without a country code');
    const cleared = await s.trunks.update(trunk.id, { outboundAuth: null, maxConcurrentCalls: null });
    t.equal(cleared.outboundAuth, null);
    t.equal(cleared.maxConcurrentCalls, null);
    t.equal(await s.trunks.outboundCredentials(trunk.id), undefined);
    await t.rejects(s.trunks.update('nope', { enabled: true }), NotFoundError);
    await s.trunks.delete(trunk.id);
    await t.rejects(s.trunks.get(trunk.id), NotFoundError);
    await t.rejects(s.trunks.delete(trunk.id), NotFoundError);
  });

  t.test('DIDs: create, unique per tenant, trunk restriction, update, delete', async (t) => {
    const s = await setup();
    const trunk = await s.trunks.create(s.tenantId, { name: 'in', acl: ['192.0.2.0/24'] });
    const foreign = await s.trunks.create(s.otherId, { name: 'in', acl: ['192.0.2.0/24'] });
    const did = await s.dids.create(s.tenantId, { number: '+1 (555) 010-0001', target: { type: 'user', user: 'alice@example.com' }, trunkId: trunk.id });
    t.match(did, { tenantId: s.tenantId, number: '+15550100001', target: { type: 'user', user: 'alice@example.com' }, trunkId: trunk.id });
    await t.rejects(s.dids.create(s.tenantId, { number: '+15550100001', target: { type: 'reject', status: 603 } }), ConflictError);
    t.ok(await s.dids.create(s.otherId, { number: '+15550100001', target: { type: 'reject', status: 486 } }), 'the same number in another tenant');
    await rejectsField(t, s.dids.create(s.tenantId, { number: '5550100', target: { type: 'reject', status: 603 } }), 'number');
    await rejectsField(t, s.dids.create(s.tenantId, { number: '+15550100002', target: { type: 'vxml', url: 'ftp://x' } }), 'target.url');
    await rejectsField(t, s.dids.create(s.tenantId, { number: '+15550100002', target: { type: 'fax' } as never }), 'target.type');
    await rejectsField(t, s.dids.create(s.tenantId, { number: '+15550100002', target: { type: 'reject', status: 603 }, trunkId: foreign.id }), 'trunkId', "another tenant's trunk");
    await t.rejects(s.trunks.delete(trunk.id), ConflictError, 'a trunk that DIDs are restricted to stays');
    const moved = await s.dids.update(did.id, { target: { type: 'vxml', url: 'https://ivr.example/main.vxml' }, trunkId: null });
    t.match(moved, { target: { type: 'vxml', url: 'https://ivr.example/main.vxml' }, trunkId: null });
    await s.trunks.delete(trunk.id);
    t.same((await s.dids.list({ tenantId: s.tenantId })).map((d) => d.number), ['+15550100001']);
    t.equal((await s.dids.list({ number: '+15550100001' })).length, 2, 'across tenants by number');
    t.equal((await s.dids.findByNumber(s.tenantId, '+15550100001'))?.id, did.id);
    await s.dids.delete(did.id);
    await t.rejects(s.dids.get(did.id), NotFoundError);
    await t.rejects(s.dids.delete(did.id), NotFoundError);
  });

  t.test('dial plans: version 0 when unset, validated, versioned, optimistic concurrency', async (t) => {
    const s = await setup();
    t.same(await s.dialPlans.get(s.tenantId), { tenantId: s.tenantId, version: 0, document: { rules: [] }, updatedAt: null });
    const doc = { rules: [{ name: 'emergency', match: '^911$', target: { type: 'number', number: '911' } }] };
    const v1 = await s.dialPlans.put(s.tenantId, doc);
    t.equal(v1.version, 1);
    t.same(v1.document, doc);
    const err = await s.dialPlans.put(s.tenantId, { rules: [{ name: 'a' }, { target: {} }] }).catch((e: unknown) => e);
    t.ok(err instanceof DialPlanInvalidError, 'DialPlanInvalidError');
    t.same((err as DialPlanInvalidError).errors.map((e) => e.rule), ['a', '#1']);
    t.equal((await s.dialPlans.get(s.tenantId)).version, 1, 'a refused plan changes nothing');
    await t.rejects(s.dialPlans.put(s.tenantId, [1, 2]), DialPlanInvalidError, 'not an object');
    const v2 = await s.dialPlans.put(s.tenantId, { rules: [] }, { expectedVersion: 1 });
    t.equal(v2.version, 2);
    await t.rejects(s.dialPlans.put(s.tenantId, { rules: [] }, { expectedVersion: 1 }), ConflictError);
    t.same(await s.dialPlans.get(s.tenantId), v2);
    t.equal((await s.dialPlans.get(s.otherId)).version, 0, 'per tenant');
  });

  t.test('CDRs: durable insert, idempotent retry, computed durations, call with legs', async (t) => {
    const s = await setup();
    const callId = unique('call');
    const call: NewCdr = {
      id: `${callId}-c`,
      tenantId: s.tenantId,
      kind: 'call',
      callId,
      direction: 'inbound',
      fromNumber: '+15550001111',
      toNumber: '+15550002222',
      trunkId: 'trunk-x',
      setupAt: '2026-01-01T10:00:00.000Z',
      answerAt: '2026-01-01T10:00:05.000Z',
      endAt: '2026-01-01T10:01:05.400Z',
      sipStatus: 200,
      reason: 'Normal clearing',
      hangupBy: 'caller',
      codec: 'PCMU',
      packetsLost: 3,
      jitterMs: 4.5,
      rttMs: 38.25,
      recordingKey: 'recordings/a.wav',
    };
    const leg: NewCdr = { ...call, id: `${callId}-l1`, kind: 'leg', legId: 'leg-1', setupAt: '2026-01-01T10:00:01.000Z' };
    const [c, l] = await s.cdrs.insertAll([call, leg]);
    t.match(c, { kind: 'call', durationSeconds: 65, billableSeconds: 61, sipStatus: 200, hangupBy: 'caller', jitterMs: 4.5, rttMs: 38.25, packetsLost: 3, recordingKey: 'recordings/a.wav', legId: null });
    t.match(l, { kind: 'leg', legId: 'leg-1', durationSeconds: 64 });
    const again = await s.cdrs.insert({ ...call, reason: 'changed' });
    t.equal(again.reason, 'Normal clearing', 'a retried insert keeps the stored record');
    t.same((await s.cdrs.forCall(callId)).map((x) => x.kind), ['call', 'leg']);
    t.same(await s.cdrs.forCall(callId, s.otherId), [], 'scoped by tenant');
    const unanswered = await s.cdrs.insert({ tenantId: s.tenantId, kind: 'call', callId: unique('call'), direction: 'outbound', setupAt: new Date('2026-01-01T11:00:00Z'), endAt: new Date('2026-01-01T11:00:20Z'), sipStatus: 486, reason: 'Busy Here', hangupBy: 'callee' });
    t.match(unanswered, { durationSeconds: 20, billableSeconds: 0, answerAt: null });
    await rejectsField(t, s.cdrs.insert({ ...call, id: undefined, endAt: '2025-01-01T00:00:00Z' }), 'endAt');
    await rejectsField(t, s.cdrs.insert({ ...call, id: undefined, kind: 'leg' }), 'legId');
    await rejectsField(t, s.cdrs.insert({ ...call, id: undefined, sipStatus: 99 }), 'sipStatus');
    await rejectsField(t, s.cdrs.insertAll([call, { ...leg, id: `${callId}-l2`, setupAt: 'never' }]), '1.setupAt', 'a batch names the bad record');
    t.equal((await s.cdrs.forCall(callId)).length, 2, 'a refused batch adds nothing');
  });

  t.test('CDRs: filters and keyset paging in time order', async (t) => {
    const s = await setup();
    const base = Date.parse('2026-02-01T00:00:00Z');
    const rows: NewCdr[] = Array.from({ length: 25 }, (_, i) => ({
      tenantId: s.tenantId,
      kind: 'call',
      callId: unique(`p${i}`),
      direction: 'inbound',
      fromNumber: i % 5 === 0 ? '+15559990000' : '+15551110000',
      toNumber: '+15552220000',
      trunkId: i % 2 === 0 ? 'even' : 'odd',
      // two records share each second: the id breaks the tie
      setupAt: new Date(base + Math.floor(i / 2) * 1000),
    }));
    for (const r of rows) await s.cdrs.insert(r);
    await s.cdrs.insert({ ...rows[0]!, callId: unique('foreign'), tenantId: s.otherId });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await s.cdrs.query({ tenantId: s.tenantId, limit: 7, ...(cursor !== undefined ? { cursor } : {}) });
      seen.push(...page.items.map((c) => c.setupAt));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor !== undefined);
    t.equal(seen.length, 25, 'every record once');
    t.equal(pages, 4);
    t.same(seen, [...seen].sort().reverse(), 'newest first');
    const asc = await s.cdrs.query({ tenantId: s.tenantId, order: 'asc', limit: 30 });
    t.equal(asc.items[0]?.setupAt, '2026-02-01T00:00:00.000Z');
    t.equal(asc.nextCursor, null);
    t.equal((await s.cdrs.query({ tenantId: s.tenantId, number: '+15559990000' })).items.length, 5, 'by number');
    t.equal((await s.cdrs.query({ tenantId: s.tenantId, trunkId: 'even' })).items.length, 13, 'by trunk');
    const window = await s.cdrs.query({ tenantId: s.tenantId, since: '2026-02-01T00:00:02Z', until: '2026-02-01T00:00:04Z' });
    t.equal(window.items.length, 4, 'since inclusive, until exclusive');
    await rejectsField(t, s.cdrs.query({ tenantId: s.tenantId, cursor: 'garbage' }), 'cursor');
    await rejectsField(t, s.cdrs.query({ tenantId: s.tenantId, limit: 0 }), 'limit');
    await rejectsField(t, s.cdrs.query({ since: 'yesterday' }), 'since');
  });
}
