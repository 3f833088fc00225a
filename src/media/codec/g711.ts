/**
 * ITU-T G.711 pulse code modulation: μ-law (PCMU) and A-law (PCMA), RFC 3551 §4.5.14.
 *
 * Both laws are 8-bit logarithmic codes: a sign bit, a 3-bit segment (chord) and a 4-bit step
 * within the segment. Everything is precomputed at load time — a 256-entry table per law for
 * decoding and a 65 536-entry table (one byte per 16-bit sample) for encoding — so per sample the
 * codec is a single array lookup. The tables are built from the segment rules of G.711 §2/§3.
 */

import type { AudioDecoder, AudioEncoder, CodecInfo } from '../types.js';
import { CODECS } from './registry.js';
import { FadeConcealer } from './plc.js';

/**
 * μ-law of one 16-bit sample (G.711 table 2). The magnitude is taken at 14-bit resolution and
 * biased by 33 so every segment boundary falls on a power of two; the code is sent inverted.
 * The 16 → 14-bit step floors and then takes the magnitude, as the widely used reference
 * implementation (Sun's g711.c, also Python's audioop) does, so our bytes match theirs exactly.
 */
function muLawByte(sample: number): number {
  const negative = sample < 0;
  const reduced = sample >> 2;
  let magnitude = negative ? -reduced : reduced;
  if (magnitude > 8158) magnitude = 8158; // the top of segment 7 (8159 − 1 after the bias below)
  magnitude += 33;
  // segment = position of the highest set bit above bit 5 (bit 5 → segment 0, bit 12 → 7)
  let segment = 0;
  for (let v = magnitude >> 6; v !== 0; v >>= 1) segment++;
  const step = (magnitude >> (segment + 1)) & 0x0f;
  return ~((negative ? 0x80 : 0) | (segment << 4) | step) & 0xff;
}

/** Linear value of a μ-law byte, scaled to 16 bits (the 14-bit G.711 value × 4). */
function muLawLinear(code: number): number {
  const c = ~code & 0xff;
  const segment = (c >> 4) & 0x07;
  const step = c & 0x0f;
  // centre of the step: ((2·step + 33) << segment) − 33 at 14 bits, times 4
  const magnitude = (((step << 3) + 0x84) << segment) - 0x84;
  return c & 0x80 ? -magnitude : magnitude;
}

/**
 * A-law of one 16-bit sample (G.711 table 1): 13-bit resolution, segment 0 and 1 share one step
 * size, and the even bits of the code are inverted on the line (XOR 0x55). The sign bit is 1 for
 * positive values.
 */
function aLawByte(sample: number): number {
  const positive = sample >= 0;
  // 12-bit magnitude; one's complement for negatives keeps −1 and 0 on the same (smallest) step,
  // which is again what the reference implementation does
  const magnitude = (positive ? sample : ~sample) >> 3;
  let code: number;
  if (magnitude < 32) {
    code = magnitude >> 1;
  } else {
    // segment s ≥ 1 covers [32·2^(s−1), 64·2^(s−1)); the 12-bit magnitude tops out in segment 7
    let segment = 1;
    for (let v = magnitude >> 6; v !== 0; v >>= 1) segment++;
    const step = (magnitude >> segment) & 0x0f;
    code = (segment << 4) | step;
  }
  return ((positive ? 0x80 : 0) | code) ^ 0x55;
}

/** Linear value of an A-law byte, scaled to 16 bits (the 13-bit G.711 value × 8). */
function aLawLinear(code: number): number {
  const c = code ^ 0x55;
  const segment = (c >> 4) & 0x07;
  const step = c & 0x0f;
  // centre of the step: segment 0 is 2·step + 1, segment s ≥ 1 is (2·step + 33) << (s − 1)
  const magnitude = (segment === 0 ? (step << 1) + 1 : ((step << 1) + 33) << (segment - 1)) << 3;
  return c & 0x80 ? magnitude : -magnitude;
}

function buildDecodeTable(toLinear: (code: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let code = 0; code < 256; code++) table[code] = toLinear(code);
  return table;
}

function buildEncodeTable(toByte: (sample: number) => number): Uint8Array {
  // indexed by the sample's 16 bits read as unsigned (sample & 0xffff)
  const table = new Uint8Array(65536);
  for (let bits = 0; bits < 65536; bits++) table[bits] = toByte((bits << 16) >> 16);
  return table;
}

