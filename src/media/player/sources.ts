/**
 * The sources a Player plays from, one per PlayItem kind. Each fills part of an output frame and
 * says whether it has more, is finished, or is waiting for data (a file still loading, a TTS
 * stream that ran dry): the player pads a waiting frame with silence rather than ending.
 */
import { DTMF_FREQUENCIES, ToneGenerator, createResampler, type Resampler } from '../dsp/index.js';

export type SourceState = 'more' | 'done' | 'waiting';

export interface PullResult {
  written: number;
  state: SourceState;
}

/** Samples in durationMs at sampleRate; a negative, NaN or infinite duration counts as none. */
export function samplesFor(durationMs: number, sampleRate: number): number {
  return Number.isFinite(durationMs) && durationMs > 0 ? Math.round((durationMs * sampleRate) / 1000) : 0;
}

/** What a source can give without waiting: `samples` now, and whether it ends right after them. */
export interface Availability {
  samples: number;
  ends: boolean;
}

export interface Source {
  /** write up to `count` samples into out starting at offset */
  pull(out: Int16Array, offset: number, count: number): PullResult;
  /** what pull() would give now without waiting, for a caller that reads ahead of time */
  available(): Availability;
}

/** Fixed PCM already at the output rate (a decoded file). */
export class PcmSource implements Source {
  private position = 0;

  constructor(private readonly samples: Int16Array) {}

  pull(out: Int16Array, offset: number, count: number): PullResult {
    const n = Math.min(count, this.samples.length - this.position);
    out.set(this.samples.subarray(this.position, this.position + n), offset);
    this.position += n;
    return { written: n, state: this.position >= this.samples.length ? 'done' : 'more' };
  }

  available(): Availability {
    return { samples: this.samples.length - this.position, ends: true };
  }
}

export class ToneSource implements Source {
  private readonly generator: ToneGenerator;
  private remaining: number;

  constructor(frequenciesHz: readonly number[], durationMs: number, sampleRate: number, levelDbfs?: number) {
    this.generator = new ToneGenerator({ frequenciesHz, ...(levelDbfs === undefined ? {} : { levelDbfs }) }, sampleRate);
    this.remaining = samplesFor(durationMs, sampleRate);
  }

  pull(out: Int16Array, offset: number, count: number): PullResult {
    const n = Math.min(count, this.remaining);
    out.set(this.generator.next(n), offset);
    this.remaining -= n;
    return { written: n, state: this.remaining === 0 ? 'done' : 'more' };
  }

  available(): Availability {
    return { samples: this.remaining, ends: true };
  }
}

export class SilenceSource implements Source {
  private remaining: number;

  constructor(durationMs: number, sampleRate: number) {
    this.remaining = samplesFor(durationMs, sampleRate);
  }

  pull(out: Int16Array, offset: number, count: number): PullResult {
    const n = Math.min(count, this.remaining);
    out.fill(0, offset, offset + n);
    this.remaining -= n;
    return { written: n, state: this.remaining === 0 ? 'done' : 'more' };
  }

  available(): Availability {
    return { samples: this.remaining, ends: true };
  }
}

/** Several sources one after another, as one. */
export class SequenceSource implements Source {
  private index = 0;

  constructor(private readonly parts: Source[]) {}

  pull(out: Int16Array, offset: number, count: number): PullResult {
    let written = 0;
    while (written < count) {
      const part = this.parts[this.index];
      if (part === undefined) return { written, state: 'done' };
      const r = part.pull(out, offset + written, count - written);
      written += r.written;
      if (r.state === 'done') this.index++;
      else if (r.state === 'waiting') return { written, state: 'waiting' };
    }
    return { written, state: this.index >= this.parts.length ? 'done' : 'more' };
  }

  available(): Availability {
    let samples = 0;
    for (let i = this.index; i < this.parts.length; i++) {
      const a = (this.parts[i] as Source).available();
      samples += a.samples;
      if (!a.ends) return { samples, ends: false };
    }
    return { samples, ends: true };
  }
}

/** Default DTMF timing: 100 ms on, 100 ms off, comfortably above Q.24's 40 ms minimums. */
export const DTMF_TONE_MS = 100;
export const DTMF_GAP_MS = 100;
/** ',' pauses the dialled sequence, as on a phone's dial string */
export const DTMF_PAUSE_MS = 500;

/**
 * A digit string as DTMF tones (ITU-T Q.23 pairs from DTMF_FREQUENCIES). Characters that are
 * neither digits nor ',' are returned as `rejected` so the caller can report them.
 */
export function dtmfSource(
  digits: string,
  sampleRate: number,
  toneMs = DTMF_TONE_MS,
  gapMs = DTMF_GAP_MS,
): { source: Source; rejected: string } {
  const parts: Source[] = [];
  let rejected = '';
  for (const ch of digits.toUpperCase()) {
    const pair = DTMF_FREQUENCIES[ch];
    if (ch === ',') {
      parts.push(new SilenceSource(DTMF_PAUSE_MS, sampleRate));
    } else if (pair === undefined) {
      rejected += ch;
    } else {
      if (parts.length > 0) parts.push(new SilenceSource(gapMs, sampleRate));
      parts.push(new ToneSource(pair, toneMs, sampleRate));
    }
  }
  return { source: new SequenceSource(parts), rejected };
}

/**
 * PCM written by someone else (TTS) as it is produced. Runs dry → 'waiting' until more comes or
 * the writer ends it. Written audio is resampled to the output rate on the way in.
 */
export class StreamSource implements Source {
  private readonly queue: Int16Array[] = [];
  private head = 0;
  /** samples queued and not yet pulled: available() is asked every frame, the queue may be long */
  private queued = 0;
  private ended = false;
  private readonly resampler: Resampler;

  constructor(inputRate: number, outputRate: number) {
    this.resampler = createResampler(inputRate, outputRate);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  write(pcm: Int16Array, end: boolean): void {
    if (this.ended) return;
    // the identity resampler hands back its input: copy so a caller reusing its buffer is safe
    const converted = this.resampler.process(pcm);
    if (converted.length > 0) {
      this.queue.push(converted === pcm ? pcm.slice() : converted);
      this.queued += converted.length;
    }
    if (end) this.ended = true;
  }

  pull(out: Int16Array, offset: number, count: number): PullResult {
    let written = 0;
    while (written < count) {
      const chunk = this.queue[0];
      if (chunk === undefined) return { written, state: this.ended ? 'done' : 'waiting' };
      const n = Math.min(count - written, chunk.length - this.head);
      // a frame's worth at a time: a plain copy costs less than a subarray view per frame
      const from = this.head;
      const to = offset + written;
      for (let i = 0; i < n; i++) out[to + i] = chunk[from + i]!;
      written += n;
      this.head += n;
      this.queued -= n;
      if (this.head >= chunk.length) {
        this.queue.shift();
        this.head = 0;
      }
    }
    return { written, state: this.queue.length === 0 && this.ended ? 'done' : 'more' };
  }

  available(): Availability {
    return { samples: this.queued, ends: this.ended };
  }
}
