/**
 * The call router on fakes of its ports: who is calling (trunk ACL, digest for local users,
 * foreign), and where the call goes (DID, dial plan, user contacts, trunk gateways), including
 * the fraud rules: no numbers, trunks or foreign domains for callers who are neither.
 */
import t from 'tap';
import { FakeScheduler } from '../../../src/lib/index.js';
import { CallRouter, compileDialPlan, type CallDirectory, type DialPlan, type TrunkInfo } from '../../../src/calls/index.js';
import { message, type Binding, type LocationStore, type SubscriberDirectory } from '../../../src/sip/index.js';

const carrier: TrunkInfo = {
  id: 'trunk-in',
  tenant: 'acme',
  name: 'carrier',
  direction: 'inbound',
  acl: ['198.51.100.0/24'],
  gateways: [],
  balancing: 'failover',
  callerIdStyle: 'none',
  numberFormat: 'e164',
  countryCode: '1',
  optionsPingSeconds: 0,
  enabled: true,
};
const pstn: TrunkInfo = {
  ...carrier,
  id: 'trunk-out',
  name: 'pstn',
  direction: 'outbound',
  acl: [],
  gateways: [
    // TrunkInfo priorities: higher first (the provisioning adapter turns "lower first" around)
    { host: '192.0.2.10', port: 5060, transport: 'udp', priority: 1, weight: 1 },
    { host: '192.0.2.11', port: 5080, transport: 'udp', priority: 2, weight: 1 },
  ],
  outboundAuth: { username: 'gw', password: 'secret' },
};

function plan(): DialPlan {
  const r = compileDialPlan({ rules: [{ name: 'us', match: { number: '_1NXXNXXXXXX' }, target: { type: 'trunk', trunk: 'pstn' } }] });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.plan;
}

function binding(aor: string, contact: string): Binding {
  return { aor, contact, q: 1, expiresAt: Date.now() + 60_000, callId: 'c', cseq: 1, path: [], source: { protocol: 'udp', address: '203.0.113.5', port: 40000, nodeId: 'n1' }, registeredAt: Date.now() };
}

function router(): CallRouter {
  const directory: CallDirectory = {
    trunks: async () => [carrier, pstn],
    did: async (_tenant, e164) => (e164 === '+12025550100' ? { tenant: 'acme', target: { type: 'user', user: 'bob@example.com' } } : undefined),
    dialPlan: async () => plan(),
    tenantOfDomain: async () => 'acme',
  };
  const subscribers: SubscriberDirectory = {
    isLocalDomain: async (host) => host === 'example.com',
    realmFor: (d) => d,
    ha1: async () => undefined,
    userExists: async (user, domain) => domain === 'example.com' && ['alice', 'bob'].includes(user),
  };
  const location = { bindings: async (aor: string) => (aor === 'sip:bob@example.com' ? [binding(aor, 'sip:bob@203.0.113.5:40000')] : []) } as unknown as LocationStore;
  return new CallRouter({ directory, subscribers, location, scheduler: new FakeScheduler(), authSecret: 'x'.repeat(32), defaultTenant: 'acme', nodeId: () => 'n1', isOwnHost: () => false });
}

function invite(uri: string, from: string): message.SipRequest {
  const text = [`INVITE ${uri} SIP/2.0`, 'Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKabc', `From: <${from}>;tag=1`, `To: <${uri}>`, 'Call-ID: x', 'CSeq: 1 INVITE', 'Content-Length: 0', '', ''].join('\r\n');
  const r = message.parseMessage(Buffer.from(text));
  if (!r.ok || r.message.kind !== 'request') throw new Error('bad test request');
  return r.message as message.SipRequest;
}

t.test('a carrier call to a DID in national format rings the user the DID names', async (t) => {
  const d = await router().route(invite('sip:2025550100@opencx.example.com', 'sip:+15550001111@carrier.example'), '198.51.100.7');
  t.match(d, { kind: 'connect', direction: 'inbound', to: '+12025550100', inboundTrunk: { name: 'carrier' } });
  if (d.kind === 'connect') t.same(d.groups[0]?.branches.map((b) => b.target), [{ protocol: 'udp', address: '203.0.113.5', port: 40000 }], 'to the address the phone registered from');
});

t.test('a carrier call to an unknown number: 404', async (t) => {
  t.match(await router().route(invite('sip:2025550199@opencx.example.com', 'sip:x@carrier.example'), '198.51.100.7'), { kind: 'reject', status: 404 });
});

t.test('a local user must authenticate: 407 with a challenge', async (t) => {
  const d = await router().route(invite('sip:12025550123@example.com', 'sip:alice@example.com'), '203.0.113.9');
  t.equal(d.kind, 'challenge');
  if (d.kind === 'challenge') t.match(d.headers[0], ['Proxy-Authenticate', /^Digest realm="example.com"/]);
});

t.test('toll fraud: no trunk, no credentials, foreign From calling a number → 403', async (t) => {
  t.match(await router().route(invite('sip:12025550123@example.com', 'sip:x@evil.example'), '203.0.113.9'), { kind: 'reject', status: 403 });
  t.match(await router().route(invite('sip:victim@elsewhere.example', 'sip:x@evil.example'), '203.0.113.9'), { kind: 'reject', status: 403 }, 'or a foreign domain');
});

t.test('anyone may call a local user by name; an unregistered one gives 480, an unknown one 404', async (t) => {
  t.match(await router().route(invite('sip:bob@example.com', 'sip:x@elsewhere.example'), '203.0.113.9'), { kind: 'connect', to: 'bob@example.com' });
  t.match(await router().route(invite('sip:alice@example.com', 'sip:x@elsewhere.example'), '203.0.113.9'), { kind: 'reject', status: 480 });
  t.match(await router().route(invite('sip:zed@example.com', 'sip:x@elsewhere.example'), '203.0.113.9'), { kind: 'reject', status: 403 }, 'an unknown user of ours from outside: nothing to reach');
});

t.test('a user dialling a US number goes to the trunk: gateways by priority, credentials, number in E.164', async (t) => {
  const r = router();
  const d = await r.routeAs('alice', 'example.com', '12025550123');
  t.match(d, { kind: 'connect', direction: 'outbound', rule: 'us' });
  if (d.kind !== 'connect') return;
  t.same(
    d.groups.map((g) => g.branches[0]?.requestUri),
    ['sip:+12025550123@192.0.2.11:5080', 'sip:+12025550123@192.0.2.10:5060'],
    'the preferred gateway first, one gateway per failover group',
  );
  t.same(d.groups[0]?.branches[0]?.credentials, { username: 'gw', password: 'secret' });
  t.ok(d.groups.every((g) => g.failover), 'gateway groups fail over');
  r.gatewayUp = (_trunk, g) => g.host !== '192.0.2.11';
  const skipped = await r.routeAs('alice', 'example.com', '12025550123');
  if (skipped.kind === 'connect') t.same(skipped.groups.map((g) => g.branches[0]?.gateway?.host), ['192.0.2.10'], 'a gateway marked down by OPTIONS pinging is skipped');
});
