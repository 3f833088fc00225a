import t from 'tap';
import { cidrContains, parseCidr } from '../../../../src/calls/trunks/acl.js';
import { GatewayHealth, gatewayOrder, shouldFailover, type Gateway } from '../../../../src/calls/trunks/gateway-selection.js';

t.test('CIDR ACLs: IPv4, IPv6, single hosts, v4-mapped sources, garbage refused', async (t) => {
  const cases: [string, string, boolean][] = [
    ['10.0.0.0/8', '10.200.3.4', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['192.0.2.10', '192.0.2.10', true],
    ['192.0.2.10', '192.0.2.11', false],
    ['192.0.2.0/25', '192.0.2.127', true],
    ['192.0.2.0/25', '192.0.2.128', false],
    ['192.0.2.0/24', '::ffff:192.0.2.9', true],
    ['2001:db8::/32', '2001:db8:1::5', true],
    ['2001:db8::/32', '2001:db9::5', false],
    ['::1', '::1', true],
    ['0.0.0.0/0', '203.0.113.7', true],
    ['10.0.0.0/8', '2001:db8::1', false],
  ];
  for (const [rule, addr, want] of cases) {
    const cidr = parseCidr(rule);
    t.ok(cidr !== undefined, `${rule} parses`);
    if (cidr !== undefined) t.equal(cidrContains(cidr, addr), want, `${addr} in ${rule}: ${want}`);
  }
  for (const bad of ['10.0.0.0/33', '300.1.1.1', 'example.com', '10.0.0.0/x', '2001:db8::/129', '']) t.equal(parseCidr(bad), undefined, `"${bad}" is refused`);
});

t.test('failover only on 408, 5xx and no answer', async (t) => {
  for (const s of [0, 408, 500, 503, 504]) t.ok(shouldFailover(s), `${s} fails over`);
  for (const s of [404, 486, 487, 403, 603]) t.notOk(shouldFailover(s), `${s} is an answer about the call`);
});

t.test('gateway order: failover by priority, round-robin turns, weighted draws, down ones skipped', async (t) => {
  const gws: Gateway[] = [
    { host: 'a', priority: 1, weight: 1 },
    { host: 'b', priority: 5, weight: 3 },
    { host: 'c', priority: 3, weight: 0 },
  ];
  const up = (): boolean => true;
  t.same(gatewayOrder(gws, 'failover', up, 0, Math.random).map((g) => g.host), ['b', 'c', 'a']);
  t.same(gatewayOrder(gws, 'round-robin', up, 0, Math.random).map((g) => g.host), ['a', 'b', 'c']);
  t.same(gatewayOrder(gws, 'round-robin', up, 4, Math.random).map((g) => g.host), ['b', 'c', 'a']);
  t.same(gatewayOrder(gws, 'failover', (g) => g.host !== 'b', 0, Math.random).map((g) => g.host), ['c', 'a'], 'a down gateway is skipped');
  t.same(gatewayOrder(gws, 'failover', () => false, 0, Math.random).map((g) => g.host), ['b', 'c', 'a'], 'all down: try them all anyway');
  // weighted: b (3) is first about 3/4 of the time, c (weight 0) never first
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const firsts = new Map<string, number>();
  for (let i = 0; i < 4000; i++) {
    const h = (gatewayOrder(gws, 'weighted', up, 0, rnd)[0] as Gateway).host;
    firsts.set(h, (firsts.get(h) ?? 0) + 1);
  }
  const b = (firsts.get('b') ?? 0) / 4000;
  t.ok(b > 0.7 && b < 0.8, `b first ${(b * 100).toFixed(1)} % of draws (weight 3 of 4)`);
  t.equal(firsts.get('c') ?? 0, 0, 'weight 0 is never first');
});

t.test('gateway health: down after two failed pings, up after one answer; 404 counts as alive', async (t) => {
  const h = new GatewayHealth();
  t.ok(h.up);
  t.notOk(h.record(0), 'one miss is not enough');
  t.ok(h.record(503), 'second failure: down');
  t.notOk(h.up);
  t.ok(h.record(404), 'any answer under 500 means it runs');
  t.ok(h.up);
  t.notOk(h.record(200), 'no change');
});
