import t from 'tap';
import { filterOffer, restoreRejected } from '../../../../src/media/webrtc/offer-filter.js';
import { keepCandidatesOn, localCandidateAddress } from '../../../../src/media/webrtc/sdp-candidates.js';
import { ReceiveStatistics } from '../../../../src/media/webrtc/receive-statistics.js';

const OFFER = [
  'v=0',
  'o=- 1 0 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1 2',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'c=IN IP4 0.0.0.0',
  'a=mid:0',
  'a=rtpmap:96 VP8/90000',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 0',
  'c=IN IP4 0.0.0.0',
  'a=mid:1',
  'a=rtpmap:111 opus/48000/2',
  'a=rtpmap:0 PCMU/8000',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=mid:2',
  'a=sctp-port:5000',
  '',
].join('\r\n');

t.test('filterOffer keeps the first audio m-section and remembers the rest', async (t) => {
  const filtered = filterOffer(OFFER);
  if (filtered === undefined) return t.fail('audio not found');
  t.equal(filtered.sdp.match(/^m=/gm)?.length, 1);
  t.match(filtered.sdp, /a=group:BUNDLE 1\r\n/);
  t.match(filtered.sdp, /m=audio 9 UDP\/TLS\/RTP\/SAVPF 111 0/);
  t.same(
    filtered.rejected.map((r) => [r.index, r.mid]),
    [
      [0, '0'],
      [2, '2'],
    ],
  );
  t.equal(filterOffer(OFFER.replace(/m=audio[^]*?(?=m=application)/, '')), undefined, 'no audio: nothing to answer');
  const audioOnly = 'v=0\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n';
  t.equal(filterOffer(audioOnly)?.sdp, audioOnly, 'an audio-only offer passes unchanged');
});

t.test('restoreRejected puts port-0 m-sections back in offer order', async (t) => {
  const filtered = filterOffer(OFFER)!;
  const answer = 'v=0\r\ns=-\r\na=group:BUNDLE 1\r\nm=audio 4000 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\n';
  const restored = restoreRejected(answer, filtered.rejected);
  t.same(restored.match(/^m=.*$/gm), ['m=video 0 UDP/TLS/RTP/SAVPF 96', 'm=audio 4000 UDP/TLS/RTP/SAVPF 111', 'm=application 0 UDP/DTLS/SCTP webrtc-datachannel']);
  t.match(restored, /m=video 0[^]*a=mid:0\r\na=inactive\r\na=rtpmap:96 VP8\/90000/);
  t.equal(restoreRejected(answer, []), answer);
});

t.test('keepCandidatesOn drops other interfaces and names the default candidate', async (t) => {
  const sdp = [
    'v=0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'c=IN IP4 0.0.0.0',
    'a=candidate:1 1 udp 2116026367 192.0.2.2 5000 typ host',
    'a=candidate:2 1 udp 2116026367 127.0.0.1 5002 typ host',
    'a=candidate:3 1 tcp 2116026367 127.0.0.1 5004 typ host tcptype passive',
    'a=rtcp:9 IN IP4 0.0.0.0',
    '',
  ].join('\r\n');
  const kept = keepCandidatesOn(sdp, '127.0.0.1');
  t.notMatch(kept, /192\.0\.2\.2/);
  t.notMatch(kept, / tcp /);
  t.match(kept, /m=audio 5002 /);
  t.match(kept, /c=IN IP4 127\.0\.0\.1/);
  t.match(kept, /a=rtcp:5002 IN IP4 127\.0\.0\.1/);
  t.equal(localCandidateAddress(kept, '127.0.0.1'), 5002);
  t.equal(localCandidateAddress(kept, '10.0.0.1'), undefined);
});

t.test('ReceiveStatistics: loss across the sequence wrap and jitter (RFC 3550 A.3, A.8)', async (t) => {
  const stats = new ReceiveStatistics();
  // 20 ms packets at 8 kHz, perfectly paced: no jitter; 65534 → 3 with 1 missing
  const seqs = [65533, 65534, 65535, 0, 2, 3];
  seqs.forEach((seq) => stats.add(seq, 160 * ((seq - 65533 + 65536) % 65536), 20 * ((seq - 65533 + 65536) % 65536), 8000));
  t.equal(stats.packetsLost, 1, 'seq 1 is missing');
  t.equal(stats.jitterMs, 0, 'perfect pacing has no jitter');
  stats.add(4, 160 * 7, 20 * 7 + 16, 8000);
  t.ok(stats.jitterMs > 0.9 && stats.jitterMs < 1.1, `16 ms late gives J = 16/16 ms (${stats.jitterMs})`);
  t.equal(new ReceiveStatistics().packetsLost, 0);
});
