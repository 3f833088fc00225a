import t from 'tap';
import { InvalidFieldError, addressInAcl, checkE164, checkTarget, cidrProblem, hostProblem, parseGatewaySpec } from '../../../src/control/index.js';
import { checkAcl, checkGateway, checkGateways, checkHost } from '../../../src/control/telephony-validation.js';
import { normalizeTrunk } from '../../../src/control/trunk-store.js';

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof InvalidFieldError ? err.field : `not an InvalidFieldError: ${String(err)}`;
  }
};

t.test('CIDRs: IPv4 and IPv6, prefix bounds, normalised with a prefix', async (t) => {
  for (const ok of ['10.0.0.0/8', '192.0.2.1', '0.0.0.0/0', '2001:db8::/32', '::1', '::ffff:192.0.2.1/128', 'fe80::/10']) t.equal(cidrProblem(ok), undefined, ok);
  for (const bad of ['10.0.0.0/33', '2001:db8::/129', '10.0.0/8', '256.1.1.1', 'example.com/24', '10.0.0.0/', '10.0.0.0/x', '', '10.0.0.0/8/9']) t.ok(cidrProblem(bad), `refused: ${bad}`);
  t.same(checkAcl([' 192.0.2.1 ', '2001:DB8::/32', '192.0.2.1/32', '10.0.0.0/08']), ['192.0.2.1/32', '2001:db8::/32', '10.0.0.0/8'], 'trimmed, lower-cased, deduplicated');
  t.equal(fieldOf(() => checkAcl(['10.0.0.0/8', 'nope'])), 'acl.1');
});

t.test('source addresses against an ACL', async (t) => {
  const acl = ['203.0.113.0/24', '198.51.100.7/32', '2001:db8::/32'];
  t.ok(addressInAcl('203.0.113.200', acl));
  t.ok(addressInAcl('198.51.100.7', acl));
  t.notOk(addressInAcl('198.51.100.8', acl));
  t.ok(addressInAcl('2001:db8:1::5', acl));
  t.ok(addressInAcl('[2001:db8::1]', acl), 'bracketed, as in a Via');
  t.ok(addressInAcl('::ffff:203.0.113.9', acl), 'IPv4-mapped IPv6 (a dual-stack socket)');
  t.notOk(addressInAcl('2001:db9::1', acl));
  t.notOk(addressInAcl('not-an-ip', acl));
  t.ok(addressInAcl('8.8.8.8', ['0.0.0.0/0']));
  t.notOk(addressInAcl('8.8.8.8', []));
});

t.test('hosts: names, IPv4, IPv6 bare or bracketed', async (t) => {
  for (const ok of ['sip.example.com', 'localhost', '192.0.2.1', '2001:db8::1', '[2001:db8::1]', 'a-b.c1.example.', '1carrier.net']) t.equal(hostProblem(ok), undefined, ok);
  for (const bad of ['', 'bad host', '-x.example', 'x_y.example', '999.1.1.1', '[sip.example.com]', 'a..b', `${'a'.repeat(64)}.example`]) t.ok(hostProblem(bad), `refused: ${bad}`);
  t.equal(checkHost('[2001:DB8::1]', 'h'), '2001:db8::1', 'brackets dropped, lower-cased');
  t.equal(checkHost('Sip.Example.COM.', 'h'), 'sip.example.com', 'trailing dot dropped');
});

t.test('gateways: ports, transports, weights, priorities, duplicates', async (t) => {
  t.same(checkGateway({ host: 'gw.example' }, 'g'), { host: 'gw.example', port: 5060, transport: 'udp', weight: 1, priority: 0 });
  t.equal(checkGateway({ host: 'gw.example', transport: 'tls' }, 'g').port, 5061, 'TLS defaults to 5061 (RFC 3261 §19.1.2)');
  t.equal(fieldOf(() => checkGateway({ host: 'gw.example', port: 0 }, 'g')), 'g.port');
  t.equal(fieldOf(() => checkGateway({ host: 'gw.example', port: 65536 }, 'g')), 'g.port');
  t.equal(fieldOf(() => checkGateway({ host: 'gw.example', port: 5060.5 }, 'g')), 'g.port');
  t.equal(fieldOf(() => checkGateway({ host: 'gw.example', transport: 'sctp' as never }, 'g')), 'g.transport');
  t.equal(fieldOf(() => checkGateway({ host: 'gw.example', weight: 65536 }, 'g')), 'g.weight');
  t.equal(fieldOf(() => checkGateway({ host: 'gw.example', priority: -1 }, 'g')), 'g.priority');
  t.equal(fieldOf(() => checkGateways([{ host: 'a.example' }, { host: 'A.example', port: 5060 }])), 'gateways.1', 'the same gateway twice');
});

t.test('--gateway specs: host[:port][;transport=..][;weight=..][;priority=..]', async (t) => {
  t.same(parseGatewaySpec('sip.carrier.net'), { host: 'sip.carrier.net', port: 5060, transport: 'udp', weight: 1, priority: 0 });
  t.same(parseGatewaySpec('sip.carrier.net:5080;transport=tcp'), { host: 'sip.carrier.net', port: 5080, transport: 'tcp', weight: 1, priority: 0 });
  t.same(parseGatewaySpec('[2001:db8::5]:5061;transport=TLS;weight=5;priority=2'), { host: '2001:db8::5', port: 5061, transport: 'tls', weight: 5, priority: 2 });
  t.same(parseGatewaySpec('2001:db8::5'), { host: '2001:db8::5', port: 5060, transport: 'udp', weight: 1, priority: 0 }, 'bare IPv6 without a port');
  t.equal(fieldOf(() => parseGatewaySpec('gw.example:99999')), 'gateway.port');
  t.equal(fieldOf(() => parseGatewaySpec('gw.example:abc')), 'gateway.port');
  t.equal(fieldOf(() => parseGatewaySpec('gw.example;transport=ws')), 'gateway.transport');
  t.equal(fieldOf(() => parseGatewaySpec('gw.example;weight=x')), 'gateway.weight');
  t.equal(fieldOf(() => parseGatewaySpec('gw.example;lr')), 'gateway');
});

