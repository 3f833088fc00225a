/**
 * From decoded audio at one rate to fixed-size frames at another: resample, then cut the stream
 * into frames of exactly frameMs. Decoders hand back whatever their packets held (10, 20, 60 ms;
 * 320 or 321 samples from a resampler), encoders want whole frames — this sits between them.
 */

import { createResampler } from '../dsp/resampler.js';
import type { Resampler } from '../dsp/resampler.js';

export interface PcmConverter {
  readonly fromRate: number;
  readonly toRate: number;
  /** samples per output frame at toRate */
  readonly frameSamples: number;
  /** samples (at toRate) waiting for a frame to fill */
  readonly pending: number;
  /** Resample `pcm` and return every frame completed by it, each a new array. */
  push(pcm: Int16Array): Int16Array[];
  /**
   * The allocation-free form: each completed frame goes to `sink` in a buffer that is reused,
   * so it is valid only during the call (encode it, copy it, or lose it).
   */
  pushTo(pcm: Int16Array, sink: (frame: Int16Array) => void): void;
  /** drop the partial frame and the resampler's history */
  reset(): void;
}

export function createPcmConverter(fromRate: number, toRate: number, frameMs = 20): PcmConverter {
  return new FramingConverter(createResampler(fromRate, toRate), frameMs);
}

class FramingConverter implements PcmConverter {
  readonly frameSamples: number;
  private readonly frame: Int16Array;
  private filled = 0;

  constructor(
    private readonly resampler: Resampler,
    frameMs: number,
  ) {
    if (!(frameMs > 0)) throw new RangeError(`frame duration must be positive, got ${frameMs} ms`);
    this.frameSamples = Math.max(1, Math.round((resampler.toRate * frameMs) / 1000));
    this.frame = new Int16Array(this.frameSamples);
  }

  get fromRate(): number {
    return this.resampler.fromRate;
  }

  get toRate(): number {
    return this.resampler.toRate;
  }

  get pending(): number {
    return this.filled;
  }

  push(pcm: Int16Array): Int16Array[] {
    const frames: Int16Array[] = [];
    this.pushTo(pcm, (frame) => frames.push(frame.slice()));
    return frames;
  }

  pushTo(pcm: Int16Array, sink: (frame: Int16Array) => void): void {
    const resampled = this.resampler.process(pcm);
    const size = this.frameSamples;
    let offset = 0;
    // a whole frame lying in the input goes out without a copy
    if (this.filled === 0) {
      while (resampled.length - offset >= size) {
        sink(resampled.subarray(offset, offset + size));
        offset += size;
      }
    }
    while (offset < resampled.length) {
      const take = Math.min(size - this.filled, resampled.length - offset);
      this.frame.set(resampled.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === size) {
        this.filled = 0;
        sink(this.frame);
      }
    }
  }

  reset(): void {
    this.filled = 0;
    this.resampler.reset();
  }
}
