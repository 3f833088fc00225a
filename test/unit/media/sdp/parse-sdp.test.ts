/** parseSdp: accepts real SDPs in either line ending, refuses broken ones with a reason, never throws. */
import t from 'tap';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { parseSdp } from '../../../../src/media/sdp/index.js';
import { fixture } from '../../../helpers/paths.js';
import { loadSdp, sippOffer } from './helpers.js';

const VALID = [
  'answer-subset.sdp',
  'audio-disabled.sdp',
  'baresip-hold.sdp',
  'baresip-offer.sdp',
  'baresip-reoffer-codec-port.sdp',
  'baresip-unhold.sdp',
  'chrome-offer.sdp',
  'g729-only.sdp',
  'ipv6-offer.sdp',
  'legacy-hold.sdp',
  'linphone-offer.sdp',
  'media-level-connection.sdp',
  'multi-stream.sdp',
  'sbc-offer.sdp',
  'srtp-offer.sdp',
];

t.test('every realistic fixture parses in both line endings, to the same description', async (t) => {
  for (const name of VALID) {
    const lf = parseSdp(loadSdp(name, 'LF'));
    const crlf = parseSdp(loadSdp(name, 'CRLF'));
    t.ok(lf.ok, `${name} (LF) parses: ${lf.ok ? '' : lf.error}`);
    t.ok(crlf.ok, `${name} (CRLF) parses`);
    t.same(crlf, lf, `${name}: CRLF and LF give the same description`);
  }
  const sipp = parseSdp(sippOffer('CRLF'));
  t.ok(sipp.ok && sipp.sdp.media[0]?.port === 6000, 'substituted SIPp uac SDP parses');
});

t.test('the fixture table covers every file in fixtures/', async (t) => {
  const dir = path.dirname(fixture(import.meta.url, 'fixtures/x'));
  const all = readdirSync(dir).filter((f) => f.endsWith('.sdp')).sort();
  t.same(all, [...VALID, 'garbage.sdp', 'sipp-uac.sdp'].sort());
});

const BAD: [string, string, RegExp][] = [
  ['empty', '', /empty/],
  ['whitespace', ' \r\n\r\n', /empty/],
  ['garbage bytes', loadSdp('garbage.sdp'), /v=/],
  ['SIPp template with keywords left in', loadSdp('sipp-uac.sdp'), /o=|m=|c=/],
  ['no o= line', 'v=0\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n', /o=/],
  ['v=1', 'v=1\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n', /v=/],
  ['no m= line', 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n', /m=/],
  ['no c= anywhere', 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n', /c=/],
  ['port not a number', 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio port RTP/AVP 0\r\n', /m=/],
  ['port too big', 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n', /m=/],
  ['no formats', 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP\r\n', /m=|format/],
  ['bad c= line', 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IPX nowhere\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n', /c=/],
];

t.test('broken SDPs give an error, not a throw', async (t) => {
  for (const [label, text, pattern] of BAD) {
    const r = parseSdp(text);
    t.equal(r.ok, false, `${label} is refused`);
    if (!r.ok) t.match(r.error, pattern, `${label}: "${r.error}"`);
  }
  // not a string at all: callers are typed, but the body of a message may be anything at runtime
  t.equal(parseSdp(undefined as unknown as string).ok, false, 'undefined is refused');
  t.equal(parseSdp('v=0\n' + 'a=x\n'.repeat(20000)).ok, false, 'an oversized body is refused');
});

t.test('a disabled m= line may omit c=, an enabled one may not', async (t) => {
  const base = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.0.2.1\r\n';
  t.ok(parseSdp(base + 'm=video 0 RTP/AVP 96\r\n').ok, 'rejected video without c= is fine');
  t.notOk(parseSdp(base + 'm=video 5000 RTP/AVP 96\r\n').ok, 'enabled video without c= is refused');
});
