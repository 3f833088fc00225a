/**
 * Packet-loss concealment by repetition: stand in for a lost packet with the last good audio,
 * fading out, then silence. This is the simplest scheme ITU-T G.711 Appendix I builds on
 * (pitch-synchronous repetition with attenuation); repeating the whole last frame instead of one
 * pitch period is cruder but costs nothing and, with the fade, never produces a loud buzz.
 */

/** How long the repetition lasts before it has faded to silence. */
const FADE_MS = 60;

export class FadeConcealer {
  /** the last good audio, replayed cyclically while packets are missing */
  private readonly history: Int16Array;
  private historyLength = 0;
  private cursor = 0;
  /** gain for the next concealed sample, falling linearly to 0 */
  private gain = 1;
  private readonly gainStep: number;

  constructor(
    readonly sampleRate: number,
    /** the most audio kept for repetition (one 20 ms frame by default) */
    maxHistoryMs = 20,
  ) {
    this.history = new Int16Array(Math.max(1, Math.round((sampleRate * maxHistoryMs) / 1000)));
    this.gainStep = 1000 / (FADE_MS * sampleRate);
  }

  /** Remember decoded audio; a good packet also ends any fade in progress. */
  remember(pcm: Int16Array): void {
    if (pcm.length === 0) return;
    const keep = Math.min(pcm.length, this.history.length);
    this.history.set(pcm.subarray(pcm.length - keep));
    this.historyLength = keep;
    this.cursor = 0;
    this.gain = 1;
  }

  /** `samples` samples of concealment audio (silence when nothing good was heard yet). */
  conceal(samples: number): Int16Array {
    const count = Math.max(0, Math.floor(samples));
    const out = new Int16Array(count);
    const length = this.historyLength;
    if (length === 0) return out;
    let { cursor, gain } = this;
    for (let i = 0; i < count && gain > 0; i++) {
      out[i] = Math.round((this.history[cursor] as number) * gain);
      cursor = cursor + 1 === length ? 0 : cursor + 1;
      gain -= this.gainStep;
    }
    this.cursor = cursor;
    this.gain = Math.max(0, gain);
    return out;
  }

  reset(): void {
    this.historyLength = 0;
    this.cursor = 0;
    this.gain = 1;
  }
}
