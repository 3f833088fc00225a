/**
 * Reading and writing RIFF/WAVE files (Microsoft RIFF spec 1991; WAVE_FORMAT_EXTENSIBLE per the
 * 2001 "Multiple channel audio data and WAVE files" note). Sans I/O: bytes in, samples out.
 *
 * The reader accepts what real prompt libraries contain: chunks in any order (LIST, fact, bext
 * before fmt or data), odd-sized chunks padded to an even length, extensible headers, and files
 * cut short. It never throws on bad input; it returns a typed error instead.
 */
import { ALAW_TO_LINEAR, ULAW_TO_LINEAR } from './g711.js';

export type WavAudioFormat = 'pcm16' | 'pcm8' | 'ulaw' | 'alaw';

export interface WavFormat {
  audioFormat: WavAudioFormat;
  sampleRate: number;
  channels: number;
}

export type WavErrorCode = 'not-riff' | 'not-wave' | 'missing-fmt' | 'bad-fmt' | 'unsupported-format' | 'missing-data';

export interface WavError {
  code: WavErrorCode;
  message: string;
}

export type WavChannelsResult =
  | {
      ok: true;
      format: WavFormat;
      /** one array per channel, de-interleaved */
      channels: Int16Array[];
      /** the data chunk was shorter than its header said (or its size was a placeholder) */
      truncated: boolean;
    }
  | { ok: false; error: WavError };

export type WavParseResult =
  | {
      ok: true;
      format: WavFormat;
      /** mono: the channels averaged */
      samples: Int16Array;
      truncated: boolean;
    }
  | { ok: false; error: WavError };

/** WAVE format tags (mmreg.h). */
const FORMAT_TAGS: ReadonlyMap<number, { format: WavAudioFormat; bits: number }[]> = new Map([
  [0x0001, [
    { format: 'pcm16', bits: 16 },
    { format: 'pcm8', bits: 8 },
  ]],
  [0x0006, [{ format: 'alaw', bits: 8 }]],
  [0x0007, [{ format: 'ulaw', bits: 8 }]],
]);
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** the 14 bytes after the format tag in every KSDATAFORMAT_SUBTYPE_* GUID (…-0000-0010-8000-00aa00389b71) */
const SUBTYPE_GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

/** Writers that stream (and crashed recorders) leave these in the data size: "until end of file". */
const PLACEHOLDER_SIZES = new Set([0, 0xffffffff]);

function fail(code: WavErrorCode, message: string): { ok: false; error: WavError } {
  return { ok: false, error: { code, message } };
}

function fourcc(view: DataView, offset: number): string {
  return String.fromCharCode(view.getUint8(offset), view.getUint8(offset + 1), view.getUint8(offset + 2), view.getUint8(offset + 3));
}

interface FmtChunk {
  tag: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
}

function readFmt(view: DataView, offset: number, size: number): FmtChunk | WavError {
  if (size < 16) return { code: 'bad-fmt', message: `fmt chunk is ${size} bytes, at least 16 expected` };
  let tag = view.getUint16(offset, true);
  const fmt = {
    channels: view.getUint16(offset + 2, true),
    sampleRate: view.getUint32(offset + 4, true),
    blockAlign: view.getUint16(offset + 12, true),
    bitsPerSample: view.getUint16(offset + 14, true),
  };
  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    // cbSize(2) validBits(2) channelMask(4) then the SubFormat GUID, whose first two bytes are the real tag
    if (size < 40) return { code: 'bad-fmt', message: `extensible fmt chunk is ${size} bytes, 40 expected` };
    const guid = offset + 24;
    for (let i = 0; i < SUBTYPE_GUID_TAIL.length; i++) {
      if (view.getUint8(guid + 2 + i) !== SUBTYPE_GUID_TAIL[i]) {
        return { code: 'unsupported-format', message: 'extensible fmt chunk with a non-standard SubFormat GUID' };
      }
    }
    tag = view.getUint16(guid, true);
  }
  return { tag, ...fmt };
}

