import t from 'tap';
import { InbandDtmfDetector, type InbandDtmfDetectorOptions } from '../../../../src/media/dtmf/index.js';
import { DTMF_FREQUENCIES, clamp16, generateTone } from '../../../../src/media/dsp/tone.js';
import { DTMF_DIGITS, type DtmfEvent } from '../../../../src/media/types.js';
import { addNoise, seededRandom, speechLike } from './signals.js';

const ALL = DTMF_DIGITS.join('');

function dtmf(digit: string, ms: number, levelDbfs: number, rate = 8000): Int16Array {
  const pair = DTMF_FREQUENCIES[digit];
  if (pair === undefined) throw new Error(`no frequencies for ${digit}`);
  return generateTone({ frequenciesHz: pair, levelDbfs }, rate, ms);
}

function silence(ms: number, rate = 8000): Int16Array {
  return new Int16Array(Math.round((rate * ms) / 1000));
}

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function mix(a: Int16Array, b: Int16Array): Int16Array {
  const out = new Int16Array(Math.max(a.length, b.length));
  for (let i = 0; i < out.length; i++) out[i] = clamp16((a[i] ?? 0) + (b[i] ?? 0));
  return out;
}

/** Digits played as `toneMs` tones with `gapMs` gaps, 100 ms of silence around, white noise at `snrDb` below the tones. */
function keyed(digits: string, levelDbfs: number, options: { toneMs?: number; gapMs?: number; snrDb?: number; rate?: number; seed?: number } = {}): Int16Array {
  const rate = options.rate ?? 8000;
  const parts: Int16Array[] = [silence(100, rate)];
  for (const d of digits) parts.push(dtmf(d, options.toneMs ?? 70, levelDbfs, rate), silence(options.gapMs ?? 50, rate));
  parts.push(silence(100, rate));
  const clean = concat(parts);
  if (options.snrDb === undefined) return clean;
  // two tones at peak amplitude A carry a mean square of A², so their RMS is A
  const toneRms = 32767 * Math.pow(10, levelDbfs / 20);
  return addNoise(clean, toneRms * Math.pow(10, -options.snrDb / 20), seededRandom(options.seed ?? 1));
}

function detect(signal: Int16Array, chunk = 160, options: InbandDtmfDetectorOptions = {}): DtmfEvent[] {
  const detector = new InbandDtmfDetector(options);
  const events: DtmfEvent[] = [];
  for (let i = 0; i < signal.length; i += chunk) events.push(...detector.process(signal.subarray(i, i + chunk)));
  events.push(...detector.flush());
  return events;
}

const digitsOf = (events: DtmfEvent[]): string => events.map((e) => e.digit).join('');

t.test('all 16 digits, 70 ms tones and 50 ms gaps with white noise at 20 dB SNR', async (t) => {
  for (const level of [-10, -25]) {
    const signal = keyed(ALL, level, { snrDb: 20, seed: 1000 - level });
    const events = detect(signal);
    t.equal(digitsOf(events), ALL, `exactly the 16 digits in order at ${level} dBFS`);
    for (const e of events) {
      t.equal(e.source, 'inband');
      t.ok(e.durationMs >= 40 && e.durationMs <= 100, `${e.digit} lasted ${e.durationMs} ms, near its 70 ms`);
    }
  }
});

t.test('chunk size does not matter: odd chunks and one sample at a time give the same digits', async (t) => {
  const signal = keyed(ALL, -15, { snrDb: 25, seed: 5 });
  const reference = detect(signal, 160);
  t.equal(digitsOf(reference), ALL);
  t.same(detect(signal, 37), reference, '37-sample chunks');
  t.same(detect(signal, 1), reference, 'one sample at a time');
  t.same(detect(signal, signal.length), reference, 'one chunk');
});

t.test('16 kHz input is analysed at 16 kHz', async (t) => {
  const signal = keyed(ALL, -20, { snrDb: 20, rate: 16000, seed: 16 });
  const events = detect(signal, 320, { sampleRate: 16000 });
  t.equal(digitsOf(events), ALL);
  t.equal(new InbandDtmfDetector({ sampleRate: 16000 }).sampleRate, 16000);
  t.equal(digitsOf(detect(keyed('159', -20, { rate: 16000 }), 320)), '', 'the same signal read as 8 kHz has the wrong frequencies');
});

t.test('one event per key press, at the end of the tone, with its duration', async (t) => {
  const detector = new InbandDtmfDetector();
  const tone = dtmf('5', 500, -15);
  t.same(detector.process(silence(40)), []);
  t.same(detector.process(tone.subarray(0, 800)), [], 'nothing while the key is held');
  t.equal(detector.activeDigit, '5', 'but the digit under way is visible (barge-in)');
  t.same(detector.process(tone.subarray(800)), []);
  const events = detector.process(silence(60));
  t.equal(events.length, 1);
  t.equal(events[0]?.digit, '5');
  const duration = events[0]?.durationMs ?? 0;
  t.ok(Math.abs(duration - 500) <= 27, `duration ${duration} ms within two blocks of 500 ms`);
  t.equal(detector.activeDigit, undefined);
});

