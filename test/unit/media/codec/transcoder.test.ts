import t from 'tap';
import { createTranscoder } from '../../../../src/media/codec/transcoder.js';
import { createDecoder, createEncoder } from '../../../../src/media/codec/factory.js';
import { CODEC_NAMES, codecInfo } from '../../../../src/media/codec/registry.js';
import { concat, dominant, gainDb, tone } from './helpers.js';

/**
 * Encode one second of a 1 kHz tone as `from` (20 ms payloads), transcode to `to`, and decode
 * the result with a plain `to` decoder; returns the input and output PCM.
 */
function throughTranscoder(from: (typeof CODEC_NAMES)[number], to: (typeof CODEC_NAMES)[number], ptimeMs = 20): { input: Int16Array; output: Int16Array; payloads: Uint8Array[] } {
  const fromRate = codecInfo(from).sampleRate;
  const input = tone(1000, fromRate, -10, 1000);
  const encoder = createEncoder(from);
  const transcoder = createTranscoder(from, to, { ptimeMs });
  const decoder = createDecoder(to);
  const frame = fromRate / 50;
  const payloads: Uint8Array[] = [];
  for (let i = 0; i + frame <= input.length; i += frame) payloads.push(...transcoder.transcode(encoder.encode(input.subarray(i, i + frame))));
  const output = concat(payloads.map((p) => decoder.decode(p)));
  encoder.close();
  transcoder.close();
  decoder.close();
  return { input, output, payloads };
}

for (const from of CODEC_NAMES) {
  for (const to of CODEC_NAMES) {
    t.test(`${from} → ${to} keeps a 1 kHz tone`, async (t) => {
      const { input, output, payloads } = throughTranscoder(from, to);
      const toRate = codecInfo(to).sampleRate;
      // one second in, one second out, less at most one frame still filling
      t.ok(output.length >= toRate - toRate / 50 && output.length <= toRate, `${output.length} samples out`);
      t.ok(payloads.length >= 49 && payloads.length <= 50, `${payloads.length} payloads`);
      const gain = gainDb(input, codecInfo(from).sampleRate, output, toRate, 1000);
      t.ok(Math.abs(gain) < 3, `gain ${gain.toFixed(2)} dB`);
      const d = dominant(output, toRate);
      t.equal(d.frequencyHz, 1000);
      t.ok(d.share > 0.9, `share ${d.share.toFixed(3)}`);
    });
  }
}

t.test('ptime re-chunking: 20 ms PCMU in, 60 ms G.722 out', async (t) => {
  const { payloads, output, input } = throughTranscoder('PCMU', 'G722', 60);
  t.equal(payloads.length, 16, '50 × 20 ms → 16 × 60 ms (one partial frame pending)');
  t.ok(payloads.every((p) => p.length === 480), '60 ms of G.722 is 480 octets');
  t.ok(Math.abs(gainDb(input, 8000, output, 16000, 1000)) < 3);
});

t.test('10 ms packets into 20 ms payloads: every other packet yields one', async (t) => {
  const transcoder = createTranscoder('PCMA', 'PCMU');
  const encoder = createEncoder('PCMA');
  const counts: number[] = [];
  for (let i = 0; i < 6; i++) counts.push(transcoder.transcode(encoder.encode(new Int16Array(80))).length);
  t.same(counts, [0, 1, 0, 1, 0, 1]);
  t.equal(transcoder.ptimeMs, 20);
  t.equal(transcoder.from.name, 'PCMA');
  t.equal(transcoder.to.name, 'PCMU');
  transcoder.close();
});

t.test('conceal transcodes the decoder concealment', async (t) => {
  const transcoder = createTranscoder('PCMU', 'opus');
  const encoder = createEncoder('PCMU');
  for (let i = 0; i < 5; i++) transcoder.transcode(encoder.encode(tone(1000, 8000, -10, 20)));
  const concealed = transcoder.conceal(20);
  t.equal(concealed.length, 1);
  const decoder = createDecoder('opus');
  t.equal(decoder.decode(concealed[0]!).length, 960);
  decoder.close();
  transcoder.close();
  transcoder.close();
  t.same(transcoder.transcode(new Uint8Array(160)), [], 'nothing after close');
  t.same(transcoder.conceal(20), []);
});

t.test('unknown codec names are a programming error', async (t) => {
  t.throws(() => createTranscoder('G729' as never, 'PCMU'), RangeError);
  t.throws(() => createEncoder('toString' as never), RangeError);
  t.throws(() => createDecoder('nope' as never), RangeError);
});
