import t from 'tap';
import { createResampler } from '../../../../src/media/dsp/resampler.js';
import { generateTone } from '../../../../src/media/dsp/tone.js';
import { dominantFrequency, toneAmplitude } from '../../../../src/media/dsp/goertzel.js';

const db = (a: number, b: number): number => 20 * Math.log10(a / b);

/** Run `pcm` through the resampler 20 ms at a time, as the engine does. */
function stream(pcm: Int16Array, fromRate: number, toRate: number): Int16Array {
  const r = createResampler(fromRate, toRate);
  const frame = fromRate / 50;
  const parts: Int16Array[] = [];
  for (let i = 0; i + frame <= pcm.length; i += frame) parts.push(r.process(pcm.subarray(i, i + frame)));
  return concat(parts);
}

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** the last half of a signal, past any filter delay */
const tail = (pcm: Int16Array): Int16Array => pcm.subarray(Math.floor(pcm.length / 2));

t.test('equal rates return the input untouched', async (t) => {
  const r = createResampler(8000, 8000);
  const pcm = generateTone({ frequenciesHz: [1000] }, 8000, 20);
  t.equal(r.process(pcm), pcm);
  t.equal(r.fromRate, 8000);
  t.equal(r.toRate, 8000);
});

t.test('output lengths follow the ratio exactly for whole 20 ms frames', async (t) => {
  for (const [from, to] of [[8000, 16000], [16000, 8000], [8000, 48000], [48000, 8000], [16000, 48000], [48000, 16000], [44100, 8000]] as const) {
    const r = createResampler(from, to);
    let total = 0;
    for (let i = 0; i < 50; i++) total += r.process(new Int16Array(from / 50)).length;
    t.equal(total, to, `${from} → ${to}: one second in, one second out`);
  }
});

t.test('8000 → 16000 → 8000 keeps a 1 kHz tone within 0.5 dB', async (t) => {
  const input = generateTone({ frequenciesHz: [1000], levelDbfs: -10 }, 8000, 1000);
  const up = stream(input, 8000, 16000);
  const back = stream(up, 16000, 8000);
  const inAmp = toneAmplitude(tail(input), 1000, 8000);
  const upAmp = toneAmplitude(tail(up), 1000, 16000);
  const backAmp = toneAmplitude(tail(back), 1000, 8000);
  t.ok(Math.abs(db(upAmp, inAmp)) < 0.5, `16 kHz level off by ${db(upAmp, inAmp).toFixed(3)} dB`);
  t.ok(Math.abs(db(backAmp, inAmp)) < 0.5, `8 kHz level off by ${db(backAmp, inAmp).toFixed(3)} dB`);
  t.equal(dominantFrequency(tail(back), 8000, [500, 1000, 2000, 3000]).frequencyHz, 1000);
  t.ok(dominantFrequency(tail(back), 8000, [1000]).share > 0.99, 'the tone is clean');
});

t.test('48000 → 8000 keeps a 1 kHz tone within 0.5 dB', async (t) => {
  const input = generateTone({ frequenciesHz: [1000], levelDbfs: -6 }, 48000, 1000);
  const out = stream(input, 48000, 8000);
  const inAmp = toneAmplitude(tail(input), 1000, 48000);
  const outAmp = toneAmplitude(tail(out), 1000, 8000);
  t.ok(Math.abs(db(outAmp, inAmp)) < 0.5, `level off by ${db(outAmp, inAmp).toFixed(3)} dB`);
  t.ok(dominantFrequency(tail(out), 8000, [1000]).share > 0.99);
});

