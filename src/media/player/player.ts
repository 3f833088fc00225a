/**
 * Plays a list of PlayItems as 20 ms frames of mono PCM at the output rate. Pure apart from the
 * injected loaders: the engine's tick pulls nextFrame(), and files are fetched (async) ahead of
 * the item that needs them so a tick never waits on I/O. A file that is still loading when its
 * turn comes plays as silence until it arrives; one that fails to load or parse is skipped and
 * recorded in `errors` (the engine then reports play.done with reason 'error').
 */
import { InvalidInputError, describeError } from '../../lib/index.js';
import { createResampler } from '../dsp/index.js';
import type { PlayItem } from '../engine/api.js';
import { parseWav } from '../wav/index.js';
import { PcmSource, SilenceSource, StreamSource, ToneSource, dtmfSource, samplesFor, type Availability, type Source } from './sources.js';

export interface PlayerOptions {
  items: readonly PlayItem[];
  /** output rate: 8000, 16000 or 48000 (any positive integer works) */
  sampleRate: number;
  /** start again at the first item after the last (music on hold) */
  loop?: boolean;
  loadFile: (path: string) => Promise<Uint8Array>;
  loadBlob: (key: string) => Promise<Uint8Array>;
  /** default 20 */
  frameMs?: number;
}

export type PlayerState = 'playing' | 'paused' | 'finished';

export interface PlayItemError {
  index: number;
  item: PlayItem;
  message: string;
}

export interface PlayerOutcome {
  reason: 'finished' | 'stopped' | 'barge-in' | 'error';
  /** the first item error, when reason is 'error' */
  error?: string;
}

type Loaded = { ok: true; samples: Int16Array } | { ok: false; message: string };

/** Extra input pushed through the resampler so its filter delay does not eat the end of a file. */
const RESAMPLER_FLUSH_MS = 20;

export class Player {
  readonly sampleRate: number;
  readonly frameSamples: number;
  private readonly items: readonly PlayItem[];
  private readonly loop: boolean;
  private readonly loadFile: (path: string) => Promise<Uint8Array>;
  private readonly loadBlob: (key: string) => Promise<Uint8Array>;
  /** decoded files by item index, kept for the next pass of a loop */
  private readonly loaded = new Map<number, Loaded>();
  private readonly loading = new Map<number, Promise<void>>();
  private readonly streams = new Map<string, StreamSource>();
  private readonly errorList: PlayItemError[] = [];
  private readonly reported = new Set<number>();
  private readonly initialLoads: Promise<void>[] = [];
  private index = 0;
  private current: Source | undefined;
  private samplesThisPass = 0;
  private exhausted = false;
  private paused = false;
  private result: PlayerOutcome | undefined;

  constructor(options: PlayerOptions) {
    const frameMs = options.frameMs ?? 20;
    if (!Number.isInteger(options.sampleRate) || options.sampleRate <= 0) {
      throw new InvalidInputError(`player sample rate must be a positive integer, got ${options.sampleRate}`);
    }
    this.sampleRate = options.sampleRate;
    this.frameSamples = Math.round((options.sampleRate * frameMs) / 1000);
    if (this.frameSamples <= 0) throw new InvalidInputError(`player frame of ${frameMs} ms is empty`);
    this.items = [...options.items];
    this.loop = options.loop ?? false;
    this.loadFile = options.loadFile;
    this.loadBlob = options.loadBlob;
    for (const [index, item] of this.items.entries()) {
      // streams exist from the start so TTS can write ahead of its turn
      if (item.kind !== 'stream' || this.streams.has(item.streamId)) continue;
      if (Number.isInteger(item.sampleRate) && item.sampleRate > 0) {
        this.streams.set(item.streamId, new StreamSource(item.sampleRate, this.sampleRate));
      } else {
        this.recordError(index, item, `stream ${item.streamId}: sample rate ${item.sampleRate} is not a positive integer`);
      }
    }
    this.preload(0);
    this.preloadNextFile(0);
    this.initialLoads.push(...this.loading.values());
  }

  get state(): PlayerState {
    if (this.result !== undefined) return 'finished';
    return this.paused ? 'paused' : 'playing';
  }

  /** how playback ended; undefined until it has */
  get outcome(): PlayerOutcome | undefined {
    return this.result;
  }

  get errors(): readonly PlayItemError[] {
    return this.errorList;
  }

  /** settles when the first items' files have loaded (or failed): lets a caller start without initial silence */
  async ready(): Promise<void> {
    await Promise.all(this.initialLoads);
  }

