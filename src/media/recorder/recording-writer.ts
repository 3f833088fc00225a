/**
 * The pure half of the recorder: frames in, file writes out. It lays out a canonical 44-byte
 * WAV header with a provisional size, appends frames in batches, and every so often emits a
 * rewrite of the header with the sizes so far, so whatever the I/O side has applied is always a
 * playable file whose header is at most `headerIntervalMs` behind its data (a SIGKILL loses no
 * more than that until recovery repairs it from the file size). The batch still in memory
 * (`flushIntervalMs` of audio at most) is what a SIGKILL loses outright.
 */
import { clamp16 } from '../dsp/index.js';
import { WAV_HEADER_BYTES, wavHeader } from '../wav/index.js';

/** Bytes to put at an absolute file offset; applied in the order given. */
export interface FileWrite {
  offset: number;
  bytes: Uint8Array;
}

export interface RecordingFormat {
  sampleRate: number;
  /** 1: one mix; 2: party A left, party B right */
  channels: 1 | 2;
}

export interface RecordingWriterOptions extends RecordingFormat {
  /**
   * batch appends up to this much audio (default 500 ms: a write costs the event loop about the
   * same whatever its size, and a recording runs on every IVR call that leaves a message; a
   * SIGKILL loses at most this much)
   */
  flushIntervalMs?: number;
  /** rewrite the header sizes after this much more audio (default 1000 ms) */
  headerIntervalMs?: number;
}

export class RecordingWriter {
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  private readonly flushBytes: number;
  private readonly headerBytes: number;
  /** the batch being filled: frames are laid out here directly, and it is handed out whole when due */
  private batch = new Uint8Array(0);
  private pendingBytes = 0;
  /** data bytes handed out in writes so far */
  private committed = 0;
  /** data size the header was last set to */
  private headerSays = 0;

  constructor(options: RecordingWriterOptions) {
    this.sampleRate = options.sampleRate;
    this.channels = options.channels;
    const bytesPerMs = (options.sampleRate * options.channels * 2) / 1000;
    this.flushBytes = Math.max(1, Math.round(bytesPerMs * (options.flushIntervalMs ?? 500)));
    this.headerBytes = Math.max(1, Math.round(bytesPerMs * (options.headerIntervalMs ?? 1000)));
  }

  /** data bytes accepted, written or still batched */
  get dataBytes(): number {
    return this.committed + this.pendingBytes;
  }

  get durationMs(): number {
    return (this.dataBytes / (this.channels * 2) / this.sampleRate) * 1000;
  }

  /** the provisional header, the first write of a recording */
  begin(): FileWrite[] {
    return [{ offset: 0, bytes: wavHeader({ sampleRate: this.sampleRate, channels: this.channels, dataBytes: 0 }) }];
  }

  /**
   * One tick's audio. Mono mixes both parties when two frames come; stereo puts `a` left and `b`
   * right (a missing or short frame is silence). Returns the writes due now, often none.
   */
  frame(a: Int16Array, b?: Int16Array): FileWrite[] {
    const n = Math.max(a.length, b?.length ?? 0);
    const bytes = n * 2 * this.channels;
    this.reserve(bytes);
    if (this.channels === 1) writeMono(this.batch, this.pendingBytes, n, a, b);
    else writeStereo(this.batch, this.pendingBytes, n, a, b);
    this.pendingBytes += bytes;
    return this.pendingBytes >= this.flushBytes ? this.drain(false) : [];
  }

  /** everything batched plus an up-to-date header: for stop() */
  finish(): FileWrite[] {
    return this.drain(true);
  }

  /** room for `more` bytes after what is batched (a batch holds a flush and a frame without growing) */
  private reserve(more: number): void {
    const need = this.pendingBytes + more;
    if (need <= this.batch.length) return;
    const grown = new Uint8Array(Math.max(need, this.flushBytes + more));
    grown.set(this.batch.subarray(0, this.pendingBytes));
    this.batch = grown;
  }

  private drain(forceHeader: boolean): FileWrite[] {
    const writes: FileWrite[] = [];
    if (this.pendingBytes > 0) {
      // the batch goes to the file as it is; the next frame starts a new one (the write is not done yet)
      writes.push({ offset: WAV_HEADER_BYTES + this.committed, bytes: this.batch.subarray(0, this.pendingBytes) });
      this.committed += this.pendingBytes;
      this.batch = new Uint8Array(0);
      this.pendingBytes = 0;
    }
    if (forceHeader || this.committed - this.headerSays >= this.headerBytes) {
      // the sizes follow the data write above: a crash between the two leaves the header short, never
      // long; the whole header in one write rather than its two size fields in two
      writes.push({ offset: 0, bytes: wavHeader({ sampleRate: this.sampleRate, channels: this.channels, dataBytes: this.committed }) });
      this.headerSays = this.committed;
    }
    return writes;
  }
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** n mono samples at byte `at` of `out`: `a`, or a and b mixed (16-bit little-endian) */
function writeMono(out: Uint8Array, at: number, n: number, a: Int16Array, b: Int16Array | undefined): void {
  if (b === undefined && LITTLE_ENDIAN_HOST && (out.byteOffset + at) % 2 === 0) {
    // one party on a little-endian host: the samples' memory is the file's format already
    new Int16Array(out.buffer, out.byteOffset + at, n).set(a);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + at, n * 2);
  for (let i = 0; i < n; i++) view.setInt16(i * 2, clamp16((a[i] ?? 0) + (b?.[i] ?? 0)), true);
}

/** n stereo sample frames at byte `at` of `out`: a left, b right (a missing or short party is silence) */
function writeStereo(out: Uint8Array, at: number, n: number, a: Int16Array, b: Int16Array | undefined): void {
  const view = new DataView(out.buffer, out.byteOffset + at, n * 4);
  for (let i = 0; i < n; i++) {
    view.setInt16(i * 4, a[i] ?? 0, true);
    view.setInt16(i * 4 + 2, b?.[i] ?? 0, true);
  }
}

/**
 * How to repair a spool file of `fileSize` bytes left by a recorder that died: cut a partial
 * last sample frame and write a full header whose sizes match what is really there.
 */
export function repairPlan(fileSize: number, format: RecordingFormat): { truncateTo: number; header: Uint8Array; dataBytes: number } {
  const blockAlign = format.channels * 2;
  const dataBytes = Math.max(0, Math.floor((fileSize - WAV_HEADER_BYTES) / blockAlign) * blockAlign);
  return {
    truncateTo: WAV_HEADER_BYTES + dataBytes,
    header: wavHeader({ sampleRate: format.sampleRate, channels: format.channels, dataBytes }),
    dataBytes,
  };
}
