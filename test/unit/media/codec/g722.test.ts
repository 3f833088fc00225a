import t from 'tap';
import { G722Decoder, G722Encoder } from '../../../../src/media/codec/g722.js';
import { levelDbfs } from '../../../../src/media/dsp/goertzel.js';
import { concat, dominant, gainDb, roundTrip, settled, tone } from './helpers.js';

t.test('20 ms of 16 kHz audio is 160 octets and decodes to 320 samples', async (t) => {
  const encoder = new G722Encoder();
  const decoder = new G722Decoder();
  const payload = encoder.encode(new Int16Array(320));
  t.equal(payload.length, 160);
  t.equal(decoder.decode(payload).length, 320);
  t.equal(encoder.info.rtpClockRate, 8000, 'RTP clock 8000 (RFC 3551 §4.5.2)');
  t.equal(encoder.info.sampleRate, 16000);
});

for (const frequency of [300, 1000, 3000]) {
  t.test(`round trip keeps a ${frequency} Hz tone (lower band)`, async (t) => {
    const input = tone(frequency, 16000);
    const output = roundTrip(new G722Encoder(), new G722Decoder(), input);
    t.equal(output.length, input.length);
    const gain = gainDb(input, 16000, output, 16000, frequency);
    t.ok(Math.abs(gain) < 3, `gain ${gain.toFixed(2)} dB`);
    const d = dominant(output, 16000, [frequency, frequency * 1.25, frequency * 0.8, 5000]);
    t.equal(d.frequencyHz, frequency);
    t.ok(d.share > 0.98, `share ${d.share.toFixed(4)}`);
  });
}

t.test('a 5 kHz tone survives (higher band, 4–8 kHz)', async (t) => {
  const input = tone(5000, 16000);
  const output = roundTrip(new G722Encoder(), new G722Decoder(), input);
  const gain = gainDb(input, 16000, output, 16000, 5000);
  t.ok(Math.abs(gain) < 3, `gain ${gain.toFixed(2)} dB`);
  // 3 kHz would be where a broken QMF folds 5 kHz (8000 − 5000)
  const d = dominant(output, 16000, [3000, 4000, 5000, 6000]);
  t.equal(d.frequencyHz, 5000);
  t.ok(d.share > 0.95, `share ${d.share.toFixed(4)}`);
});

t.test('silence stays near-silent', async (t) => {
  const output = roundTrip(new G722Encoder(), new G722Decoder(), new Int16Array(16000));
  const level = levelDbfs(settled(output));
  t.ok(level < -70, `silence decodes at ${level.toFixed(1)} dBFS`);
  let peak = 0;
  for (const v of settled(output)) peak = Math.max(peak, Math.abs(v));
  t.ok(peak <= 16, `peak ${peak}`);
});

t.test('quiet and loud tones both come through (scale factor adapts)', async (t) => {
  for (const level of [-40, -3]) {
    const input = tone(1000, 16000, level);
    const output = roundTrip(new G722Encoder(), new G722Decoder(), input);
    const gain = gainDb(input, 16000, output, 16000, 1000);
    t.ok(Math.abs(gain) < 1, `${level} dBFS: gain ${gain.toFixed(2)} dB`);
  }
});

t.test('odd-length frames: the odd sample waits for the next block', async (t) => {
  const encoder = new G722Encoder();
  const input = tone(1000, 16000, -10, 200);
  const whole = new G722Encoder().encode(input);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < input.length; i += 321) parts.push(encoder.encode(input.subarray(i, Math.min(input.length, i + 321))));
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    joined.set(p, offset);
    offset += p.length;
  }
  t.equal(parts[0]?.length, 160, '321 samples give 160 octets, one held');
  t.same(Array.from(joined), Array.from(whole), 'same bitstream as one block');
  t.equal(encoder.encode(new Int16Array(0)).length, 0);
});

t.test('concealment repeats and fades', async (t) => {
  const encoder = new G722Encoder();
  const decoder = new G722Decoder();
  const frames: Int16Array[] = [];
  for (let i = 0; i < 10; i++) frames.push(decoder.decode(encoder.encode(tone(1000, 16000, -10, 20))));
  const last = frames[9] as Int16Array;
  const concealed = [decoder.conceal(320), decoder.conceal(320), decoder.conceal(320), decoder.conceal(320)];
  t.ok(Math.abs(levelDbfs(concealed[0]!) - levelDbfs(last)) < 3);
  t.ok(levelDbfs(concealed[2]!) < levelDbfs(concealed[0]!));
  t.equal(levelDbfs(concealed[3]!), -Infinity);
  t.equal(concat(concealed).length, 1280);
});
