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
    t.match(nonces.check(nonce, now + 1000), { valid: true, issuedAt: now, expired: false });
    t.same(new StatelessNonce(secret, 'example.com', 300_000).check(nonce, now), { valid: true, issuedAt: now, expired: false, slot: -1 }, 'another node with the secret: by its MAC');
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
    t.match(check, { valid: true, issuedAt: now, expired: false });
  }
  const raw = Buffer.from(nonces.issue(1_764_300_000_123.9), 'base64url');
  t.equal(raw.readBigUInt64BE(0), 1_764_300_000_123n, 'fractions of a millisecond are dropped');
});

t.test('own nonces: found in the window by their MAC bytes; their counts are kept there', async (t) => {
  const secret = 's3cret';
  const issuer = new StatelessNonce(secret, 'example.com', 300_000);
  const other = new StatelessNonce(secret, 'example.com', 300_000);
  const now = 1_700_000_000_000;
  const nonce = issuer.issue(now);
  const own = issuer.check(nonce, now + 10);
  t.match(own, { valid: true, issuedAt: now, expired: false });
  const slot = own.valid ? own.slot : -1;
  t.ok(slot >= 0, 'our own nonce has a place in the window');
  t.same(issuer.check(nonce, now + 20), own, 'checked again (nc > 1): the same place');
  t.same(other.check(nonce, now + 30), { valid: true, issuedAt: now, expired: false, slot: -1 }, 'another node: by its MAC, no place');
  t.match(issuer.check(issuer.issue(now), now + 300_001), { valid: true, issuedAt: now, expired: true }, 'old: expired');
  // nonce-counts: each must be higher than the last accepted one
  t.equal(issuer.trackedOwn(now), 0, 'nothing answered yet');
  t.ok(issuer.acceptCount(slot, 1));
  t.notOk(issuer.acceptCount(slot, 1), 'the same count again is a replay');
  t.ok(issuer.acceptCount(slot, 3), 'gaps are allowed');
  t.notOk(issuer.acceptCount(slot, 2), 'a lower count is a replay');
  t.equal(issuer.trackedOwn(now + 1), 1);
  t.equal(issuer.trackedOwn(now + 300_001), 0, 'not counted once expired');
  // a forged nonce: one byte of the MAC changed, or a stamp the slot was not issued with
  const raw = Buffer.from(issuer.issue(now), 'base64url');
  raw[31] = (raw[31] ?? 0) ^ 1;
  t.same(issuer.check(raw.toString('base64url'), now), { valid: false });
  const restamped = Buffer.from(issuer.issue(now), 'base64url');
  restamped[7] = (restamped[7] ?? 0) ^ 1;
  t.same(issuer.check(restamped.toString('base64url'), now), { valid: false });
  // never issued: a counter whose slot is empty, with an all-zero MAC, is not authentic
  const empty = Buffer.from(issuer.issue(now), 'base64url');
  empty.writeUInt32BE(0x7fff_0000, 12);
  empty.fill(0, 16);
  t.same(issuer.check(empty.toString('base64url'), now), { valid: false });
  for (const bad of ['', '!'.repeat(43), `${nonce}A`, nonce.slice(1), `${nonce.slice(0, 42)}=`]) t.same(issuer.check(bad, now), { valid: false }, JSON.stringify(bad));
});

t.test('an own nonce whose place a newer one took stays authentic but is reported expired', async (t) => {
  const issuer = new StatelessNonce('s3cret', 'example.com', 300_000);
  const now = 1_700_000_000_000;
  const first = issuer.issue(now);
  const second = issuer.issue(now);
  // 2^17 challenges later the first one's place is taken, the second's not yet
  for (let i = 0; i < (1 << 17) - 1; i++) issuer.issue(now + 1);
  t.same(issuer.check(first, now + 2), { valid: true, issuedAt: now, expired: true, slot: -1 }, 'its counts are gone: stale');
  t.match(issuer.check(second, now + 2), { valid: true, issuedAt: now, expired: false }, 'the next one is still in place');
  t.ok((issuer.check(second, now + 2) as { slot: number }).slot >= 0);
});

t.test('the window of own nonces starts small and doubles only when a live nonce would lose its place', async (t) => {
  const ttl = 300_000;
  const issuer = new StatelessNonce('s3cret', 'example.com', ttl);
  const now = 1_700_000_000_000;
  t.equal(issuer.windowSize, 1024, 'small: a server has an authenticator per realm');
  const early: string[] = [];
  for (let i = 0; i < 1024; i++) early.push(issuer.issue(now));
  t.equal(issuer.windowSize, 1024, 'room for all of them');
  // after the lifetime, the old places are reused as they are
  const later = now + ttl + 1;
  for (let i = 0; i < 1024; i++) issuer.issue(later);
  t.equal(issuer.windowSize, 1024, 'expired nonces give their places up');
  // answered nonces keep their counts across a doubling (those above have expired by then)
  const last = later + ttl + 1;
  const live: string[] = [];
  for (let i = 0; i < 100; i++) live.push(issuer.issue(last));
  const slotOf = (n: string) => (issuer.check(n, last) as { slot: number }).slot;
  t.ok(issuer.acceptCount(slotOf(live[0]!), 1));
  for (let i = 0; i < 1000; i++) live.push(issuer.issue(last));
  t.equal(issuer.windowSize, 2048, 'doubled once the live nonces filled it');
  t.ok(live.every((n) => slotOf(n) >= 0), 'every live nonce kept a place');
  t.notOk(issuer.acceptCount(slotOf(live[0]!), 1), 'the count accepted before the doubling still stops a replay');
  t.ok(issuer.acceptCount(slotOf(live[0]!), 2));
  t.match(issuer.check(early[0]!, now + 1), { valid: true, expired: true }, 'an early nonce whose place went: authentic, expired');
});
