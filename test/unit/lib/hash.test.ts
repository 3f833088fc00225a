import t from 'tap';
import { fnv1a32, stableToken } from '../../../src/lib/index.js';

t.test('FNV-1a 32-bit matches the published test vectors', async (t) => {
  t.equal(fnv1a32(''), 0x811c9dc5, 'empty string is the offset basis');
  t.equal(fnv1a32('a'), 0xe40c292c);
  t.equal(fnv1a32('foobar'), 0xbf9cf968);
});

t.test('stableToken: same input, same token; other input, other token', async (t) => {
  t.equal(stableToken('call-1|tag|7|z9hG4bKx'), stableToken('call-1|tag|7|z9hG4bKx'));
  t.not(stableToken('call-1|tag|7|z9hG4bKx'), stableToken('call-1|tag|8|z9hG4bKx'));
  t.match(stableToken('x'), /^[0-9a-z]{8,14}$/, 'token-safe, 64 bits in base 36');
});

t.test('stableToken is the two seeded FNV-1a hashes, whatever the text (one pass gives the same bytes)', async (t) => {
  const samples = ['', 'x', 'sip:bob@example.com\u0001call@host\u0001ftag\u0001\u00011\u0001', 'é€😀', 'a'.repeat(1000)];
  for (const s of samples) t.equal(stableToken(s), fnv1a32(s).toString(36) + fnv1a32(s, 0x050c5d1f).toString(36), JSON.stringify(s).slice(0, 40));
  // a concatenated (cons) string hashes like its flat copy
  const cons = samples[2]!.slice(0, 10) + samples[2]!.slice(10);
  t.equal(stableToken(cons), stableToken(samples[2]!));
});
