/** Re-offers from the remote across one session (RFC 3264 §8): hold, unhold, legacy hold, codec and port change. */
import t from 'tap';
import type { MediaDirection } from '../../../../src/media/types.js';
import { LINE_ENDINGS, loadSdp, mLines, newSession, OUR_PORT, originVersion, sectionAttributes } from './helpers.js';

interface Step {
  offer: string;
  direction: MediaDirection;
  codec: string;
  payloadType: number;
  remote: string;
  ptimeMs: number;
  version: number;
}

const STEPS: Step[] = [
  { offer: 'baresip-offer.sdp', direction: 'sendrecv', codec: 'opus', payloadType: 116, remote: '192.0.2.10:10000', ptimeMs: 20, version: 0 },
  // a session refresh with nothing new: same answer, same version
  { offer: 'baresip-offer.sdp', direction: 'sendrecv', codec: 'opus', payloadType: 116, remote: '192.0.2.10:10000', ptimeMs: 20, version: 0 },
  { offer: 'baresip-hold.sdp', direction: 'recvonly', codec: 'opus', payloadType: 116, remote: '192.0.2.10:10000', ptimeMs: 20, version: 1 },
  { offer: 'baresip-unhold.sdp', direction: 'sendrecv', codec: 'opus', payloadType: 116, remote: '192.0.2.10:10000', ptimeMs: 20, version: 2 },
  { offer: 'legacy-hold.sdp', direction: 'recvonly', codec: 'opus', payloadType: 116, remote: '0.0.0.0:10000', ptimeMs: 20, version: 3 },
  { offer: 'baresip-unhold.sdp', direction: 'sendrecv', codec: 'opus', payloadType: 116, remote: '192.0.2.10:10000', ptimeMs: 20, version: 4 },
  { offer: 'baresip-reoffer-codec-port.sdp', direction: 'sendrecv', codec: 'PCMA', payloadType: 8, remote: '192.0.2.11:10002', ptimeMs: 30, version: 5 },
];

for (const eol of LINE_ENDINGS) {
  t.test(`baresip call: offer, refresh, hold, unhold, legacy hold, unhold, codec+port change [${eol}]`, async (t) => {
    const session = newSession();
    for (const [i, step] of STEPS.entries()) {
      const r = session.receiveOffer(loadSdp(step.offer, eol));
      if (!r.ok) {
        t.fail(`step ${i + 1} (${step.offer}) refused: ${r.reason}`);
        return;
      }
      const label = `step ${i + 1} ${step.offer}`;
      t.equal(r.stream.direction, step.direction, `${label}: direction`);
      t.equal(r.stream.codecs[0]?.name, step.codec, `${label}: codec`);
      t.equal(r.stream.codecs[0]?.payloadType, step.payloadType, `${label}: payload type`);
      t.equal(`${r.stream.remote.address}:${r.stream.remote.port}`, step.remote, `${label}: remote`);
      t.equal(r.stream.ptimeMs, step.ptimeMs, `${label}: ptime`);
      t.equal(r.stream.telephoneEvent?.payloadType, 101, `${label}: telephone-event`);
      t.equal(originVersion(r.answerSdp), step.version, `${label}: o= version`);
      t.match(r.answerSdp, /o=opencx 424242 /, `${label}: o= session id fixed`);
      t.ok(sectionAttributes(r.answerSdp, 0).includes(`a=${step.direction}`), `${label}: a=${step.direction}`);
      t.equal(mLines(r.answerSdp).length, 1, `${label}: one m= line`);
    }
  });
}

t.test('m= lines: a re-offer may add but not remove; added ones are rejected; the audio slot is fixed', async (t) => {
  const session = newSession();
  const multi = loadSdp('multi-stream.sdp');
  t.ok(session.receiveOffer(multi).ok);

  const fewer = session.receiveOffer(multi.replace(/m=application[^]*$/, ''));
  t.ok(!fewer.ok && fewer.status === 400, 're-offer dropping an m= line is 400');

  const more = session.receiveOffer(multi.replace('2890842807', '2890842808') + 'm=video 51400 RTP/AVP 100\na=rtpmap:100 VP8/90000\n');
  if (!more.ok) {
    t.fail(more.reason);
    return;
  }
  t.same(mLines(more.answerSdp), ['m=video 0 RTP/AVP 99', `m=audio ${OUR_PORT} RTP/AVP 0 8`, 'm=audio 0 RTP/AVP 9', 'm=application 0 TCP/BFCP *', 'm=video 0 RTP/AVP 100']);

  // the second audio line now offers our favourite codec: we still use the one we took first
  const swapped = session.receiveOffer(multi.replace('m=audio 49170 RTP/AVP 0 8', 'm=audio 49170 RTP/AVP 0').replace('a=rtpmap:8 PCMA/8000\n', '') + 'm=video 0 RTP/AVP 100\n');
  t.ok(swapped.ok && swapped.stream.remote.port === 49170 && mLines(swapped.answerSdp)[1] === `m=audio ${OUR_PORT} RTP/AVP 0`, 'audio stays on m= line 2');

  const replaced = session.receiveOffer(multi.replace('m=audio 49170 RTP/AVP 0 8', 'm=video 49170 RTP/AVP 0 8') + 'm=video 0 RTP/AVP 100\n');
  t.ok(!replaced.ok && replaced.status === 400, 'turning our audio line into video is refused');
});

t.test('the remote disables our stream in a re-offer: answered with port 0, stream inactive', async (t) => {
  const session = newSession();
  t.ok(session.receiveOffer(loadSdp('sbc-offer.sdp')).ok);
  const r = session.receiveOffer(loadSdp('sbc-offer.sdp').replace('1736852 1736852', '1736852 1736853').replace('m=audio 34560', 'm=audio 0'));
  if (!r.ok) {
    t.fail(r.reason);
    return;
  }
  t.same(mLines(r.answerSdp), ['m=audio 0 RTP/AVP 8 0'], 'port 0 in the answer too (RFC 3264 §8.2)');
  t.equal(r.stream.remote.port, 0);
  t.equal(r.stream.direction, 'inactive');
  t.equal(r.stream.remoteRtcp, undefined);
});

t.test('a re-offer that fails leaves the earlier agreement in place', async (t) => {
  const session = newSession();
  const first = session.receiveOffer(loadSdp('baresip-offer.sdp'));
  t.ok(first.ok);
  const bad = session.receiveOffer(loadSdp('g729-only.sdp'));
  t.ok(!bad.ok && bad.status === 488, 'G729-only re-offer is 488');
  t.same(session.stream, first.ok ? first.stream : undefined, 'stream unchanged');
  const again = session.receiveOffer(loadSdp('baresip-offer.sdp'));
  t.ok(again.ok && first.ok && again.answerSdp === first.answerSdp, 'same answer, same version as before the failed round');
});
