/**
 * G.711 expansion for WAV files that store μ-law or A-law samples: the codec layer's own decode
 * tables (one G.711 in the tree), as 256-entry lookups for the WAV reader.
 */
import { alawToLinear, ulawToLinear } from '../codec/index.js';

function table(expand: (byte: number) => number): Int16Array {
  const t = new Int16Array(256);
  for (let i = 0; i < 256; i++) t[i] = expand(i);
  return t;
}

export const ULAW_TO_LINEAR: Int16Array = table(ulawToLinear);
export const ALAW_TO_LINEAR: Int16Array = table(alawToLinear);
