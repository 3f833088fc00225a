/**
 * In-band DTMF detection (ITU-T Q.23 frequencies, Q.24 receiver limits) for streams that carry
 * the tones as audio because the far end offered no telephone-event. Sans I/O: process() takes
 * PCM in chunks of any size and returns the digits that ended.
 *
 * The signal is cut into blocks of ~13 ms (105 samples at 8 kHz, 210 at 16 kHz: the Goertzel
 * resolution is then ~76 Hz, enough to tell the nearest DTMF frequencies apart while a 40 ms
 * tone still spans three blocks). Each block is tested for exactly one row and one column tone
 * with checks that speech fails but a telephone keypad passes:
 *   - level: both tones above an absolute threshold;
 *   - dominance: each winner clearly above the other candidates of its group;
 *   - twist (Q.24): the low and high tone within 8 dB / 4 dB of each other;
 *   - energy share: the two tones hold most of the block's energy (speech and noise spread
 *     theirs over many frequencies);
 *   - second harmonic: a tone's octave is weak (voiced speech is a harmonic series, so a
 *     voice whose harmonics happen to fall on a DTMF pair also has energy at their doubles).
 * A digit counts once it holds for 40 ms (Q.24 operate time) and ends once it has been absent
 * for a gap; dropouts shorter than the gap are bridged (Q.24 tolerates 10 ms interruptions).
 *
 * Digits are reported when the tone ends, with its measured duration (accurate to a block), so
 * one key press gives one event however long it is held. activeDigit tells the engine about a
 * digit under way for barge-in.
 */
import { goertzelCoefficient, goertzelPower } from '../dsp/index.js';
import type { DtmfDigit, DtmfEvent } from '../types.js';
import { SinusoidFit } from './sinusoid-fit.js';

export interface InbandDtmfDetectorOptions {
  /** 8000 (default), 16000, or any rate up to 48000; the analysis runs at that rate, with blocks of the same length in time */
  sampleRate?: number;
  /** the weakest tone accepted, peak dBFS per tone (default -36: a -25 dBm0 tone with margin) */
  minToneDbfs?: number;
  /** how far the low (row) tone may be above the high (column) tone, dB (Q.24: 8) */
  maxNormalTwistDb?: number;
  /** how far the high (column) tone may be above the low (row) tone, dB (Q.24: 4) */
  maxReverseTwistDb?: number;
  /** a winning tone must exceed every other tone of its group by this much, dB (default 8) */
  minDominanceDb?: number;
  /** the share of the block's energy the two tones must hold, 0..1 (default 0.9: keypad tones at 20 dB SNR hold > 0.98, vowels < 0.87) */
  minEnergyShare?: number;
  /** the second harmonic of each tone must be this far below it, dB (default 12) */
  minHarmonicRejectionDb?: number;
  /** the shortest tone reported, ms (Q.24 operate time: 40) */
  minToneMs?: number;
  /** the silence that ends a digit, ms; shorter dropouts are bridged (default 25) */
  minGapMs?: number;
}

const ROWS_HZ = [697, 770, 852, 941] as const;
const COLUMNS_HZ = [1209, 1336, 1477, 1633] as const;

/** The keypad (Q.23): KEYPAD[row][column]. */
const KEYPAD: readonly (readonly DtmfDigit[])[] = [
  ['1', '2', '3', 'A'],
  ['4', '5', '6', 'B'],
  ['7', '8', '9', 'C'],
  ['*', '0', '#', 'D'],
];

/** Samples per block at 8 kHz: ~13 ms, the usual compromise between resolution and reaction. */
const BLOCK_AT_8K = 105;

type DetectorState = 'idle' | 'pending' | 'tone';

export class InbandDtmfDetector {
  readonly sampleRate: number;
  private readonly blockSize: number;
  private readonly blockMs: number;
  private readonly block: Float64Array;
  private fill = 0;
  private readonly rowCoefficients: number[];
  private readonly columnCoefficients: number[];
  /** per keypad position (row·4 + column): a joint fit of its two tones and their octaves */
  private readonly fits: readonly SinusoidFit[];
  /** minimum Goertzel power of one tone: (A·N/2)² for the threshold amplitude A */
  private readonly minTonePower: number;
  private readonly normalTwist: number;
  private readonly reverseTwist: number;
  private readonly dominance: number;
  private readonly minShare: number;
  private readonly harmonicRejection: number;
  private readonly operateBlocks: number;
  private readonly gapBlocks: number;