/** Parse a WAV file keeping every channel. */
export function decodeWavChannels(bytes: Uint8Array): WavChannelsResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 12 || fourcc(view, 0) !== 'RIFF') return fail('not-riff', 'not a RIFF file');
  if (fourcc(view, 8) !== 'WAVE') return fail('not-wave', 'RIFF file of another form than WAVE');

  let fmt: FmtChunk | undefined;
  let data: { offset: number; size: number; truncated: boolean } | undefined;
  // the RIFF size is ignored on purpose: crashed writers leave it stale, the chunks say enough
  let pos = 12;
  while (pos + 8 <= bytes.byteLength && (fmt === undefined || data === undefined)) {
    const id = fourcc(view, pos);
    const declared = view.getUint32(pos + 4, true);
    const body = pos + 8;
    const available = bytes.byteLength - body;
    if (id === 'fmt ') {
      if (declared > available) return fail('bad-fmt', 'fmt chunk runs past the end of the file');
      const parsed = readFmt(view, body, declared);
      if ('code' in parsed) return { ok: false, error: parsed };
      fmt = parsed;
    } else if (id === 'data') {
      if (PLACEHOLDER_SIZES.has(declared) || declared > available) {
        // the data runs to the end of the file: nothing can follow it
        data = { offset: body, size: available, truncated: declared !== 0 || available > 0 };
        break;
      }
      data = { offset: body, size: declared, truncated: false };
    }
    // chunks are padded to an even length (RIFF spec: "pad byte"); data before fmt is legal, so keep walking
    pos = body + declared + (declared & 1);
  }
  if (fmt === undefined) return fail('missing-fmt', 'no fmt chunk before the end of the file');
  if (data === undefined) return fail('missing-data', 'no data chunk');
  return decodeSamples(fmt, bytes, data);
}

function decodeSamples(fmt: FmtChunk, bytes: Uint8Array, data: { offset: number; size: number; truncated: boolean }): WavChannelsResult {
  const variant = FORMAT_TAGS.get(fmt.tag)?.find((v) => v.bits === fmt.bitsPerSample);
  if (variant === undefined) {
    return fail('unsupported-format', `format tag 0x${fmt.tag.toString(16)} with ${fmt.bitsPerSample} bits per sample is not supported`);
  }
  if (fmt.channels < 1 || fmt.channels > 8) return fail('bad-fmt', `${fmt.channels} channels`);
  if (fmt.sampleRate < 1000 || fmt.sampleRate > 384_000) return fail('bad-fmt', `sample rate ${fmt.sampleRate}`);
  const bytesPerSample = variant.bits / 8;
  // blockAlign is recomputed rather than trusted: some writers leave it 0
  const blockAlign = bytesPerSample * fmt.channels;
  const frames = Math.floor(data.size / blockAlign);
  const truncated = data.truncated || frames * blockAlign !== data.size;
  const view = new DataView(bytes.buffer, bytes.byteOffset + data.offset, frames * blockAlign);
  const channels: Int16Array[] = [];
  for (let c = 0; c < fmt.channels; c++) channels.push(new Int16Array(frames));
  const read = sampleReader(variant.format, view);
  for (let c = 0; c < fmt.channels; c++) {
    const out = channels[c] as Int16Array;
    for (let i = 0, at = c * bytesPerSample; i < frames; i++, at += blockAlign) out[i] = read(at);
  }
  return {
    ok: true,
    format: { audioFormat: variant.format, sampleRate: fmt.sampleRate, channels: fmt.channels },
    channels,
    truncated,
  };
}

function sampleReader(format: WavAudioFormat, view: DataView): (at: number) => number {
  switch (format) {
    case 'pcm16':
      return (at) => view.getInt16(at, true);
    // 8-bit PCM is unsigned with 128 as zero (RIFF spec, "Data Format of the Samples")
    case 'pcm8':
      return (at) => (view.getUint8(at) - 128) << 8;
    case 'ulaw':
      return (at) => ULAW_TO_LINEAR[view.getUint8(at)] as number;
    case 'alaw':
      return (at) => ALAW_TO_LINEAR[view.getUint8(at)] as number;
  }
}

/** Parse a WAV file into mono 16-bit samples (channels averaged). */
export function parseWav(bytes: Uint8Array): WavParseResult {
  const r = decodeWavChannels(bytes);
  if (!r.ok) return r;
  return { ok: true, format: r.format, samples: downmix(r.channels), truncated: r.truncated };
}