t.test('the same digit twice needs a gap; a 10 ms dropout is bridged (Q.24)', async (t) => {
  const twice = concat([silence(50), dtmf('7', 80, -15), silence(50), dtmf('7', 80, -15), silence(80)]);
  t.equal(digitsOf(detect(twice)), '77', 'a 50 ms gap separates two presses');
  const dropout = concat([silence(50), dtmf('7', 80, -15), silence(10), dtmf('7', 80, -15), silence(80)]);
  const events = detect(dropout);
  t.equal(digitsOf(events), '7', 'a 10 ms interruption is one press');
  t.ok((events[0]?.durationMs ?? 0) >= 150, 'spanning both halves');
  const backToBack = concat([silence(50), dtmf('1', 80, -15), dtmf('9', 80, -15), silence(80)]);
  t.equal(digitsOf(detect(backToBack)), '19', 'a different digit right after another is still seen');
});

t.test('operate time: 25 ms is too short, 45 ms is a digit', async (t) => {
  t.equal(digitsOf(detect(concat([silence(50), dtmf('3', 25, -15), silence(100)]))), '');
  t.equal(digitsOf(detect(concat([silence(50), dtmf('3', 45, -15), silence(100)]))), '3');
});

t.test('level threshold', async (t) => {
  t.equal(digitsOf(detect(keyed('123', -30))), '123', '-30 dBFS per tone is heard');
  t.equal(digitsOf(detect(keyed('123', -45))), '', '-45 dBFS per tone is below threshold');
});

t.test('twist: low group up to 8 dB above, high group up to 4 dB above (Q.24)', async (t) => {
  const pair = (lowDb: number, highDb: number): Int16Array => {
    const [low, high] = DTMF_FREQUENCIES['6'] as readonly [number, number];
    const tone = mix(generateTone({ frequenciesHz: [low], levelDbfs: lowDb }, 8000, 100), generateTone({ frequenciesHz: [high], levelDbfs: highDb }, 8000, 100));
    return concat([silence(50), tone, silence(100)]);
  };
  t.equal(digitsOf(detect(pair(-12, -18))), '6', 'normal twist 6 dB');
  t.equal(digitsOf(detect(pair(-12, -23))), '', 'normal twist 11 dB');
  t.equal(digitsOf(detect(pair(-15, -12))), '6', 'reverse twist 3 dB');
  t.equal(digitsOf(detect(pair(-18, -12))), '', 'reverse twist 6 dB');
});

t.test('ten minutes of speech-like audio give no digit', async (t) => {
  const speech = speechLike(600, 20240229);
  t.equal(speech.length, 4_800_000);
  t.equal(digitsOf(detect(speech)), '', 'no false digit with all checks on');
  // the signal must be hard enough to matter: with only level, twist and duration checks a
  // detector fires on it (vowels put formants on DTMF rows and columns)
  const naive = detect(speech, 160, { minDominanceDb: 0, minEnergyShare: 0, minHarmonicRejectionDb: -100 });
  t.ok(naive.length >= 5, `a naive detector fires ${naive.length} times on the same audio`);
});

t.test('the second-harmonic check rejects a tone pair with strong octaves', async (t) => {
  const [low, high] = DTMF_FREQUENCIES['2'] as readonly [number, number];
  // a buzzy source: both tones with their octaves 6 dB down
  const buzzy = generateTone({ frequenciesHz: [low, high, 2 * low, 2 * high], levelDbfs: -16 }, 8000, 120);
  const pure = generateTone({ frequenciesHz: [low, high], levelDbfs: -16 }, 8000, 120);
  // octaves at half amplitude: scale the tone pair and the octave pair separately
  const octaves = generateTone({ frequenciesHz: [2 * low, 2 * high], levelDbfs: -22 }, 8000, 120);
  const signal = concat([silence(50), mix(pure, octaves), silence(100)]);
  t.equal(digitsOf(detect(signal, 160, { minEnergyShare: 0 })), '', 'octaves 6 dB down: rejected even with the energy check off');
  t.equal(digitsOf(detect(signal, 160, { minEnergyShare: 0, minHarmonicRejectionDb: -100 })), '2', 'and accepted when the harmonic check is off');
  t.equal(digitsOf(detect(concat([silence(50), buzzy, silence(100)]))), '');
});

t.test('two-sine chords that are not DTMF pairs give no digit', async (t) => {
  const chords: [string, number, number][] = [
    ['A4+E5', 440, 659.3],
    ['C5+E5', 523.3, 659.3],
    ['E5+B5', 659.3, 987.8],
    ['F5+C6 (a row tone, no column tone)', 698.5, 1046.5],
    ['B5+G6', 987.8, 1568],
    ['C6+G6', 1046.5, 1568],
    ['two row tones', 697, 852],
    ['two column tones', 1209, 1477],
    ['row and column each 5% off (non-operate, Q.24 needs ≥3.5%)', 697 * 1.05, 1336 * 0.95],
  ];
  for (const [name, a, b] of chords) {
    const chord = generateTone({ frequenciesHz: [a, b], levelDbfs: -12 }, 8000, 1500);
    t.equal(digitsOf(detect(concat([silence(50), chord, silence(100)]))), '', name);
  }
});

t.test('flush reports a tone still sounding; reset forgets it', async (t) => {
  const d = new InbandDtmfDetector();
  d.process(dtmf('#', 200, -15));
  t.same(d.flush().map((e) => e.digit), ['#']);
  t.same(d.flush(), [], 'once');
  d.process(dtmf('#', 200, -15));
  d.reset();
  t.same(d.process(silence(100)), []);
  t.same(d.process(new Int16Array(0)), [], 'empty input');
});
