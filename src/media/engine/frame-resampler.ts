import { createResampler, type Resampler } from '../dsp/index.js';

/** One 20 ms frame is the engine's tick (RFC 3551 §4.5's default ptime for the audio codecs here). */
export const FRAME_MS = 20;

/**
 * The stateful resamplers one stream needs, one per rate pair, each giving exactly one frame per
 * frame (a resampler may hand back a sample more or less; downstream frames are exact). A
 * resampler carries the history of its stream, so each stream owns its own set.
 */
export class FrameResamplers {
  private readonly byPair = new Map<number, Resampler>();

  convert(frame: Int16Array, from: number, to: number): Int16Array {
    if (from === to) return frame;
    const key = from * 1_000_000 + to;
    let r = this.byPair.get(key);
    if (r === undefined) {
      r = createResampler(from, to);
      this.byPair.set(key, r);
    }
    return exactFrame(r.process(frame), (to * FRAME_MS) / 1000);
  }

  /** silence broke the stream: forget the history of every pair ending at `to` */
  reset(to: number): void {
    for (const [key, r] of this.byPair) if (key % 1_000_000 === to) r.reset();
  }
}

function exactFrame(samples: Int16Array, length: number): Int16Array {
  if (samples.length === length) return samples;
  const out = new Int16Array(length);
  out.set(samples.subarray(0, Math.min(length, samples.length)));
  return out;
}