  /**
   * The next frame (frameSamples samples), or undefined once playback has ended. Silence while
   * paused or while waiting for a file or a stream. With `into` (frameSamples long) the frame is
   * written there and `into` returned, for a caller that uses each frame before asking for the next.
   */
  nextFrame(into?: Int16Array): Int16Array | undefined {
    if (this.result !== undefined) return undefined;
    if (this.exhausted) {
      this.finish(this.errorList.length > 0 ? { reason: 'error', error: this.errorList[0]?.message ?? '' } : { reason: 'finished' });
      return undefined;
    }
    let out: Int16Array;
    if (into !== undefined && into.length === this.frameSamples) {
      out = into;
      out.fill(0);
    } else {
      out = new Int16Array(this.frameSamples);
    }
    if (this.paused) return out;
    let written = 0;
    while (written < out.length) {
      if (this.current === undefined && !this.enterItem()) break;
      const source = this.current as Source;
      const r = source.pull(out, written, out.length - written);
      written += r.written;
      this.samplesThisPass += r.written;
      if (r.state === 'done') {
        this.current = undefined;
        this.index++;
      } else if (r.state === 'waiting') {
        break;
      }
    }
    if (this.exhausted && written === 0) return this.nextFrame(into);
    return out;
  }

  /**
   * Whether the next frame can be taken now without silence standing in for audio that has not
   * arrived yet (a TTS stream still being written, a file still loading) or for a pause: the
   * engine takes frames ahead of their time only then. True at the end too (the next call ends it).
   */
  readyAhead(): boolean {
    if (this.result !== undefined || this.exhausted) return true;
    if (this.paused) return false;
    let need = this.frameSamples;
    let at = this.index;
    if (this.current !== undefined) {
      const a = this.current.available();
      if (a.samples >= need) return true;
      if (!a.ends) return false;
      need -= a.samples;
      at++;
    }
    // the items after the current one; a loop wraps, a list that is all empty ends
    for (let looked = 0; looked <= this.items.length; looked++, at++) {
      if (at >= this.items.length) {
        if (!this.loop) return true;
        at = 0;
      }
      const a = this.itemAvailable(at);
      if (a.samples >= need) return true;
      if (!a.ends) return false;
      need -= a.samples;
    }
    return true;
  }

  private itemAvailable(index: number): Availability {
    const item = this.items[index] as PlayItem;
    switch (item.kind) {
      case 'tone':
      case 'silence':
        return { samples: samplesFor(item.durationMs, this.sampleRate), ends: true };
      case 'dtmf-tones':
        return dtmfSource(item.digits, this.sampleRate, item.toneMs, item.gapMs).source.available();
      case 'stream':
        return this.streams.get(item.streamId)?.available() ?? { samples: 0, ends: true };
      case 'file':
      case 'blob': {
        const loaded = this.loaded.get(index);
        if (loaded === undefined) return { samples: 0, ends: false };
        return { samples: loaded.ok ? loaded.samples.length : 0, ends: true };
      }
    }
  }

