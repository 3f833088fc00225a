/**
 * A cache in front of any TtsProvider. IVR prompts repeat (the same greeting on every call), and
 * synthesis costs CPU (espeak) or money and a round trip (Google), so audio is kept:
 *
 * - in memory, least recently used first out, bounded by the bytes of the samples;
 * - optionally in a BlobStore (`tts-cache/<sha256>.pcm`, raw 16-bit little-endian samples), shared
 *   by every node and surviving restarts.
 *
 * Requests for the same prompt while it is being synthesised share that one synthesis. Failures
 * are never cached. Audio that carries marks is kept in memory only: the blob holds samples alone.
 */
import { createHash } from 'node:crypto';
import { ClosedError, SystemScheduler, describeError, type Scheduler } from '../../lib/index.js';
import type { BlobStore } from '../../platform/index.js';
import { TtsError } from './tts-error.js';
import type { TtsAudio, TtsProvider, TtsRequest } from './types.js';

export const DEFAULT_TTS_CACHE_BYTES = 64 * 1024 * 1024;
const DEFAULT_BLOB_TIMEOUT_MS = 2_000;
/** bookkeeping per entry beyond its samples (key, map slot, object headers), roughly */
const ENTRY_OVERHEAD_BYTES = 256;

export interface CachingTtsOptions {
  /** memory bound in bytes (default 64 MiB; 0 keeps nothing in memory) */
  maxBytes?: number;
  /** second tier, e.g. the platform's blob store; the cache never closes it */
  blobs?: BlobStore;
  /** key prefix in the blob store (default `tts-cache/`) */
  blobPrefix?: string;
  /** a blob lookup slower than this counts as a miss (default 2 s) */
  blobTimeoutMs?: number;
  /** told about blob store failures, which never fail a synthesis */
  onBlobError?: (err: unknown) => void;
  scheduler?: Scheduler;
}

export interface TtsCacheStats {
  /** requests answered without a new synthesis: memory, blob, or joining one in flight */
  hits: number;
  /** the part of hits the blob store answered */
  blobHits: number;
  /** the part of hits that joined a synthesis already running */
  sharedHits: number;
  /** syntheses started */
  misses: number;
  /** entries and bytes held in memory now */
  entries: number;
  bytes: number;
}

interface MemoryEntry {
  audio: TtsAudio;
  bytes: number;
}

export class CachingTtsProvider implements TtsProvider {
  readonly name: string;
  private readonly maxBytes: number;
  private readonly blobs: BlobStore | undefined;
  private readonly blobPrefix: string;
  private readonly blobTimeoutMs: number;
  private readonly onBlobError: (err: unknown) => void;
  private readonly scheduler: Scheduler;
  /** Map order is recency order: the first entry is the least recently used */
  private readonly memory = new Map<string, MemoryEntry>();
  private memoryBytes = 0;
  private readonly inFlight = new Map<string, Promise<TtsAudio>>();
  private readonly blobWrites = new Set<Promise<void>>();
  private readonly counters = { hits: 0, blobHits: 0, sharedHits: 0, misses: 0 };
  private closing: Promise<void> | undefined;

  constructor(
    private readonly inner: TtsProvider,
    options: CachingTtsOptions = {},
  ) {
    this.name = inner.name;
    this.maxBytes = options.maxBytes ?? DEFAULT_TTS_CACHE_BYTES;
    if (!Number.isFinite(this.maxBytes) || this.maxBytes < 0) throw new TtsError(`cache size must be a non-negative number of bytes, got ${this.maxBytes}`, inner.name);
    this.blobs = options.blobs;
    this.blobPrefix = options.blobPrefix ?? 'tts-cache/';
    this.blobTimeoutMs = options.blobTimeoutMs ?? DEFAULT_BLOB_TIMEOUT_MS;
    this.onBlobError = options.onBlobError ?? (() => {});
    this.scheduler = options.scheduler ?? new SystemScheduler();
  }

  /** The cache key of a request: everything that changes the audio. */
  keyFor(request: TtsRequest): string {
    const identity = JSON.stringify([this.inner.name, request.voice ?? '', request.language, request.sampleRate, request.ssml]);
    return createHash('sha256').update(identity).digest('hex');
  }

  stats(): TtsCacheStats {
    return { ...this.counters, entries: this.memory.size, bytes: this.memoryBytes };
  }

