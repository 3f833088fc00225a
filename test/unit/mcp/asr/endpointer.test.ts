import t from 'tap';
import { EnergyEndpointer, frameLevelDb, type EndpointerEvent, type EndpointerOptions } from '../../../../src/mcp/asr/index.js';

const RATE = 8000;
const FRAME = 160; // 20 ms

/** deterministic noise (xorshift), uniform, with the given RMS level in dBFS */
function noiseSource(levelDb: number, seed = 1): () => number {
  let x = seed;
  const amplitude = Math.pow(10, levelDb / 20) * 32768 * Math.sqrt(3);
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) / 0xffffffff - 0.5) * 2 * amplitude;
  };
}

interface Segment {
  ms: number;
  /** tone level in dBFS (RMS), or undefined for no tone */
  toneDb?: number;
}

/** frames of a tone burst pattern over an optional noise floor */
function frames(segments: Segment[], noiseDb?: number): Int16Array[] {
  const noise = noiseDb === undefined ? () => 0 : noiseSource(noiseDb);
  const out: Int16Array[] = [];
  let n = 0;
  for (const seg of segments) {
    for (let f = 0; f < seg.ms / 20; f++) {
      const frame = new Int16Array(FRAME);
      const amp = seg.toneDb === undefined ? 0 : Math.pow(10, seg.toneDb / 20) * 32768 * Math.SQRT2;
      for (let i = 0; i < FRAME; i++, n++) {
        const v = amp * Math.sin((2 * Math.PI * 440 * n) / RATE) + noise();
        frame[i] = Math.max(-32768, Math.min(32767, Math.round(v)));
      }
      out.push(frame);
    }
  }
  return out;
}

function run(opts: Partial<EndpointerOptions>, input: Int16Array[], end = false): EndpointerEvent[] {
  const ep = new EnergyEndpointer({ sampleRate: RATE, completetimeoutMs: 500, maxspeechtimeoutMs: 10_000, ...opts });
  const events = input.flatMap((f) => ep.process(f));
  return end ? [...events, ...ep.end()] : events;
}

const summary = (events: EndpointerEvent[]) =>
  events.map((e) => (e.type === 'utterance' ? { type: e.type, reason: e.reason, atMs: e.atMs, samples: e.audio.length } : e));

t.test('frame levels', async (t) => {
  t.equal(frameLevelDb(new Int16Array(160)), -96, 'digital silence has a floor');
  t.equal(Math.round(frameLevelDb(new Int16Array(160).fill(32767))), 0, 'full scale is 0 dBFS');
  const tone = frames([{ ms: 20, toneDb: -20 }])[0]!;
  t.ok(Math.abs(frameLevelDb(tone) + 20) < 0.5, 'a -20 dBFS tone measures -20');
});

t.test('silence: nothing, or noSpeech at the timeout', async (t) => {
  t.same(run({}, frames([{ ms: 3000 }])), []);
  t.same(run({ noSpeechTimeoutMs: 1000 }, frames([{ ms: 3000 }])), [{ type: 'noSpeech', atMs: 1000 }]);
  t.same(run({}, frames([{ ms: 1000 }]), true), [], 'end() with no speech gives nothing');
});

t.test('a tone burst: speech start, then the utterance after completetimeout of silence', async (t) => {
  const events = run({ completetimeoutMs: 500 }, frames([{ ms: 500 }, { ms: 600, toneDb: -20 }, { ms: 1000 }]));
  // start confirmed after 100 ms of loud frames and dated at the onset; 300 ms of pre-roll
  t.same(summary(events), [
    { type: 'speechStart', atMs: 500 },
    { type: 'utterance', reason: 'complete', atMs: 1600, samples: (1600 - 300) * 8 },
  ]);
});

t.test('one quiet frame inside a syllable does not restart the count', async (t) => {
  const choppy = frames([{ ms: 500 }, { ms: 60, toneDb: -20 }, { ms: 20 }, { ms: 60, toneDb: -20 }, { ms: 1000 }]);
  t.same(run({}, choppy).map((e) => e.type), ['speechStart', 'utterance']);
});

t.test('a click shorter than speechStartMs is not speech', async (t) => {
  t.same(run({}, frames([{ ms: 500 }, { ms: 60, toneDb: -10 }, { ms: 1000 }])), []);
  t.same(run({ speechStartMs: 40 }, frames([{ ms: 500 }, { ms: 60, toneDb: -10 }, { ms: 1000 }])).map((e) => e.type), ['speechStart', 'utterance']);
});

