/**
 * Tone generation: single or dual-frequency sines at a level in dBFS, with a phase that carries
 * over between frames so a tone generated 20 ms at a time has no clicks.
 */

export interface ToneSpec {
  /** one or two frequencies (dual-frequency for DTMF and ringback) */
  frequenciesHz: readonly number[];
  /** level of each component in dBFS (peak against 32767); default -10 */
  levelDbfs?: number;
}

export class ToneGenerator {
  private readonly phases: number[];
  private readonly steps: number[];
  private readonly amplitude: number;

  constructor(
    spec: ToneSpec,
    readonly sampleRate: number,
  ) {
    this.steps = spec.frequenciesHz.map((f) => (2 * Math.PI * f) / sampleRate);
    this.phases = spec.frequenciesHz.map(() => 0);
    this.amplitude = 32767 * Math.pow(10, (spec.levelDbfs ?? -10) / 20);
  }

  /** the next `count` samples */
  next(count: number): Int16Array {
    const out = new Int16Array(count);
    for (let i = 0; i < count; i++) {
      let v = 0;
      for (let k = 0; k < this.steps.length; k++) {
        v += Math.sin(this.phases[k] as number);
        this.phases[k] = ((this.phases[k] as number) + (this.steps[k] as number)) % (2 * Math.PI);
      }
      out[i] = clamp16(v * this.amplitude);
    }
    return out;
  }
}

/** A whole tone in one array. */
export function generateTone(spec: ToneSpec, sampleRate: number, durationMs: number): Int16Array {
  return new ToneGenerator(spec, sampleRate).next(Math.round((sampleRate * durationMs) / 1000));
}

export function clamp16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
}

/** DTMF row/column frequencies (ITU-T Q.23). */
export const DTMF_FREQUENCIES: Readonly<Record<string, readonly [number, number]>> = {
  '1': [697, 1209], '2': [697, 1336], '3': [697, 1477], A: [697, 1633],
  '4': [770, 1209], '5': [770, 1336], '6': [770, 1477], B: [770, 1633],
  '7': [852, 1209], '8': [852, 1336], '9': [852, 1477], C: [852, 1633],
  '*': [941, 1209], '0': [941, 1336], '#': [941, 1477], D: [941, 1633],
};
