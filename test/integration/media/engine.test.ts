/**
 * The local media engine end to end on loopback: real UDP phones (RtpPeer) negotiate with it by
 * SDP, and the audio they hear is checked by frequency and level.
 */
import t, { type Test } from 'tap';
import { LocalMediaEngine, Rfc4733Sender, toneAmplitude, dominantFrequency, type MediaEvent, type CodecName } from '../../../src/media/index.js';
import { decodeWavChannels } from '../../../src/media/wav/index.js';
import { LocalBlobStore } from '../../../src/platform/index.js';
import { RtpPeer, sleep } from '../../helpers/rtp-peer.js';
import { withEngine as withTestEngine } from './engine-helpers.js';

/** every engine here can record (a spool and a blob store in a temporary folder) */
const withEngine = (t: Test, fn: (engine: LocalMediaEngine, events: MediaEvent[]) => Promise<void>): Promise<void> => withTestEngine(t, fn, { storage: true });

const CANDIDATES = [400, 600, 700, 1000, 1100, 1400];

/** Peer A offers, the engine answers; the engine offers to B, B answers. */
async function twoLegs(engine: LocalMediaEngine, a: RtpPeer, b: RtpPeer): Promise<{ legA: string; legB: string }> {
  const legA = await engine.createEndpoint({ kind: 'rtp', remoteSdp: a.sdp() });
  a.useRemoteSdp(legA.localSdp);
  const legB = await engine.createEndpoint({ kind: 'rtp' });
  b.useRemoteSdp(legB.localSdp);
  await engine.updateEndpoint(legB.id, { remoteSdp: b.sdp() });
  return { legA: legA.id, legB: legB.id };
}

function peak(samples: Int16Array, rate: number, hz: number): number {
  return toneAmplitude(samples, hz, rate);
}

t.test('a bridge of two PCMU legs relays without transcoding; the tone crosses both ways', async (t) => {
  await withEngine(t, async (engine) => {
    const a = await RtpPeer.open({ codec: 'PCMU' });
    const b = await RtpPeer.open({ codec: 'PCMU' });
    const { legA, legB } = await twoLegs(engine, a, b);
    const bridge = await engine.bridge(legA, legB);
    t.equal(bridge.transcoding, false, 'same codec: relay');
    a.startTone(600);
    b.startTone(1000);
    await sleep(800);
    a.stop();
    b.stop();
    await sleep(60);
    t.ok(b.received.length > 25, `B received ${b.received.length} packets`);
    t.ok(a.received.length > 25, `A received ${a.received.length} packets`);
    const atB = b.recentAudio(400);
    const atA = a.recentAudio(400);
    t.equal(dominantFrequency(atB, 8000, CANDIDATES).frequencyHz, 600, 'B hears A');
    t.equal(dominantFrequency(atA, 8000, CANDIDATES).frequencyHz, 1000, 'A hears B');
    a.close();
    b.close();
  });
});

for (const [from, to] of [
  ['PCMU', 'PCMA'],
  ['PCMU', 'G722'],
  ['PCMA', 'opus'],
  ['G722', 'opus'],
] as [CodecName, CodecName][]) {
  t.test(`${from} ↔ ${to} bridge transcodes a 1 kHz tone at its level`, async (t) => {
    await withEngine(t, async (engine) => {
      const a = await RtpPeer.open({ codec: from });
      const b = await RtpPeer.open({ codec: to, ...(to === 'opus' ? { payloadType: 111 } : {}) });
      const { legA, legB } = await twoLegs(engine, a, b);
      const bridge = await engine.bridge(legA, legB);
      t.equal(bridge.transcoding, true, 'different codecs: transcoding');
      a.startTone(1000, -12);
      b.startTone(1000, -12);
      await sleep(1000);
      a.stop();
      b.stop();
      await sleep(100);
      const expected = 32767 * Math.pow(10, -12 / 20);
      for (const [peer, name] of [[b, `${to} side`], [a, `${from} side`]] as [RtpPeer, string][]) {
        const rate = peer.codec === 'opus' ? 48000 : peer.codec === 'G722' ? 16000 : 8000;
        const audio = peer.recentAudio(400);
        t.ok(audio.length > rate / 10, `${name} decoded ${audio.length} samples`);
        const amp = peak(audio, rate, 1000);
        const db = 20 * Math.log10(amp / expected);
        t.ok(Math.abs(db) < 3, `${name}: 1 kHz at ${db.toFixed(2)} dB of what was sent`);
        t.equal(dominantFrequency(audio, rate, [500, 1000, 2000, 3000]).frequencyHz, 1000, `${name}: 1 kHz dominates`);
      }
      a.close();
      b.close();
    });
  });
}

