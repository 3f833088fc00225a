/**
 * ITU-T G.722 7 kHz audio at 64 kbit/s (mode 1): a quadrature mirror filter bank splits 16 kHz
 * PCM into a 0–4 kHz and a 4–8 kHz band at 8 kHz each; the lower band gets 6-bit ADPCM, the
 * higher band 2-bit ADPCM, and each pair of input samples becomes one octet (higher band in the
 * two most significant bits, G.722 §1.4.4). On RTP the clock rate is written as 8000 though the
 * audio is sampled at 16 kHz (RFC 3551 §4.5.2); a 20 ms payload is 160 octets for 320 samples.
 *
 * The bitstream is checked bit for bit against spandsp (test/unit/media/codec/reference-bitstreams);
 * the one deliberate difference is that decoded samples saturate at 16 bits where spandsp 0.0.6
 * lets an overshooting QMF output wrap around.
 */

import type { AudioDecoder, AudioEncoder, CodecInfo } from '../types.js';
import { CODECS } from './registry.js';
import { FadeConcealer } from './plc.js';
import { SubBand, decodeHigher, decodeLower, encodeHigher, encodeLower } from './g722-adpcm.js';

/**
 * The 24 QMF coefficients (table 11/G.722), symmetric, scaled by 2^13. Both filter banks use
 * them: tap j multiplies the sample j positions before the newest one.
 */
const QMF = new Int32Array([3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876, 3876, 951, -805, -210, 362, 32, -156, 12, 53, -11, -11, 3]);
const TAPS = 24;

function clamp16(value: number): number {
  return value > 32767 ? 32767 : value < -32768 ? -32768 : value;
}

/**
 * Encodes 16 kHz PCM. An odd sample at the end of a block is kept and paired with the first
 * sample of the next one, so frames of any length encode without gaps; the octet count is
 * therefore floor((held + length) / 2).
 */
export class G722Encoder implements AudioEncoder {
  readonly info: CodecInfo = CODECS.G722;
  private readonly lower = new SubBand('lower');
  private readonly higher = new SubBand('higher');
  /** the last 24 input samples, newest at the end (transmit QMF delay line, §3.1) */
  private readonly history = new Int32Array(TAPS);
  private held: number | undefined;

  encode(pcm: Int16Array): Uint8Array {
    const total = pcm.length + (this.held === undefined ? 0 : 1);
    const out = new Uint8Array(total >> 1);
    let index = 0;
    let octet = 0;
    if (this.held !== undefined && pcm.length > 0) {
      out[octet++] = this.encodePair(this.held, pcm[0] as number);
      index = 1;
      this.held = undefined;
    }
    for (; index + 1 < pcm.length; index += 2) out[octet++] = this.encodePair(pcm[index] as number, pcm[index + 1] as number);
    if (index < pcm.length) this.held = pcm[index] as number;
    return out;
  }

  private encodePair(first: number, second: number): number {
    const x = this.history;
    // a plain loop beats copyWithin's builtin call for 22 elements, 8000 times a second
    for (let i = 0; i < TAPS - 2; i++) x[i] = x[i + 2] as number;
    x[TAPS - 2] = first;
    x[TAPS - 1] = second;
    // Transmit QMF (§3.1): taps on even delays (from the newest sample) form xA, odd delays xB;
    // xL = xA + xB and xH = xA − xB, scaled back from 2^13 with one extra halving.
    let sumA = 0;
    let sumB = 0;
    for (let delay = 0; delay < TAPS; delay += 2) {
      sumA += (x[TAPS - 1 - delay] as number) * (QMF[delay] as number);
      sumB += (x[TAPS - 2 - delay] as number) * (QMF[delay + 1] as number);
    }
    const xLow = (sumA + sumB) >> 14;
    const xHigh = (sumA - sumB) >> 14;
    const low = encodeLower(this.lower, xLow);
    const high = encodeHigher(this.higher, xHigh);
    return (high << 6) | low;
  }

  close(): void {}
}

/** Decodes any number of octets (two samples each); conceals by fading repetition. */
export class G722Decoder implements AudioDecoder {
  readonly info: CodecInfo = CODECS.G722;
  private readonly lower = new SubBand('lower');
  private readonly higher = new SubBand('higher');
  /** receive QMF delay line: per received pair, (rL − rH) then (rL + rH), newest at the end */
  private readonly history = new Int32Array(TAPS);
  private readonly concealer = new FadeConcealer(16000);

  decode(payload: Uint8Array): Int16Array {
    const out = new Int16Array(payload.length * 2);
    const y = this.history;
    for (let i = 0; i < payload.length; i++) {
      const octet = payload[i] as number;
      const rLow = decodeLower(this.lower, octet & 0x3f);
      const rHigh = decodeHigher(this.higher, octet >> 6);
      for (let k = 0; k < TAPS - 2; k++) y[k] = y[k + 2] as number;
      y[TAPS - 2] = rLow - rHigh;
      y[TAPS - 1] = rLow + rHigh;
      // Receive QMF (§4.4): the first output sample filters the differences with the even
      // coefficients, the second the sums with the odd ones; ×2 and 2^13 scaling give >> 11.
      let first = 0;
      let second = 0;
      for (let k = 0; k < TAPS; k += 2) {
        first += (y[TAPS - 2 - k] as number) * (QMF[k] as number);
        second += (y[TAPS - 1 - k] as number) * (QMF[k + 1] as number);
      }
      // saturate rather than wrap: a full-scale input can overshoot through the QMF ripple
      out[2 * i] = clamp16(first >> 11);
      out[2 * i + 1] = clamp16(second >> 11);
    }
    this.concealer.remember(out);
    return out;
  }

  conceal(samples: number): Int16Array {
    return this.concealer.conceal(samples);
  }

  close(): void {
    this.concealer.reset();
  }
}