t.test('48000 → 8000 attenuates a 6 kHz tone by more than 30 dB (anti-aliasing)', async (t) => {
  const input = generateTone({ frequenciesHz: [6000], levelDbfs: -6 }, 48000, 1000);
  const out = stream(input, 48000, 8000);
  const inAmp = toneAmplitude(tail(input), 6000, 48000);
  // without a low-pass, 6 kHz would fold to 8000 − 6000 = 2 kHz
  const aliasAmp = toneAmplitude(tail(out), 2000, 8000);
  const rms = Math.sqrt(tail(out).reduce((s, v) => s + v * v, 0) / tail(out).length) * Math.SQRT2;
  t.ok(db(aliasAmp, inAmp) < -30, `alias at ${db(aliasAmp, inAmp).toFixed(1)} dB`);
  t.ok(db(Math.max(rms, 1e-9), inAmp) < -30, `total residue at ${db(Math.max(rms, 1e-9), inAmp).toFixed(1)} dB`);
});

t.test('44100 → 8000 (a WAV file) keeps 1 kHz and removes 5 kHz', async (t) => {
  const tone = generateTone({ frequenciesHz: [1000], levelDbfs: -6 }, 44100, 1000);
  const out = stream(tone, 44100, 8000);
  t.ok(Math.abs(db(toneAmplitude(tail(out), 1000, 8000), toneAmplitude(tail(tone), 1000, 44100))) < 0.5);
  const high = generateTone({ frequenciesHz: [5000], levelDbfs: -6 }, 44100, 1000);
  const highOut = stream(high, 44100, 8000);
  t.ok(db(toneAmplitude(tail(highOut), 3000, 8000) + 1e-9, toneAmplitude(tail(high), 5000, 44100)) < -30, '5 kHz does not fold to 3 kHz');
});

t.test('an awkward ratio (22051 → 16000, more phases than the table holds) still works', async (t) => {
  const input = generateTone({ frequenciesHz: [1000], levelDbfs: -6 }, 22051, 1000);
  const r = createResampler(22051, 16000);
  const parts: Int16Array[] = [];
  for (let i = 0; i < input.length; i += 441) parts.push(r.process(input.subarray(i, Math.min(input.length, i + 441))));
  const out = concat(parts);
  t.ok(Math.abs(out.length - 16000) <= 1, `${out.length} samples for one second`);
  const gain = db(toneAmplitude(tail(out), 1000, 16000), toneAmplitude(tail(input), 1000, 22051));
  t.ok(Math.abs(gain) < 0.5, `gain ${gain.toFixed(3)} dB`);
  t.ok(dominantFrequency(tail(out), 16000, [1000]).share > 0.999, 'clean');
});

t.test('streaming in frames equals converting in one block (no frame-boundary clicks)', async (t) => {
  const input = generateTone({ frequenciesHz: [440, 1700] }, 8000, 400);
  const whole = createResampler(8000, 48000).process(input);
  const framed = stream(input, 8000, 48000);
  t.equal(framed.length, whole.length);
  let maxDiff = 0;
  for (let i = 0; i < whole.length; i++) maxDiff = Math.max(maxDiff, Math.abs((whole[i] as number) - (framed[i] as number)));
  t.equal(maxDiff, 0);
  // odd-sized blocks too
  const r = createResampler(8000, 48000);
  const parts: Int16Array[] = [];
  for (let i = 0; i < input.length; i += 37) parts.push(r.process(input.subarray(i, Math.min(input.length, i + 37))));
  t.same(Array.from(concat(parts)), Array.from(whole));
});

t.test('reset forgets history', async (t) => {
  const r = createResampler(16000, 8000);
  const input = generateTone({ frequenciesHz: [1000] }, 16000, 20);
  const first = r.process(input);
  r.process(generateTone({ frequenciesHz: [3000] }, 16000, 20));
  r.reset();
  t.same(Array.from(r.process(input)), Array.from(first));
});

t.test('rejects nonsense rates', async (t) => {
  t.throws(() => createResampler(0, 8000), RangeError);
  t.throws(() => createResampler(8000, 7999.5), RangeError);
});

t.test('empty input gives empty output', async (t) => {
  t.equal(createResampler(8000, 16000).process(new Int16Array(0)).length, 0);
});
