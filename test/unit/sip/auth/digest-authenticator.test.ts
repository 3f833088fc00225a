import t from 'tap';
import { FakeScheduler } from '../../../../src/lib/index.js';
import { DigestAuthenticator, answerChallenge, ha1, type DigestHashName } from '../../../../src/sip/auth/index.js';
import type { AuthHeader } from '../../../../src/sip/message/types.js';

const REALM = 'example.com';
const users = new Map([['alice', 'wonderland']]);
const lookupCalls: Array<[string, string, DigestHashName]> = [];
const lookup = async (username: string, realm: string, algorithm: DigestHashName) => {
  lookupCalls.push([username, realm, algorithm]);
  const pw = users.get(username);
  return pw === undefined ? undefined : ha1(algorithm, username, realm, pw);
};

function make(scheduler = new FakeScheduler(), extra: Partial<ConstructorParameters<typeof DigestAuthenticator>[0]> = {}) {
  return new DigestAuthenticator({ realm: REALM, secret: 'shared-secret', scheduler, ...extra });
}

/** parse our own challenge string back (a tiny parser, so this test does not depend on src/sip/message) */
function parseChallenge(value: string): AuthHeader {
  const [scheme, rest] = [value.slice(0, value.indexOf(' ')), value.slice(value.indexOf(' ') + 1)];
  const params = new Map<string, string>();
  for (const m of rest.matchAll(/([a-z-]+)=(?:"([^"]*)"|([^,\s]+))/g)) params.set(m[1]!, m[2] ?? m[3]!);
  return { scheme, params };
}

function answer(ch: AuthHeader, opts: Partial<Parameters<typeof answerChallenge>[1]> = {}) {
  return answerChallenge(ch, { username: 'alice', password: 'wonderland', method: 'REGISTER', uri: 'sip:example.com', ...opts })!;
}

t.test('challenge: one header per algorithm, SHA-256 first, shared nonce', async (t) => {
  const auth = make();
  const values = auth.challenge();
  t.equal(values.length, 2);
  t.match(values[0], /^Digest realm="example.com", nonce="[A-Za-z0-9_-]+", algorithm=SHA-256, qop="auth"$/);
  t.match(values[1], /algorithm=MD5/);
  t.equal(parseChallenge(values[0]!).params.get('nonce'), parseChallenge(values[1]!).params.get('nonce'));
  t.match(auth.challenge({ stale: true })[0], /stale=true/);
  t.notMatch(auth.challenge()[0], /stale/);
  auth.close();
  auth.close();
});

t.test('verify: good answers for SHA-256 and MD5, lookup by hash name', async (t) => {
  const auth = make();
  // both challenges of one 401 carry the same nonce, so the nonce count must rise across them
  for (const [i, ch] of auth.challenge().map(parseChallenge).entries()) {
    const r = await auth.verify('REGISTER', answer(ch, { nc: i + 1 }), lookup, undefined, { requestUri: 'sip:example.com' });
    t.same(r, { ok: true, username: 'alice', algorithm: ch.params.get('algorithm') });
  }
  t.same(lookupCalls.slice(-2).map((c) => c[2]), ['SHA-256', 'MD5']);
  auth.close();
});

t.test('two challenges in the same millisecond get different nonces (no false replay)', async (t) => {
  const auth = make();
  const a = parseChallenge(auth.challenge()[0]!);
  const b = parseChallenge(auth.challenge()[0]!);
  t.not(a.params.get('nonce'), b.params.get('nonce'));
  t.ok((await auth.verify('REGISTER', answer(a), lookup)).ok);
  t.ok((await auth.verify('REGISTER', answer(b), lookup)).ok);
  auth.close();
});

t.test('another node with the same secret verifies the nonce; a different secret does not', async (t) => {
  const s = new FakeScheduler();
  const a = make(s);
  const b = make(s);
  const c = new DigestAuthenticator({ realm: REALM, secret: 'other', scheduler: s });
  const creds = answer(parseChallenge(a.challenge()[0]!));
  t.same((await b.verify('REGISTER', creds, lookup)).ok, true);
  t.same(await c.verify('REGISTER', creds, lookup), { ok: false, reason: 'bad-response', username: 'alice' });
  a.close();
  b.close();
  c.close();
});

t.test('failures', async (t) => {
  const auth = make();
  const ch = parseChallenge(auth.challenge()[0]!);
  const good = answer(ch);
  const edit = (f: (p: Map<string, string>) => void): AuthHeader => {
    const params = new Map(good.params);
    f(params);
    return { scheme: 'Digest', params };
  };
  t.same(await auth.verify('REGISTER', undefined, lookup), { ok: false, reason: 'missing' });
  t.match(await auth.verify('REGISTER', { scheme: 'Basic', params: new Map() }, lookup), { reason: 'malformed' });
  t.match(await auth.verify('REGISTER', edit((p) => p.delete('response')), lookup), { reason: 'malformed' });
  t.match(await auth.verify('REGISTER', edit((p) => p.set('nc', 'xyz')), lookup), { reason: 'malformed' });
  t.match(await auth.verify('REGISTER', edit((p) => p.delete('cnonce')), lookup), { reason: 'malformed' });
  t.match(await auth.verify('REGISTER', edit((p) => p.set('qop', 'auth-int')), lookup), { reason: 'malformed' }, 'auth-int not offered');
  t.match(await auth.verify('REGISTER', edit((p) => p.set('algorithm', 'SHA-512-256')), lookup), { reason: 'algorithm' });
  t.match(await auth.verify('REGISTER', edit((p) => p.set('realm', 'evil.com')), lookup), { reason: 'realm' });
  t.match(await auth.verify('REGISTER', edit((p) => p.set('username', 'mallory')), lookup), { reason: 'unknown-user' });
  t.match(await auth.verify('REGISTER', edit((p) => p.set('response', '0'.repeat(64))), lookup), { reason: 'bad-response' });
  t.match(await auth.verify('INVITE', good, lookup), { reason: 'bad-response' }, 'method is covered');
  t.match(await auth.verify('REGISTER', good, lookup, undefined, { requestUri: 'sip:other.com' }), { reason: 'uri' });
  t.match(await auth.verify('REGISTER', good, lookup, undefined, { requestUri: (u) => u === 'sip:other.com' }), { reason: 'uri' });
  // tampered nonce: flip one character of the MAC part
  const n = good.params.get('nonce')!;
  const tampered = n.slice(0, -2) + (n.at(-2) === 'A' ? 'B' : 'A') + n.at(-1);
  t.match(await auth.verify('REGISTER', edit((p) => p.set('nonce', tampered)), lookup), { reason: 'bad-response' });
  t.match(await auth.verify('REGISTER', edit((p) => p.set('nonce', '!!garbage!!')), lookup), { reason: 'bad-response' });
  t.match(await auth.verify('REGISTER', edit((p) => p.set('nonce', '')), lookup), { reason: 'bad-response' });
  t.ok((await auth.verify('REGISTER', good, lookup)).ok, 'the untouched answer still passes');
  auth.close();
});

t.test('stale: authentic but expired nonce, only with a correct response', async (t) => {
  const s = new FakeScheduler();
  const auth = make(s, { nonceTtlMs: 60_000 });
  const ch = parseChallenge(auth.challenge()[0]!);
  s.advance(59_000);
  t.ok((await auth.verify('REGISTER', answer(ch), lookup)).ok, 'within ttl');
  s.advance(2_000);
  t.same(await auth.verify('REGISTER', answer(ch, { nc: 2 }), lookup), { ok: false, reason: 'stale', username: 'alice' });
  t.match(await auth.verify('REGISTER', answer(ch, { nc: 3, password: 'wrong' }), lookup), { reason: 'bad-response' });
  auth.close();
});

for (const issuedBy of ['this node (its nonce window)', 'another node with the secret (the replay map)'] as const) {
  t.test(`replay: nc must increase per nonce, nonce issued by ${issuedBy}; tracking ends with the nonce`, async (t) => {
    const s = new FakeScheduler();
    const auth = make(s, { nonceTtlMs: 10_000 });
    const issuer = issuedBy.startsWith('this') ? auth : make(s, { nonceTtlMs: 10_000 });
    const ch = parseChallenge(issuer.challenge()[0]!);
    const first = answer(ch, { nc: 1, cnonce: 'c1' });
    t.ok((await auth.verify('REGISTER', first, lookup)).ok);
    t.match(await auth.verify('REGISTER', first, lookup), { reason: 'replay' });
    t.ok((await auth.verify('REGISTER', answer(ch, { nc: 3, cnonce: 'c2' }), lookup)).ok, 'gaps allowed');
    t.match(await auth.verify('REGISTER', answer(ch, { nc: 2, cnonce: 'c3' }), lookup), { reason: 'replay' }, 'lower nc');
    t.equal(auth.trackedNonces, 1);
    s.advance(10_001);
    t.equal(auth.trackedNonces, 0, 'no longer tracked after the nonce lifetime');
    t.equal(s.pending, 0, 'no sweep timer left once empty');
    auth.close();
    issuer.close();
  });
}

t.test('replay map stays bounded', async (t) => {
  const s = new FakeScheduler();
  const auth = make(s, { maxTrackedNonces: 3 });
  const issuer = make(s);
  for (let i = 0; i < 5; i++) {
    s.advance(1);
    t.ok((await auth.verify('REGISTER', answer(parseChallenge(issuer.challenge()[0]!)), lookup)).ok);
  }
  t.equal(auth.trackedNonces, 3);
  issuer.close();
  auth.close();
  t.equal(s.pending, 0, 'close cancels the sweep');
});

t.test('legacy no-qop only for MD5 and only when allowed', async (t) => {
  const noQop = (ch: AuthHeader): AuthHeader => {
    const params = new Map(ch.params);
    params.delete('qop');
    return { scheme: 'Digest', params };
  };
  const auth = make();
  const [sha, md5] = auth.challenge().map(parseChallenge);
  const legacy = answer(noQop(md5!));
  t.notOk(legacy.params.has('qop'));
  t.ok((await auth.verify('REGISTER', legacy, lookup)).ok);
  t.match(await auth.verify('REGISTER', answer(noQop(sha!)), lookup), { reason: 'malformed' });
  auth.close();
  const strict = make(new FakeScheduler(), { allowLegacyNoQop: false });
  t.match(await strict.verify('REGISTER', answer(noQop(parseChallenge(strict.challenge()[1]!))), lookup), { reason: 'malformed' });
  strict.close();
});

t.test('auth-int and -sess when configured', async (t) => {
  const auth = make(new FakeScheduler(), { algorithms: ['SHA-256-sess', 'MD5'], offerAuthInt: true });
  const values = auth.challenge();
  t.match(values[0], /algorithm=SHA-256-sess, qop="auth,auth-int"/);
  const ch = parseChallenge(values[0]!);
  ch.params.set('qop', 'auth-int');
  const body = Buffer.from('v=0\r\n');
  const creds = answer(ch, { method: 'INVITE', body });
  t.equal(creds.params.get('qop'), 'auth-int');
  t.ok((await auth.verify('INVITE', creds, lookup, body)).ok);
  t.match(await auth.verify('INVITE', answer(ch, { method: 'INVITE', body, nc: 2 }), lookup, Buffer.from('v=1\r\n')), { reason: 'bad-response' });
  t.match(await auth.verify('REGISTER', answer(parseChallenge(make(new FakeScheduler()).challenge()[0]!)), lookup), { reason: 'algorithm' }, 'plain SHA-256 not configured');
  auth.close();
});

t.test('a failing HA1 store propagates instead of looking like a bad password', async (t) => {
  const auth = make();
  const creds = answer(parseChallenge(auth.challenge()[0]!));
  await t.rejects(auth.verify('REGISTER', creds, async () => { throw new Error('db down'); }), /db down/);
  auth.close();
});

t.test('round trip through the SIP parser: challenge in a 401, credentials in a REGISTER', async (t) => {
  const { parseMessage, parseAuthHeader } = await import('../../../../src/sip/message/index.js');
  const { formatDigestHeader } = await import('../../../../src/sip/auth/index.js');
  const auth = make();
  const challenges = auth.challenge().map((v) => parseAuthHeader(v)!);
  t.equal(challenges.length, 2);
  const creds = answerChallenge(challenges[0]!, { username: 'alice', password: 'wonderland', method: 'REGISTER', uri: 'sip:example.com' })!;
  const text = [
    'REGISTER sip:example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnashds7',
    'Max-Forwards: 70',
    'To: <sip:alice@example.com>',
    'From: <sip:alice@example.com>;tag=456248',
    'Call-ID: 843817637684230@998sdasdh09',
    'CSeq: 1827 REGISTER',
    'Contact: <sip:alice@192.0.2.1>',
    `Authorization: ${formatDigestHeader(creds, 'credentials')}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const parsed = parseMessage(Buffer.from(text));
  t.ok(parsed.ok);
  if (!parsed.ok || parsed.message.kind !== 'request') return;
  const msg = parsed.message;
  const r = await auth.verify(msg.method, msg.authorizations()[0], lookup, msg.body, { requestUri: 'sip:example.com' });
  t.same(r, { ok: true, username: 'alice', algorithm: 'SHA-256' });
  auth.close();
});
