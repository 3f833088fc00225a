/**
 * Turning what an engine returns (a RIFF/WAVE file of 16-bit PCM) into mono samples at the rate
 * the media engine asked for.
 */
import { createResampler, parseWav } from '../../media/index.js';
import { TtsError } from './tts-error.js';

/**
 * The resampler delays its output by half its filter length (well under 10 ms); this many zero
 * samples after the prompt push the tail of the speech out of the filter.
 */
const FLUSH_MS = 20;

/**
 * Resampling a prompt of a few seconds costs tens of milliseconds of CPU: done in one go it
 * would delay the RTP packets of every call on this event loop. It runs in slices of this much
 * input time, yielding to the event loop between slices (the resampler keeps its state).
 */
const SLICE_MS = 100;

/** The samples of a WAV at `targetRate`. A malformed file is a TtsError naming the engine. */
export async function wavToPcm(wav: Uint8Array, targetRate: number, provider: string): Promise<Int16Array> {
  const parsed = parseWav(wav);
  if (!parsed.ok) throw new TtsError(`the engine returned an unreadable WAV (${parsed.error.message})`, provider);
  // parseWav has already decoded 8-bit, µ-law and A-law to 16-bit samples
  return resample(parsed.samples, parsed.format.sampleRate, targetRate);
}

/** Whole-prompt conversion between rates, same length in time as the input. */
export async function resample(samples: Int16Array, fromRate: number, toRate: number): Promise<Int16Array> {
  if (fromRate === toRate || samples.length === 0) return samples;
  const resampler = createResampler(fromRate, toRate);
  const expected = Math.round((samples.length * toRate) / fromRate);
  const out = new Int16Array(expected);
  let written = 0;
  const keep = (block: Int16Array): void => {
    const take = Math.min(block.length, expected - written);
    out.set(block.subarray(0, take), written);
    written += take;
  };
  const slice = Math.max(1, Math.round((fromRate * SLICE_MS) / 1000));
  for (let start = 0; start < samples.length; start += slice) {
    keep(resampler.process(samples.subarray(start, start + slice)));
    await yieldToEventLoop();
  }
  keep(resampler.process(new Int16Array(Math.ceil((fromRate * FLUSH_MS) / 1000))));
  return written === expected ? out : out.subarray(0, written);
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Bytes of a RIFF/WAVE file start with "RIFF" … "WAVE". */
export function looksLikeWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[2] === 0x46 && bytes[3] === 0x46 && bytes[8] === 0x57 && bytes[9] === 0x41 && bytes[10] === 0x56 && bytes[11] === 0x45;
}

/** Headerless little-endian 16-bit samples (what LINEAR16 would be without its header). */
export function rawLinear16(bytes: Uint8Array): Int16Array {
  const count = Math.floor(bytes.length / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * 2);
  const out = new Int16Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}