  private state: DetectorState = 'idle';
  private digit: DtmfDigit | undefined;
  /** blocks since the candidate appeared, the last one where it was present included */
  private presentSpan = 0;
  /** consecutive blocks without it */
  private missing = 0;

  constructor(options: InbandDtmfDetectorOptions = {}) {
    const rate = options.sampleRate;
    this.sampleRate = rate !== undefined && Number.isFinite(rate) && rate >= 8000 && rate <= 48000 ? rate : 8000;
    this.blockSize = Math.round((BLOCK_AT_8K * this.sampleRate) / 8000);
    this.blockMs = (this.blockSize * 1000) / this.sampleRate;
    this.block = new Float64Array(this.blockSize);
    const coefficients = (frequencies: readonly number[], factor: number): number[] =>
      frequencies.map((f) => goertzelCoefficient(f * factor, this.sampleRate));
    this.rowCoefficients = coefficients(ROWS_HZ, 1);
    this.columnCoefficients = coefficients(COLUMNS_HZ, 1);
    this.fits = fitsFor(this.sampleRate, this.blockSize);
    const minAmplitude = 32767 * dbToAmplitude(options.minToneDbfs ?? -36);
    this.minTonePower = ((minAmplitude * this.blockSize) / 2) ** 2;
    this.normalTwist = dbToPower(options.maxNormalTwistDb ?? 8);
    this.reverseTwist = dbToPower(options.maxReverseTwistDb ?? 4);
    this.dominance = dbToPower(options.minDominanceDb ?? 8);
    this.minShare = options.minEnergyShare ?? 0.9;
    this.harmonicRejection = dbToAmplitude(options.minHarmonicRejectionDb ?? 12);
    // 40 ms is 3.05 blocks of 13.125 ms: three whole blocks, rounding to the nearest
    this.operateBlocks = Math.max(2, Math.round((options.minToneMs ?? 40) / this.blockMs));
    this.gapBlocks = Math.max(1, Math.ceil((options.minGapMs ?? 25) / this.blockMs));
  }

  /** The digit held right now (confirmed, not yet ended), if any. */
  get activeDigit(): DtmfDigit | undefined {
    return this.state === 'tone' ? this.digit : undefined;
  }

  /** Feed samples at sampleRate; returns the digits whose tone ended within them. */
  process(samples: ArrayLike<number>): DtmfEvent[] {
    const out: DtmfEvent[] = [];
    for (let i = 0; i < samples.length; ) {
      const take = Math.min(samples.length - i, this.blockSize - this.fill);
      for (let k = 0; k < take; k++) this.block[this.fill + k] = samples[i + k] as number;
      this.fill += take;
      i += take;
      if (this.fill === this.blockSize) {
        this.fill = 0;
        const event = this.step(this.analyse());
        if (event !== undefined) out.push(event);
      }
    }
    return out;
  }

  /** The stream ends: report a digit still sounding (a partial block is dropped). */
  flush(): DtmfEvent[] {
    this.fill = 0;
    const event = this.state === 'tone' ? this.report() : undefined;
    this.toIdle();
    return event === undefined ? [] : [event];
  }

  reset(): void {
    this.fill = 0;
    this.toIdle();
  }

