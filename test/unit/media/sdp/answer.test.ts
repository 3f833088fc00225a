/**
 * Answering real offers (RFC 3264 §6): one table row per offer, each run with LF and CRLF
 * line endings. Asserts the stream the engine gets and the answer the remote gets.
 */
import t from 'tap';
import type { MediaDirection, NegotiatedStream } from '../../../../src/media/types.js';
import { parseSdp, type SdpSessionOptions } from '../../../../src/media/sdp/index.js';
import { LINE_ENDINGS, loadSdp, mLines, newSession, OUR_PORT, sectionAttributes, sippOffer, type LineEnding } from './helpers.js';

interface AcceptCase {
  name: string;
  offer: (eol: LineEnding) => string;
  session?: Partial<SdpSessionOptions>;
  codec: { name: string; payloadType: number; fmtp?: string };
  /** every codec of the answer, by payload type, in order */
  payloadTypes: number[];
  telephoneEvent: number | undefined;
  /** fmtp we answer for telephone-event */
  events?: string;
  direction: MediaDirection;
  remote: { address: string; port: number; family: 'IPv4' | 'IPv6' };
  remoteRtcp: NegotiatedStream['remoteRtcp'];
  rtcpMux: boolean;
  ptimeMs: number;
  /** the answer's m= lines, with OUR_PORT for ours */
  answerMLines: string[];
}