t.test('three-party conference: each hears the other two and not itself', async (t) => {
  await withEngine(t, async (engine) => {
    const tones = [400, 700, 1100];
    const peers = await Promise.all(tones.map(() => RtpPeer.open({ codec: 'PCMU' })));
    const { conferenceId } = await engine.createConference();
    for (const p of peers) {
      const ep = await engine.createEndpoint({ kind: 'rtp', remoteSdp: p.sdp() });
      p.useRemoteSdp(ep.localSdp);
      await engine.joinConference(conferenceId, ep.id);
    }
    peers.forEach((p, i) => p.startTone(tones[i] as number, -14));
    await sleep(1200);
    for (const p of peers) p.stop();
    await sleep(60);
    peers.forEach((p, i) => {
      const audio = p.recentAudio(500);
      const own = peak(audio, 8000, tones[i] as number);
      for (const [j, f] of tones.entries()) {
        if (j === i) continue;
        const other = peak(audio, 8000, f);
        t.ok(other > 1000, `party ${i} hears ${f} Hz (amplitude ${other.toFixed(0)})`);
        t.ok(other / Math.max(own, 1) > 30, `party ${i}: own ${tones[i]} Hz is ${(20 * Math.log10(other / Math.max(own, 1))).toFixed(0)} dB below the others`);
      }
    });
    await engine.deleteConference(conferenceId);
    for (const p of peers) p.close();
  });
});

t.test('play a tone to a leg, then RFC 4733 digits from the phone barge in', async (t) => {
  await withEngine(t, async (engine, events) => {
    const a = await RtpPeer.open({ codec: 'PCMU', telephoneEventPt: 101 });
    const ep = await engine.createEndpoint({ kind: 'rtp', remoteSdp: a.sdp() });
    a.useRemoteSdp(ep.localSdp);
    const { playId } = await engine.play({ endpointId: ep.id, items: [{ kind: 'tone', frequenciesHz: [440], durationMs: 5000 }], bargeIn: true });
    await sleep(500);
    t.equal(dominantFrequency(a.recentAudio(300), 8000, [440, 600, 1000]).frequencyHz, 440, 'the phone hears the prompt');
    // the phone presses 5: RFC 4733 packets in real time
    const sender = new Rfc4733Sender({ referenceTimestamp: a.currentTimestamp, referenceMs: performance.now(), packetIntervalMs: 20 });
    sender.enqueue('5', 100);
    const until = performance.now() + 400;
    while (performance.now() < until) {
      for (const p of sender.tick(performance.now())) a.sendPayload(101, p.payload, p.marker, p.timestamp);
      await sleep(10);
    }
    await sleep(100);
    const dtmf = events.filter((e) => e.type === 'dtmf');
    t.same(dtmf.map((e) => (e.type === 'dtmf' ? e.digit : '')), ['5'], 'one digit 5, reported once despite 3 end packets');
    const done = events.find((e) => e.type === 'play.done');
    t.match(done, { type: 'play.done', playId, reason: 'barge-in' }, 'the digit stopped the prompt');
    a.close();
  });
});

t.test('the engine sends RFC 4733 digits that a receiver decodes', async (t) => {
  await withEngine(t, async (engine) => {
    const a = await RtpPeer.open({ codec: 'PCMU', telephoneEventPt: 101 });
    const ep = await engine.createEndpoint({ kind: 'rtp', remoteSdp: a.sdp() });
    a.useRemoteSdp(ep.localSdp);
    await engine.sendDtmf(ep.id, '19#', 80);
    await sleep(1000);
    const { Rfc4733Receiver } = await import('../../../src/media/index.js');
    const rx = new Rfc4733Receiver();
    const digits: string[] = [];
    for (const p of a.received.filter((p) => p.payloadType === 101)) {
      for (const e of rx.receive({ payload: p.payload, timestamp: p.timestamp, marker: p.marker, arrivalMs: 0 })) digits.push(e.digit);
    }
    for (const e of rx.flush()) digits.push(e.digit);
    t.same(digits, ['1', '9', '#']);
    a.close();
  });
});

