/**
 * Goertzel's algorithm: the power of one frequency in a block of samples, without a full DFT.
 * Used by the in-band DTMF detector and by tests that check a tone's frequency and level.
 */

/** Precomputed coefficient for one frequency at one sample rate. */
export function goertzelCoefficient(frequencyHz: number, sampleRate: number): number {
  return 2 * Math.cos((2 * Math.PI * frequencyHz) / sampleRate);
}

/**
 * Squared magnitude of `frequencyHz` in samples[start, end), scaled so that a full-scale sine
 * (amplitude 32767) over N samples gives ≈ (32767·N/2)².
 */
export function goertzelPower(samples: ArrayLike<number>, coefficient: number, start = 0, end = samples.length): number {
  let s1 = 0;
  let s2 = 0;
  for (let i = start; i < end; i++) {
    const s0 = (samples[i] as number) + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coefficient * s1 * s2;
}

/** Amplitude (peak, in sample units) of a sine at `frequencyHz` found in the block. */
export function toneAmplitude(samples: ArrayLike<number>, frequencyHz: number, sampleRate: number, start = 0, end = samples.length): number {
  const n = end - start;
  if (n <= 0) return 0;
  const power = goertzelPower(samples, goertzelCoefficient(frequencyHz, sampleRate), start, end);
  return (2 * Math.sqrt(Math.max(0, power))) / n;
}

/** Total energy per sample (mean square) of the block. */
export function meanSquare(samples: ArrayLike<number>, start = 0, end = samples.length): number {
  const n = end - start;
  if (n <= 0) return 0;
  let sum = 0;
  for (let i = start; i < end; i++) {
    const v = samples[i] as number;
    sum += v * v;
  }
  return sum / n;
}

/** Level of the block in dBFS (RMS against full scale 32768); -Infinity for digital silence. */
export function levelDbfs(samples: ArrayLike<number>, start = 0, end = samples.length): number {
  const ms = meanSquare(samples, start, end);
  return ms === 0 ? -Infinity : 10 * Math.log10(ms / (32768 * 32768));
}

/**
 * The strongest frequency among `candidatesHz` in the block, and how much of the block's energy
 * it holds (0..1): a pure tone at a candidate gives a share near 1.
 */
export function dominantFrequency(
  samples: ArrayLike<number>,
  sampleRate: number,
  candidatesHz: readonly number[],
): { frequencyHz: number; share: number } {
  let best = { frequencyHz: 0, share: 0 };
  const n = samples.length;
  const energy = meanSquare(samples) * n;
  if (energy === 0) return best;
  for (const f of candidatesHz) {
    const amp = toneAmplitude(samples, f, sampleRate);
    // a sine of amplitude A over n samples carries A²·n/2 of energy
    const share = (amp * amp * n) / 2 / energy;
    if (share > best.share) best = { frequencyHz: f, share };
  }
  return best;
}