const ACCEPTED: AcceptCase[] = [
  {
    name: 'baresip: opus first in its order, fmtp passed through, no rtcp-mux',
    offer: (eol) => loadSdp('baresip-offer.sdp', eol),
    codec: { name: 'opus', payloadType: 116, fmtp: 'stereo=1;sprop-stereo=1;maxaveragebitrate=28000' },
    payloadTypes: [116, 9, 0, 8],
    telephoneEvent: 101,
    events: '0-15',
    direction: 'sendrecv',
    remote: { address: '192.0.2.10', port: 10000, family: 'IPv4' },
    remoteRtcp: { address: '192.0.2.10', port: 10001, family: 'IPv4' },
    rtcpMux: false,
    ptimeMs: 20,
    answerMLines: [`m=audio ${OUR_PORT} RTP/AVP 116 9 0 8 101`],
  },
  {
    name: 'baresip to a G.711-only session: the offerer order wins (PCMU before PCMA)',
    offer: (eol) => loadSdp('baresip-offer.sdp', eol),
    session: { codecs: ['PCMA', 'PCMU'] },
    codec: { name: 'PCMU', payloadType: 0 },
    payloadTypes: [0, 8],
    telephoneEvent: 101,
    events: '0-15',
    direction: 'sendrecv',
    remote: { address: '192.0.2.10', port: 10000, family: 'IPv4' },
    remoteRtcp: { address: '192.0.2.10', port: 10001, family: 'IPv4' },
    rtcpMux: false,
    ptimeMs: 20,
    answerMLines: [`m=audio ${OUR_PORT} RTP/AVP 0 8 101`],
  },
  {
    name: 'Linphone: speex and G729 ignored, telephone-event/8000 picked among three rates, video rejected',
    offer: (eol) => loadSdp('linphone-offer.sdp', eol),
    codec: { name: 'opus', payloadType: 96, fmtp: 'useinbandfec=1' },
    payloadTypes: [96, 0, 8],
    telephoneEvent: 101,
    events: '0-15',
    direction: 'sendrecv',
    remote: { address: '198.51.100.23', port: 7078, family: 'IPv4' },
    remoteRtcp: { address: '198.51.100.23', port: 7079, family: 'IPv4' },
    rtcpMux: false,
    ptimeMs: 20,
    answerMLines: [`m=audio ${OUR_PORT} RTP/AVP 96 0 8 101`, 'm=video 0 RTP/AVP 96 97'],
  },
  {
    name: 'SIPp uac: PCMU only, no telephone-event',
    offer: (eol) => sippOffer(eol),
    codec: { name: 'PCMU', payloadType: 0 },
    payloadTypes: [0],
    telephoneEvent: undefined,
    direction: 'sendrecv',
    remote: { address: '192.0.2.99', port: 6000, family: 'IPv4' },
    remoteRtcp: { address: '192.0.2.99', port: 6001, family: 'IPv4' },
    rtcpMux: false,
    ptimeMs: 20,
    answerMLines: [`m=audio ${OUR_PORT} RTP/AVP 0`],
  },
  {
    name: 'carrier SBC: G729/AMR-WB/GSM/iLBC ignored, PCMA first, a=rtcp with address',
    offer: (eol) => loadSdp('sbc-offer.sdp', eol),
    codec: { name: 'PCMA', payloadType: 8 },
    payloadTypes: [8, 0],
    telephoneEvent: 101,
    events: '0-15',
    direction: 'sendrecv',
    remote: { address: '203.0.113.50', port: 34560, family: 'IPv4' },
    remoteRtcp: { address: '203.0.113.51', port: 34561, family: 'IPv4' },
    rtcpMux: false,
    ptimeMs: 20,
    answerMLines: [`m=audio ${OUR_PORT} RTP/AVP 8 0 101`],
  },
  {
    name: 'IPv6 with static types and no rtpmap, rtcp-mux offered and taken',
    offer: (eol) => loadSdp('ipv6-offer.sdp', eol),
    session: { address: '2001:db8::1', family: 'IPv6' },
    codec: { name: 'G722', payloadType: 9 },
    payloadTypes: [9, 0],
    telephoneEvent: 101,
    events: '0-15',
    direction: 'sendrecv',
    remote: { address: '2001:db8::10', port: 49170, family: 'IPv6' },
    remoteRtcp: undefined,
    rtcpMux: true,
    ptimeMs: 20,
    answerMLines: [`m=audio ${OUR_PORT} RTP/AVP 9 0 101`],
  },
  {
    name: 'IPv6 offer to a session that does not mux: a=rtcp (RFC 3605) with an IPv6 address',
    offer: (eol) => loadSdp('ipv6-offer.sdp', eol),
    session: { address: '2001:db8::1', family: 'IPv6', rtcpMux: false },
    codec: { name: 'G722', payloadType: 9 },
    payloadTypes: [9, 0],
    telephoneEvent: 101,
    events: '0-15',
    direction: 'sendrecv',
    remote: { address: '2001:db8::10', port: 49170, family: 'IPv6' },
    remoteRtcp: { address: '2001:db8::11', port: 49171, family: 'IPv6' },
    rtcpMux: false,
    ptimeMs: 20,
    answerMLines: [`m=audio ${OUR_PORT} RTP/AVP 9 0 101`],
  },
  {
    name: 'media-level c= wins, recvonly offer answered sendonly, ptime 30, events 0-16',
    offer: (eol) => loadSdp('media-level-connection.sdp', eol),
    codec: { name: 'PCMU', payloadType: 0 },
    payloadTypes: [0, 8],
    telephoneEvent: 101,
    events: '0-16',
    direction: 'sendonly',
    remote: { address: '198.51.100.8', port: 18224, family: 'IPv4' },
    remoteRtcp: { address: '198.51.100.8', port: 18225, family: 'IPv4' },
    rtcpMux: false,
    ptimeMs: 30,
    answerMLines: [`m=audio ${OUR_PORT} RTP/AVP 0 8 101`],
  },
  {
    name: 'video, two audio lines and BFCP: first enabled audio is ours, the rest rejected keeping formats',
    offer: (eol) => loadSdp('multi-stream.sdp', eol),
    codec: { name: 'PCMU', payloadType: 0 },
    payloadTypes: [0, 8],
    telephoneEvent: undefined,
    direction: 'sendrecv',
    remote: { address: '192.0.2.44', port: 49170, family: 'IPv4' },
    remoteRtcp: { address: '192.0.2.44', port: 49171, family: 'IPv4' },
    rtcpMux: false,
    ptimeMs: 20,
    answerMLines: ['m=video 0 RTP/AVP 99', `m=audio ${OUR_PORT} RTP/AVP 0 8`, 'm=audio 0 RTP/AVP 9', 'm=application 0 TCP/BFCP *'],
  },
  {
    name: 'legacy hold c=0.0.0.0 without a direction attribute: the remote only sends',
    offer: (eol) => loadSdp('legacy-hold.sdp', eol),
    codec: { name: 'opus', payloadType: 116, fmtp: 'stereo=1;sprop-stereo=1;maxaveragebitrate=28000' },
    payloadTypes: [116, 9, 0, 8],
    telephoneEvent: 101,
    events: '0-15',
    direction: 'recvonly',
    remote: { address: '0.0.0.0', port: 10000, family: 'IPv4' },
    remoteRtcp: { address: '0.0.0.0', port: 10001, family: 'IPv4' },
    rtcpMux: false,
    ptimeMs: 20,
    answerMLines: [`m=audio ${OUR_PORT} RTP/AVP 116 9 0 8 101`],
  },
];

