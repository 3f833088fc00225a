import t from 'tap';
import { FakeScheduler } from '../../../../src/lib/index.js';
import { FetchCache, parseCacheControl } from '../../../../src/mcp/fetch/index.js';

const URL_A = 'http://example.com/a.vxml';
const body = (s: string): Uint8Array => new TextEncoder().encode(s);

function setup(maxBytes?: number): { clock: FakeScheduler; cache: FetchCache } {
  const clock = new FakeScheduler({ wallStart: Date.UTC(2026, 10, 28, 8, 0, 0) });
  return { clock, cache: new FetchCache({ scheduler: clock, ...(maxBytes !== undefined && { maxBytes }) }) };
}

function put(cache: FetchCache, clock: FakeScheduler, url: string, headers: Record<string, string>, text = 'x'): boolean {
  const now = clock.wallNow();
  return cache.store(url, { status: 200, headers, body: body(text) }, now, now);
}

t.test('Cache-Control parsing', async (t) => {
  const cc = parseCacheControl('Max-Age=60, s-maxage="30", no-cache, MUST-REVALIDATE, private, no-store');
  t.same(cc, { maxAge: 60, sMaxAge: 30, noCache: true, noStore: true, mustRevalidate: true, isPrivate: true });
  t.equal(parseCacheControl('max-age=abc').maxAge, 0, 'an invalid max-age counts as stale');
  t.same(parseCacheControl(undefined), { noCache: false, noStore: false, mustRevalidate: false, isPrivate: false });
});

t.test('fresh within max-age, revalidate after, miss without validator', async (t) => {
  const { clock, cache } = setup();
  t.ok(put(cache, clock, URL_A, { 'cache-control': 'max-age=60', etag: '"1"' }));
  t.equal(cache.lookup(URL_A).kind, 'fresh');
  clock.advance(59_999);
  t.equal(cache.lookup(URL_A).kind, 'fresh');
  clock.advance(1);
  const stale = cache.lookup(URL_A);
  t.equal(stale.kind, 'revalidate');
  if (stale.kind === 'revalidate') t.same(stale.conditionalHeaders, { 'if-none-match': '"1"' });
  put(cache, clock, 'http://example.com/b', { 'cache-control': 'max-age=1' });
  clock.advance(2000);
  t.equal(cache.lookup('http://example.com/b').kind, 'miss', 'stale without a validator is a plain miss');
  t.equal(cache.lookup('http://example.com/none').kind, 'miss');
});

t.test('s-maxage wins over max-age; Expires minus Date; Age counts', async (t) => {
  const { clock, cache } = setup();
  put(cache, clock, URL_A, { 'cache-control': 'max-age=600, s-maxage=10' });
  clock.advance(11_000);
  t.equal(cache.lookup(URL_A).kind, 'miss');
  const date = new Date(clock.wallNow()).toUTCString();
  const expires = new Date(clock.wallNow() + 30_000).toUTCString();
  put(cache, clock, URL_A, { date, expires });
  clock.advance(29_000);
  t.equal(cache.lookup(URL_A).kind, 'fresh');
  clock.advance(2_000);
  t.equal(cache.lookup(URL_A).kind, 'miss');
  put(cache, clock, URL_A, { 'cache-control': 'max-age=60', age: '59' });
  t.equal(cache.lookup(URL_A).kind, 'fresh');
  clock.advance(1_000);
  t.equal(cache.lookup(URL_A).kind, 'miss', 'an upstream Age of 59 s leaves one second');
  put(cache, clock, URL_A, { expires: 'garbage', etag: '"e"' });
  t.equal(cache.lookup(URL_A).kind, 'revalidate', 'an invalid Expires is already expired');
});

t.test('what is not stored', async (t) => {
  const { clock, cache } = setup();
  t.notOk(put(cache, clock, URL_A, { 'cache-control': 'no-store, max-age=60' }));
  t.notOk(put(cache, clock, URL_A, { 'cache-control': 'private, max-age=60' }));
  t.notOk(put(cache, clock, URL_A, { 'cache-control': 'max-age=60', vary: 'Accept, *' }));
  t.notOk(put(cache, clock, URL_A, {}), 'neither freshness nor validator');
  t.ok(put(cache, clock, URL_A, { vary: 'Accept', 'cache-control': 'max-age=60' }), 'other Vary values are ignored');
  const now = clock.wallNow();
  t.notOk(cache.store(URL_A, { status: 404, headers: { 'cache-control': 'max-age=60' }, body: body('') }, now, now));
  t.equal(cache.size, 0, 'the refused 404 also dropped the older entry');
  t.notOk(cache.store(URL_A, { status: 200, headers: { 'cache-control': 'max-age=60' }, body: body(''), setsCookie: true }, now, now));
});

