import t from 'tap';
import { computeDigestResponse, digestEquals, ha1, parseAlgorithm, answerChallenge, formatDigestHeader, selectChallenge } from '../../../../src/sip/auth/index.js';
import type { AuthHeader } from '../../../../src/sip/message/types.js';

// RFC 7616 §3.9.1
const RFC7616 = {
  username: 'Mufasa',
  password: 'Circle of Life',
  realm: 'http-auth@example.org',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  uri: '/dir/index.html',
};

t.test('RFC 7616 §3.9.1 test vectors', async (t) => {
  const cases = [
    ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
    ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
  ] as const;
  for (const [algorithm, expected] of cases) {
    const r = computeDigestResponse({
      algorithm,
      ha1: ha1(algorithm, RFC7616.username, RFC7616.realm, RFC7616.password),
      nonce: RFC7616.nonce,
      method: 'GET',
      uri: RFC7616.uri,
      qop: 'auth',
      nc: '00000001',
      cnonce: RFC7616.cnonce,
    });
    t.equal(r, expected, algorithm);
    const challenge: AuthHeader = {
      scheme: 'Digest',
      params: new Map([
        ['realm', RFC7616.realm],
        ['qop', 'auth, auth-int'],
        ['algorithm', algorithm],
        ['nonce', RFC7616.nonce],
        ['opaque', RFC7616.opaque],
      ]),
    };
    const answer = answerChallenge(challenge, { username: 'Mufasa', password: 'Circle of Life', method: 'GET', uri: RFC7616.uri, cnonce: RFC7616.cnonce });
    t.ok(answer);
    t.equal(answer!.params.get('response'), expected, `client ${algorithm}`);
    t.equal(answer!.params.get('qop'), 'auth');
    t.equal(answer!.params.get('nc'), '00000001');
    t.equal(answer!.params.get('opaque'), RFC7616.opaque);
    t.equal(answer!.params.get('algorithm'), algorithm);
  }
});

