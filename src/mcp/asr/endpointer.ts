/**
 * An energy endpointer, sans-I/O: frames in, events out. Time is the audio's own (samples
 * counted), so it behaves the same on fake frames in a test and on a live call.
 *
 * Speech starts once loud frames outnumber quiet ones by `speechStartMs` (a leaky count, so one
 * quiet frame inside a syllable does not restart it); loud means louder than the noise floor by a
 * margin (sensitivity 0..1 narrows the margin and lowers the absolute minimum); the utterance
 * ends after `completetimeoutMs` of frames below the (slightly lower) hold threshold, or is cut
 * at `maxspeechtimeoutMs`. The noise floor follows quiet frames fast and loud ones slowly, and
 * freezes while speech lasts.
 */

export interface EndpointerOptions {
  sampleRate: number;
  completetimeoutMs: number;
  maxspeechtimeoutMs: number;
  /** no speech within this long → a noSpeech event; unlimited when absent */
  noSpeechTimeoutMs?: number;
  /** 0..1, 0.5 by default */
  sensitivity?: number;
  /** loud audio needed before speech counts as started, 100 ms by default */
  speechStartMs?: number;
  /** audio kept from before the start (the onset the detector needed), 300 ms by default */
  preRollMs?: number;
}

export type EndpointReason = 'complete' | 'maxspeech' | 'end';

export type EndpointerEvent =
  | { type: 'speechStart'; atMs: number }
  | { type: 'utterance'; audio: Int16Array; reason: EndpointReason; atMs: number }
  | { type: 'noSpeech'; atMs: number };

type State = 'listening' | 'speech' | 'done';

/** level of a silent frame: digital silence is not -Infinity */
const FLOOR_DB = -96;

export function frameLevelDb(frame: Int16Array): number {
  if (frame.length === 0) return FLOOR_DB;
  let sum = 0;
  for (const s of frame) sum += s * s;
  const rms = Math.sqrt(sum / frame.length) / 32768;
  return Math.max(FLOOR_DB, 20 * Math.log10(rms || 1e-10));
}

export class EnergyEndpointer {
  private state: State = 'listening';
  /** audio time in samples */
  private samples = 0;
  private noiseFloorDb: number | undefined;
  private loudRunMs = 0;
  private silenceMs = 0;
  private speechStartSample = 0;
  private preRoll: Int16Array[] = [];
  private preRollMs = 0;
  private utterance: Int16Array[] = [];
  private readonly sensitivity: number;
  private readonly speechStartMs: number;
  private readonly preRollLimitMs: number;

  constructor(private readonly options: EndpointerOptions) {
    this.sensitivity = Math.min(1, Math.max(0, options.sensitivity ?? 0.5));
    this.speechStartMs = options.speechStartMs ?? 100;
    this.preRollLimitMs = Math.max(options.preRollMs ?? 300, this.speechStartMs);
  }

  /** dB above the noise floor that counts as speech: 18 dB at sensitivity 0, 12 at 0.5, 6 at 1 */
  get marginDb(): number {
    return 18 - 12 * this.sensitivity;
  }

  /** quietest level that can be speech whatever the floor: -35 dBFS at sensitivity 0, -65 at 1 */
  get absoluteMinDb(): number {
    return -35 - 30 * this.sensitivity;
  }

  get noiseFloor(): number | undefined {
    return this.noiseFloorDb;
  }

  get nowMs(): number {
    return (this.samples * 1000) / this.options.sampleRate;
  }

  process(frame: Int16Array): EndpointerEvent[] {
    if (this.state === 'done' || frame.length === 0) return [];
    const frameMs = (frame.length * 1000) / this.options.sampleRate;
    const level = frameLevelDb(frame);
    this.samples += frame.length;
    return this.state === 'listening' ? this.listen(frame, frameMs, level) : this.hold(frame, frameMs, level);
  }

  /** the audio stream is over: an utterance in progress is cut here */
  end(): EndpointerEvent[] {
    if (this.state === 'speech') return [this.finish('end')];
    this.state = 'done';
    return [];
  }

  private listen(frame: Int16Array, frameMs: number, level: number): EndpointerEvent[] {
    const floor = this.noiseFloorDb ?? level;
    const threshold = Math.max(floor + this.marginDb, this.absoluteMinDb);
    this.keepPreRoll(frame, frameMs);
    if (level >= threshold) {
      this.loudRunMs += frameMs;
    } else {
      // leaky rather than reset: a syllable with one quiet frame inside still adds up
      this.loudRunMs = Math.max(0, this.loudRunMs - frameMs);
      // fast down, slow up: a quiet frame pulls the floor down quickly; noise creeps it up
      this.noiseFloorDb = level < floor ? floor + 0.5 * (level - floor) : floor + 0.05 * (level - floor);
    }
    if (this.loudRunMs >= this.speechStartMs) {
      this.state = 'speech';
      this.utterance = this.preRoll;
      this.preRoll = [];
      this.preRollMs = 0;
      this.silenceMs = 0;
      this.speechStartSample = this.samples - Math.round((this.loudRunMs * this.options.sampleRate) / 1000);
      return [{ type: 'speechStart', atMs: (this.speechStartSample * 1000) / this.options.sampleRate }];
    }
    const limit = this.options.noSpeechTimeoutMs;
    if (limit !== undefined && this.nowMs >= limit) {
      this.state = 'done';
      return [{ type: 'noSpeech', atMs: this.nowMs }];
    }
    return [];
  }

  private hold(frame: Int16Array, frameMs: number, level: number): EndpointerEvent[] {
    this.utterance.push(frame);
    const floor = this.noiseFloorDb ?? FLOOR_DB;
    // hysteresis: once speaking, a little quieter still counts as speech
    const holdThreshold = Math.max(floor + this.marginDb - 3, this.absoluteMinDb - 3);
    this.silenceMs = level >= holdThreshold ? 0 : this.silenceMs + frameMs;
    if (this.silenceMs >= this.options.completetimeoutMs) return [this.finish('complete')];
    const speechMs = ((this.samples - this.speechStartSample) * 1000) / this.options.sampleRate;
    if (speechMs >= this.options.maxspeechtimeoutMs) return [this.finish('maxspeech')];
    return [];
  }

  private finish(reason: EndpointReason): EndpointerEvent {
    this.state = 'done';
    const audio = concat(this.utterance);
    this.utterance = [];
    return { type: 'utterance', audio, reason, atMs: this.nowMs };
  }

  private keepPreRoll(frame: Int16Array, frameMs: number): void {
    this.preRoll.push(frame);
    this.preRollMs += frameMs;
    while (this.preRoll.length > 1) {
      const first = this.preRoll[0];
      if (first === undefined) break;
      const firstMs = (first.length * 1000) / this.options.sampleRate;
      if (this.preRollMs - firstMs < this.preRollLimitMs) break;
      this.preRoll.shift();
      this.preRollMs -= firstMs;
    }
  }
}

export function concat(frames: readonly Int16Array[]): Int16Array {
  let length = 0;
  for (const f of frames) length += f.length;
  const out = new Int16Array(length);
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}
