/**
 * The conference mixer: one 20 ms tick of N parties in, N mix-minus frames out. Sans I/O and
 * allocation-light: the engine decodes each party's frame, calls mix(), encodes the results.
 *
 * Each party hears everyone but itself (mix-minus), so nobody hears their own voice come back
 * delayed by the network and jitter buffers. The sum of all voices is computed once and each
 * party's own contribution is subtracted from it, so a tick costs O(N) rather than O(N²).
 * The arithmetic is in floating point and only the final result is brought back to 16 bits,
 * through a soft limiter: loud moments are compressed smoothly instead of wrapping around
 * (which in two's complement turns a loud peak into a full-scale click of the opposite sign).
 */

export interface ConferenceMixerOptions {
  /** the PCM rate every frame is at (the engine resamples before mixing) */
  sampleRate: number;
  /** tick length; 20 ms (a frame of every codec we carry) by default */
  frameMs?: number;
  /** where the limiter starts to compress, dBFS; -3 by default, so normal speech passes unchanged */
  limiterKneeDbfs?: number;
}

export interface MixerParticipantOptions {
  /** a muted party still hears the others but adds nothing */
  muted?: boolean;
  /** gain applied to this party's voice before it is mixed, dB, clamped to [-60, +24] */
  gainDb?: number;
}

/** A party as the mixer sees it. */
export interface MixerParticipant {
  readonly id: string;
  readonly muted: boolean;
  readonly gainDb: number;
}

interface Party {
  id: string;
  muted: boolean;
  gainDb: number;
  gain: number;
  /** this tick's contribution to the sum, gain applied */
  contribution: Float64Array;
  contributed: boolean;
}

const MIN_GAIN_DB = -60;
const MAX_GAIN_DB = 24;
const FULL_SCALE = 32767;

export class ConferenceMixer {
  readonly sampleRate: number;
  /** samples per frame at sampleRate */
  readonly frameSamples: number;
  private readonly parties = new Map<string, Party>();
  private readonly total: Float64Array;
  private readonly knee: number;

  constructor(options: ConferenceMixerOptions) {
    this.sampleRate = positiveOr(options.sampleRate, 8000);
    const frameMs = positiveOr(options.frameMs, 20);
    this.frameSamples = Math.max(1, Math.round((this.sampleRate * frameMs) / 1000));
    this.total = new Float64Array(this.frameSamples);
    const kneeDb = Math.min(0, Math.max(-40, options.limiterKneeDbfs ?? -3));
    this.knee = FULL_SCALE * Math.pow(10, kneeDb / 20);
  }

  get size(): number {
    return this.parties.size;
  }

  has(id: string): boolean {
    return this.parties.has(id);
  }

  participants(): MixerParticipant[] {
    return [...this.parties.values()].map(({ id, muted, gainDb }) => ({ id, muted, gainDb }));
  }

  /** Add a party; adding one already present updates its options. */
  add(id: string, options: MixerParticipantOptions = {}): void {
    const existing = this.parties.get(id);
    if (existing !== undefined) {
      this.update(id, options);
      return;
    }
    const gainDb = clampGainDb(options.gainDb ?? 0);
    this.parties.set(id, {
      id,
      muted: options.muted ?? false,
      gainDb,
      gain: dbToGain(gainDb),
      contribution: new Float64Array(this.frameSamples),
      contributed: false,
    });
  }

  /** Change mute or gain; options left out keep their value. False for an unknown party. */
  update(id: string, options: MixerParticipantOptions): boolean {
    const party = this.parties.get(id);
    if (party === undefined) return false;
    if (options.muted !== undefined) party.muted = options.muted;
    if (options.gainDb !== undefined) {
      party.gainDb = clampGainDb(options.gainDb);
      party.gain = dbToGain(party.gainDb);
    }
    return true;
  }

  remove(id: string): boolean {
    return this.parties.delete(id);
  }

  /**
   * Mix one tick. `frames` holds each party's decoded frame; a party absent from the map or
   * mapped to undefined (no packet this tick) contributes silence, frames of unknown ids are
   * ignored, a short frame is padded with silence and a long one cut. Returns a new frame for
   * every party: the sum of all the others.
   */
  mix(frames: ReadonlyMap<string, Int16Array | undefined>): Map<string, Int16Array> {
    const n = this.frameSamples;
    const total = this.total;
    total.fill(0);
    for (const party of this.parties.values()) {
      const frame = frames.get(party.id);
      party.contributed = frame !== undefined && !party.muted && frame.length > 0;
      if (!party.contributed || frame === undefined) continue;
      const contribution = party.contribution;
      const gain = party.gain;
      const length = Math.min(n, frame.length);
      for (let i = 0; i < length; i++) {
        const v = (frame[i] as number) * gain;
        contribution[i] = v;
        total[i] = (total[i] as number) + v;
      }
      contribution.fill(0, length);
    }

    const out = new Map<string, Int16Array>();
    // everyone who added nothing hears the same thing: limit the sum once
    let everyone: Int16Array | undefined;
    for (const party of this.parties.values()) {
      if (!party.contributed) {
        everyone ??= this.limitTo16(total, undefined);
        out.set(party.id, everyone.slice());
      } else {
        out.set(party.id, this.limitTo16(total, party.contribution));
      }
    }
    return out;
  }

  /** Everyone's voice of the last mix (gain and mute applied), limited: what a recording of the conference holds. */
  mixdown(): Int16Array {
    return this.limitTo16(this.total, undefined);
  }

  /** total − own, sample by sample, through the soft limiter, as 16-bit PCM. */
  private limitTo16(total: Float64Array, own: Float64Array | undefined): Int16Array {
    const n = this.frameSamples;
    const out = new Int16Array(n);
    const knee = this.knee;
    for (let i = 0; i < n; i++) {
      const v = (total[i] as number) - (own === undefined ? 0 : (own[i] as number));
      out[i] = v <= knee && v >= -knee ? Math.round(v) : softLimit(v, knee);
    }
    return out;
  }
}

/**
 * Soft limiting above the knee: the part of |v| beyond the knee is squeezed by tanh into the
 * headroom left to full scale. Continuous with slope 1 at the knee (no audible corner), monotonic
 * (louder stays louder), and never beyond ±32767 however large v is.
 */
export function softLimit(v: number, knee: number): number {
  const magnitude = Math.abs(v);
  if (magnitude <= knee) return Math.round(v);
  const headroom = FULL_SCALE - knee;
  const limited = headroom > 0 ? knee + headroom * Math.tanh((magnitude - knee) / headroom) : FULL_SCALE;
  return Math.round(v < 0 ? -limited : limited);
}

function clampGainDb(db: number): number {
  if (!Number.isFinite(db)) return 0;
  return Math.min(MAX_GAIN_DB, Math.max(MIN_GAIN_DB, db));
}

function dbToGain(db: number): number {
  return Math.pow(10, db / 20);
}

function positiveOr(v: number | undefined, fallback: number): number {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : fallback;
}
