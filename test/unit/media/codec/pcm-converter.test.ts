import t from 'tap';
import { createPcmConverter } from '../../../../src/media/codec/pcm-converter.js';
import { concat, gainDb, tone } from './helpers.js';

t.test('8 kHz frames of 20 ms become 48 kHz frames of 20 ms', async (t) => {
  const converter = createPcmConverter(8000, 48000);
  t.equal(converter.frameSamples, 960);
  const input = tone(1000, 8000);
  const frames: Int16Array[] = [];
  for (let i = 0; i < input.length; i += 160) frames.push(...converter.push(input.subarray(i, i + 160)));
  t.equal(frames.length, 50);
  t.ok(frames.every((f) => f.length === 960));
  t.ok(Math.abs(gainDb(input, 8000, concat(frames), 48000, 1000)) < 0.5);
});

t.test('odd input sizes are re-cut into whole frames, remainder kept', async (t) => {
  const converter = createPcmConverter(16000, 16000, 20);
  const counts: number[] = [];
  for (const size of [100, 100, 100, 100, 1000]) counts.push(converter.push(new Int16Array(size).fill(7)).length);
  t.same(counts, [0, 0, 0, 1, 3]);
  t.equal(converter.pending, 1400 - 4 * 320);
  converter.reset();
  t.equal(converter.pending, 0);
});

t.test('push returns copies; pushTo lends a reused buffer', async (t) => {
  const converter = createPcmConverter(8000, 8000, 10);
  const a = converter.push(new Int16Array(80).fill(1))[0]!;
  converter.push(new Int16Array(80).fill(2));
  t.equal(a[0], 1, 'an earlier frame is not overwritten');
  const seen: number[] = [];
  converter.pushTo(new Int16Array(40).fill(3), () => seen.push(-1));
  converter.pushTo(new Int16Array(40).fill(4), (frame) => seen.push(frame[0]!, frame[79]!));
  t.same(seen, [3, 4]);
});

t.test('rejects a non-positive frame duration', async (t) => {
  t.throws(() => createPcmConverter(8000, 8000, 0), RangeError);
});
