import t from 'tap';
import OpusScript from 'opusscript';
import { OpusDecoder, OpusEncoder, opusFrameSize, opusHeapBytes } from '../../../../src/media/codec/opus.js';
import { levelDbfs } from '../../../../src/media/dsp/goertzel.js';
import { concat, dominant, gainDb, roundTrip, settled, tone } from './helpers.js';

t.test('round trip keeps a 1 kHz tone at 48 kHz', async (t) => {
  const input = tone(1000, 48000);
  const output = roundTrip(new OpusEncoder(), new OpusDecoder(), input);
  t.equal(output.length, input.length, '20 ms in, 20 ms out');
  const gain = gainDb(input, 48000, output, 48000, 1000);
  t.ok(Math.abs(gain) < 3, `gain ${gain.toFixed(2)} dB`);
  const d = dominant(output, 48000);
  t.equal(d.frequencyHz, 1000);
  t.ok(d.share > 0.95, `share ${d.share.toFixed(4)}`);
});

t.test('info follows RFC 7587: opus/48000/2, RTP clock 48000', async (t) => {
  const encoder = new OpusEncoder();
  t.equal(encoder.info.sdpName, 'opus');
  t.equal(encoder.info.rtpClockRate, 48000);
  t.equal(encoder.info.sdpChannels, 2);
  encoder.close();
});

t.test('a stereo packet (opus/48000/2 from a browser) decodes to mono (RFC 7587 §3.4)', async (t) => {
  // an independent stereo encoder: opusscript's own class, used once so its heap views stay valid
  const stereo = new OpusScript(48000, 2, OpusScript.Application.AUDIO);
  const mono = tone(1000, 48000, -10, 20);
  const decoder = new OpusDecoder();
  const frames: Int16Array[] = [];
  for (let i = 0; i < 25; i++) {
    const interleaved = new Int16Array(1920);
    for (let k = 0; k < 960; k++) interleaved[2 * k] = interleaved[2 * k + 1] = mono[k] as number;
    const packet = stereo.encode(Buffer.from(interleaved.buffer), 960);
    frames.push(decoder.decode(new Uint8Array(packet)));
  }
  stereo.delete();
  decoder.close();
  t.ok(frames.every((f) => f.length === 960), 'one channel of 960 samples per packet');
  const output = concat(frames);
  t.equal(dominant(output, 48000).frequencyHz, 1000);
  const gain = gainDb(concat(Array.from({ length: 25 }, () => mono)), 48000, output, 48000, 1000);
  t.ok(Math.abs(gain) < 3, `gain ${gain.toFixed(2)} dB`);
});

t.test('frame sizes: valid ones kept, others padded up or truncated to 60 ms', async (t) => {
  t.equal(opusFrameSize(960), 960);
  t.equal(opusFrameSize(480), 480);
  t.equal(opusFrameSize(900), 960);
  t.equal(opusFrameSize(1), 120);
  t.equal(opusFrameSize(0), 120);
  t.equal(opusFrameSize(2000), 2880);
  t.equal(opusFrameSize(10000), 2880);
  const encoder = new OpusEncoder();
  const decoder = new OpusDecoder();
  t.equal(decoder.decode(encoder.encode(new Int16Array(900))).length, 960, 'padded to 20 ms');
  t.equal(decoder.decode(encoder.encode(new Int16Array(10000))).length, 2880, 'truncated to 60 ms');
  t.equal(decoder.decode(encoder.encode(new Int16Array(0))).length, 120, 'empty: 2.5 ms of silence');
  encoder.close();
  decoder.close();
});

t.test('many instances at once: heap growth does not break earlier ones', async (t) => {
  const first = new OpusEncoder();
  const firstDecoder = new OpusDecoder();
  const others: Array<OpusEncoder | OpusDecoder> = [];
  for (let i = 0; i < 150; i++) others.push(new OpusEncoder(), new OpusDecoder());
  const input = tone(1000, 48000, -10, 400);
  const output = roundTrip(first, firstDecoder, input);
  t.ok(Math.abs(gainDb(input, 48000, output, 48000, 1000)) < 3);
  for (const o of others) o.close();
});

t.test('close() frees the WASM memory: create/close cycles do not grow the heap', async (t) => {
  const cycle = (): void => {
    const encoder = new OpusEncoder();
    const decoder = new OpusDecoder();
    decoder.decode(encoder.encode(new Int16Array(960)));
    encoder.close();
    decoder.close();
  };
  for (let i = 0; i < 20; i++) cycle();
  const before = opusHeapBytes();
  // each pair holds well over 50 kB of libopus state and buffers: 400 leaked pairs would be > 20 MB
  for (let i = 0; i < 400; i++) cycle();
  t.equal(opusHeapBytes(), before, `heap stays at ${before} bytes`);
});

t.test('concealment uses the decoder PLC and fades', async (t) => {
  const encoder = new OpusEncoder();
  const decoder = new OpusDecoder();
  t.equal(decoder.conceal(960).length, 960, 'before any packet: still the requested length');
  const frames: Int16Array[] = [];
  for (let i = 0; i < 25; i++) frames.push(decoder.decode(encoder.encode(tone(1000, 48000, -10, 20))));
  const heard = levelDbfs(settled(concat(frames)));
  const lost: Int16Array[] = [];
  for (let i = 0; i < 15; i++) lost.push(decoder.conceal(960));
  t.ok(lost.every((f) => f.length === 960));
  t.ok(levelDbfs(lost[0]!) > heard - 10, `first concealed frame at ${levelDbfs(lost[0]!).toFixed(1)} dBFS (heard ${heard.toFixed(1)})`);
  t.ok(levelDbfs(lost[14]!) < levelDbfs(lost[0]!) - 10, `fades: 300 ms later at ${levelDbfs(lost[14]!).toFixed(1)} dBFS`);
  // decoding goes on normally after the loss
  const after: Int16Array[] = [];
  for (let i = 0; i < 25; i++) after.push(decoder.decode(encoder.encode(tone(1000, 48000, -10, 20))));
  t.equal(dominant(concat(after), 48000).frequencyHz, 1000);
  encoder.close();
  decoder.close();
});

t.test('close is idempotent and later calls are harmless', async (t) => {
  const encoder = new OpusEncoder();
  const decoder = new OpusDecoder();
  const packet = encoder.encode(new Int16Array(960));
  encoder.close();
  encoder.close();
  decoder.close();
  decoder.close();
  t.equal(encoder.encode(new Int16Array(960)).length, 0);
  t.equal(decoder.decode(packet).length, 0);
  t.equal(decoder.conceal(960).length, 960);
});
