/**
 * Deterministic test signals for the in-band DTMF detector: a seeded PRNG, white noise, and a
 * speech-like source-filter synthesiser.
 *
 * Why the speech is built this way: a naive DTMF detector (strongest row and column above a
 * threshold, within twist, held for 40 ms) fires on real speech because vowels put a lot of
 * energy exactly where the DTMF groups are: the first formant wanders over 300–900 Hz (the
 * row group is 697–941 Hz) and the second over 900–2500 Hz (the column group is 1209–1633 Hz),
 * and a vowel like /a/ holds both in place for 100 ms or more. So the voiced parts here are a
 * glottal pulse train (a harmonic series at a pitch gliding 80–250 Hz) through three formant
 * resonators gliding between vowel targets, under syllable-rate envelopes, with unvoiced
 * noise bursts and pauses between words and phrases. The test checks that a naive detector
 * does fire on it, so the signal really tests something.
 */

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal deviates (Box–Muller) from a uniform source. */
export function gaussian(random: () => number): () => number {
  return () => {
    const u = Math.max(random(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
}

/** Add white noise `snrDb` below the signal's own RMS (measured over the non-silent samples). */
export function addNoise(signal: Int16Array, rmsAmplitude: number, random: () => number): Int16Array {
  const normal = gaussian(random);
  const out = new Int16Array(signal.length);
  for (let i = 0; i < signal.length; i++) out[i] = clamp((signal[i] as number) + rmsAmplitude * normal());
  return out;
}

function clamp(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
}

/** Vowel formant targets (F1, F2, F3 in Hz), roughly the cardinal vowels of an adult voice. */
const VOWELS: readonly (readonly [number, number, number])[] = [
  [730, 1090, 2440], // a
  [660, 1720, 2410], // æ
  [530, 1840, 2480], // ɛ
  [270, 2290, 3010], // i
  [390, 1990, 2550], // ɪ
  [570, 840, 2410], // ɔ
  [300, 870, 2240], // u
  [440, 1020, 2240], // ʊ
  [640, 1190, 2390], // ʌ
  [490, 1350, 1690], // ɝ
  [800, 1300, 2500], // open, central
  [850, 1450, 2600], // very open, fronted
];

/** A two-pole resonator (a formant), coefficients set from a centre frequency and bandwidth. */
class Resonator {
  private a = 0;
  private b = 0;
  private c = 0;
  private y1 = 0;
  private y2 = 0;

  constructor(private readonly sampleRate: number) {}

  set(frequencyHz: number, bandwidthHz: number): void {
    const t = 1 / this.sampleRate;
    this.c = -Math.exp(-2 * Math.PI * bandwidthHz * t);
    this.b = 2 * Math.exp(-Math.PI * bandwidthHz * t) * Math.cos(2 * Math.PI * frequencyHz * t);
    this.a = 1 - this.b - this.c;
  }

  next(x: number): number {
    const y = this.a * x + this.b * this.y1 + this.c * this.y2;
    this.y2 = this.y1;
    this.y1 = y;
    return y;
  }
}

/**
 * `seconds` of speech-like audio at 8 kHz (or `sampleRate`), around -20 dBFS RMS while talking.
 * Same seed, same samples.
 */
export function speechLike(seconds: number, seed: number, sampleRate = 8000): Int16Array {
  const random = seededRandom(seed);
  const normal = gaussian(random);
  const total = Math.round(seconds * sampleRate);
  const out = new Float32Array(total);
  const between = (lo: number, hi: number): number => lo + (hi - lo) * random();
  const formants = [new Resonator(sampleRate), new Resonator(sampleRate), new Resonator(sampleRate)];
  const fricative = new Resonator(sampleRate);
  let glottal1 = 0;
  let glottal2 = 0;
  let phase = 0;
  let pos = 0;
  let previousVowel = VOWELS[0] as readonly [number, number, number];

  while (pos < total) {
    // a phrase of a few words, then a pause
    const words = 1 + Math.floor(random() * 6);
    const phraseLevel = between(0.5, 2); // ±6 dB between phrases
    for (let w = 0; w < words && pos < total; w++) {
      const syllables = 1 + Math.floor(random() * 3);
      for (let s = 0; s < syllables && pos < total; s++) {
        // unvoiced onset: a fricative burst (s, sh, f, t)
        if (random() < 0.5) {
          const n = Math.round(between(0.03, 0.1) * sampleRate);
          fricative.set(between(1800, 3600), between(400, 1200));
          const level = between(600, 2500) * phraseLevel;
          let previous = 0;
          for (let i = 0; i < n && pos < total; i++, pos++) {
            const white = normal();
            const env = Math.sin((Math.PI * i) / n);
            out[pos] = (out[pos] as number) + fricative.next(white - previous) * level * env;
            previous = white;
          }
        }
        // voiced nucleus: a harmonic series through gliding formants under a syllable envelope
        const n = Math.round(between(0.1, 0.35) * sampleRate);
        const pitchFrom = between(80, 250);
        const pitchTo = Math.min(250, Math.max(80, pitchFrom * between(0.7, 1.4)));
        const vowel = VOWELS[Math.floor(random() * VOWELS.length)] as readonly [number, number, number];
        const bandwidths = [between(50, 110), between(60, 140), between(100, 200)];
        const level = between(2500, 7000) * phraseLevel;
        for (let i = 0; i < n && pos < total; i++, pos++) {
          const progress = i / n;
          if (i % 40 === 0) {
            // the formants move from the previous vowel to this one over the first 40%
            const glide = Math.min(1, progress / 0.4);
            for (let f = 0; f < 3; f++) {
              const from = previousVowel[f] as number;
              const to = vowel[f] as number;
              formants[f]?.set(from + (to - from) * glide, bandwidths[f] as number);
            }
          }
          const f0 = pitchFrom + (pitchTo - pitchFrom) * progress;
          phase += f0 / sampleRate;
          let pulse = 0;
          if (phase >= 1) {
            phase -= 1;
            pulse = 1;
          }
          // glottal shaping: two one-pole low-passes give the -12 dB/octave source tilt, the
          // first difference the +6 dB/octave of radiation at the lips; plus some aspiration
          glottal1 = 0.95 * glottal1 + pulse;
          const shaped = 0.95 * glottal2 + glottal1;
          let v = shaped - glottal2 + normal() * 0.02;
          glottal2 = shaped;
          for (const formant of formants) v = formant.next(v);
          const env = Math.pow(Math.sin(Math.PI * progress), 0.6);
          out[pos] = (out[pos] as number) + v * level * env;
        }
        previousVowel = vowel;
        // a short closure between syllables
        pos += Math.round(between(0.01, 0.06) * sampleRate);
      }
      pos += Math.round(between(0.05, 0.2) * sampleRate);
    }
    pos += Math.round(between(0.3, 1.2) * sampleRate);
  }

  // scale so that talking (20 ms frames above 1% of the loudest frame's power) sits at -20 dBFS
  const frame = Math.round(sampleRate / 50);
  const framePower: number[] = [];
  for (let start = 0; start + frame <= total; start += frame) {
    let sum = 0;
    for (let i = start; i < start + frame; i++) sum += (out[i] as number) ** 2;
    framePower.push(sum / frame);
  }
  const loudest = framePower.reduce((a, b) => Math.max(a, b), 1e-9);
  const active = framePower.filter((p) => p > loudest / 100);
  const activeRms = Math.sqrt(active.reduce((a, b) => a + b, 0) / Math.max(1, active.length));
  const gain = activeRms > 0 ? 3277 / activeRms : 1;
  const pcm = new Int16Array(total);
  for (let i = 0; i < total; i++) pcm[i] = clamp((out[i] as number) * gain + normal() * 3);
  return pcm;
}
