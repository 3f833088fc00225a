/** describeRemote: routing information for the engine, WebRTC details included. */
import t from 'tap';
import { describeRemote, profileKind } from '../../../../src/media/sdp/index.js';
import { LINE_ENDINGS, loadSdp, sippOffer } from './helpers.js';

for (const eol of LINE_ENDINGS) {
  t.test(`Chrome offer: WebRTC with BUNDLE, ICE and DTLS [${eol}]`, async (t) => {
    const r = describeRemote(loadSdp('chrome-offer.sdp', eol));
    if (!r.ok) {
      t.fail(r.error);
      return;
    }
    const d = r.description;
    t.equal(d.kind, 'webrtc');
    t.equal(d.audioIndex, 0);
    t.same(d.bundle, ['0', '1']);
    t.same(
      d.mLines.map((m) => `${m.type} ${m.port} ${m.protocol} ${m.mid ?? ''}`),
      ['audio 51726 UDP/TLS/RTP/SAVPF 0', 'video 51726 UDP/TLS/RTP/SAVPF 1'],
    );
    const s = d.stream;
    t.same(
      s.codecs.map((c) => `${c.name}/${c.payloadType}`),
      ['opus/111', 'G722/9', 'PCMU/0', 'PCMA/8'],
      'red, CN and the 48 kHz telephone-event are not codecs we use',
    );
    t.equal(s.codecs[0]?.fmtp, 'minptime=10;useinbandfec=1');
    t.equal(s.codecs[0]?.channels, 2);
    t.same(s.telephoneEvent, { payloadType: 126, clockRate: 8000 });
    t.equal(s.direction, 'sendrecv', 'c=/a=rtcp 0.0.0.0 under ICE is not a hold');
    t.equal(s.rtcpMux, true);
    t.same(s.remote, { address: '192.168.1.34', port: 51726, family: 'IPv4' });
    t.same(s.ice, {
      ufrag: 'Fa2b',
      pwd: '4kXGbV7mXsLq2wV8R0pN3tZ1',
      lite: false,
      candidates: [
        'candidate:1467250027 1 udp 2122260223 192.168.1.34 51726 typ host generation 0 network-id 1 network-cost 10',
        'candidate:2573830911 1 udp 1686052607 203.0.113.77 51726 typ srflx raddr 192.168.1.34 rport 51726 generation 0 network-id 1 network-cost 10',
        'candidate:434123983 1 tcp 1518280447 192.168.1.34 9 typ host tcptype active generation 0 network-id 1 network-cost 10',
      ],
    });
    t.same(s.dtls, {
      fingerprint: { hash: 'sha-256', value: '7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08' },
      setup: 'actpass',
    });
  });
}

t.test('ICE-lite, session-level ICE/DTLS and candidates only on the bundle’s first section', async (t) => {
  const lines = loadSdp('chrome-offer.sdp').split('\n');
  // a gateway style description: ice-lite, credentials and fingerprint at session level, audio second
  const session = ['v=0', 'o=- 1 1 IN IP4 203.0.113.5', 's=-', 't=0 0', 'a=ice-lite', 'a=group:BUNDLE v a', 'a=ice-ufrag:srv1', 'a=ice-pwd:serverpassword0123456789', 'a=fingerprint:sha-256 AA:BB', 'a=setup:passive'];
  const body = [
    'm=video 40000 UDP/TLS/RTP/SAVPF 96',
    'c=IN IP4 203.0.113.5',
    'a=mid:v',
    'a=rtpmap:96 VP8/90000',
    'a=candidate:1 1 udp 2130706431 203.0.113.5 40000 typ host',
    'm=audio 40000 UDP/TLS/RTP/SAVPF 111',
    'c=IN IP4 203.0.113.5',
    'a=mid:a',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=sendonly',
  ];
  t.ok(lines.length > 10, 'fixture read');
  const r = describeRemote([...session, ...body, ''].join('\r\n'));
  if (!r.ok) {
    t.fail(r.error);
    return;
  }
  t.equal(r.description.audioIndex, 1);
  t.same(r.description.stream.ice, { ufrag: 'srv1', pwd: 'serverpassword0123456789', lite: true, candidates: ['candidate:1 1 udp 2130706431 203.0.113.5 40000 typ host'] });
  t.same(r.description.stream.dtls, { fingerprint: { hash: 'sha-256', value: 'AA:BB' }, setup: 'passive' });
  t.equal(r.description.stream.direction, 'recvonly', 'the remote only sends');
});

t.test('plain and SDES offers describe as rtp and srtp; broken ones as errors', async (t) => {
  const sipp = describeRemote(sippOffer());
  t.ok(sipp.ok && sipp.description.kind === 'rtp' && sipp.description.stream.ice === undefined && sipp.description.stream.dtls === undefined);
  const srtp = describeRemote(loadSdp('srtp-offer.sdp'));
  t.ok(srtp.ok && srtp.description.kind === 'srtp');
  if (srtp.ok) t.equal(srtp.description.stream.crypto?.tag, 1, 'first offered crypto line');
  t.same(describeRemote(loadSdp('garbage.sdp')).ok, false);
  const noAudio = describeRemote('v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\n');
  t.same(noAudio, { ok: false, error: 'no audio stream' });
});

t.test('profileKind', async (t) => {
  const table: [string, string][] = [
    ['RTP/AVP', 'rtp'],
    ['RTP/AVPF', 'rtp'],
    ['RTP/SAVP', 'srtp'],
    ['RTP/SAVPF', 'srtp'],
    ['UDP/TLS/RTP/SAVPF', 'webrtc'],
    ['udp/tls/rtp/savp', 'webrtc'],
    ['TCP/BFCP', 'unsupported'],
    ['udp', 'unsupported'],
  ];
  for (const [proto, kind] of table) t.equal(profileKind(proto), kind, proto);
});