  /** One block's verdict: the digit it holds, or undefined. */
  private analyse(): DtmfDigit | undefined {
    const block = this.block;
    const n = this.blockSize;
    let energy = 0;
    for (let i = 0; i < n; i++) energy += (block[i] as number) * (block[i] as number);
    // a sine of Goertzel power P carries 2P/N of the block's energy: too little energy in the
    // whole block means two tones above threshold cannot be in it, and saves the filters
    if (energy < (4 * this.minTonePower) / n) return undefined;

    const row = strongest(block, this.rowCoefficients);
    const column = strongest(block, this.columnCoefficients);
    if (row.power < this.minTonePower || column.power < this.minTonePower) return undefined;
    // Q.24 twist: row above column is normal twist, column above row is reverse twist
    if (row.power > column.power * this.normalTwist || column.power > row.power * this.reverseTwist) return undefined;
    if (row.power < row.runnerUp * this.dominance || column.power < column.runnerUp * this.dominance) return undefined;
    // the last two checks need the tones measured apart from each other (see sinusoid-fit.ts):
    // Goertzel's leakage would blur the energy share and hide or fake a harmonic
    const fitter = this.fits[row.index * 4 + column.index];
    const fit = fitter?.fit(block);
    if (fitter === undefined || fit === undefined) return undefined;
    if (fitter.energyOf(fit, [0, 1]) < this.minShare * energy) return undefined;
    const [rowAmplitude = 0, columnAmplitude = 0, rowOctave = 0, columnOctave = 0] = fit.amplitudes;
    if (rowOctave * this.harmonicRejection > rowAmplitude || columnOctave * this.harmonicRejection > columnAmplitude) return undefined;
    return KEYPAD[row.index]?.[column.index];
  }

  /** Advance the hold/gap state machine by one block. */
  private step(seen: DtmfDigit | undefined): DtmfEvent | undefined {
    switch (this.state) {
      case 'idle':
        if (seen !== undefined) this.toPending(seen);
        return undefined;
      case 'pending':
        // before the operate time, any break means it was not a key press
        if (seen === this.digit) {
          this.presentSpan++;
          if (this.presentSpan >= this.operateBlocks) this.state = 'tone';
        } else if (seen !== undefined) {
          this.toPending(seen);
        } else {
          this.toIdle();
        }
        return undefined;
      case 'tone': {
        if (seen === this.digit) {
          // a dropout shorter than the gap is part of the same press (Q.24 interruption)
          this.presentSpan += this.missing + 1;
          this.missing = 0;
          return undefined;
        }
        this.missing++;
        if (this.missing < this.gapBlocks) return undefined;
        const event = this.report();
        if (seen !== undefined) this.toPending(seen);
        else this.toIdle();
        return event;
      }
    }
  }

  private report(): DtmfEvent | undefined {
    if (this.digit === undefined) return undefined;
    return { digit: this.digit, durationMs: Math.round(this.presentSpan * this.blockMs), source: 'inband' };
  }

  private toPending(digit: DtmfDigit): void {
    this.state = 'pending';
    this.digit = digit;
    this.presentSpan = 1;
    this.missing = 0;
  }

  private toIdle(): void {
    this.state = 'idle';
    this.digit = undefined;
    this.presentSpan = 0;
    this.missing = 0;
  }
}

const FIT_CACHE = new Map<string, SinusoidFit[]>();

/** The 16 joint fits for a rate and block size; they hold only constants, so detectors share them. */
function fitsFor(sampleRate: number, blockSize: number): SinusoidFit[] {
  const key = `${sampleRate}/${blockSize}`;
  let fits = FIT_CACHE.get(key);
  if (fits === undefined) {
    fits = [];
    for (const row of ROWS_HZ) {
      for (const column of COLUMNS_HZ) fits.push(new SinusoidFit([row, column, 2 * row, 2 * column], sampleRate, blockSize));
    }
    FIT_CACHE.set(key, fits);
  }
  return fits;
}

/** The strongest of a group's tones, and the power of the second strongest. */
function strongest(block: Float64Array, coefficients: readonly number[]): { index: number; power: number; runnerUp: number } {
  let index = 0;
  let power = -1;
  let runnerUp = 0;
  for (let i = 0; i < coefficients.length; i++) {
    const p = goertzelPower(block, coefficients[i] as number);
    if (p > power) {
      runnerUp = Math.max(power, 0);
      power = p;
      index = i;
    } else if (p > runnerUp) {
      runnerUp = p;
    }
  }
  return { index, power, runnerUp };
}

function dbToPower(db: number): number {
  return Math.pow(10, db / 10);
}

function dbToAmplitude(db: number): number {
  return Math.pow(10, db / 20);
}
