/**
 * Records one call (or one bridge) to a WAV file in the local spool directory, then uploads it
 * to the blob store. The I/O wrapper around RecordingWriter: the engine's tick calls write()
 * synchronously, file writes run behind it in order, and nothing here throws into the tick —
 * a failed write (disk full) is reported through the 'error' event and stop()'s promise, and the
 * spool file stays for recoverSpool() to deal with later.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { InvalidInputError, TypedEmitter, UnavailableError, describeError, silentLogger, type Logger } from '../../lib/index.js';
import { validateBlobKey, type BlobStore } from '../../platform/index.js';
import { RecordingWriter, type FileWrite } from './recording-writer.js';
import { spoolPaths, writeSidecar } from './spool.js';

export interface RecorderOptions {
  spoolDir: string;
  /** blob key the finished WAV is uploaded to */
  key: string;
  blobs: BlobStore;
  sampleRate?: 8000 | 16000;
  channels?: 1 | 2;
  /** names the spool files; default a random UUID */
  id?: string;
  logger?: Logger;
  flushIntervalMs?: number;
  headerIntervalMs?: number;
  /** wall clock for the sidecar's startedAt; default Date.now */
  wallNow?: () => number;
}

export interface RecordingResult {
  key: string;
  durationMs: number;
  /** size of the uploaded WAV file */
  bytes: number;
}

export type RecorderState = 'recording' | 'paused' | 'stopping' | 'stopped' | 'failed';

export type RecorderEvents = {
  /** a write failed; the recording stops taking audio, stop() rejects with the same error */
  error: [err: Error];
};

export class Recorder extends TypedEmitter<RecorderEvents> {
  readonly id: string;
  readonly key: string;
  readonly file: string;
  private readonly sidecarFile: string;
  private readonly writer: RecordingWriter;
  private readonly blobs: BlobStore;
  private readonly logger: Logger;
  private readonly handle: fs.FileHandle;
  private io: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private paused = false;
  private stopping: Promise<RecordingResult> | undefined;
  private done = false;

  private constructor(init: { options: RecorderOptions; id: string; writer: RecordingWriter; handle: fs.FileHandle }) {
    super();
    const { options } = init;
    this.id = init.id;
    this.key = options.key;
    const paths = spoolPaths(options.spoolDir, init.id);
    this.file = paths.wav;
    this.sidecarFile = paths.sidecar;
    this.writer = init.writer;
    this.handle = init.handle;
    this.blobs = options.blobs;
    this.logger = (options.logger ?? silentLogger).child({ recordingId: init.id, key: options.key });
  }

  /**
   * Create the spool files and write the header. The sidecar follows the file's creation at once;
   * a crash between the two leaves an empty file that recovery reports as having no sidecar.
   */
  static async start(options: RecorderOptions): Promise<Recorder> {
    validateBlobKey(options.key);
    const sampleRate = options.sampleRate ?? 8000;
    const channels = options.channels ?? 1;
    if (sampleRate !== 8000 && sampleRate !== 16000) throw new InvalidInputError(`recording sample rate ${String(sampleRate)} is not 8000 or 16000`);
    if (channels !== 1 && channels !== 2) throw new InvalidInputError(`recording channel count ${String(channels)} is not 1 or 2`);
    const id = options.id ?? randomUUID();
    if (!/^[A-Za-z0-9._-]+$/.test(id) || id.startsWith('.')) throw new InvalidInputError(`recording id "${id}" is not a plain file name`);
    const writer = new RecordingWriter({
      sampleRate,
      channels,
      ...(options.flushIntervalMs === undefined ? {} : { flushIntervalMs: options.flushIntervalMs }),
      ...(options.headerIntervalMs === undefined ? {} : { headerIntervalMs: options.headerIntervalMs }),
    });
    const paths = spoolPaths(options.spoolDir, id);
    let handle: fs.FileHandle | undefined;
    try {
      await fs.mkdir(options.spoolDir, { recursive: true });
      // 'wx' first: an id already in the spool belongs to another recording and is left alone
      handle = await fs.open(paths.wav, 'wx');
      await writeSidecar(paths.sidecar, { key: options.key, sampleRate, channels, startedAt: (options.wallNow ?? Date.now)() });
      const recorder = new Recorder({ options, id, writer, handle });
      recorder.enqueue(writer.begin());
      await recorder.io;
      if (recorder.failure !== undefined) throw recorder.failure;
      return recorder;
    } catch (err) {
      if (handle !== undefined) {
        await handle.close().catch(() => {});
        await fs.rm(paths.wav, { force: true }).catch(() => {});
        await fs.rm(paths.sidecar, { force: true }).catch(() => {});
      }
      throw new UnavailableError(`cannot start recording in ${options.spoolDir}: ${describeError(err)}`, { cause: err });
    }
  }

  get state(): RecorderState {
    if (this.failure !== undefined) return 'failed';
    if (this.done) return 'stopped';
    if (this.stopping !== undefined) return 'stopping';
    return this.paused ? 'paused' : 'recording';
  }

  /** audio accepted so far */
  get durationMs(): number {
    return this.writer.durationMs;
  }

  /** One tick's audio: `a` alone, or party A and party B (see RecordingWriter.frame). Never throws. */
  write(a: Int16Array, b?: Int16Array): void {
    if (this.paused || this.stopping !== undefined || this.failure !== undefined) return;
    try {
      this.enqueue(this.writer.frame(a, b));
    } catch (err) {
      this.fail(err);
    }
  }

  /** nothing is written while paused; the recording simply resumes later */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /**
   * Finish the file, upload it to `key` and remove the spool files. Rejects (keeping the spool
   * files for recoverSpool) when a write failed or the blob store refused. Idempotent.
   */
  stop(): Promise<RecordingResult> {
    this.stopping ??= this.finishAndUpload();
    return this.stopping;
  }

  private async finishAndUpload(): Promise<RecordingResult> {
    if (this.failure === undefined) this.enqueue(this.writer.finish());
    await this.io;
    try {
      if (this.failure === undefined) await this.handle.sync();
    } catch (err) {
      this.fail(err);
    }
    await this.handle.close().catch(() => {});
    if (this.failure !== undefined) throw this.failure;
    const dataBytes = this.writer.dataBytes;
    const result: RecordingResult = { key: this.key, durationMs: this.writer.durationMs, bytes: 44 + dataBytes };
    try {
      await this.blobs.putFile(this.key, this.file);
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'recording upload failed; the spool file stays for recovery');
      throw err;
    }
    await fs.rm(this.file, { force: true });
    await fs.rm(this.sidecarFile, { force: true });
    this.done = true;
    return result;
  }

  private enqueue(writes: FileWrite[]): void {
    if (writes.length === 0) return;
    this.io = this.io.then(async () => {
      if (this.failure !== undefined) return;
      try {
        for (const w of writes) await this.handle.write(w.bytes, 0, w.bytes.length, w.offset);
      } catch (err) {
        this.fail(err);
      }
    });
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = new UnavailableError(`recording ${this.id} to ${this.file} failed: ${describeError(err)}`, { cause: err });
    this.logger.error({ err: describeError(err) }, 'recording write failed; the spool file stays for recovery');
    this.emit('error', this.failure);
  }
}
