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