const ULAW_DECODE = buildDecodeTable(muLawLinear);
const ALAW_DECODE = buildDecodeTable(aLawLinear);
const ULAW_ENCODE = buildEncodeTable(muLawByte);
const ALAW_ENCODE = buildEncodeTable(aLawByte);

export type G711Law = 'PCMU' | 'PCMA';

const TABLES: Readonly<Record<G711Law, { encode: Uint8Array; decode: Int16Array }>> = {
  PCMU: { encode: ULAW_ENCODE, decode: ULAW_DECODE },
  PCMA: { encode: ALAW_ENCODE, decode: ALAW_DECODE },
};

/** μ-law byte for one 16-bit sample. */
export function linearToUlaw(sample: number): number {
  return ULAW_ENCODE[sample & 0xffff] as number;
}

/** 16-bit sample for one μ-law byte. */
export function ulawToLinear(code: number): number {
  return ULAW_DECODE[code & 0xff] as number;
}

/** A-law byte for one 16-bit sample. */
export function linearToAlaw(sample: number): number {
  return ALAW_ENCODE[sample & 0xffff] as number;
}

/** 16-bit sample for one A-law byte. */
export function alawToLinear(code: number): number {
  return ALAW_DECODE[code & 0xff] as number;
}

/** Encode a block of samples (any length) into a new byte array, one byte per sample. */
export function encodeG711(law: G711Law, pcm: Int16Array): Uint8Array {
  const table = TABLES[law].encode;
  const out = new Uint8Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = table[(pcm[i] as number) & 0xffff] as number;
  return out;
}

/** Decode a block of G.711 bytes (any length) into samples, one per byte. */
export function decodeG711(law: G711Law, payload: Uint8Array): Int16Array {
  const table = TABLES[law].decode;
  const out = new Int16Array(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = table[payload[i] as number] as number;
  return out;
}

/**
 * G.711 is sample-by-sample, so a frame of any length encodes to that many bytes: a "wrong"
 * frame length needs no padding or truncation and costs nothing but a different ptime.
 */
export class G711Encoder implements AudioEncoder {
  readonly info: CodecInfo;
  private lastView: Uint8Array | undefined;

  constructor(readonly law: G711Law) {
    this.info = CODECS[law];
  }

  encode(pcm: Int16Array): Uint8Array {
    return encodeG711(this.law, pcm);
  }

  encodeInto(pcm: Int16Array, out: Uint8Array): Uint8Array | undefined {
    if (out.length < pcm.length) return undefined;
    const table = TABLES[this.law].encode;
    for (let i = 0; i < pcm.length; i++) out[i] = table[(pcm[i] as number) & 0xffff] as number;
    // the same view as last frame when nothing changed (a view per 20 ms frame is garbage)
    let view = this.lastView;
    if (view === undefined || view.buffer !== out.buffer || view.byteOffset !== out.byteOffset || view.length !== pcm.length) {
      view = out.subarray(0, pcm.length);
      this.lastView = view;
    }
    return view;
  }

  close(): void {}
}

/** Decodes any payload length (every byte is a sample); conceals by fading repetition. */
export class G711Decoder implements AudioDecoder {
  readonly info: CodecInfo;
  private readonly concealer: FadeConcealer;

  constructor(readonly law: G711Law) {
    this.info = CODECS[law];
    this.concealer = new FadeConcealer(this.info.sampleRate);
  }

  decode(payload: Uint8Array): Int16Array {
    const pcm = decodeG711(this.law, payload);
    this.concealer.remember(pcm);
    return pcm;
  }

  decodeInto(payload: Uint8Array, out: Int16Array): Int16Array | undefined {
    if (out.length < payload.length) return undefined;
    const table = TABLES[this.law].decode;
    for (let i = 0; i < payload.length; i++) out[i] = table[payload[i] as number] as number;
    const pcm = out.length === payload.length ? out : out.subarray(0, payload.length);
    this.concealer.remember(pcm);
    return pcm;
  }

  conceal(samples: number): Int16Array {
    return this.concealer.conceal(samples);
  }

  close(): void {
    this.concealer.reset();
  }
}