for (const c of ACCEPTED) {
  for (const eol of LINE_ENDINGS) {
    t.test(`${c.name} [${eol}]`, async (t) => {
      const session = newSession(c.session);
      const r = session.receiveOffer(c.offer(eol));
      if (!r.ok) {
        t.fail(`refused: ${r.status} ${r.reason}`);
        return;
      }
      const { stream, answerSdp } = r;
      const first = stream.codecs[0];
      t.equal(first?.name, c.codec.name, 'codec we send with');
      t.equal(first?.payloadType, c.codec.payloadType, 'its payload type is the offer’s');
      t.equal(first?.fmtp, c.codec.fmtp, 'fmtp passed through');
      t.same(
        stream.codecs.map((x) => x.payloadType),
        c.payloadTypes,
        'all common codecs, offer order',
      );
      t.equal(stream.telephoneEvent?.payloadType, c.telephoneEvent, 'telephone-event payload type');
      if (c.telephoneEvent !== undefined) t.equal(stream.telephoneEvent?.clockRate, 8000);
      t.equal(stream.direction, c.direction, 'direction from our side');
      t.same(stream.remote, c.remote, 'remote RTP address');
      t.same(stream.remoteRtcp, c.remoteRtcp, 'remote RTCP address');
      t.equal(stream.rtcpMux, c.rtcpMux, 'rtcp-mux');
      t.equal(stream.ptimeMs, c.ptimeMs, 'ptime');
      t.equal(stream.crypto, undefined, 'no crypto on plain RTP');

      t.same(mLines(answerSdp), c.answerMLines, 'answer m= lines, rejected ones with port 0');
      const parsed = parseSdp(answerSdp);
      t.ok(parsed.ok, 'our answer parses');
      const audioIndex = c.answerMLines.findIndex((l) => l.startsWith(`m=audio ${OUR_PORT}`));
      const attrs = sectionAttributes(answerSdp, audioIndex);
      t.ok(attrs.includes(`a=${c.direction}`), `answer says a=${c.direction}`);
      t.ok(attrs.includes(`a=ptime:${c.ptimeMs}`), 'answer carries the ptime');
      t.equal(attrs.includes('a=rtcp-mux'), c.rtcpMux, 'answer has rtcp-mux only when negotiated');
      if (c.telephoneEvent !== undefined) {
        t.ok(attrs.includes(`a=rtpmap:${c.telephoneEvent} telephone-event/8000`), 'telephone-event rtpmap with the offer’s PT');
        t.ok(attrs.includes(`a=fmtp:${c.telephoneEvent} ${c.events ?? ''}`), `events ${c.events ?? ''}`);
      } else {
        t.notOk(attrs.some((a) => a.includes('telephone-event')), 'no telephone-event offered, none answered');
      }
      if (c.codec.fmtp !== undefined) t.ok(attrs.includes(`a=fmtp:${c.codec.payloadType} ${c.codec.fmtp}`), 'answer echoes the codec fmtp');
      for (const i of c.answerMLines.keys()) {
        if (i !== audioIndex) t.same(sectionAttributes(answerSdp, i), [], `rejected m= line #${i + 1} carries no attributes`);
      }
      const lines = answerSdp.split('\r\n');
      t.equal(lines.at(-1), '', 'answer ends with CRLF');
      t.ok(
        lines.slice(0, -1).every((l) => l !== '' && !l.includes('\n')),
        'answer uses CRLF throughout (RFC 4566 §5)',
      );
      t.match(answerSdp, c.remote.family === 'IPv6' && c.session?.family === 'IPv6' ? /c=IN IP6 2001:db8::1\r\n/ : /c=IN IP4 192\.0\.2\.1\r\n/, 'our c= line');
    });
  }
}