t.test('no-cache and must-revalidate', async (t) => {
  const { clock, cache } = setup();
  put(cache, clock, URL_A, { 'cache-control': 'no-cache, max-age=600', etag: '"n"' });
  t.equal(cache.lookup(URL_A).kind, 'revalidate', 'no-cache: stored but always revalidated');
  t.equal(cache.lookup(URL_A, { maxstaleS: 1000 }).kind, 'revalidate');
  put(cache, clock, URL_A, { 'cache-control': 'max-age=10, must-revalidate', etag: '"m"' });
  clock.advance(11_000);
  t.equal(cache.lookup(URL_A, { maxstaleS: 1000 }).kind, 'revalidate', 'must-revalidate defeats maxstale');
});

t.test('VoiceXML maxage and maxstale', async (t) => {
  const { clock, cache } = setup();
  put(cache, clock, URL_A, { 'cache-control': 'max-age=60', 'last-modified': 'Sat, 01 Nov 2025 00:00:00 GMT' });
  t.equal(cache.lookup(URL_A, { maxageS: 0 }).kind, 'revalidate', 'maxage=0 forces revalidation even at age 0');
  clock.advance(20_000);
  t.equal(cache.lookup(URL_A, { maxageS: 30 }).kind, 'fresh');
  t.equal(cache.lookup(URL_A, { maxageS: 10 }).kind, 'revalidate', 'older than the maxage');
  clock.advance(50_000); // 10 s past expiry
  t.equal(cache.lookup(URL_A).kind, 'revalidate');
  t.equal(cache.lookup(URL_A, { maxstaleS: 10 }).kind, 'fresh', 'stale by exactly maxstale');
  t.equal(cache.lookup(URL_A, { maxstaleS: 9 }).kind, 'revalidate');
  t.equal(cache.lookup(URL_A, { maxstaleS: 60, maxageS: 30 }).kind, 'revalidate', 'maxage still caps the age');
  const lookup = cache.lookup(URL_A);
  t.same(lookup.kind === 'revalidate' && lookup.conditionalHeaders, { 'if-modified-since': 'Sat, 01 Nov 2025 00:00:00 GMT' });
});

t.test('a 304 refreshes the stored headers and times', async (t) => {
  const { clock, cache } = setup();
  put(cache, clock, URL_A, { 'cache-control': 'max-age=10', etag: '"1"', 'content-type': 'text/plain' }, 'kept body');
  clock.advance(20_000);
  t.equal(cache.lookup(URL_A).kind, 'revalidate');
  const now = clock.wallNow();
  const refreshed = cache.revalidated(URL_A, { 'cache-control': 'max-age=100', etag: '"1"', 'content-type': 'text/html' }, now, now);
  t.equal(new TextDecoder().decode(refreshed!.body), 'kept body');
  t.equal(refreshed!.headers['content-type'], 'text/plain', 'a 304 does not change the content type');
  clock.advance(50_000);
  t.equal(cache.lookup(URL_A).kind, 'fresh', 'the new max-age applies from the 304');
  t.equal(cache.revalidated('http://example.com/unknown', {}, now, now), undefined);
});

t.test('LRU bounded in bytes', async (t) => {
  const { clock, cache } = setup(2_500);
  const big = 'x'.repeat(600);
  for (const name of ['a', 'b', 'c']) put(cache, clock, `http://h/${name}`, { 'cache-control': 'max-age=60' }, big);
  t.equal(cache.size, 3);
  cache.lookup('http://h/a'); // a is now the most recently used
  put(cache, clock, 'http://h/d', { 'cache-control': 'max-age=60' }, big);
  t.equal(cache.lookup('http://h/b').kind, 'miss', 'b, the least recently used, went');
  t.equal(cache.lookup('http://h/a').kind, 'fresh');
  t.ok(cache.bytes <= 2_500);
  t.notOk(put(cache, clock, 'http://h/huge', { 'cache-control': 'max-age=60' }, 'y'.repeat(5_000)), 'larger than the whole cache');
  cache.clear();
  t.equal(cache.size, 0);
  t.equal(cache.bytes, 0);
});

t.test('fast-check: arbitrary response headers never make the cache throw', async (t) => {
  const fc = (await import('fast-check')).default;
  const { clock, cache } = setup(10_000);
  const headerValue = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('max-age=5', 'no-cache', 's-maxage=x', 'must-revalidate, max-age=1', '"etag"', 'Sat, 01 Nov 2025 00:00:00 GMT'));
  const headers = fc.dictionary(fc.constantFrom('cache-control', 'expires', 'date', 'age', 'etag', 'last-modified', 'vary'), headerValue);
  fc.assert(
    fc.property(headers, fc.nat(100_000), fc.option(fc.nat(100), { nil: undefined }), fc.option(fc.nat(100), { nil: undefined }), (h, advance, maxageS, maxstaleS) => {
      put(cache, clock, URL_A, h);
      clock.advance(advance);
      const lookup = cache.lookup(URL_A, { ...(maxageS !== undefined && { maxageS }), ...(maxstaleS !== undefined && { maxstaleS }) });
      return ['miss', 'fresh', 'revalidate'].includes(lookup.kind);
    }),
    { numRuns: 1000 },
  );
  t.pass('no throw');
});
