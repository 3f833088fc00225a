/** Shared checks for codec tests: stream a tone through something 20 ms at a time and measure it. */
import { generateTone } from '../../../../src/media/dsp/tone.js';
import { dominantFrequency, toneAmplitude } from '../../../../src/media/dsp/goertzel.js';
import type { AudioDecoder, AudioEncoder } from '../../../../src/media/types.js';

export const CANDIDATES = [300, 500, 800, 1000, 1200, 1500, 2000, 3000];

export function concat(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** one second of a tone at `rate` */
export function tone(frequencyHz: number, rate: number, levelDbfs = -10, durationMs = 1000): Int16Array {
  return generateTone({ frequenciesHz: [frequencyHz], levelDbfs }, rate, durationMs);
}

/** Encode then decode `pcm` in 20 ms frames through fresh codec instances. */
export function roundTrip(encoder: AudioEncoder, decoder: AudioDecoder, pcm: Int16Array): Int16Array {
  const frame = encoder.info.sampleRate / 50;
  const parts: Int16Array[] = [];
  for (let i = 0; i + frame <= pcm.length; i += frame) parts.push(decoder.decode(encoder.encode(pcm.subarray(i, i + frame))));
  encoder.close();
  decoder.close();
  return concat(parts);
}

/** The second half of a signal: well past any codec or filter start-up delay. */
export const settled = (pcm: Int16Array): Int16Array => pcm.subarray(Math.floor(pcm.length / 2));

/** Gain in dB of `frequencyHz` from `input` (at inRate) to `output` (at outRate), both settled. */
export function gainDb(input: Int16Array, inRate: number, output: Int16Array, outRate: number, frequencyHz: number): number {
  const a = toneAmplitude(settled(input), frequencyHz, inRate);
  const b = toneAmplitude(settled(output), frequencyHz, outRate);
  return 20 * Math.log10(b / a);
}

export function dominant(pcm: Int16Array, rate: number, candidates: readonly number[] = CANDIDATES): { frequencyHz: number; share: number } {
  return dominantFrequency(settled(pcm), rate, candidates);
}