t.test('a gateway response timeout: ;timeout=N on the CLI, responseTimeoutSeconds 1-32 (Timer B) in the API', async (t) => {
  t.same(parseGatewaySpec('gw.example;priority=1;timeout=2'), { host: 'gw.example', port: 5060, transport: 'udp', weight: 1, priority: 1, responseTimeoutSeconds: 2 });
  t.same(checkGateway({ host: 'gw.example', responseTimeoutSeconds: 32 }, 'g'), { host: 'gw.example', port: 5060, transport: 'udp', weight: 1, priority: 0, responseTimeoutSeconds: 32 });
  t.notOk('responseTimeoutSeconds' in checkGateway({ host: 'gw.example' }, 'g'), 'absent by default: Timer B decides');
  t.equal(fieldOf(() => parseGatewaySpec('gw.example;timeout=x')), 'gateway.responseTimeoutSeconds');
  for (const bad of [0, 33, 1.5]) t.equal(fieldOf(() => checkGateway({ host: 'gw.example', responseTimeoutSeconds: bad }, 'gateways.0')), 'gateways.0.responseTimeoutSeconds', String(bad));
});

t.test('E.164 numbers and call targets', async (t) => {
  t.equal(checkE164('+1 (555) 010-0001'), '+15550100001');
  for (const bad of ['15550100001', '+0123', '+1', '+1234567890123456', '+1555abc']) t.equal(fieldOf(() => checkE164(bad)), 'number', bad);
  t.same(checkTarget({ type: 'user', user: 'alice@example.com', timeout: 20 }), { type: 'user', user: 'alice@example.com', timeout: 20 }, 'extra keys are kept for the dial-plan engine');
  t.equal(fieldOf(() => checkTarget({ type: 'user' })), 'target.user');
  t.equal(fieldOf(() => checkTarget({ type: 'vxml', url: 'file:///etc/passwd' })), 'target.url');
  t.equal(fieldOf(() => checkTarget({ type: 'number', number: '12ab' })), 'target.number');
  t.equal(fieldOf(() => checkTarget({ type: 'reject', status: 200 })), 'target.status');
  t.equal(fieldOf(() => checkTarget({ type: 'queue' })), 'target.type');
  t.equal(fieldOf(() => checkTarget({ type: 'reject' })), 'target.status', 'reject needs a status, as in the dial plan');
  t.ok(checkTarget({ type: 'ring-group', strategy: 'sequential', members: ['a@x.com', 'b@x.com'], ringSeconds: 20 }));
  t.equal(fieldOf(() => checkTarget({ type: 'ring-group', strategy: 'sequential', members: [] })), 'target.members');
  t.equal(fieldOf(() => checkTarget({ type: 'ring-group', members: ['a'] })), 'target.strategy');
  t.equal(fieldOf(() => checkTarget({ type: 'trunk' })), 'target.trunk');
  t.equal(fieldOf(() => checkTarget('user')), 'target');
});

t.test('trunks as a whole: defaults and rules across fields', async (t) => {
  const trunk = normalizeTrunk({ name: 'a', gateways: [{ host: 'gw.example' }] }, undefined);
  t.match(trunk, { direction: 'both', balancing: 'failover', callerIdStyle: 'pai', numberFormat: 'e164', optionsPingSeconds: 0, enabled: true, inbound: null, outbound: null });
  t.equal(normalizeTrunk({ name: 'b', acl: ['10.0.0.1'] }, undefined).direction, 'inbound', 'no gateways: inbound');
  t.equal(fieldOf(() => normalizeTrunk({ acl: ['10.0.0.1'] }, undefined)), 'name');
  t.equal(fieldOf(() => normalizeTrunk({ name: 'has space', acl: ['10.0.0.1'] }, undefined)), 'name');
  t.equal(fieldOf(() => normalizeTrunk({ name: 'c' }, undefined)), 'acl', 'an inbound trunk with no way to recognise it');
  t.equal(fieldOf(() => normalizeTrunk({ name: 'c', direction: 'both', acl: ['10.0.0.1'] }, undefined)), 'gateways');
  t.equal(fieldOf(() => normalizeTrunk({ name: 'c', acl: ['10.0.0.1'], optionsPingSeconds: 86401 }, undefined)), 'optionsPingSeconds');
  t.equal(fieldOf(() => normalizeTrunk({ name: 'c', acl: ['10.0.0.1'], maxConcurrentCalls: 0 }, undefined)), 'maxConcurrentCalls');
  t.equal(fieldOf(() => normalizeTrunk({ name: 'c', acl: ['10.0.0.1'], inboundAuth: { username: 'u', ha1Md5: 'x', ha1Sha256: 'y' } }, undefined)), 'inboundAuth.ha1Md5');
  const withHa1 = normalizeTrunk({ name: 'c', inboundAuth: { username: 'u', ha1Md5: 'A'.repeat(32), ha1Sha256: 'b'.repeat(64) } }, undefined);
  t.same(withHa1.inbound, { username: 'u', realm: 'opencx', ha1Md5: 'a'.repeat(32), ha1Sha256: 'b'.repeat(64) }, 'precomputed HA1s are taken');
});
