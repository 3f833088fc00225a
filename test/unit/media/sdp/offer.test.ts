/** Our offers and the answers to them (RFC 3264 §5, §7), and our re-offers (§8). */
import t from 'tap';
import { parseSdp, SdpSession } from '../../../../src/media/sdp/index.js';
import { InvalidInputError } from '../../../../src/lib/errors.js';
import { loadSdp, mLines, newSession, OUR_PORT, originVersion, sectionAttributes } from './helpers.js';

const answer = (mutate: (s: string) => string = (s) => s): string => mutate(loadSdp('answer-subset.sdp', 'CRLF'));

t.test('initial offer: our codecs in our order, static and stable dynamic payload types', async (t) => {
  const session = newSession({ codecs: ['opus', 'PCMU', 'L16', 'G722', 'PCMA'] });
  const offer = session.createOffer();
  t.ok(parseSdp(offer).ok, 'parses');
  t.same(mLines(offer), [`m=audio ${OUR_PORT} RTP/AVP 111 0 118 9 8 101`]);
  t.same(sectionAttributes(offer, 0), [
    'a=rtpmap:111 opus/48000/2',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:118 L16/16000',
    'a=rtpmap:9 G722/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=ptime:20',
    'a=sendrecv',
    'a=rtcp-mux',
  ]);
  t.match(offer, /^v=0\r\no=opencx 424242 0 IN IP4 192\.0\.2\.1\r\ns=opencx\r\nc=IN IP4 192\.0\.2\.1\r\nt=0 0\r\n/);
  t.ok(session.offerPending);
});

t.test('offer options: no DTMF, no mux, ptime, IPv6, session name, SRTP', async (t) => {
  const v6 = new SdpSession({
    address: '2001:db8::1',
    port: 5004,
    family: 'IPv6',
    codecs: ['PCMA'],
    telephoneEvent: false,
    rtcpMux: false,
    ptimeMs: 30,
    sessionName: 'call',
    sessionId: '7',
    username: 'media',
  });
  const offer = v6.createOffer();
  t.match(offer, /o=media 7 0 IN IP6 2001:db8::1\r\ns=call\r\nc=IN IP6 2001:db8::1\r\n/);
  t.same(mLines(offer), ['m=audio 5004 RTP/AVP 8']);
  t.same(sectionAttributes(offer, 0), ['a=rtpmap:8 PCMA/8000', 'a=ptime:30', 'a=sendrecv']);

  const srtp = newSession({
    protocol: 'RTP/SAVP',
    codecs: ['PCMU'],
    crypto: [
      { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: 'inline:QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB' },
      { tag: 2, suite: 'AES_CM_128_HMAC_SHA1_32', keyParams: 'inline:QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC' },
    ],
  });
  const srtpOffer = srtp.createOffer();
  t.same(mLines(srtpOffer), [`m=audio ${OUR_PORT} RTP/SAVP 0 101`]);
  const crypto = sectionAttributes(srtpOffer, 0).filter((a) => a.startsWith('a=crypto'));
  t.same(crypto, [
    'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB',
    'a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC',
  ]);
  const theirs = 'a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:Q0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0ND';
  const ok = srtp.receiveAnswer(answer((s) => s.replace('RTP/AVP 8 101', 'RTP/SAVP 0 101').replace('a=rtpmap:8 PCMA/8000', 'a=rtpmap:0 PCMU/8000').replace('a=sendrecv', theirs)));
  t.ok(ok.ok, 'SAVP answer accepted');
  if (ok.ok) t.same(ok.stream.crypto, { tag: 2, suite: 'AES_CM_128_HMAC_SHA1_32', keyParams: 'inline:Q0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0ND' });

  t.throws(() => newSession({ protocol: 'RTP/SAVP' }), InvalidInputError, 'SAVP without keys is a programming error');
  t.throws(() => newSession({ codecs: [] }), InvalidInputError);
  t.throws(() => newSession({ port: 70000 }), InvalidInputError);
  t.throws(() => newSession().setLocal({ ptimeMs: 0 }), InvalidInputError);
});

