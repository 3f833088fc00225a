export { goertzelCoefficient, goertzelPower, toneAmplitude, meanSquare, levelDbfs, dominantFrequency } from './goertzel.js';
export { ToneGenerator, generateTone, clamp16, DTMF_FREQUENCIES } from './tone.js';
export type { ToneSpec } from './tone.js';
export { createResampler } from './resampler.js';
export type { Resampler } from './resampler.js';