t.test('a stereo recording of a bridge holds one party per channel', async (t) => {
  await withEngine(t, async (engine, events) => {
    const a = await RtpPeer.open({ codec: 'PCMU' });
    const b = await RtpPeer.open({ codec: 'PCMA' });
    const { legA, legB } = await twoLegs(engine, a, b);
    const { bridgeId } = await engine.bridge(legA, legB);
    const { recordingId, key } = await engine.record({ target: { bridgeId }, channels: 2 });
    a.startTone(600);
    b.startTone(1000);
    await sleep(1200);
    await engine.stopRecord(recordingId);
    a.stop();
    b.stop();
    const done = events.find((e) => e.type === 'record.done');
    t.match(done, { type: 'record.done', recordingId, key, reason: 'stopped' });
    const blobs = (engine as unknown as { options: { blobs: LocalBlobStore } }).options.blobs;
    const wav = decodeWavChannels(await blobs.get(key));
    t.ok(wav.ok, 'a valid WAV');
    if (wav.ok) {
      t.equal(wav.format.channels, 2);
      const [left, right] = wav.channels as [Int16Array, Int16Array];
      t.ok(left.length > 8000 * 0.8, `${(left.length / 8).toFixed(0)} ms recorded`);
      const tail = (x: Int16Array): Int16Array => x.subarray(x.length - 4000);
      t.equal(dominantFrequency(tail(left), 8000, CANDIDATES).frequencyHz, 600, 'left channel: party A');
      t.equal(dominantFrequency(tail(right), 8000, CANDIDATES).frequencyHz, 1000, 'right channel: party B');
    }
    a.close();
    b.close();
  });
});

t.test('bad input gets clear errors: no common codec → 488, garbage SDP → 400, unknown id → 404', async (t) => {
  await withEngine(t, async (engine) => {
    const g729 = 'v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n';
    t.match(await engine.createEndpoint({ kind: 'rtp', remoteSdp: g729 }).catch((e: unknown) => e), { name: 'InvalidInputError', sipStatus: 488 });
    t.match(await engine.createEndpoint({ kind: 'rtp', remoteSdp: 'not sdp at all' }).catch((e: unknown) => e), { name: 'InvalidInputError', sipStatus: 400 });
    t.match(await engine.play({ endpointId: 'nope', items: [] }).catch((e: unknown) => e), { name: 'NotFoundError' });
    t.equal(engine.allocator.inUse(), 0, 'the refused offers left no ports behind');
  });
});

t.test('the port range running out is a clear 503-class error, not a crash', async (t) => {
  const min = 41000 + Math.floor(Math.random() * 2000) * 2;
  const small = new LocalMediaEngine({ bindAddress: '127.0.0.1', portMin: min, portMax: min + 3 });
  const made: string[] = [];
  let error: unknown;
  for (let i = 0; i < 5 && error === undefined; i++) {
    try {
      made.push((await small.createEndpoint({ kind: 'rtp' })).id);
    } catch (err) {
      error = err;
    }
  }
  t.ok(made.length >= 1 && made.length <= 2, `${made.length} endpoints fit in 4 ports`);
  t.match(error, { name: 'MediaPortsExhaustedError' });
  await small.close();
  t.equal(small.allocator.inUse(), 0);
});

t.test('in-band DTMF: a generated WAV of all 16 digits sent by a phone without telephone-event is detected', async (t) => {
  const { encodeWav, parseWav, generateTone, DTMF_FREQUENCIES } = await import('../../../src/media/index.js');
  await withEngine(t, async (engine, events) => {
    // the WAV: 16 digits, 120 ms tone and 80 ms silence each, -14 dBFS per tone (Q.24 asks for 40 ms;
    // the margin keeps a loaded test machine's late packets from splitting a tone)
    const parts: Int16Array[] = [];
    for (const d of '123A456B789C*0#D') {
      parts.push(generateTone({ frequenciesHz: DTMF_FREQUENCIES[d] as readonly number[], levelDbfs: -14 }, 8000, 120));
      parts.push(new Int16Array(640));
    }
    const pcm = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      pcm.set(p, o);
      o += p.length;
    }
    const wav = parseWav(encodeWav(pcm, { sampleRate: 8000 }));
    t.ok(wav.ok, 'the generated WAV parses');
    if (!wav.ok) return;
    const a = await RtpPeer.open({ codec: 'PCMU' });
    const ep = await engine.createEndpoint({ kind: 'rtp', remoteSdp: a.sdp() });
    a.useRemoteSdp(ep.localSdp);
    await engine.detectInbandDtmf(ep.id, true);
    let pos = 0;
    a.startFrames(() => {
      const frame = new Int16Array(160);
      frame.set(wav.samples.subarray(pos, pos + 160));
      pos += 160;
      return frame;
    });
    await sleep((wav.samples.length / 8000) * 1000 + 600);
    a.stop();
    const digits = events.flatMap((e) => (e.type === 'dtmf' ? [e.digit] : [])).join('');
    t.equal(digits, '123A456B789C*0#D', 'all 16 digits, in order, nothing else');
    t.ok(events.every((e) => e.type !== 'dtmf' || e.source === 'inband'), 'reported as in-band');
    a.close();
  });
});
