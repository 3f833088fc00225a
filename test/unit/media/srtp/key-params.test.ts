import t from 'tap';
import { generateSdesCrypto, parseSdesKeyParams } from '../../../../src/media/srtp/index.js';

// the example key of RFC 4568 §9.1
const RFC_KEY = 'inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:32';

t.test('generated key params are 30 random bytes, inline and base64', async (t) => {
  const a = generateSdesCrypto('AES_CM_128_HMAC_SHA1_80', 1);
  const b = generateSdesCrypto('AES_CM_128_HMAC_SHA1_32', 2);
  t.equal(a.tag, 1);
  t.equal(b.suite, 'AES_CM_128_HMAC_SHA1_32');
  t.match(a.keyParams, /^inline:[A-Za-z0-9+/]{40}$/);
  t.not(a.keyParams, b.keyParams);
  const parsed = parseSdesKeyParams(a.keyParams);
  t.ok(parsed.ok);
  if (parsed.ok) {
    t.equal(parsed.value.masterKey.length, 16);
    t.equal(parsed.value.masterSalt.length, 14);
    t.equal(parsed.value.lifetime, undefined);
    t.equal(parsed.value.mki, undefined);
  }
});

t.test('RFC 4568 §9.1 example: lifetime and MKI', async (t) => {
  const parsed = parseSdesKeyParams(RFC_KEY);
  t.ok(parsed.ok);
  if (!parsed.ok) return;
  t.equal(parsed.value.lifetime, 2 ** 20);
  t.same(parsed.value.mki, { value: 1, length: 32 });
  t.equal(Buffer.from(parsed.value.masterKey).toString('latin1'), 'YS___semctl () {');
  const plainLifetime = parseSdesKeyParams('inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|1048576');
  t.ok(plainLifetime.ok && plainLifetime.value.lifetime === 1048576);
  const mkiOnly = parseSdesKeyParams('INLINE:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|7:2');
  t.ok(mkiOnly.ok && mkiOnly.value.mki?.value === 7 && mkiOnly.value.lifetime === undefined);
});

t.test('bad key params give an error, never a throw', async (t) => {
  const bad = [
    '',
    'inline',
    'uri:http://example.com/key',
    'inline:!!!notbase64',
    'inline:AAAA',
    'inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^99',
    'inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|x',
    'inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|1:0',
    'inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4|extra',
  ];
  for (const keyParams of bad) {
    const parsed = parseSdesKeyParams(keyParams);
    t.notOk(parsed.ok, `rejects ${JSON.stringify(keyParams)}`);
    if (!parsed.ok) t.type(parsed.error, 'string');
  }
});
