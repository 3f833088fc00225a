import t from 'tap';
import { ConferenceMixer, softLimit } from '../../../../src/media/mixer/index.js';
import { ToneGenerator } from '../../../../src/media/dsp/tone.js';
import { toneAmplitude } from '../../../../src/media/dsp/goertzel.js';

const RATE = 8000;
const FRAME = 160;
const dB = (ratio: number): number => 20 * Math.log10(ratio);

/** Three parties, each talking its own tone at -12 dBFS, over `ticks` ticks; returns the concatenated outputs. */
function run(mixer: ConferenceMixer, tones: Record<string, number>, ticks: number, silent: ReadonlySet<string> = new Set()): Map<string, Int16Array> {
  const generators = new Map(Object.entries(tones).map(([id, f]) => [id, new ToneGenerator({ frequenciesHz: [f], levelDbfs: -12 }, RATE)]));
  const outputs = new Map<string, Int16Array>();
  for (const id of Object.keys(tones)) outputs.set(id, new Int16Array(ticks * FRAME));
  for (let tick = 0; tick < ticks; tick++) {
    const frames = new Map<string, Int16Array | undefined>();
    for (const [id, g] of generators) frames.set(id, silent.has(id) ? undefined : g.next(FRAME));
    const mixed = mixer.mix(frames);
    for (const [id, frame] of mixed) {
      if (frame.length !== FRAME) throw new Error(`frame of ${frame.length} samples`);
      outputs.get(id)?.set(frame, tick * FRAME);
    }
  }
  return outputs;
}

const TONES = { a: 400, b: 700, c: 1100 };
const LEVEL = 32767 * Math.pow(10, -12 / 20);

t.test('mix-minus: each party hears the other two and not itself', async (t) => {
  const mixer = new ConferenceMixer({ sampleRate: RATE });
  for (const id of Object.keys(TONES)) mixer.add(id);
  t.equal(mixer.frameSamples, 160);
  const out = run(mixer, TONES, 10);
  for (const [id, own] of Object.entries(TONES)) {
    const heard = out.get(id)!;
    for (const [other, f] of Object.entries(TONES)) {
      const amplitude = toneAmplitude(heard, f, RATE);
      if (other === id) {
        t.ok(dB(amplitude / LEVEL) < -30, `${id} does not hear its own ${own} Hz (${dB(amplitude / LEVEL).toFixed(1)} dB)`);
      } else {
        t.ok(Math.abs(dB(amplitude / LEVEL)) < 0.5, `${id} hears ${other} at its level`);
      }
    }
  }
});

t.test('a muted party still hears everyone and adds nothing', async (t) => {
  const mixer = new ConferenceMixer({ sampleRate: RATE });
  for (const id of Object.keys(TONES)) mixer.add(id);
  mixer.add('b', { muted: true });
  t.same(mixer.participants().find((p) => p.id === 'b'), { id: 'b', muted: true, gainDb: 0 });
  const out = run(mixer, TONES, 10);
  t.ok(dB(toneAmplitude(out.get('a')!, 700, RATE) / LEVEL) < -30, 'a does not hear muted b');
  t.ok(dB(toneAmplitude(out.get('c')!, 700, RATE) / LEVEL) < -30, 'c does not hear muted b');
  t.ok(Math.abs(dB(toneAmplitude(out.get('b')!, 400, RATE) / LEVEL)) < 0.5, 'b hears a');
  t.ok(Math.abs(dB(toneAmplitude(out.get('b')!, 1100, RATE) / LEVEL)) < 0.5, 'b hears c');
  t.ok(mixer.update('b', { muted: false }));
  const after = run(mixer, TONES, 10);
  t.ok(Math.abs(dB(toneAmplitude(after.get('a')!, 700, RATE) / LEVEL)) < 0.5, 'unmuted: a hears b again');
});

t.test('gain is applied to the contributor\'s voice', async (t) => {
  const mixer = new ConferenceMixer({ sampleRate: RATE });
  mixer.add('a', { gainDb: -6 });
  mixer.add('b');
  mixer.add('c', { gainDb: 3 });
  const out = run(mixer, TONES, 10);
  t.ok(Math.abs(dB(toneAmplitude(out.get('b')!, 400, RATE) / LEVEL) + 6) < 0.3, 'b hears a 6 dB down');
  t.ok(Math.abs(dB(toneAmplitude(out.get('b')!, 1100, RATE) / LEVEL) - 3) < 0.3, 'b hears c 3 dB up');
  t.ok(Math.abs(dB(toneAmplitude(out.get('a')!, 700, RATE) / LEVEL)) < 0.3, 'a\'s own gain does not change what a hears');
  t.ok(dB(toneAmplitude(out.get('c')!, 1100, RATE) / LEVEL) < -30, 'gain does not leak one\'s own voice back');
  mixer.update('a', { gainDb: 1000 });
  t.equal(mixer.participants().find((p) => p.id === 'a')?.gainDb, 24, 'gain is clamped');
  mixer.update('a', { gainDb: Number.NaN });
  t.equal(mixer.participants().find((p) => p.id === 'a')?.gainDb, 0, 'nonsense gain is 0 dB');
});

