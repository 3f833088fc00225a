/**
 * The sub-band ADPCM of ITU-T G.722 (§3 and §4 of the Recommendation; block numbers follow its
 * figures): quantisers, inverse quantisers, scale-factor adaptation and the adaptive
 * pole-zero predictor that both bands share. Everything is the standard's fixed-point arithmetic
 * on 16-bit words, so an encoder here and any conforming decoder stay in lock step.
 */

/** 16-bit saturation, the standard's "limit" on every intermediate word. */
export function saturate(value: number): number {
  return value > 32767 ? 32767 : value < -32768 ? -32768 : value;
}

// ---- lower sub-band (G.722 §3.2–3.5, §4.2), mode 1: 6 bits per sample ----

/** Decision levels of the 60-level quantiser, in units of det/4096 (table 6/G.722, ×8 scaled). */
const Q6 = [0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919];
/** Code words for negative / positive differences in quantiser interval i (table 6/G.722). */
const ILN = [0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4];
const ILP = [0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32];
/** 6-bit inverse quantiser output per code word (mode 1 reconstruction, table 7/G.722). */
const QM6 = [
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
  -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
  24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
  4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
];
/** 4-bit inverse quantiser (the 4 MSBs of the code) feeding the predictor in every mode (table 7/G.722). */
const QM4 = [0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0];
/** 4-bit code → magnitude class for the lower-band log scale factor (block 3L, LOGSCL). */
const RL42 = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
/** Log scale factor multipliers W_L (table 8/G.722). */
const WL = [-60, -30, 58, 172, 334, 538, 1198, 3042];

// ---- higher sub-band (G.722 §3.2–3.5, §4.2): 2 bits per sample ----

/** Code words for negative / positive differences, by interval (table 9/G.722). */
const IHN = [0, 1, 0];
const IHP = [0, 3, 2];
/** 2-bit inverse quantiser output per code word. */
const QM2 = [-7408, -1616, 7408, 1616];
/** 2-bit code → magnitude class, and the higher-band multipliers W_H (table 10/G.722). */
const RH2 = [2, 1, 2, 1];
const WH = [0, -214, 798];

/** Inverse-log table for the scale factor (block 3, SCALEL/SCALEH): 2^(i/32) × 2048. */
const ILB = [
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
  2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
];

/** Linear scale factor from the log one (SCALEL with bias 8, SCALEH with bias 10). */
function scaleFactor(logScale: number, bias: number): number {
  const mantissa = ILB[(logScale >> 6) & 31] as number;
  const shift = bias - (logScale >> 11);
  return (shift < 0 ? mantissa << -shift : mantissa >> shift) << 2;
}

/**
 * The state of one sub-band: the adaptive predictor (two poles, six zeros; block 4) and the
 * log/linear quantiser scale factor (block 3).
 */
export class SubBand {
  /** predicted signal s, its pole and zero parts */
  estimate = 0;
  private poleEstimate = 0;
  private zeroEstimate = 0;
  /** pole coefficients a1, a2 (index 1 and 2) */
  private readonly poles = new Int32Array(3);
  /** zero coefficients b1..b6 */
  private readonly zeros = new Int32Array(7);
  /** quantised difference history d(n−1)..d(n−6) at index 1..6 */
  private readonly differences = new Int32Array(7);
  /** reconstructed signal r(n−1), r(n−2) */
  private readonly reconstructed = new Int32Array(3);
  /** partially reconstructed signal p(n−1), p(n−2) */
  private readonly partial = new Int32Array(3);
  /** log scale factor ∇ and linear scale factor Δ */
  logScale = 0;
  scale: number;

  constructor(private readonly band: 'lower' | 'higher') {
    this.scale = scaleFactor(0, band === 'lower' ? 8 : 10);
  }

  /** Block 3: adapt the scale factor to the magnitude class of the last code (LOGSCL/LOGSCH + SCALEL/SCALEH). */
  adaptScale(magnitudeClass: number): void {
    if (this.band === 'lower') {
      const next = ((this.logScale * 127) >> 7) + (WL[magnitudeClass] as number);
      this.logScale = next < 0 ? 0 : next > 18432 ? 18432 : next;
      this.scale = scaleFactor(this.logScale, 8);
    } else {
      const next = ((this.logScale * 127) >> 7) + (WH[magnitudeClass] as number);
      this.logScale = next < 0 ? 0 : next > 22528 ? 22528 : next;
      this.scale = scaleFactor(this.logScale, 10);
    }
  }