t.test('RFC 2617 §3.5 example', async (t) => {
  const challenge: AuthHeader = {
    scheme: 'Digest',
    params: new Map([
      ['realm', 'testrealm@host.com'],
      ['qop', 'auth,auth-int'],
      ['nonce', 'dcd98b7102dd2f0e8b11d0f600bfb0c093'],
      ['opaque', '5ccc069c403ebaf9f0171e9517f40e41'],
    ]),
  };
  const answer = answerChallenge(challenge, { username: 'Mufasa', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html', cnonce: '0a4f113b' });
  t.equal(answer!.params.get('response'), '6629fae49393a05397450978507c4ef1');
  t.notOk(answer!.params.has('algorithm'), 'absent algorithm stays absent');
  t.equal(
    formatDigestHeader(answer!, 'credentials'),
    'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", response="6629fae49393a05397450978507c4ef1", cnonce="0a4f113b", opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001',
  );
});

t.test('legacy no-qop (RFC 2069) and -sess', async (t) => {
  const h = ha1('MD5', 'bob', 'r', 'pw');
  const legacy = computeDigestResponse({ algorithm: 'MD5', ha1: h, nonce: 'n', method: 'REGISTER', uri: 'sip:r', qop: undefined });
  // H(HA1:nonce:HA2)
  const { createHash } = await import('node:crypto');
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  t.equal(legacy, md5(`${h}:n:${md5('REGISTER:sip:r')}`));
  const answer = answerChallenge({ scheme: 'Digest', params: new Map([['realm', 'r'], ['nonce', 'n']]) }, { username: 'bob', password: 'pw', method: 'REGISTER', uri: 'sip:r' });
  t.equal(answer!.params.get('response'), legacy);
  t.notOk(answer!.params.has('qop'));
  t.notOk(answer!.params.has('nc'));
  const sess = computeDigestResponse({ algorithm: 'MD5-sess', ha1: h, nonce: 'n', method: 'REGISTER', uri: 'sip:r', qop: 'auth', nc: '00000001', cnonce: 'c' });
  const sessHa1 = md5(`${h}:n:c`);
  t.equal(sess, md5(`${sessHa1}:n:00000001:c:auth:${md5('REGISTER:sip:r')}`));
  const authInt = computeDigestResponse({ algorithm: 'MD5', ha1: h, nonce: 'n', method: 'INVITE', uri: 'sip:r', qop: 'auth-int', nc: '00000001', cnonce: 'c', body: 'v=0\r\n' });
  t.equal(authInt, md5(`${h}:n:00000001:c:auth-int:${md5(`INVITE:sip:r:${md5('v=0\r\n')}`)}`));
});

t.test('algorithm parsing, selection, bad challenges', async (t) => {
  t.equal(parseAlgorithm(undefined), 'MD5');
  t.equal(parseAlgorithm('sha-256'), 'SHA-256');
  t.equal(parseAlgorithm('SHA-256-sess'), 'SHA-256-sess');
  t.equal(parseAlgorithm('SHA-512-256'), undefined);
  const sha512: AuthHeader = { scheme: 'Digest', params: new Map([['realm', 'r'], ['nonce', 'n'], ['algorithm', 'SHA-512-256']]) };
  const sha256: AuthHeader = { scheme: 'Digest', params: new Map([['realm', 'r'], ['nonce', 'n'], ['algorithm', 'SHA-256']]) };
  const md5: AuthHeader = { scheme: 'Digest', params: new Map([['realm', 'r'], ['nonce', 'n'], ['algorithm', 'MD5']]) };
  t.equal(selectChallenge([sha512, sha256, md5]), sha256, 'topmost supported (RFC 8760 §2.4)');
  t.equal(selectChallenge([{ scheme: 'Basic', params: new Map() }]), undefined);
  const opts = { username: 'u', password: 'p', method: 'REGISTER', uri: 'sip:r' };
  t.equal(answerChallenge(sha512, opts), undefined);
  t.equal(answerChallenge({ scheme: 'Basic', params: new Map() }, opts), undefined);
  t.equal(answerChallenge({ scheme: 'Digest', params: new Map([['realm', 'r']]) }, opts), undefined, 'no nonce');
  t.equal(answerChallenge({ scheme: 'Digest', params: new Map([['nonce', 'n'], ['qop', 'weird']]) }, opts), undefined);
  t.equal(answerChallenge({ scheme: 'Digest', params: new Map([['nonce', 'n'], ['qop', 'auth-int']]) }, { ...opts, nc: 255 })!.params.get('nc'), '000000ff');
});

t.test('constant-time compare and formatting', async (t) => {
  t.ok(digestEquals('ABCDEF', 'abcdef'));
  t.notOk(digestEquals('abc', 'abcd'));
  t.notOk(digestEquals('abce', 'abcd'));
  t.ok(digestEquals('0123456789abcdefABCDEF', '0123456789ABCDEFabcdef'), 'hex digits in either case');
  t.notOk(digestEquals('1bcd', 'abcd'), 'a difference in the first place');
  t.notOk(digestEquals('@', '`'), 'only letters fold: @ and ` differ by the case bit but are not letters');
  t.notOk(digestEquals('\u0010', '0'), 'nor a control character and a digit');
  t.ok(digestEquals('ÄBC', 'äbc'), 'beyond ASCII: compared lower-cased, as before');
  t.notOk(digestEquals('äbc', 'abc'));
  const header: AuthHeader = { scheme: 'Digest', params: new Map([['realm', 'a"b\\c\r\n'], ['stale', 'true'], ['algorithm', 'SHA-256'], ['qop', 'auth']]) };
  t.equal(formatDigestHeader(header, 'challenge'), 'Digest realm="a\\"b\\\\c", stale=true, algorithm=SHA-256, qop="auth"');
});

t.test('H(method:uri) answered from its cache is the hash itself, past the cache size too', async (t) => {
  const { createHash } = await import('node:crypto');
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const a1 = md5('alice:example.com:pw');
  // every answer computed by hand from the RFC 7616 §3.4 formula, for more distinct URIs than the cache holds
  const wrong: string[] = [];
  const shaA1 = sha('alice:example.com:pw');
  for (let i = 0; i < 1200; i++) {
    const uri = `sip:host${i % 700}.example.com`;
    const method = i % 3 === 0 ? 'INVITE' : 'REGISTER';
    const direct = md5(`${a1}:n${i}:00000001:c:auth:${md5(`${method}:${uri}`)}`);
    if (computeDigestResponse({ algorithm: 'MD5', ha1: a1, nonce: `n${i}`, method, uri, qop: 'auth', nc: '00000001', cnonce: 'c' }) !== direct) wrong.push(`MD5 ${method} ${uri}`);
    const expected = sha(`${shaA1}:n${i}:${sha(`${method}:${uri}`)}`);
    if (computeDigestResponse({ algorithm: 'SHA-256', ha1: shaA1, nonce: `n${i}`, method, uri, qop: undefined }) !== expected) wrong.push(`SHA-256 ${method} ${uri}`);
  }
  t.same(wrong, [], 'each of 2,400 answers (two hash functions) matches the formula');
});
