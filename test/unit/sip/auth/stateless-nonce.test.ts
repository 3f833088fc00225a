import { createHmac } from 'node:crypto';
import t from 'tap';
import { StatelessNonce } from '../../../../src/sip/auth/stateless-nonce.js';
import { message } from '../../../../src/sip/index.js';

t.test('the MAC is HMAC-SHA256 (nonces of earlier versions stay valid) and nonces are unique', async (t) => {
  for (const secret of ['s3cret', 'x'.repeat(100)]) {
    const nonces = new StatelessNonce(secret, 'example.com', 300_000);
    const now = 1_700_000_000_000;
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) seen.add(nonces.issue(now));
    t.equal(seen.size, 1000, 'no two nonces alike within one millisecond');
    const nonce = [...seen][0] ?? '';
    const raw = Buffer.from(nonce, 'base64url');
    const expected = createHmac('sha256', secret).update(raw.subarray(0, 16)).update(':').update('example.com').digest().subarray(0, 16);
    t.same(raw.subarray(16), expected);
    t.same(nonces.check(nonce, now + 1000), { valid: true, issuedAt: now, expired: false });
    t.same(new StatelessNonce(`${secret}!`, 'example.com', 300_000).check(nonce, now), { valid: false });
    t.same(new StatelessNonce(secret, 'other.example', 300_000).check(nonce, now), { valid: false });
  }
});

t.test('detachedString copies a long slice and returns what it was given', async (t) => {
  const whole = `REGISTER sip:example.com SIP/2.0\r\nCall-ID: ${'a'.repeat(40)}\r\n`;
  const slice = whole.slice(43, 83);
  t.equal(message.detachedString(slice), slice);
  t.equal(message.detachedString('short'), 'short');
  t.equal(message.detachedString(undefined), undefined);
  t.equal(message.detachedString('Ünïcödé Çall-ID ✓ 12345'), 'Ünïcödé Çall-ID ✓ 12345');
});

t.test('the time stamp is the 64-bit big-endian millisecond count, and reads back the same', async (t) => {
  const nonces = new StatelessNonce('s3cret', 'example.com', 300_000);
  // around the 32-bit boundary, today, and far in the future
  for (const now of [0, 0xffff_ffff, 0x1_0000_0000, 1_764_300_000_123, 2 ** 52 + 7]) {
    const raw = Buffer.from(nonces.issue(now), 'base64url');
    t.equal(raw.readBigUInt64BE(0), BigInt(now), `stamp of ${now}`);
    const check = nonces.check(raw.toString('base64url'), now);
    t.same(check, { valid: true, issuedAt: now, expired: false });
  }
  const raw = Buffer.from(nonces.issue(1_764_300_000_123.9), 'base64url');
  t.equal(raw.readBigUInt64BE(0), 1_764_300_000_123n, 'fractions of a millisecond are dropped');
});

t.test('the answer to our own challenge is checked without the MAC, and checks the same with it', async (t) => {
  const secret = 's3cret';
  const issuer = new StatelessNonce(secret, 'example.com', 300_000);
  const other = new StatelessNonce(secret, 'example.com', 300_000);
  const now = 1_700_000_000_000;
  const nonce = issuer.issue(now);
  t.same(issuer.check(nonce, now + 10), { valid: true, issuedAt: now, expired: false }, 'first answer: remembered');
  t.same(issuer.check(nonce, now + 20), { valid: true, issuedAt: now, expired: false }, 'a later one (nc > 1): by its MAC');
  t.same(other.check(nonce, now + 30), { valid: true, issuedAt: now, expired: false }, 'another node: by its MAC');
  t.same(issuer.check(issuer.issue(now), now + 300_001), { valid: true, issuedAt: now, expired: true }, 'remembered and old: expired');
  // a forged nonce is never in the map: one byte of the MAC changed
  const raw = Buffer.from(issuer.issue(now), 'base64url');
  raw[31] = (raw[31] ?? 0) ^ 1;
  t.same(issuer.check(raw.toString('base64url'), now), { valid: false });
  t.same(issuer.check('', now), { valid: false });
  // far more challenges than are remembered: the oldest fall back to the MAC, all stay valid
  const many: string[] = [];
  for (let i = 0; i < 40_000; i++) many.push(issuer.issue(now + i));
  for (const n of [many[0]!, many[20_000]!, many[39_999]!]) t.equal(issuer.check(n, now + 40_000).valid, true);
});