  pause(): void {
    if (this.result === undefined) this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /** end playback now; nextFrame() returns undefined from here on */
  stop(reason: 'stopped' | 'barge-in' = 'stopped'): void {
    if (this.result !== undefined) return;
    this.finish({ reason });
  }

  /**
   * Append PCM (at the item's sampleRate) to the stream item `streamId`; end=true closes it.
   * False when this player has no such stream or it has already ended.
   */
  writeStream(streamId: string, pcm: Int16Array, end = false): boolean {
    const stream = this.streams.get(streamId);
    if (stream === undefined || stream.isEnded || this.result !== undefined) return false;
    stream.write(pcm, end);
    return true;
  }

  /** writeStream() to the first stream item not yet ended: for players with one stream */
  write(pcm: Int16Array, end = false): boolean {
    for (const [id, stream] of this.streams) {
      if (!stream.isEnded) return this.writeStream(id, pcm, end);
    }
    return false;
  }

  private finish(outcome: PlayerOutcome): void {
    this.result = outcome;
    this.current = undefined;
    this.paused = false;
    // nothing plays any more: let go of decoded files and unplayed stream audio
    this.loaded.clear();
    this.streams.clear();
  }

  /** make the source for items[index], moving past items that cannot play; false at the end */
  private enterItem(): boolean {
    for (;;) {
      if (this.index >= this.items.length) {
        // a pass that produced nothing (every file failed) would loop forever without audio
        if (!this.loop || this.samplesThisPass === 0) {
          this.exhausted = true;
          return false;
        }
        this.index = 0;
        this.samplesThisPass = 0;
      }
      const item = this.items[this.index] as PlayItem;
      this.preload(this.index);
      this.preloadNextFile(this.index);
      const source = this.sourceFor(this.index, item);
      if (source !== undefined) {
        this.current = source;
        return true;
      }
      this.index++;
    }
  }

  private sourceFor(index: number, item: PlayItem): Source | undefined {
    switch (item.kind) {
      case 'tone':
        return new ToneSource(item.frequenciesHz, item.durationMs, this.sampleRate, item.levelDbfs);
      case 'silence':
        return new SilenceSource(item.durationMs, this.sampleRate);
      case 'dtmf-tones': {
        const { source, rejected } = dtmfSource(item.digits, this.sampleRate, item.toneMs, item.gapMs);
        if (rejected !== '') this.recordError(index, item, `not DTMF digits: "${rejected}"`);
        return source;
      }
      case 'stream':
        return this.streams.get(item.streamId);
      case 'file':
      case 'blob':
        return this.fileSource(index, item);
    }
  }

  private fileSource(index: number, item: PlayItem): Source | undefined {
    const loaded = this.loaded.get(index);
    if (loaded === undefined) return new AwaitFile(() => this.loaded.get(index), (l) => this.fromLoaded(index, item, l));
    return this.fromLoaded(index, item, loaded);
  }

  private fromLoaded(index: number, item: PlayItem, loaded: Loaded): Source | undefined {
    // without a loop the file plays once: let its samples go when it starts (the source holds them)
    if (!this.loop) this.loaded.delete(index);
    if (loaded.ok) return new PcmSource(loaded.samples);
    this.recordError(index, item, loaded.message);
    return undefined;
  }

  private recordError(index: number, item: PlayItem, message: string): void {
    // a looping list would otherwise repeat the same failure on every pass
    if (this.reported.has(index)) return;
    this.reported.add(index);
    this.errorList.push({ index, item, message });
  }

  private preload(index: number): void {
    const item = this.items[index];
    if (item === undefined || (item.kind !== 'file' && item.kind !== 'blob')) return;
    if (this.loaded.has(index) || this.loading.has(index)) return;
    const what = item.kind === 'file' ? `file ${item.path}` : `blob ${item.key}`;
    const load = (): Promise<Uint8Array> => (item.kind === 'file' ? this.loadFile(item.path) : this.loadBlob(item.key));
    const p = Promise.resolve()
      .then(load)
      .then(
        (bytes) => this.loaded.set(index, this.decode(what, bytes)),
        (err: unknown) => this.loaded.set(index, { ok: false, message: `${what}: ${describeError(err)}` }),
      )
      .then(() => {
        this.loading.delete(index);
      });
    this.loading.set(index, p);
  }

  /**
   * The next file after items[from] loads while the items before it play (however short they
   * are); after the last item only a loop comes back to the first.
   */
  private preloadNextFile(from: number): void {
    const n = this.items.length;
    for (let step = 1; step <= n; step++) {
      const at = from + step;
      if (at >= n && !this.loop) return;
      const item = this.items[at % n];
      if (item?.kind === 'file' || item?.kind === 'blob') {
        this.preload(at % n);
        return;
      }
    }
  }

  private decode(what: string, bytes: Uint8Array): Loaded {
    const parsed = parseWav(bytes);
    if (!parsed.ok) return { ok: false, message: `${what}: ${parsed.error.message}` };
    const rate = parsed.format.sampleRate;
    if (rate === this.sampleRate) return { ok: true, samples: parsed.samples };
    const resampler = createResampler(rate, this.sampleRate);
    const body = resampler.process(parsed.samples);
    const tail = resampler.process(new Int16Array(Math.ceil((rate * RESAMPLER_FLUSH_MS) / 1000)));
    const expected = Math.round((parsed.samples.length * this.sampleRate) / rate);
    const samples = new Int16Array(expected);
    samples.set(body.subarray(0, expected));
    if (body.length < expected) samples.set(tail.subarray(0, expected - body.length), body.length);
    return { ok: true, samples };
  }
}

/** Stands in for a file still loading: silence ('waiting') until it is there, then plays it. */
class AwaitFile implements Source {
  private inner: Source | undefined;
  private skipped = false;

  constructor(
    private readonly poll: () => Loaded | undefined,
    private readonly open: (loaded: Loaded) => Source | undefined,
  ) {}

  pull(out: Int16Array, offset: number, count: number): { written: number; state: 'more' | 'done' | 'waiting' } {
    if (this.inner === undefined && !this.skipped) {
      const loaded = this.poll();
      if (loaded === undefined) return { written: 0, state: 'waiting' };
      this.inner = this.open(loaded);
      this.skipped = this.inner === undefined;
    }
    if (this.inner === undefined) return { written: 0, state: 'done' };
    return this.inner.pull(out, offset, count);
  }

  available(): Availability {
    if (this.inner !== undefined) return this.inner.available();
    if (this.skipped) return { samples: 0, ends: true };
    const loaded = this.poll();
    if (loaded === undefined) return { samples: 0, ends: false };
    return { samples: loaded.ok ? loaded.samples.length : 0, ends: true };
  }
}