/** Average channels into one. */
export function downmix(channels: readonly Int16Array[]): Int16Array {
  const first = channels[0];
  if (first === undefined) return new Int16Array(0);
  if (channels.length === 1) return first;
  const out = new Int16Array(first.length);
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (const ch of channels) sum += ch[i] ?? 0;
    out[i] = Math.round(sum / channels.length);
  }
  return out;
}

export const WAV_HEADER_BYTES = 44;

export interface WavHeaderOptions {
  sampleRate: number;
  channels: number;
  /** size of the sample data that follows; 0 for a provisional header */
  dataBytes: number;
}

/** The canonical 44-byte header of a 16-bit PCM file. */
export function wavHeader(options: WavHeaderOptions): Uint8Array {
  const out = new Uint8Array(WAV_HEADER_BYTES);
  const view = new DataView(out.buffer);
  const ascii = (at: number, s: string): void => {
    for (let i = 0; i < 4; i++) view.setUint8(at + i, s.charCodeAt(i));
  };
  const blockAlign = options.channels * 2;
  ascii(0, 'RIFF');
  writeRiffSizes(view, options.dataBytes);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, options.channels, true);
  view.setUint32(24, options.sampleRate, true);
  view.setUint32(28, options.sampleRate * blockAlign, true);
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  return out;
}

/** Set the RIFF and data sizes of a canonical 44-byte header in place. */
function writeRiffSizes(view: DataView, dataBytes: number): void {
  // sizes are 32-bit; a recording past 4 GiB keeps the maximum rather than wrapping
  const data = Math.min(dataBytes, 0xffffffff - 36);
  view.setUint32(4, 36 + data, true);
  view.setUint32(40, data, true);
}

/**
 * The two size fields of a canonical header as patches (file offset, 4 bytes each), for writers
 * that rewrite them in place as the file grows.
 */
export function wavSizePatches(dataBytes: number): { offset: number; bytes: Uint8Array }[] {
  const header = new DataView(new ArrayBuffer(WAV_HEADER_BYTES));
  writeRiffSizes(header, dataBytes);
  const slice = (at: number): Uint8Array => new Uint8Array(header.buffer.slice(at, at + 4));
  return [
    { offset: 4, bytes: slice(4) },
    { offset: 40, bytes: slice(40) },
  ];
}

/** true where typed arrays are little-endian already (every platform Node runs on today) */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian bytes of 16-bit samples, whatever the host byte order (a new array, never a view). */
export function pcm16Bytes(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  // on a little-endian host the samples' memory is the wire format: one block copy
  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
    return out;
  }
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i] as number, true);
  return out;
}

/** 16-bit samples from little-endian bytes (L16 from the engine API's writeStream); an odd last byte is dropped. */
export function pcm16FromBytes(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length >> 1);
  if (LITTLE_ENDIAN_HOST) {
    // a prompt is tens of thousands of samples per call: one block copy instead of a read per sample
    new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 2));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/** Interleave equal-rate channels (shorter ones padded with silence). */
export function interleave(channels: readonly Int16Array[]): Int16Array {
  const n = channels.length;
  const frames = Math.max(0, ...channels.map((c) => c.length));
  const out = new Int16Array(frames * n);
  for (let c = 0; c < n; c++) {
    const ch = channels[c] as Int16Array;
    for (let i = 0; i < ch.length; i++) out[i * n + c] = ch[i] as number;
  }
  return out;
}

/** A complete 16-bit PCM WAV file. `samples` is interleaved when channels > 1. */
export function encodeWav(samples: Int16Array, options: { sampleRate: number; channels?: number }): Uint8Array {
  const channels = options.channels ?? 1;
  const body = pcm16Bytes(samples);
  const out = new Uint8Array(WAV_HEADER_BYTES + body.length);
  out.set(wavHeader({ sampleRate: options.sampleRate, channels, dataBytes: body.length }), 0);
  out.set(body, WAV_HEADER_BYTES);
  return out;
}

/** Duration in milliseconds of `dataBytes` of 16-bit PCM. */
export function pcm16DurationMs(dataBytes: number, sampleRate: number, channels: number): number {
  return (Math.floor(dataBytes / (2 * channels)) * 1000) / sampleRate;
}
