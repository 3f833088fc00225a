/**
 * The pure half of the recorder: frames in, file writes out. It lays out a canonical 44-byte
 * WAV header with a provisional size, appends frames in batches, and every so often emits a
 * rewrite of the two size fields, so whatever the I/O side has applied is always a playable file
 * whose header is at most `headerIntervalMs` behind its data (a SIGKILL loses no more than that
 * until recovery repairs it from the file size).
 */
import { clamp16 } from '../dsp/index.js';
import { WAV_HEADER_BYTES, wavHeader, wavSizePatches } from '../wav/index.js';

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
  /** batch appends up to this much audio (default 200 ms) */
  flushIntervalMs?: number;
  /** rewrite the header sizes after this much more audio (default 1000 ms) */
  headerIntervalMs?: number;
}

export class RecordingWriter {
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  private readonly flushBytes: number;
  private readonly headerBytes: number;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** data bytes handed out in writes so far */
  private committed = 0;
  /** data size the header was last set to */
  private headerSays = 0;

  constructor(options: RecordingWriterOptions) {
    this.sampleRate = options.sampleRate;
    this.channels = options.channels;
    const bytesPerMs = (options.sampleRate * options.channels * 2) / 1000;
    this.flushBytes = Math.max(1, Math.round(bytesPerMs * (options.flushIntervalMs ?? 200)));
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
    const bytes = this.channels === 1 ? monoBytes(a, b) : stereoBytes(a, b);
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    return this.pendingBytes >= this.flushBytes ? this.drain(false) : [];
  }

  /** everything batched plus an up-to-date header: for stop() */
  finish(): FileWrite[] {
    return this.drain(true);
  }

  private drain(forceHeader: boolean): FileWrite[] {
    const writes: FileWrite[] = [];
    if (this.pendingBytes > 0) {
      const joined = new Uint8Array(this.pendingBytes);
      let at = 0;
      for (const chunk of this.pending) {
        joined.set(chunk, at);
        at += chunk.length;
      }
      writes.push({ offset: WAV_HEADER_BYTES + this.committed, bytes: joined });
      this.committed += this.pendingBytes;
      this.pending = [];
      this.pendingBytes = 0;
    }
    if (forceHeader || this.committed - this.headerSays >= this.headerBytes) {
      // the sizes follow the data write above: a crash between the two leaves the header short, never long
      writes.push(...wavSizePatches(this.committed));
      this.headerSays = this.committed;
    }
    return writes;
  }
}

function monoBytes(a: Int16Array, b: Int16Array | undefined): Uint8Array {
  const n = Math.max(a.length, b?.length ?? 0);
  const out = new Uint8Array(n * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) view.setInt16(i * 2, clamp16((a[i] ?? 0) + (b?.[i] ?? 0)), true);
  return out;
}

function stereoBytes(a: Int16Array, b: Int16Array | undefined): Uint8Array {
  const n = Math.max(a.length, b?.length ?? 0);
  const out = new Uint8Array(n * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    view.setInt16(i * 4, a[i] ?? 0, true);
    view.setInt16(i * 4 + 2, b?.[i] ?? 0, true);
  }
  return out;
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