interface RefusedCase {
  name: string;
  offer: string;
  session?: Partial<SdpSessionOptions>;
  status: 488 | 400;
  reason: RegExp;
}

const REFUSED: RefusedCase[] = [
  { name: 'G729 only', offer: loadSdp('g729-only.sdp'), status: 488, reason: /codec/ },
  { name: 'all audio disabled', offer: loadSdp('audio-disabled.sdp'), status: 488, reason: /audio/ },
  { name: 'Chrome (DTLS-SRTP) to a plain RTP session', offer: loadSdp('chrome-offer.sdp', 'CRLF'), status: 488, reason: /DTLS|WebRTC/ },
  { name: 'RTP/SAVP and we have no keys', offer: loadSdp('srtp-offer.sdp'), status: 488, reason: /SRTP/ },
  {
    name: 'RTP/SAVP with no suite in common',
    offer: loadSdp('srtp-offer.sdp'),
    session: { protocol: 'RTP/SAVP', crypto: [{ tag: 1, suite: 'AEAD_AES_256_GCM', keyParams: 'inline:xxxx' }] },
    status: 488,
    reason: /suite/,
  },
  {
    name: 'plain offer to a session that requires SRTP',
    offer: loadSdp('baresip-offer.sdp'),
    session: { protocol: 'RTP/SAVP', crypto: [{ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: 'inline:xxxx' }] },
    status: 488,
    reason: /SRTP/,
  },
  {
    name: 'opus-only session and a SIPp PCMU offer',
    offer: sippOffer(),
    session: { codecs: ['opus'] },
    status: 488,
    reason: /codec/,
  },
  { name: 'garbage', offer: loadSdp('garbage.sdp'), status: 400, reason: /v=/ },
  { name: 'SIPp template with its keywords unsubstituted', offer: loadSdp('sipp-uac.sdp'), status: 400, reason: /./ },
];

for (const c of REFUSED) {
  t.test(`refused: ${c.name}`, async (t) => {
    const session = newSession(c.session);
    const r = session.receiveOffer(c.offer);
    t.equal(r.ok, false, 'refused');
    if (r.ok) return;
    t.equal(r.status, c.status, 'status');
    t.match(r.reason, c.reason, `reason: ${r.reason}`);
    t.equal(session.stream, undefined, 'nothing negotiated');
    // a refused offer leaves the session usable: the next good offer gets version 0
    const again = session.receiveOffer(sippOffer());
    if (c.session?.protocol === undefined && c.session?.codecs === undefined) {
      t.ok(again.ok && again.answerSdp.includes('o=opencx 424242 0 IN IP4'), 'a later offer is answered with version 0');
    }
  });
}

t.test('SDES: answer with the first offered suite we have, under the offer’s tag, with our key', async (t) => {
  const session = newSession({
    protocol: 'RTP/SAVP',
    crypto: [{ tag: 7, suite: 'AES_CM_128_HMAC_SHA1_32', keyParams: 'inline:T3VyS2V5T3VyS2V5T3VyS2V5T3VyS2V5T3VyS2V5' }],
  });
  const r = session.receiveOffer(loadSdp('srtp-offer.sdp', 'CRLF'));
  if (!r.ok) {
    t.fail(r.reason);
    return;
  }
  t.same(mLines(r.answerSdp), [`m=audio ${OUR_PORT} RTP/SAVP 0 8 101`]);
  const crypto = sectionAttributes(r.answerSdp, 0).filter((a) => a.startsWith('a=crypto:'));
  t.same(crypto, ['a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:T3VyS2V5T3VyS2V5T3VyS2V5T3VyS2V5T3VyS2V5'], 'one crypto line, offer tag 2');
  t.same(r.stream.crypto, { tag: 2, suite: 'AES_CM_128_HMAC_SHA1_32', keyParams: 'inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32' }, 'the remote key for the chosen tag');
  t.equal(r.stream.codecs[0]?.name, 'PCMU');
  t.equal(r.stream.telephoneEvent?.payloadType, 101);
});

