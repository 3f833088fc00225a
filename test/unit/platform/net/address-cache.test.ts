// The address strings the native engine builds for received datagrams must be the ones
// node:dgram reports (libuv's inet_ntop), and a cached string must never be served for
// another address.
import fc from 'fast-check';
import t from 'tap';
import { formatIpv6, PeerAddressCache } from '../../../../src/platform/index.js';

function words(text: string): [number, number, number, number] {
  // expand with the WHATWG URL parser (it accepts every IPv6 text form), then read the groups
  const host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const [head = '', tail = ''] = host.split('::');
  const h = head === '' ? [] : head.split(':');
  const tl = tail === '' ? [] : tail.split(':');
  const groups = host.includes('::') ? [...h, ...Array<string>(8 - h.length - tl.length).fill('0'), ...tl] : h;
  const g = groups.map((x) => parseInt(x, 16));
  return [0, 2, 4, 6].map((i) => ((g[i]! << 16) | g[i + 1]!) >>> 0) as [number, number, number, number];
}

t.test('IPv6 text forms as libuv writes them', async (t) => {
  const cases: [string, string][] = [
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['fe80::1', 'fe80::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1'],
    ['::ffff:0:0', '::ffff:0.0.0.0'],
    ['::1.2.3.4', '::1.2.3.4'],
    ['0:0:0:0:0:1:0:0', '::1:0:0'],
    ['ABCD:EF01:2345:6789:ABCD:EF01:2345:6789', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789'],
  ];
  for (const [input, want] of cases) t.equal(formatIpv6(...words(input)), want, input);
});

t.test('any address: the text parses back to the same address', async (t) => {
  const word = fc.oneof(fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffffffff }));
  fc.assert(
    fc.property(word, word, word, word, (a, b, c, d) => {
      const text = formatIpv6(a, b, c, d);
      const back = words(text);
      return back[0] === a && back[1] === b && back[2] === c && back[3] === d && !/[A-F]/.test(text);
    }),
    { numRuns: 2000 },
  );
  t.pass('2000 random addresses round-trip');
});

t.test('the cache answers each address with its own text, also across hash collisions and clears', async (t) => {
  const cache = new PeerAddressCache();
  t.equal(cache.ipv4(0x7f000001), '127.0.0.1');
  t.equal(cache.ipv4(0xc0a80a01), '192.168.10.1');
  t.equal(cache.ipv4(0x7f000001), '127.0.0.1');
  t.equal(cache.ipv4(0xffffffff), '255.255.255.255');
  t.equal(cache.ipv6(0, 0, 0, 1), '::1');
  t.equal(cache.ipv6(0x20010db8, 0, 0, 1), '2001:db8::1');
  t.equal(cache.ipv6(0, 0, 0, 1), '::1');
  // (31, 0, ...) and (0, 1, ...) hash alike: w0 ^ w1*31
  t.equal(cache.ipv6(31, 0, 0, 0), '0:1f::');
  t.equal(cache.ipv6(0, 1, 0, 0), '0:0:0:1::');
  t.equal(cache.ipv6(31, 0, 0, 0), '0:1f::');
  for (let i = 0; i < 10_000; i++) cache.ipv4(i);
  t.equal(cache.ipv4(9999), '0.0.39.15', 'still right after the table was cleared');
});