t.test('short pauses inside an utterance do not end it', async (t) => {
  const events = run({ completetimeoutMs: 500 }, frames([{ ms: 400 }, { ms: 400, toneDb: -20 }, { ms: 300 }, { ms: 400, toneDb: -20 }, { ms: 800 }]));
  t.same(summary(events).map((e) => ('reason' in e ? `${e.type}:${e.reason}@${e.atMs}` : `${e.type}@${e.atMs}`)), ['speechStart@400', 'utterance:complete@2000']);
});

t.test('the threshold follows the noise floor', async (t) => {
  const noisy = (toneDb: number, sensitivity?: number) =>
    run({ ...(sensitivity !== undefined ? { sensitivity } : {}) }, frames([{ ms: 1000 }, { ms: 600, toneDb }, { ms: 1000 }], -40)).map((e) => e.type);
  t.same(noisy(-35), [], '5 dB over a -40 dBFS floor is noise at the default sensitivity');
  t.same(noisy(-20), ['speechStart', 'utterance'], '20 dB over it is speech');
  t.same(noisy(-32, 1), ['speechStart', 'utterance'], 'at sensitivity 1, 8 dB over the floor is speech');
  t.same(noisy(-25, 0), [], 'at sensitivity 0, 15 dB over the floor is not');
  const quiet = run({}, frames([{ ms: 1000 }, { ms: 600, toneDb: -60 }, { ms: 1000 }])).map((e) => e.type);
  t.same(quiet, [], 'very quiet sound over digital silence stays under the absolute minimum');
  const ep = new EnergyEndpointer({ sampleRate: RATE, completetimeoutMs: 500, maxspeechtimeoutMs: 10_000 });
  for (const f of frames([{ ms: 2000 }], -40)) ep.process(f);
  t.ok(Math.abs(ep.noiseFloor! + 40) < 2, `noise floor learnt (${ep.noiseFloor?.toFixed(1)} dBFS)`);
});

t.test('a rising noise floor is followed', async (t) => {
  const ep = new EnergyEndpointer({ sampleRate: RATE, completetimeoutMs: 500, maxspeechtimeoutMs: 10_000 });
  const quiet = frames([{ ms: 1000 }], -60);
  const louder = frames([{ ms: 3000 }], -50);
  const events = [...quiet, ...louder].flatMap((f) => ep.process(f));
  t.same(events, [], 'a 10 dB step in noise (under the 12 dB margin) is absorbed, not taken for speech');
  t.ok(ep.noiseFloor! > -52, `floor moved up to ${ep.noiseFloor?.toFixed(1)}`);
});

t.test('maxspeechtimeout cuts a long utterance', async (t) => {
  const events = run({ maxspeechtimeoutMs: 2000 }, frames([{ ms: 500 }, { ms: 5000, toneDb: -20 }]));
  t.same(summary(events).map((e) => ('reason' in e ? `${e.reason}@${e.atMs}` : e.type)), ['speechStart', 'maxspeech@2500']);
});

t.test('end() during speech gives the audio so far; nothing after done', async (t) => {
  const ep = new EnergyEndpointer({ sampleRate: RATE, completetimeoutMs: 500, maxspeechtimeoutMs: 10_000 });
  const input = frames([{ ms: 200 }, { ms: 400, toneDb: -20 }]);
  const events = input.flatMap((f) => ep.process(f));
  t.same(events.map((e) => e.type), ['speechStart']);
  const ended = ep.end();
  t.same(summary(ended), [{ type: 'utterance', reason: 'end', atMs: 600, samples: 600 * 8 }]);
  t.same(ep.process(input[5]!), [], 'done: input ignored');
  t.same(ep.end(), []);
});

t.test('16 kHz and odd frame sizes keep time right', async (t) => {
  const ep = new EnergyEndpointer({ sampleRate: 16000, completetimeoutMs: 300, maxspeechtimeoutMs: 10_000 });
  const tone = new Int16Array(16000 / 2);
  for (let i = 0; i < tone.length; i++) tone[i] = Math.round(3000 * Math.sin((2 * Math.PI * 300 * i) / 16000));
  const chunks = [new Int16Array(8000), tone, new Int16Array(16000)];
  const events: EndpointerEvent[] = [];
  for (const c of chunks) for (let at = 0; at < c.length; at += 480) events.push(...ep.process(c.subarray(at, at + 480)));
  t.same(events.map((e) => e.type), ['speechStart', 'utterance']);
  const u = events[1];
  t.ok(u?.type === 'utterance' && u.atMs >= 1300 && u.atMs <= 1340, `ends ~300 ms after the tone (${u?.atMs})`);
});
