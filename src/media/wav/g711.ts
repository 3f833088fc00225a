/**
 * G.711 expansion (ITU-T G.711 §2 and §3) for WAV files that store μ-law or A-law samples.
 * Only decoding lives here: the codec layer owns encoding for RTP, and a WAV reader needs no more
 * than two 256-entry tables built once.
 */

function ulawToLinear(byte: number): number {
  // μ-law bytes are stored inverted (G.711 §3.2) so that silence is not a run of zero bytes
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  // bias of 0x84 (132) is added before encoding, so it is taken off after the shift
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return u & 0x80 ? -magnitude : magnitude;
}

function alawToLinear(byte: number): number {
  // A-law toggles the even bits (G.711 §2.2) to keep line density up
  const a = byte ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  let magnitude = (mantissa << 4) + 8;
  if (exponent !== 0) magnitude = (magnitude + 0x100) << (exponent - 1);
  // the sign bit set means positive in A-law, unlike μ-law
  return a & 0x80 ? magnitude : -magnitude;
}

function table(expand: (byte: number) => number): Int16Array {
  const t = new Int16Array(256);
  for (let i = 0; i < 256; i++) t[i] = expand(i);
  return t;
}

export const ULAW_TO_LINEAR: Int16Array = table(ulawToLinear);
export const ALAW_TO_LINEAR: Int16Array = table(alawToLinear);