  /** Block 4: reconstruct, adapt the predictor to the quantised difference d and predict the next sample. */
  adaptPredictor(d: number): void {
    const { poles, zeros, differences, reconstructed, partial } = this;
    // RECONS and PARREC
    const r0 = saturate(this.estimate + d);
    const p0 = saturate(this.zeroEstimate + d);

    // UPPOL2: a2 leaks by 2^-7 and moves with the signs of p(n)·p(n−2) and p(n)·p(n−1)·f(a1)
    const sign0 = p0 >> 15;
    const sign1 = (partial[1] as number) >> 15;
    const sign2 = (partial[2] as number) >> 15;
    const a1 = poles[1] as number;
    const a2 = poles[2] as number;
    const fa1 = saturate(a1 * 4);
    let term = sign0 === sign1 ? -fa1 : fa1;
    if (term > 32767) term = 32767;
    let nextA2 = (term >> 7) + (sign0 === sign2 ? 128 : -128) + ((a2 * 32512) >> 15);
    nextA2 = nextA2 > 12288 ? 12288 : nextA2 < -12288 ? -12288 : nextA2;

    // UPPOL1: a1 leaks by 2^-8, moves by 3·2^-8, and stays inside the stability triangle
    let nextA1 = saturate((sign0 === sign1 ? 192 : -192) + ((a1 * 32640) >> 15));
    const limit = saturate(15360 - nextA2);
    nextA1 = nextA1 > limit ? limit : nextA1 < -limit ? -limit : nextA1;

    // UPZERO: each b_i leaks by 2^-8 and moves by 2^-7 with sign(d(n))·sign(d(n−i)), not at all for d = 0
    const step = d === 0 ? 0 : 128;
    const signD = d >> 15;
    for (let i = 1; i <= 6; i++) {
      const same = (differences[i] as number) >> 15 === signD;
      zeros[i] = saturate((same ? step : -step) + (((zeros[i] as number) * 32640) >> 15));
    }

    // DELAYA
    for (let i = 6; i > 1; i--) differences[i] = differences[i - 1] as number;
    differences[1] = d;
    reconstructed[2] = reconstructed[1] as number;
    reconstructed[1] = r0;
    partial[2] = partial[1] as number;
    partial[1] = p0;
    poles[1] = nextA1;
    poles[2] = nextA2;

    // FILTEP: pole section on r(n−1), r(n−2)
    const pole1 = ((poles[1] as number) * saturate(2 * (reconstructed[1] as number))) >> 15;
    const pole2 = ((poles[2] as number) * saturate(2 * (reconstructed[2] as number))) >> 15;
    this.poleEstimate = saturate(pole1 + pole2);
    // FILTEZ: zero section on d(n−1)..d(n−6)
    let zero = 0;
    for (let i = 6; i >= 1; i--) zero += ((zeros[i] as number) * saturate(2 * (differences[i] as number))) >> 15;
    this.zeroEstimate = saturate(zero);
    // PREDIC
    this.estimate = saturate(this.poleEstimate + this.zeroEstimate);
  }
}

/** Lower-band encoder step: 6-bit code for input xL (blocks 1L–4L). */
export function encodeLower(band: SubBand, xLow: number): number {
  const el = saturate(xLow - band.estimate);
  const magnitude = el >= 0 ? el : -(el + 1);
  const det = band.scale;
  let interval = 1;
  while (interval < 30 && magnitude >= (((Q6[interval] as number) * det) >> 12)) interval++;
  const code = el < 0 ? (ILN[interval] as number) : (ILP[interval] as number);
  updateLower(band, code);
  return code;
}

/** Lower-band decoder step: the reconstructed sample for a 6-bit code (mode 1). */
export function decodeLower(band: SubBand, code: number): number {
  const d6 = (band.scale * (QM6[code] as number)) >> 15;
  const r = saturate(band.estimate + d6);
  updateLower(band, code);
  // the lower band's reconstructed signal is limited to 15 bits (block 5L, LIMIT)
  return r > 16383 ? 16383 : r < -16384 ? -16384 : r;
}

/** What the encoder and decoder both do with a lower-band code: 4-bit inverse quantiser, adapt. */
function updateLower(band: SubBand, code: number): void {
  const code4 = code >> 2;
  const d4 = (band.scale * (QM4[code4] as number)) >> 15;
  band.adaptScale(RL42[code4] as number);
  band.adaptPredictor(d4);
}

/** Higher-band encoder step: 2-bit code for input xH (blocks 1H–4H). */
export function encodeHigher(band: SubBand, xHigh: number): number {
  const eh = saturate(xHigh - band.estimate);
  const magnitude = eh >= 0 ? eh : -(eh + 1);
  const interval = magnitude >= ((564 * band.scale) >> 12) ? 2 : 1;
  const code = eh < 0 ? (IHN[interval] as number) : (IHP[interval] as number);
  updateHigher(band, code);
  return code;
}

/** Higher-band decoder step: the reconstructed sample for a 2-bit code. */
export function decodeHigher(band: SubBand, code: number): number {
  const d = (band.scale * (QM2[code] as number)) >> 15;
  const r = saturate(band.estimate + d);
  updateHigher(band, code);
  return r > 16383 ? 16383 : r < -16384 ? -16384 : r;
}

function updateHigher(band: SubBand, code: number): void {
  const d = (band.scale * (QM2[code] as number)) >> 15;
  band.adaptScale(RH2[code] as number);
  band.adaptPredictor(d);
}
