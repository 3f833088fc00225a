/**
 * Least-squares fit of sinusoids at known frequencies to one block of samples.
 *
 * Goertzel measures one frequency as if it were alone, so in a short block a strong tone leaks
 * into any nearby frequency: in a 13 ms block the 1336 Hz tone of a '2' shows up at 1394 Hz,
 * the second harmonic of its 697 Hz partner, only ~11 dB down. Fitting all the frequencies of
 * interest together (a cosine and a sine per frequency) separates them exactly, whatever the
 * block length, as long as the frequencies are not closer than about one cycle per block.
 *
 * The normal equations depend only on the frequencies and the block length, so their inverse
 * is computed once; a fit then costs one dot product per basis vector and a small matrix product.
 */

export interface SinusoidFitResult {
  /** peak amplitude per frequency, in sample units */
  amplitudes: number[];
  /** the cosine and sine weight of each frequency in turn: [cos f0, sin f0, cos f1, ...] */
  coefficients: number[];
}

export class SinusoidFit {
  private readonly basis: Float64Array[] = [];
  private readonly gram: number[][];
  private readonly inverse: number[][] | undefined;

  constructor(
    readonly frequenciesHz: readonly number[],
    readonly sampleRate: number,
    readonly blockSize: number,
  ) {
    for (const f of frequenciesHz) {
      const w = (2 * Math.PI * f) / sampleRate;
      const cos = new Float64Array(blockSize);
      const sin = new Float64Array(blockSize);
      for (let k = 0; k < blockSize; k++) {
        cos[k] = Math.cos(w * k);
        sin[k] = Math.sin(w * k);
      }
      this.basis.push(cos, sin);
    }
    const m = this.basis.length;
    this.gram = [];
    for (let i = 0; i < m; i++) {
      const row: number[] = [];
      for (let j = 0; j < m; j++) row.push(dot(this.basis[i] as Float64Array, this.basis[j] as Float64Array, blockSize));
      this.gram.push(row);
    }
    this.inverse = invert(this.gram);
  }

  /** Fit the block (its first blockSize samples); undefined if the frequencies cannot be separated. */
  fit(block: ArrayLike<number>): SinusoidFitResult | undefined {
    if (this.inverse === undefined || block.length < this.blockSize) return undefined;
    const m = this.basis.length;
    const projections = this.basis.map((b) => dot(b, block, this.blockSize));
    const coefficients: number[] = [];
    for (let i = 0; i < m; i++) {
      const row = this.inverse[i] as number[];
      let c = 0;
      for (let j = 0; j < m; j++) c += (row[j] as number) * (projections[j] as number);
      coefficients.push(c);
    }
    const amplitudes: number[] = [];
    for (let f = 0; f < this.frequenciesHz.length; f++) {
      amplitudes.push(Math.hypot(coefficients[2 * f] as number, coefficients[2 * f + 1] as number));
    }
    return { amplitudes, coefficients };
  }

  /**
   * Energy (sum of squares over the block) of the fitted sinusoids at the given frequency
   * indices taken together: cᵀGc over their basis vectors, so the cross terms between
   * frequencies that do not complete whole cycles in the block are counted too.
   */
  energyOf(result: SinusoidFitResult, frequencyIndices: readonly number[]): number {
    const columns = frequencyIndices.flatMap((f) => [2 * f, 2 * f + 1]);
    let energy = 0;
    for (const i of columns) {
      const gramRow = this.gram[i];
      const ci = result.coefficients[i];
      if (gramRow === undefined || ci === undefined) continue;
      for (const j of columns) energy += ci * (gramRow[j] ?? 0) * (result.coefficients[j] ?? 0);
    }
    return energy;
  }
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>, n: number): number {
  let sum = 0;
  for (let k = 0; k < n; k++) sum += (a[k] as number) * (b[k] as number);
  return sum;
}

/** Gauss–Jordan inversion with partial pivoting; undefined for a (numerically) singular matrix. */
function invert(matrix: readonly (readonly number[])[]): number[][] | undefined {
  const n = matrix.length;
  const a = matrix.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  const scale = Math.max(...matrix.map((row, i) => Math.abs(row[i] as number)), 1);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) {
      if (Math.abs(a[r]?.[col] as number) > Math.abs(a[pivot]?.[col] as number)) pivot = r;
    }
    const pivotRow = a[pivot] as number[];
    const p = pivotRow[col] as number;
    if (Math.abs(p) < scale * 1e-10) return undefined;
    a[pivot] = a[col] as number[];
    a[col] = pivotRow;
    for (let j = 0; j < 2 * n; j++) pivotRow[j] = (pivotRow[j] as number) / p;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const row = a[r] as number[];
      const factor = row[col] as number;
      if (factor === 0) continue;
      for (let j = 0; j < 2 * n; j++) row[j] = (row[j] as number) - factor * (pivotRow[j] as number);
    }
  }
  return a.map((row) => row.slice(n));
}
