/**
 * Acceptance: a WebRTC peer (werift playing the browser: ICE, DTLS-SRTP, Opus) connects to an
 * engine WebRTC endpoint, and its audio reaches a plain RTP leg (PCMU phone) and back, through a
 * transcoding bridge.
 */
import t from 'tap';
import OpusScript from 'opusscript';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { LocalMediaEngine, dominantFrequency, toneAmplitude } from '../../../src/media/index.js';
import { RtpPeer, sleep } from '../../helpers/rtp-peer.js';

const RATE = 48000;
const FRAME = 960;

function browserPeer(): RTCPeerConnection {
  return new RTCPeerConnection({
    codecs: {
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 })],
      video: [],
    },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceUseIpv6: false,
  });
}

function rtpHeader(pt: number, seq: number, ts: number, ssrc: number): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = pt;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  return h;
}

t.test('browser (WebRTC, Opus) ↔ engine ↔ RTP phone (PCMU): tones cross both ways', async (t) => {
  const engine = new LocalMediaEngine({ bindAddress: '127.0.0.1', portMin: 30000 + Math.floor(Math.random() * 5000) * 2, portMax: 64000 });
  const browser = browserPeer();
  const phone = await RtpPeer.open({ codec: 'PCMU' });
  const encoder = new OpusScript(RATE, 1, OpusScript.Application.VOIP);
  const decoder = new OpusScript(RATE, 1, OpusScript.Application.VOIP);
  t.teardown(async () => {
    phone.close();
    await browser.close();
    await engine.close();
    encoder.delete();
    decoder.delete();
  });

  const transceiver = browser.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
  const heardByBrowser: Int16Array[] = [];
  browser.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((packet) => {
      const pcm = decoder.decode(Buffer.from(packet.payload));
      heardByBrowser.push(new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength)));
    });
  });
  await browser.setLocalDescription(await browser.createOffer());
  const offer = browser.localDescription?.sdp ?? '';
  const web = await engine.createEndpoint({ kind: 'webrtc', remoteSdp: offer });
  t.equal(web.codec, 'opus', 'the WebRTC leg speaks Opus');
  await browser.setRemoteDescription({ type: 'answer', sdp: web.localSdp });

  const rtp = await engine.createEndpoint({ kind: 'rtp', remoteSdp: phone.sdp() });
  phone.useRemoteSdp(rtp.localSdp);
  const bridge = await engine.bridge(web.id, rtp.id);
  t.equal(bridge.transcoding, true, 'Opus ↔ PCMU is transcoded');

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('browser did not connect')), 10_000);
    if (browser.connectionState === 'connected') return resolve();
    browser.connectionStateChange.subscribe((s) => {
      if (s === 'connected') {
        clearTimeout(timer);
        resolve();
      }
    });
  });

  // the browser talks (1 kHz) in real time; the phone talks (600 Hz)
  phone.startTone(600);
  const ssrc = transceiver.sender.ssrc;
  let n = 0;
  const until = performance.now() + 1500;
  let due = performance.now();
  while (performance.now() < until) {
    while (performance.now() >= due) {
      const pcm = Buffer.alloc(FRAME * 2);
      for (let i = 0; i < FRAME; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 1000 * (n * FRAME + i)) / RATE)), i * 2);
      transceiver.sender.sendRtp(Buffer.concat([rtpHeader(111, n, n * FRAME, ssrc), Buffer.from(encoder.encode(pcm, FRAME))])).catch(() => {});
      n++;
      due += 20;
    }
    await sleep(5);
  }
  phone.stop();
  await sleep(100);

  const atPhone = phone.recentAudio(600);
  t.ok(atPhone.length > 0, `the phone decoded ${atPhone.length} samples`);
  t.equal(dominantFrequency(atPhone, 8000, [600, 1000, 1400]).frequencyHz, 1000, 'the phone hears the browser');
  t.ok(toneAmplitude(atPhone, 1000, 8000) > 2000, 'loud enough');
  const all = heardByBrowser.slice(-30);
  const atBrowser = new Int16Array(all.reduce((k, c) => k + c.length, 0));
  let o = 0;
  for (const c of all) {
    atBrowser.set(c, o);
    o += c.length;
  }
  t.ok(atBrowser.length > 0, `the browser decoded ${atBrowser.length} samples`);
  t.equal(dominantFrequency(atBrowser, RATE, [600, 1000, 1400]).frequencyHz, 600, 'the browser hears the phone');
});