t.test('a party without a frame this tick contributes silence', async (t) => {
  const mixer = new ConferenceMixer({ sampleRate: RATE });
  for (const id of Object.keys(TONES)) mixer.add(id);
  const out = run(mixer, TONES, 10, new Set(['c']));
  t.ok(dB(toneAmplitude(out.get('a')!, 1100, RATE) / LEVEL) < -30, 'a hears nothing from c');
  t.ok(Math.abs(dB(toneAmplitude(out.get('c')!, 400, RATE) / LEVEL)) < 0.5, 'c still hears a');
  const onlyA = mixer.mix(new Map([['a', new Int16Array(FRAME).fill(1000)]]));
  t.same([...new Set(onlyA.get('b'))], [1000], 'a party missing from the map is silent too');
  t.same([...new Set(onlyA.get('a'))], [0], 'a alone hears silence');
});

t.test('clipping saturates smoothly, never wraps around', async (t) => {
  const mixer = new ConferenceMixer({ sampleRate: RATE });
  for (const id of ['a', 'b', 'c', 'd']) mixer.add(id);
  const loud = (v: number) => new Int16Array(FRAME).fill(v);
  const out = mixer.mix(new Map([['a', loud(32767)], ['b', loud(32767)], ['c', loud(30000)], ['d', loud(-32768)]]));
  const forD = out.get('d')!;
  t.ok(forD.every((v) => v > 32000 && v <= 32767), `d hears a+b+c = 95534 as ${forD[0]} (positive, not wrapped)`);
  const forA = out.get('a')!;
  t.ok(forA[0]! > 23197 && forA[0]! < 29999, `29999 is above the -3 dBFS knee: compressed to ${forA[0]}`);
  const quiet = mixer.mix(new Map([['a', loud(10000)], ['b', loud(8000)], ['c', loud(-3000)], ['d', loud(4000)]]));
  t.equal(quiet.get('a')![0], 9000, 'below the knee the sum is exact');
  t.equal(quiet.get('d')![0], 15000);
  const negative = mixer.mix(new Map([['a', loud(-32768)], ['b', loud(-32768)], ['c', loud(-32768)]]));
  t.ok(negative.get('d')!.every((v) => v < -32000 && v >= -32767), 'negative side too');
  // the limiter is monotonic and continuous at its knee
  const knee = 32767 * Math.pow(10, -3 / 20);
  let previous = -Infinity;
  let monotonic = true;
  for (let v = 0; v < 200_000; v += 97) {
    const y = softLimit(v, knee);
    if (y < previous || y > 32767 || softLimit(-v, knee) !== -y) monotonic = false;
    previous = y;
  }
  t.ok(monotonic, 'monotonic, odd, bounded');
  t.ok(Math.abs(softLimit(knee + 10, knee) - (knee + 10)) < 1, 'slope 1 just above the knee');
});

t.test('frames of other sizes, unknown ids, removal, 16 kHz', async (t) => {
  const mixer = new ConferenceMixer({ sampleRate: 16000 });
  t.equal(mixer.frameSamples, 320);
  mixer.add('a');
  mixer.add('b');
  const out = mixer.mix(new Map([['a', new Int16Array(100).fill(500)], ['x', new Int16Array(320).fill(9999)], ['b', new Int16Array(1000).fill(7)]]));
  const forB = out.get('b')!;
  t.equal(forB.length, 320);
  t.equal(forB[99], 500);
  t.equal(forB[100], 0, 'a short frame is padded with silence');
  t.same([...new Set(out.get('a'))], [7], 'a long frame is cut; unknown ids are ignored');
  t.notOk(out.has('x'));
  t.ok(mixer.remove('a'));
  t.notOk(mixer.remove('a'));
  t.notOk(mixer.update('a', { muted: true }));
  t.equal(mixer.size, 1);
  t.same([...mixer.mix(new Map()).keys()], ['b']);
  t.equal(new ConferenceMixer({ sampleRate: 0 }).sampleRate, 8000, 'nonsense rate falls back to 8 kHz');
});

t.test('mixdown: everyone who speaks, with gain and mute applied (what a conference recording holds)', async (t) => {
  const mixer = new ConferenceMixer({ sampleRate: 8000 });
  mixer.add('a');
  mixer.add('b', { gainDb: -6 });
  mixer.add('c', { muted: true });
  const frame = (v: number): Int16Array => new Int16Array(160).fill(v);
  mixer.mix(new Map([['a', frame(1000)], ['b', frame(1000)], ['c', frame(5000)]]));
  const down = mixer.mixdown();
  t.equal(down.length, 160);
  t.ok(Math.abs((down[0] as number) - (1000 + 1000 * Math.pow(10, -6 / 20))) <= 1, `a + b at -6 dB, c muted: ${down[0]}`);
});