t.test('legacy hold combined with a direction attribute (RFC 3264 §8.4)', async (t) => {
  const cases: [string, MediaDirection][] = [
    ['sendrecv', 'recvonly'],
    ['sendonly', 'recvonly'],
    ['recvonly', 'inactive'],
    ['inactive', 'inactive'],
  ];
  for (const [attr, expected] of cases) {
    const offer = loadSdp('legacy-hold.sdp').replace('a=ptime:20\n', `a=ptime:20\na=${attr}\n`);
    const r = newSession().receiveOffer(offer);
    t.ok(r.ok && r.stream.direction === expected, `c=0.0.0.0 + a=${attr} → we are ${expected}`);
  }
});

t.test('direction inversion and our own hold (RFC 3264 §6.1)', async (t) => {
  const table: [MediaDirection, MediaDirection, MediaDirection][] = [
    // [offer, ours, answer]
    ['sendrecv', 'sendrecv', 'sendrecv'],
    ['sendonly', 'sendrecv', 'recvonly'],
    ['recvonly', 'sendrecv', 'sendonly'],
    ['inactive', 'sendrecv', 'inactive'],
    ['sendrecv', 'sendonly', 'sendonly'],
    ['sendonly', 'sendonly', 'inactive'],
    ['recvonly', 'recvonly', 'inactive'],
    ['sendrecv', 'inactive', 'inactive'],
  ];
  for (const [offered, ours, expected] of table) {
    const offer = loadSdp('baresip-offer.sdp').replace('a=sendrecv', `a=${offered}`);
    const r = newSession({ direction: ours }).receiveOffer(offer);
    t.ok(r.ok && r.stream.direction === expected && r.answerSdp.includes(`a=${expected}\r\n`), `offer ${offered}, we ${ours} → ${expected}`);
  }
});

t.test('telephone-event: none when we do not want it, none when the offer has only 48 kHz', async (t) => {
  const off = newSession({ telephoneEvent: false }).receiveOffer(loadSdp('baresip-offer.sdp'));
  t.ok(off.ok && off.stream.telephoneEvent === undefined && !off.answerSdp.includes('telephone-event'), 'we do not offer DTMF events');
  const only48k = loadSdp('linphone-offer.sdp').replace('a=rtpmap:101 telephone-event/8000\n', '');
  const r = newSession().receiveOffer(only48k);
  t.ok(r.ok && r.stream.telephoneEvent === undefined, 'telephone-event/48000 and /16000 are not ours');
  const noFmtp = loadSdp('sbc-offer.sdp').replace('a=fmtp:101 0-15\n', '');
  const nf = newSession().receiveOffer(noFmtp);
  t.ok(nf.ok && nf.answerSdp.includes('a=fmtp:101 0-15\r\n'), 'no fmtp means 0-15 (RFC 4733 §7.1.1)');
});

t.test('a session-level direction applies to media without their own (RFC 4566 §6)', async (t) => {
  const offer = sippOffer().replace('t=0 0\n', 't=0 0\na=sendonly\n');
  const r = newSession().receiveOffer(offer);
  t.ok(r.ok && r.stream.direction === 'recvonly', 'session-level sendonly: we only receive');
  const override = offer + 'a=sendrecv\n';
  const o = newSession().receiveOffer(override);
  t.ok(o.ok && o.stream.direction === 'sendrecv', 'media-level attribute wins');
});