t.test('answer with a subset of our codecs', async (t) => {
  const session = newSession();
  session.createOffer();
  const r = session.receiveAnswer(answer());
  if (!r.ok) {
    t.fail(r.reason);
    return;
  }
  t.same(r.stream.codecs, [{ name: 'PCMA', payloadType: 8, clockRate: 8000 }], 'PCMA only');
  t.same(r.stream.telephoneEvent, { payloadType: 101, clockRate: 8000 });
  t.same(r.stream.remote, { address: '203.0.113.9', port: 24578, family: 'IPv4' });
  t.same(r.stream.remoteRtcp, { address: '203.0.113.9', port: 24579, family: 'IPv4' });
  t.equal(r.stream.rtcpMux, false, 'we offered mux, they did not answer it');
  t.equal(r.stream.direction, 'sendrecv');
  t.equal(r.stream.ptimeMs, 20);
  t.notOk(session.offerPending);
  t.same(session.stream, r.stream, 'stream kept');
  t.same(session.receiveAnswer(answer()), { ok: false, reason: 'no offer outstanding' }, 'a second answer has no offer');
});

t.test('answers we refuse leave the session as before the offer', async (t) => {
  const refused: [string, (s: string) => string, RegExp][] = [
    ['audio rejected with port 0', (s) => s.replace('m=audio 24578', 'm=audio 0'), /rejected/],
    ['an extra m= line', (s) => s + 'm=video 0 RTP/AVP 96\r\n', /m= lines/],
    ['only a codec we did not offer', (s) => s.replace('RTP/AVP 8 101', 'RTP/AVP 18 101').replace('a=rtpmap:8 PCMA/8000', 'a=rtpmap:18 G729/8000'), /codec/],
    ['profile changed', (s) => s.replace('RTP/AVP 8 101', 'RTP/SAVP 8 101'), /profile/],
    ['not SDP', () => 'hello', /v=/],
  ];
  for (const [label, mutate, reason] of refused) {
    const session = newSession();
    const offer = session.createOffer();
    const r = session.receiveAnswer(answer(mutate));
    t.ok(!r.ok && reason.test(r.reason), `${label}: ${r.ok ? 'accepted' : r.reason}`);
    t.notOk(session.offerPending, `${label}: the round is over`);
    t.equal(session.createOffer(), offer, `${label}: the next offer is the same SDP with the same version`);
  }
});

t.test('re-offers: version moves only when our SDP does; m= lines and payload types stay', async (t) => {
  const session = newSession();
  const first = session.createOffer();
  t.ok(session.receiveAnswer(answer()).ok);
  t.equal(originVersion(first), 0);

  const refresh = session.createOffer();
  t.equal(refresh, first, 'nothing changed: same SDP, same version (RFC 3264 §8)');
  t.ok(session.receiveAnswer(answer()).ok);

  session.setLocal({ direction: 'sendonly' });
  const hold = session.createOffer();
  t.equal(originVersion(hold), 1, 'hold bumps the version');
  t.ok(sectionAttributes(hold, 0).includes('a=sendonly'), 'hold is a=sendonly (RFC 3264 §8.4)');
  t.ok(sectionAttributes(hold, 0).includes('a=rtcp-mux'), 'rtcp-mux said as in our last SDP: hold changes only the direction');
  t.equal(hold.replace('a=sendonly', 'a=sendrecv').replace('424242 1 ', '424242 0 '), first, 'nothing else changed');
  const held = session.receiveAnswer(answer((s) => s.replace('a=sendrecv', 'a=recvonly')));
  t.ok(held.ok && held.stream.direction === 'sendonly', 'on hold we only send');
  const sloppy = session.createOffer();
  t.equal(sloppy, hold, 'same hold offer again: same version');
  const sloppyAnswer = session.receiveAnswer(answer());
  t.ok(sloppyAnswer.ok && sloppyAnswer.stream.direction === 'sendonly', 'an answer of sendrecv to sendonly still leaves us sendonly');

  session.setLocal({ direction: 'sendrecv' });
  const unhold = session.createOffer();
  t.equal(originVersion(unhold), 2, 'unhold bumps again');
  t.ok(session.receiveAnswer(answer()).ok);

  session.setLocal({ port: 40002, address: '192.0.2.2', codecs: ['PCMA', 'opus'] });
  const moved = session.createOffer();
  t.equal(originVersion(moved), 3);
  t.same(mLines(moved), ['m=audio 40002 RTP/AVP 8 111 101'], 'new port, new order, opus keeps 111, telephone-event keeps 101');
  t.match(moved, /c=IN IP4 192\.0\.2\.2\r\n/);
  t.match(moved, /o=opencx 424242 3 IN IP4 192\.0\.2\.2\r\n/, 'session id unchanged');
});

