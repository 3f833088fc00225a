/**
 * Streaming sample-rate conversion for mono 16-bit PCM.
 *
 * A rational polyphase resampler: the ratio toRate/fromRate is reduced to L/M, the output sample
 * n sits at input time n·M/L, and each output is a dot product of the last few input samples with
 * one phase of a Kaiser-windowed sinc. The filter's cutoff follows the lower of the two rates, so
 * downsampling (48000 → 8000, 44100 → 8000) removes everything above the new Nyquist frequency
 * before it can alias, and upsampling removes the spectral images.
 *
 * State (the input history and the fractional position) carries over between process() calls,
 * so converting a stream 20 ms at a time gives the same samples as converting it in one piece —
 * no clicks at frame boundaries. The price is a fixed delay of half the filter length.
 */

export interface Resampler {
  readonly fromRate: number;
  readonly toRate: number;
  /**
   * Convert the next block of the stream. The output length follows the ratio over time (a
   * block whose length is a whole number of ratio periods, e.g. 20 ms of 8000 → 48000, always
   * gives exactly the expected length). With equal rates the input array itself is returned.
   */
  process(input: Int16Array): Int16Array;
  /** forget the history, as if a new stream started */
  reset(): void;
}

/** Zero crossings of the sinc on each side, counted at the lower of the two rates. */
const ZERO_CROSSINGS = 16;
/** Cutoff as a share of the lower Nyquist frequency: 0.9 keeps telephony's 300–3400 Hz flat at 8 kHz. */
const ROLLOFF = 0.9;
/** Kaiser β ≈ 6 gives about 60 dB of stopband attenuation. */
const KAISER_BETA = 6;
/**
 * Above this many phases (an awkward ratio such as 44101 → 8000) the output time is rounded down
 * to one of MAX_PHASES positions between two input samples; the time error is then below 1/4096
 * of an input sample, noise far under the 16-bit floor at speech frequencies.
 */
const MAX_PHASES = 4096;

export function createResampler(fromRate: number, toRate: number): Resampler {
  if (!Number.isInteger(fromRate) || !Number.isInteger(toRate) || fromRate <= 0 || toRate <= 0) {
    throw new RangeError(`sample rates must be positive integers, got ${fromRate} → ${toRate}`);
  }
  if (fromRate === toRate) return new IdentityResampler(fromRate);
  return new PolyphaseResampler(fromRate, toRate);
}

class IdentityResampler implements Resampler {
  constructor(readonly fromRate: number) {}
  get toRate(): number {
    return this.fromRate;
  }
  process(input: Int16Array): Int16Array {
    return input;
  }
  reset(): void {}
}

class PolyphaseResampler implements Resampler {
  /** up factor L (number of phases in the exact case) */
  private readonly up: number;
  /** down factor M */
  private readonly down: number;
  private readonly taps: number;
  /** phases × taps coefficients, phase-major */
  private readonly coefficients: Float32Array;
  private readonly phases: number;
  /** history (taps − 1 samples) followed by the current input; grows to the largest block seen */
  private buffer: Float64Array;
  /** position of the next output in buffer samples × up (exact integer arithmetic) */
  private position = 0;

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
  ) {
    const g = gcd(fromRate, toRate);
    this.up = toRate / g;
    this.down = fromRate / g;
    // cutoff relative to the input Nyquist frequency
    const cutoff = ROLLOFF * Math.min(1, toRate / fromRate);
    const halfWidth = Math.ceil(ZERO_CROSSINGS / cutoff);
    this.taps = 2 * halfWidth;
    this.phases = Math.min(this.up, MAX_PHASES);
    this.coefficients = designPhases(this.phases, this.taps, halfWidth, cutoff);
    this.buffer = new Float64Array(this.taps * 4);
    this.reset();
  }

  reset(): void {
    this.buffer.fill(0);
    // the first output lines up with the first input sample, which lands after taps − 1 zeros
    this.position = (this.taps - 1) * this.up;
  }

  process(input: Int16Array): Int16Array {
    const history = this.taps - 1;
    const length = history + input.length;
    if (this.buffer.length < length) {
      const grown = new Float64Array(length);
      grown.set(this.buffer.subarray(0, history));
      this.buffer = grown;
    }
    const buf = this.buffer;
    for (let i = 0; i < input.length; i++) buf[history + i] = input[i] as number;

    const { up, down, taps, phases, coefficients } = this;
    // outputs whose newest tap is already in the buffer
    const available = length * up - this.position;
    const count = available > 0 ? Math.ceil(available / down) : 0;
    const out = new Int16Array(count);
    let position = this.position;
    const exact = phases === up;
    for (let n = 0; n < count; n++) {
      const newest = Math.floor(position / up);
      const remainder = position - newest * up;
      const phase = exact ? remainder : Math.floor((remainder * phases) / up);
      let acc = 0;
      let c = phase * taps;
      // tap k multiplies the input k samples older than `newest`
      for (let j = newest; j > newest - taps; j--) acc += (buf[j] as number) * (coefficients[c++] as number);
      out[n] = acc > 32767 ? 32767 : acc < -32768 ? -32768 : Math.round(acc);
      position += down;
    }
    // keep the last taps − 1 samples as history for the next block
    const consumed = length - history;
    buf.copyWithin(0, consumed, length);
    this.position = position - consumed * up;
    return out;
  }
}

/**
 * One windowed-sinc phase per fractional output position. In phase p the output instant lies
 * p/phases of a sample after the newest input, less a fixed delay of halfWidth − 1 samples, so
 * input sample `newest − k` is `k + p/phases − (halfWidth − 1)` samples before it.
 */
function designPhases(phases: number, taps: number, halfWidth: number, cutoff: number): Float32Array {
  const coefficients = new Float32Array(phases * taps);
  const i0Beta = besselI0(KAISER_BETA);
  for (let p = 0; p < phases; p++) {
    const fraction = p / phases;
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const t = k + fraction - (halfWidth - 1);
      const value = cutoff * sinc(cutoff * t) * kaiser(t / halfWidth, i0Beta);
      coefficients[p * taps + k] = value;
      sum += value;
    }
    // normalise each phase to unity DC gain so the level never ripples with the phase
    for (let k = 0; k < taps; k++) {
      const index = p * taps + k;
      coefficients[index] = (coefficients[index] as number) / sum;
    }
  }
  return coefficients;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** Kaiser window at x ∈ [−1, 1], zero outside. */
function kaiser(x: number, i0Beta: number): number {
  if (x <= -1 || x >= 1) return 0;
  return besselI0(KAISER_BETA * Math.sqrt(1 - x * x)) / i0Beta;
}

/** Modified Bessel function of the first kind, order 0, by its power series. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const half = x / 2;
  for (let k = 1; k < 50; k++) {
    term *= (half / k) * (half / k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
