/**
 * Remote SDP is untrusted: cut, shuffled and corrupted versions of every fixture must give a
 * result (answer or refusal), never a throw, and any answer we write must parse.
 */
import fc from 'fast-check';
import t from 'tap';
import { describeRemote, parseSdp } from '../../../../src/media/sdp/index.js';
import { loadSdp, newSession, sippOffer } from './helpers.js';

const SEEDS = [
  'baresip-offer.sdp',
  'linphone-offer.sdp',
  'chrome-offer.sdp',
  'sbc-offer.sdp',
  'ipv6-offer.sdp',
  'srtp-offer.sdp',
  'multi-stream.sdp',
  'legacy-hold.sdp',
  'media-level-connection.sdp',
].map((name) => loadSdp(name, 'CRLF'));
SEEDS.push(sippOffer('CRLF'));

function check(text: string): void {
  const session = newSession();
  const r = session.receiveOffer(text);
  if (r.ok) {
    if (!parseSdp(r.answerSdp).ok) throw new Error('our answer does not parse:\n' + r.answerSdp);
  } else if (typeof r.reason !== 'string' || ![400, 488].includes(r.status)) {
    throw new Error('bad refusal ' + JSON.stringify(r));
  }
  describeRemote(text);
  const srtp = newSession({ protocol: 'RTP/SAVP', crypto: [{ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: 'inline:QUFB' }] });
  srtp.receiveOffer(text);
  const offerer = newSession();
  offerer.createOffer();
  offerer.receiveAnswer(text);
}

t.test('every line-level truncation of every fixture', async (t) => {
  let cases = 0;
  for (const seed of SEEDS) {
    const lines = seed.split('\r\n');
    for (let n = 0; n <= lines.length; n++) {
      check(lines.slice(0, n).join('\r\n'));
      check(lines.filter((_, i) => i !== n).join('\r\n'));
      cases += 2;
    }
  }
  t.ok(cases > 200, `${cases} truncated or line-dropped SDPs handled`);
});

const mutation = fc.record({
  seed: fc.constantFrom(...SEEDS),
  edits: fc.array(fc.tuple(fc.nat(), fc.nat(4), fc.string({ maxLength: 12 })), { minLength: 1, maxLength: 6 }),
});

function mutate(seed: string, edits: [number, number, string][]): string {
  let text = seed;
  for (const [at, kind, insert] of edits) {
    const pos = text.length === 0 ? 0 : at % text.length;
    if (kind === 0) text = text.slice(0, pos) + insert + text.slice(pos);
    else if (kind === 1) text = text.slice(0, pos) + text.slice(pos + insert.length + 1);
    else if (kind === 2) text = text.slice(0, pos) + '\r\n' + text.slice(pos);
    else if (kind === 3) text = text.slice(0, pos) + text.slice(pos).replace(/\d+/, insert.length > 0 ? '99999' : '-1');
    else text = text + text.slice(pos);
  }
  return text;
}

t.test('random corruption never throws (fixed seed)', async (t) => {
  fc.assert(
    fc.property(mutation, ({ seed, edits }) => {
      check(mutate(seed, edits));
    }),
    { numRuns: 1500, seed: 20261128 },
  );
  t.pass('1,500 corrupted SDPs handled');
});