t.test('rollback: the agreement stays; versions count on from the abandoned offer (RFC 3264 §8)', async (t) => {
  const session = newSession();
  const first = session.createOffer();
  t.ok(session.receiveAnswer(answer()).ok);
  session.setLocal({ direction: 'inactive' });
  const abandoned = session.createOffer();
  t.equal(originVersion(abandoned), 1);
  session.rollback();
  session.rollback();
  t.notOk(session.offerPending, 'rollback is idempotent');
  t.equal(session.stream?.direction, 'sendrecv', 'the agreed stream is kept');
  session.setLocal({ direction: 'sendrecv' });
  const back = session.createOffer();
  t.equal(originVersion(back), 2, 'the remote saw version 1, so the next different SDP is 2');
  t.equal(back.replace('424242 2 ', '424242 0 '), first, 'content back to the agreed SDP');
  t.equal(session.createOffer(), back, 'a new offer replacing an unanswered identical one keeps its version');
  session.rollback();
  session.setLocal({ direction: 'recvonly' });
  t.equal(originVersion(session.createOffer()), 3);
});

t.test('glare: an offer while ours is outstanding is 491', async (t) => {
  const session = newSession();
  session.createOffer();
  const r = session.receiveOffer(loadSdp('baresip-offer.sdp'));
  t.same(r, { ok: false, status: 491, reason: 'an offer of ours is outstanding' });
  t.ok(session.offerPending, 'our offer still stands');
  session.rollback();
  t.ok(session.receiveOffer(loadSdp('baresip-offer.sdp')).ok, 'after rollback the offer is answered');
});

t.test('after answering, our re-offer keeps the offerer’s m= layout and payload types', async (t) => {
  const session = newSession();
  const answered = session.receiveOffer(loadSdp('multi-stream.sdp'));
  t.ok(answered.ok);
  const reoffer = session.createOffer();
  t.same(mLines(reoffer), ['m=video 0 RTP/AVP 99', `m=audio ${OUR_PORT} RTP/AVP 111 9 0 8 101`, 'm=audio 0 RTP/AVP 9', 'm=application 0 TCP/BFCP *']);
  t.equal(originVersion(reoffer), 1);

  const b = newSession();
  t.ok(b.receiveOffer(loadSdp('baresip-offer.sdp')).ok);
  const bReoffer = b.createOffer();
  t.same(mLines(bReoffer), [`m=audio ${OUR_PORT} RTP/AVP 116 9 0 8 101`], 'opus stays 116 as the offerer numbered it (RFC 3264 §8.3.2)');
  t.notOk(sectionAttributes(bReoffer, 0).includes('a=rtcp-mux'), 'no mux: it was not negotiated');
  const reply = loadSdp('baresip-offer.sdp', 'CRLF').replace('3892410528', '3892410529');
  const ok = b.receiveAnswer(reply);
  t.ok(ok.ok && ok.stream.codecs[0]?.name === 'opus', 'the remote answers our re-offer');
});

t.test('new dynamic numbers avoid the ones the offerer bound to formats we ignore (RFC 3264 §8.3.2)', async (t) => {
  const session = newSession({ codecs: ['opus', 'PCMU'] });
  t.ok(session.receiveOffer(loadSdp('linphone-offer.sdp')).ok);
  session.setLocal({ codecs: ['opus', 'PCMU', 'L16'] });
  const reoffer = session.createOffer();
  t.same(mLines(reoffer), [`m=audio ${OUR_PORT} RTP/AVP 96 0 118 101`, 'm=video 0 RTP/AVP 96 97'], 'opus keeps 96, L16 gets a number speex and the other telephone-events do not use');

  const crowded = newSession({ codecs: ['PCMU'] });
  const offer = loadSdp('sipp-uac.sdp')
    .replace(/\[local_ip_type\]|\[media_ip_type\]/g, '4')
    .replace(/\[local_ip\]|\[media_ip\]/g, '192.0.2.99')
    .replace('[media_port] RTP/AVP 0', '6000 RTP/AVP 0 101 111 118 96')
    .concat('a=rtpmap:101 x-foo/8000\na=rtpmap:111 speex/16000\na=rtpmap:118 AMR/8000\na=rtpmap:96 G7221/16000\n');
  t.ok(crowded.receiveOffer(offer).ok);
  crowded.setLocal({ codecs: ['PCMU', 'opus', 'L16'] });
  t.same(mLines(crowded.createOffer()), [`m=audio ${OUR_PORT} RTP/AVP 0 97 98 99`], 'preferred numbers taken: first free ones, telephone-event included');
});
