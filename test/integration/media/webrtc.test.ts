// A werift RTCPeerConnection plays the browser; our WebRtcTransport answers its offer. Opus
// frames of a 1 kHz tone go both ways over ICE + DTLS-SRTP on loopback, and both ends close
// without leaving handles behind (the test process has to exit by itself).
import t from 'tap';
import OpusScript from 'opusscript';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, type RTCRtpTransceiver } from 'werift';
import { WebRtcTransport } from '../../../src/media/webrtc/index.js';
import { dominantFrequency, toneAmplitude } from '../../../src/media/dsp/goertzel.js';
import type { RtpPacket } from '../../../src/media/types.js';
import { FakeScheduler } from '../../../src/lib/clock.js';

const SAMPLE_RATE = 48000;
const FRAME = 960; // 20 ms at 48 kHz (RFC 7587 §4.2)
const FRAMES = 25;

/** Opus frames of a 1 kHz sine, mono, encoded with opusscript */
function opusTone(frames: number, frequencyHz: number): Buffer[] {
  const encoder = new OpusScript(SAMPLE_RATE, 1, OpusScript.Application.VOIP);
  const out: Buffer[] = [];
  try {
    for (let f = 0; f < frames; f++) {
      const pcm = Buffer.alloc(FRAME * 2);
      for (let i = 0; i < FRAME; i++) {
        const n = f * FRAME + i;
        pcm.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * frequencyHz * n) / SAMPLE_RATE)), i * 2);
      }
      out.push(Buffer.from(encoder.encode(pcm, FRAME)));
    }
  } finally {
    encoder.delete();
  }
  return out;
}

/** decode payloads in order and return all samples (skipping the first frames while the decoder settles) */
function decodeOpus(payloads: Uint8Array[]): Int16Array {
  const decoder = new OpusScript(SAMPLE_RATE, 1, OpusScript.Application.VOIP);
  const chunks: Int16Array[] = [];
  try {
    for (const payload of payloads) {
      const pcm = decoder.decode(Buffer.from(payload));
      chunks.push(new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength)));
    }
  } finally {
    decoder.delete();
  }
  const settled = chunks.slice(3);
  const all = new Int16Array(settled.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of settled) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

function browserPeer(): RTCPeerConnection {
  return new RTCPeerConnection({
    codecs: {
      audio: [
        new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 109 }),
        new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 }),
        new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: 8000, channels: 1, payloadType: 126 }),
      ],
      video: [new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, payloadType: 96 })],
    },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceUseIpv6: false,
  });
}

