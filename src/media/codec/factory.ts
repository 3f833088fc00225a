/**
 * One place that maps a codec name to its encoder and decoder, so callers never import a codec
 * module directly. Each call makes a fresh, independent instance: encoders and decoders keep
 * per-stream state (ADPCM predictors, Opus state, concealment history).
 */

import type { AudioDecoder, AudioEncoder, CodecName } from '../types.js';
import { G711Decoder, G711Encoder } from './g711.js';
import { G722Decoder, G722Encoder } from './g722.js';
import { L16Decoder, L16Encoder } from './l16.js';
import { OpusDecoder, OpusEncoder } from './opus.js';

const ENCODERS: Readonly<Record<CodecName, () => AudioEncoder>> = {
  PCMU: () => new G711Encoder('PCMU'),
  PCMA: () => new G711Encoder('PCMA'),
  G722: () => new G722Encoder(),
  opus: () => new OpusEncoder(),
  L16: () => new L16Encoder(),
};

const DECODERS: Readonly<Record<CodecName, () => AudioDecoder>> = {
  PCMU: () => new G711Decoder('PCMU'),
  PCMA: () => new G711Decoder('PCMA'),
  G722: () => new G722Decoder(),
  opus: () => new OpusDecoder(),
  L16: () => new L16Decoder(),
};

/** A new encoder for `name`; throws a RangeError for a name outside CodecName (a programming error). */
export function createEncoder(name: CodecName): AudioEncoder {
  const make = Object.hasOwn(ENCODERS, name) ? ENCODERS[name] : undefined;
  if (make === undefined) throw new RangeError(`no encoder for codec ${String(name)}`);
  return make();
}

/** A new decoder for `name`; throws a RangeError for a name outside CodecName (a programming error). */
export function createDecoder(name: CodecName): AudioDecoder {
  const make = Object.hasOwn(DECODERS, name) ? DECODERS[name] : undefined;
  if (make === undefined) throw new RangeError(`no decoder for codec ${String(name)}`);
  return make();
}