  synthesize(request: TtsRequest, signal?: AbortSignal): Promise<TtsAudio> {
    if (this.closing !== undefined) return Promise.reject(new TtsError('provider is closed', this.name, { cause: new ClosedError('closed') }));
    if (signal?.aborted === true) return Promise.reject(new TtsError('request aborted', this.name, { cause: signal.reason }));
    const key = this.keyFor(request);
    const remembered = this.memory.get(key);
    if (remembered !== undefined) {
      this.memory.delete(key);
      this.memory.set(key, remembered);
      this.counters.hits++;
      return Promise.resolve(remembered.audio);
    }
    let shared = this.inFlight.get(key);
    if (shared !== undefined) {
      this.counters.hits++;
      this.counters.sharedHits++;
    } else {
      const started = this.produce(key, request);
      shared = started;
      this.inFlight.set(key, started);
      const forget = (): void => {
        if (this.inFlight.get(key) === started) this.inFlight.delete(key);
      };
      started.then(forget, forget);
    }
    return untilAborted(shared, signal, this.name);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.memory.clear();
      this.memoryBytes = 0;
      await this.inner.close();
      await Promise.all([...this.blobWrites]);
    })();
    return this.closing;
  }

  /**
   * Blob tier, else the engine. Runs without any caller's signal: other callers may be waiting
   * for the same audio, and the engine's own deadline bounds it.
   */
  private async produce(key: string, request: TtsRequest): Promise<TtsAudio> {
    const stored = await this.readBlob(key, request.sampleRate);
    if (stored !== undefined) {
      this.counters.hits++;
      this.counters.blobHits++;
      this.remember(key, stored);
      return stored;
    }
    this.counters.misses++;
    let audio: TtsAudio;
    try {
      audio = await this.inner.synthesize(request);
    } catch (err) {
      throw err instanceof TtsError ? err : new TtsError(describeError(err), this.name, { cause: err });
    }
    if (this.closing !== undefined) return audio;
    this.remember(key, audio);
    if (audio.marks === undefined && audio.sampleRate === request.sampleRate) this.writeBlob(key, audio.pcm);
    return audio;
  }

  private remember(key: string, audio: TtsAudio): void {
    const bytes = audio.pcm.byteLength + ENTRY_OVERHEAD_BYTES + (audio.marks !== undefined ? JSON.stringify(audio.marks).length * 2 : 0);
    if (bytes > this.maxBytes) return;
    const previous = this.memory.get(key);
    if (previous !== undefined) {
      this.memory.delete(key);
      this.memoryBytes -= previous.bytes;
    }
    this.memory.set(key, { audio, bytes });
    this.memoryBytes += bytes;
    for (const [oldKey, entry] of this.memory) {
      if (this.memoryBytes <= this.maxBytes) break;
      this.memory.delete(oldKey);
      this.memoryBytes -= entry.bytes;
    }
  }

  private blobKey(key: string): string {
    return `${this.blobPrefix}${key}.pcm`;
  }

  /** The stored samples, or undefined for absent, unreadable or slow blobs. */
  private async readBlob(key: string, sampleRate: number): Promise<TtsAudio | undefined> {
    const blobs = this.blobs;
    if (blobs === undefined) return undefined;
    const bytes = await new Promise<Uint8Array | undefined>((resolve) => {
      const timer = this.scheduler.setTimeout(() => {
        this.onBlobError(new TtsError(`blob lookup took longer than ${this.blobTimeoutMs} ms`, this.name));
        resolve(undefined);
      }, this.blobTimeoutMs);
      blobs.get(this.blobKey(key)).then(
        (data) => {
          timer.cancel();
          resolve(data);
        },
        (err: unknown) => {
          timer.cancel();
          // NotFoundError is the ordinary miss; anything else is worth telling
          if (!(err instanceof Error && err.name === 'NotFoundError')) this.onBlobError(err);
          resolve(undefined);
        },
      );
    });
    if (bytes === undefined) return undefined;
    if (bytes.length % 2 !== 0) {
      this.onBlobError(new TtsError(`cached blob ${this.blobKey(key)} has an odd length`, this.name));
      return undefined;
    }
    return { pcm: pcmFromLittleEndian(bytes), sampleRate };
  }

  private writeBlob(key: string, pcm: Int16Array): void {
    const blobs = this.blobs;
    if (blobs === undefined) return;
    const write = blobs.put(this.blobKey(key), pcmToLittleEndian(pcm)).catch((err: unknown) => this.onBlobError(err));
    this.blobWrites.add(write);
    void write.then(() => this.blobWrites.delete(write));
  }
}

/** The shared promise, or a TtsError as soon as this caller's signal fires. */
function untilAborted(shared: Promise<TtsAudio>, signal: AbortSignal | undefined, provider: string): Promise<TtsAudio> {
  if (signal === undefined) return shared;
  return new Promise<TtsAudio>((resolve, reject) => {
    const onAbort = (): void => reject(new TtsError('request aborted', provider, { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    shared.then(
      (audio) => {
        signal.removeEventListener('abort', onAbort);
        resolve(audio);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new TtsError(describeError(err), provider, { cause: err }));
      },
    );
  });
}

function pcmToLittleEndian(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < pcm.length; i++) view.setInt16(i * 2, pcm[i] ?? 0, true);
  return out;
}

function pcmFromLittleEndian(bytes: Uint8Array): Int16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}
