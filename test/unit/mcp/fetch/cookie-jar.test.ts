import t from 'tap';
import { FakeScheduler } from '../../../../src/lib/index.js';
import { CookieJar, parseSetCookie } from '../../../../src/mcp/fetch/index.js';

function jar(): { clock: FakeScheduler; cookies: CookieJar } {
  const clock = new FakeScheduler({ wallStart: Date.UTC(2026, 10, 28, 8, 0, 0) });
  return { clock, cookies: new CookieJar({ scheduler: clock }) };
}

t.test('Set-Cookie parsing', async (t) => {
  const now = Date.UTC(2026, 10, 28);
  const c = parseSetCookie('SID=31d4d96e407aad42; Path=/; Domain=.Example.COM; Secure; HttpOnly; Max-Age=60', now);
  t.same(c, { name: 'SID', value: '31d4d96e407aad42', path: '/', domain: 'example.com', secure: true, httpOnly: true, expiresAt: now + 60_000 });
  t.equal(parseSetCookie('lang=en-US; Expires=Wed, 09 Jun 2027 10:18:14 GMT', now)?.expiresAt, Date.UTC(2027, 5, 9, 10, 18, 14));
  t.equal(parseSetCookie('a=b; Max-Age=10; Expires=Wed, 09 Jun 2027 10:18:14 GMT', now)?.expiresAt, now + 10_000, 'Max-Age wins');
  t.equal(parseSetCookie('a=b; Max-Age=zz', now)?.expiresAt, undefined, 'malformed Max-Age ignored');
  t.equal(parseSetCookie('novalue', now), undefined);
  t.equal(parseSetCookie('=value', now), undefined);
  t.equal(parseSetCookie('a="quoted value"', now)?.value, '"quoted value"');
});

t.test('host-only cookies, domain cookies, path matching', async (t) => {
  const { cookies } = jar();
  cookies.setCookies('http://www.example.com/app/start.vxml', [
    'host=1',
    'dom=2; Domain=example.com',
    'root=3; Path=/',
    'deep=4; Path=/app/menu',
  ]);
  t.equal(cookies.cookieHeader('http://www.example.com/app/next.vxml'), 'host=1; dom=2; root=3', 'default path is /app');
  t.equal(cookies.cookieHeader('http://www.example.com/app/menu/x'), 'deep=4; host=1; dom=2; root=3', 'longer paths first');
  t.equal(cookies.cookieHeader('http://www.example.com/application'), 'root=3', '/app (the default path of host and dom) does not path-match /application');
  t.equal(cookies.cookieHeader('http://api.example.com/app/x'), 'dom=2', 'host-only stays on its host');
  t.equal(cookies.cookieHeader('http://example.org/'), undefined);
  t.equal(cookies.cookieHeader('not a url'), undefined);
});

t.test('refused domains', async (t) => {
  const { cookies } = jar();
  cookies.setCookies('http://www.example.com/', ['a=1; Domain=other.com', 'b=2; Domain=com', 'c=3; Domain=www.example.com.evil']);
  t.same(cookies.all(), []);
  cookies.setCookies('http://127.0.0.1/', ['ip=1; Domain=0.0.1']);
  t.same(cookies.all(), [], 'no domain matching inside an IP address');
  cookies.setCookies('http://127.0.0.1:8080/', ['ip=2']);
  t.equal(cookies.cookieHeader('http://127.0.0.1:9090/x'), 'ip=2', 'cookies ignore the port (RFC 6265 §8.5)');
});

t.test('Secure cookies only over https', async (t) => {
  const { cookies } = jar();
  cookies.setCookies('https://example.com/', ['s=1; Secure', 'p=2']);
  t.equal(cookies.cookieHeader('https://example.com/'), 's=1; p=2');
  t.equal(cookies.cookieHeader('http://example.com/'), 'p=2');
});

t.test('expiry on the injected clock; replacement and deletion', async (t) => {
  const { clock, cookies } = jar();
  cookies.setCookies('http://example.com/', ['short=1; Max-Age=10', 'long=2; Max-Age=100', 'session=3']);
  t.equal(cookies.cookieHeader('http://example.com/'), 'short=1; long=2; session=3');
  clock.advance(10_000);
  t.equal(cookies.cookieHeader('http://example.com/'), 'long=2; session=3');
  cookies.setCookies('http://example.com/', ['long=changed']);
  t.equal(cookies.cookieHeader('http://example.com/'), 'long=changed; session=3', 'replaced in place, creation order kept');
  cookies.setCookies('http://example.com/', ['session=; Max-Age=0', 'long=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT']);
  t.equal(cookies.cookieHeader('http://example.com/'), undefined, 'expiry in the past deletes');
});

t.test('fast-check: arbitrary Set-Cookie headers never throw and never store control characters', async (t) => {
  const fc = (await import('fast-check')).default;
  const { cookies } = jar();
  fc.assert(
    fc.property(fc.array(fc.string({ maxLength: 60 }), { maxLength: 4 }), fc.constantFrom('http://a.example.com/x/y', 'https://b.example.com/', 'http://[::1]:8080/p'), (headers, url) => {
      cookies.setCookies(url, headers);
      const header = cookies.cookieHeader(url);
      return header === undefined || !/[\x00-\x1f]/.test(header);
    }),
    { numRuns: 1000 },
  );
  t.pass('no throw');
});