function waitFor<T>(what: string, register: (done: (value: T) => void) => void, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

t.test('a werift "browser" and our WebRtcTransport exchange Opus over DTLS-SRTP', async (t) => {
  const browser = browserPeer();
  t.teardown(() => browser.close());
  const track = new MediaStreamTrack({ kind: 'audio' });
  const browserTransceiver: RTCRtpTransceiver = browser.addTransceiver(track, { direction: 'sendrecv' });
  const offer = await browser.createOffer();
  await browser.setLocalDescription(offer);
  const offerSdp = browser.localDescription?.sdp;
  if (offerSdp === undefined) return t.fail('no offer');

  const { transport, localSdp } = await WebRtcTransport.answer({ remoteOfferSdp: offerSdp, bindAddress: '127.0.0.1' });
  t.teardown(() => transport.close());
  t.equal(transport.kind, 'webrtc');
  t.match(localSdp, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/, 'answer carries a host candidate on 127.0.0.1');
  t.notMatch(localSdp, /a=candidate:(?![^\r\n]* 127\.0\.0\.1 )/, 'no candidate on another interface');
  t.match(localSdp, /a=ice-lite/, 'we answer as ICE-lite (RFC 8445 §2.5)');
  t.match(localSdp, /a=rtpmap:109 opus\/48000\/2/i, 'Opus with the offer’s payload type');
  t.match(localSdp, /a=rtpmap:0 PCMU\/8000/, 'PCMU as offered');
  t.match(localSdp, /a=rtpmap:126 telephone-event\/8000/, 'RFC 4733 telephone-event as offered');
  t.match(localSdp, /a=fingerprint:sha-256 /, 'DTLS fingerprint (RFC 8122)');
  t.match(localSdp, /a=setup:(active|passive)/, 'answerer picks a DTLS role (RFC 5763 §5)');
  t.comment(`our DTLS role: ${/a=setup:(\w+)/.exec(localSdp)?.[1]}`);
  t.equal(transport.local.address, '127.0.0.1');
  t.ok(transport.local.port > 0, 'local port known from the candidate');
  t.match(localSdp, new RegExp(`m=audio ${transport.local.port} UDP/TLS/RTP/SAVPF`), 'm= line names the candidate port');

  const received: RtpPacket[] = [];
  const gotAll = waitFor<void>('our transport to receive the tone', (done) => {
    transport.on('rtp', (packet, from) => {
      if (from.address !== '127.0.0.1') t.fail(`RTP from ${from.address}`);
      received.push(packet);
      if (received.length === FRAMES) done();
    });
  });
  const browserReceived: { payloadType: number; sequenceNumber: number; timestamp: number; marker: boolean; payload: Buffer }[] = [];
  let onBrowserPacket = () => {};
  browser.onTrack.subscribe((remoteTrack) => {
    remoteTrack.onReceiveRtp.subscribe((packet) => {
      const { payloadType, sequenceNumber, timestamp, marker } = packet.header;
      browserReceived.push({ payloadType, sequenceNumber, timestamp, marker, payload: Buffer.from(packet.payload) });
      onBrowserPacket();
    });
  });
  const browserGotAll = waitFor<void>('the browser to receive our tone', (done) => {
    onBrowserPacket = () => browserReceived.length === FRAMES && done();
  });

  await browser.setRemoteDescription({ type: 'answer', sdp: localSdp });
  await transport.waitConnected(10_000);
  t.equal(transport.connectionState, 'connected');
  await waitFor<void>('the browser side to connect', (done) => {
    if (browser.connectionState === 'connected') return done();
    browser.connectionStateChange.subscribe((state) => state === 'connected' && done());
  });
  t.ok(transport.remote, 'remote address known after ICE');

  // browser → us: a werift track writes RTP through its sender
  const frames = opusTone(FRAMES, 1000);
  const ssrc = browserTransceiver.sender.ssrc;
  for (let i = 0; i < FRAMES; i++) {
    const packetTimestamp = 1000 + i * FRAME;
    browserTransceiver.sender.sendRtp(
      Buffer.concat([rtpHeader({ payloadType: 109, sequenceNumber: 500 + i, timestamp: packetTimestamp, ssrc, marker: i === 0 }), frames[i]!]),
    ).catch(() => {});
    await new Promise((r) => setTimeout(r, 5));
  }
  await gotAll;
  t.equal(received[0]!.payloadType, 109, 'payload type as sent');
  t.equal(received[0]!.marker, true, 'marker as sent');
  t.equal(received[3]!.timestamp, 1000 + 3 * FRAME, 'timestamp as sent');
  t.equal(received[0]!.ssrc, ssrc, 'the browser’s SSRC');
  t.same(
    received.map((p) => p.sequenceNumber),
    Array.from({ length: FRAMES }, (_, i) => 500 + i),
    'all sequence numbers in order',
  );
  const heard = decodeOpus(received.map((p) => p.payload));
  t.ok(toneAmplitude(heard, 1000, SAMPLE_RATE) > 3000, 'a loud 1 kHz tone arrived');
  t.equal(dominantFrequency(heard, SAMPLE_RATE, [400, 700, 1000, 1400, 2000]).frequencyHz, 1000, 'dominant frequency is 1 kHz');

  // us → browser: keep PT, sequence numbers and timestamps as the engine gives them
  for (let i = 0; i < FRAMES; i++) {
    transport.sendRtp({
      marker: i === 0,
      payloadType: 109,
      sequenceNumber: 65530 + i, // crosses the 16-bit wrap on purpose
      timestamp: 4_000_000_000 + i * FRAME,
      ssrc: 1234,
      csrcs: [],
      payload: frames[i]!,
    });
    await new Promise((r) => setTimeout(r, 5));
  }
  await browserGotAll;
  t.same([...new Set(browserReceived.map((p) => p.payloadType))], [109], 'browser saw our payload type');
  t.same(
    browserReceived.map((p) => p.sequenceNumber),
    Array.from({ length: FRAMES }, (_, i) => (65530 + i) & 0xffff),
    'sequence numbers as we gave them, across the wrap',
  );
  t.same(
    browserReceived.map((p) => p.timestamp),
    Array.from({ length: FRAMES }, (_, i) => (4_000_000_000 + i * FRAME) >>> 0),
    'timestamps as we gave them',
  );
  t.equal(browserReceived[0]!.marker, true, 'marker as we gave it');
  const browserHeard = decodeOpus(browserReceived.map((p) => p.payload));
  t.ok(toneAmplitude(browserHeard, 1000, SAMPLE_RATE) > 3000, 'the browser heard a loud 1 kHz tone');
  t.equal(dominantFrequency(browserHeard, SAMPLE_RATE, [400, 700, 1000, 1400, 2000]).frequencyHz, 1000);

  // PCMU was offered too: a packet of another negotiated type keeps its payload type
  const pcmuArrived = waitFor<void>('the browser to receive PCMU', (done) => {
    onBrowserPacket = () => browserReceived.at(-1)?.payloadType === 0 && done();
  });
  transport.sendRtp({ marker: false, payloadType: 0, sequenceNumber: 7, timestamp: 160, ssrc: 1, csrcs: [], payload: new Uint8Array(160).fill(0xff) });
  await pcmuArrived;
  t.equal(browserReceived.at(-1)!.sequenceNumber, 7);
  t.equal(browserReceived.at(-1)!.payload.length, 160);

  // RTCP goes over SRTCP too: a receiver report (RFC 3550 §6.4.2) about the browser's stream
  const rtcpArrived = waitFor<number>('the browser to receive our RTCP', (done) => {
    // werift sends its own receiver reports too: look for ours by its SSRC
    browserTransceiver.dtlsTransport.onRtcp.subscribe((packet) => packet.type === 201 && 'ssrc' in packet && packet.ssrc === 0x1234 && done(packet.type));
  });
  const rr = Buffer.alloc(32);
  rr[0] = 0x81;
  rr[1] = 201;
  rr.writeUInt16BE(7, 2);
  rr.writeUInt32BE(0x1234, 4);
  rr.writeUInt32BE(ssrc, 8);
  transport.sendRtcp(rr);
  t.equal(await rtcpArrived, 201, 'receiver report arrived');

  const stats = transport.stats();
  t.equal(stats.packetsReceived, FRAMES);
  t.equal(stats.packetsSent, FRAMES + 1);
  t.equal(stats.packetsLost, 0);
  t.ok(stats.jitterMs >= 0);

  transport.close();
  transport.close();
  t.equal(transport.connectionState, 'closed', 'close is idempotent and leaves a queryable state');
  transport.sendRtp({ marker: false, payloadType: 109, sequenceNumber: 1, timestamp: 1, ssrc: 1, csrcs: [], payload: frames[0]! });
  t.equal(transport.stats().packetsSent, FRAMES + 1, 'sending after close is a no-op');
  await browser.close();
});

t.test('a bad offer is refused with an error, not a crash', async (t) => {
  await t.rejects(WebRtcTransport.answer({ remoteOfferSdp: 'v=0\r\nthis is not sdp', bindAddress: '127.0.0.1' }), { name: 'InvalidInputError' });
});

t.test('offer/acceptAnswer with a werift answerer', async (t) => {
  const { transport, localSdp } = await WebRtcTransport.offer({ bindAddress: '127.0.0.1' });
  t.teardown(() => transport.close());
  t.match(localSdp, /a=setup:actpass/, 'offer leaves the DTLS role to the answerer (RFC 5763 §5)');
  t.match(localSdp, /a=rtpmap:111 opus\/48000\/2/);

  const answerer = browserPeer();
  t.teardown(() => answerer.close());
  await answerer.setRemoteDescription({ type: 'offer', sdp: localSdp });
  const answer = await answerer.createAnswer();
  await answerer.setLocalDescription(answer);
  const answerSdp = answerer.localDescription?.sdp;
  if (answerSdp === undefined) return t.fail('no answer');
  await transport.acceptAnswer(answerSdp);
  await transport.waitConnected(10_000);
  t.equal(transport.connectionState, 'connected');
  // close only once the answerer's DTLS is done too: werift keeps retransmitting an unanswered
  // handshake flight (up to ~33 s of timers) even after close()
  await waitFor<void>('the answerer to connect', (done) => {
    if (answerer.connectionState === 'connected') return done();
    answerer.connectionStateChange.subscribe((state) => state === 'connected' && done());
  });
  await answerer.close();
  transport.close();
});

t.test('a DTLS fingerprint mismatch ends in state failed and an error event', async (t) => {
  const browser = browserPeer();
  t.teardown(() => browser.close());
  browser.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
  await browser.setLocalDescription(await browser.createOffer());
  const offerSdp = browser.localDescription?.sdp;
  if (offerSdp === undefined) return t.fail('no offer');
  // RFC 8122 §5: the certificate must match the fingerprint in the SDP; break the match
  const forged = offerSdp.replace(/(a=fingerprint:sha-256 )([0-9A-F]{2})/i, (_m, prefix: string, first: string) => `${prefix}${first.toUpperCase() === '00' ? '11' : '00'}`);
  t.not(forged, offerSdp);
  const { transport, localSdp } = await WebRtcTransport.answer({ remoteOfferSdp: forged, bindAddress: '127.0.0.1' });
  t.teardown(() => transport.close());
  const errors: Error[] = [];
  transport.on('error', (err) => errors.push(err));
  await browser.setRemoteDescription({ type: 'answer', sdp: localSdp });
  await t.rejects(transport.waitConnected(20_000), { name: 'UnavailableError' });
  t.equal(transport.connectionState, 'failed');
  t.ok(errors.length >= 1, 'an error event');
  transport.close();
  await browser.close();
});

t.test('video and data channel in the offer are rejected with port 0 in the answer', async (t) => {
  // werift as the far end cannot apply an answer with rejected m-sections (it fails ICE on them
  // and leaks their sockets), so this checks the answer's shape only; a real browser connects
  const browser = browserPeer();
  t.teardown(() => browser.close());
  const audio = browser.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
  browser.addTransceiver('video', { direction: 'sendrecv' });
  browser.createDataChannel('chat');
  await browser.setLocalDescription(await browser.createOffer());
  const { transport, localSdp } = await WebRtcTransport.answer({ remoteOfferSdp: browser.localDescription!.sdp, bindAddress: '127.0.0.1' });
  t.teardown(() => transport.close());
  const mLines = localSdp.split('\r\n').filter((l) => l.startsWith('m='));
  t.equal(mLines.length, 3, 'one m-section per offered one (RFC 3264 §6)');
  t.match(mLines[0], new RegExp(`^m=audio ${transport.local.port} `), 'audio accepted');
  t.match(mLines[1], /^m=video 0 UDP\/TLS\/RTP\/SAVPF 96$/, 'video rejected with the offered format');
  t.match(mLines[2], /^m=application 0 /, 'data channel rejected');
  t.match(localSdp, new RegExp(`a=group:BUNDLE ${audio.mid}\r\n`), 'only audio in the BUNDLE group (RFC 8843 §7.3.3)');
  transport.close();
});

t.test('no RTP for rtpTimeoutMs after connecting → timeout (fake time)', async (t) => {
  const scheduler = new FakeScheduler();
  const browser = browserPeer();
  t.teardown(() => browser.close());
  browser.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
  await browser.setLocalDescription(await browser.createOffer());
  const { transport, localSdp } = await WebRtcTransport.answer({ remoteOfferSdp: browser.localDescription!.sdp, bindAddress: '127.0.0.1', scheduler, rtpTimeoutMs: 5000 });
  t.teardown(() => transport.close());
  let timeouts = 0;
  transport.on('timeout', () => timeouts++);
  await browser.setRemoteDescription({ type: 'answer', sdp: localSdp });
  await transport.waitConnected();
  await waitFor<void>('the browser side to connect', (done) => {
    if (browser.connectionState === 'connected') return done();
    browser.connectionStateChange.subscribe((state) => state === 'connected' && done());
  });
  scheduler.advance(4999);
  t.equal(timeouts, 0, 'not before the timeout');
  scheduler.advance(1);
  t.equal(timeouts, 1, 'timeout once');
  scheduler.advance(20_000);
  t.equal(timeouts, 1, 'and only once until RTP flows again');
  transport.close();
  t.equal(scheduler.pending, 0, 'close cancels our timers');
  await browser.close();
});

function rtpHeader(h: { payloadType: number; sequenceNumber: number; timestamp: number; ssrc: number; marker: boolean }): Buffer {
  const b = Buffer.alloc(12);
  b[0] = 0x80;
  b[1] = (h.marker ? 0x80 : 0) | h.payloadType;
  b.writeUInt16BE(h.sequenceNumber, 2);
  b.writeUInt32BE(h.timestamp >>> 0, 4);
  b.writeUInt32BE(h.ssrc >>> 0, 8);
  return b;
}
