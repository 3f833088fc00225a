/**
 * Turning SSML 1.0 prosody (§3.2.4) and emphasis (§3.2.2) into numbers a renderer can use:
 * rate a multiplier (1 normal), pitch semitones from the voice's normal pitch, volume 0..1
 * (SSML's 0..100 scale, 100 its default). Nested elements compose: rates multiply, pitch
 * offsets add, relative volumes apply to the inherited level. The label values and the
 * emphasis mapping below are this platform's choice; SSML leaves them to the processor.
 * duration is not mapped (it would need the renderer's word timing).
 */
import type { EmphasisLevel, ProsodyAttributes } from './types.js';

export interface ProsodyState {
  rate?: number;
  pitch?: number;
  volume?: number;
}

const RATE_LABELS: Record<string, number | undefined> = { 'x-slow': 0.5, slow: 0.75, medium: 1, fast: 1.5, 'x-fast': 2, default: undefined };
const PITCH_LABELS: Record<string, number | undefined> = { 'x-low': -8, low: -4, medium: 0, high: 4, 'x-high': 8, default: undefined };
const VOLUME_LABELS: Record<string, number | undefined> = { silent: 0, 'x-soft': 0.2, soft: 0.4, medium: 0.6, loud: 0.8, 'x-loud': 1, default: undefined };
/** the pitch a Hz value is measured against, for voices whose real base pitch we do not know */
const NOMINAL_PITCH_HZ = 120;

/** volume is left alone: the default level is already SSML's maximum */
const EMPHASIS: Record<EmphasisLevel, { rate: number; pitch: number }> = {
  strong: { rate: 0.9, pitch: 2 },
  moderate: { rate: 0.95, pitch: 1 },
  none: { rate: 1, pitch: 0 },
  reduced: { rate: 1.1, pitch: -1 },
};

const round = (n: number): number => Math.round(n * 1000) / 1000;
const clamp = (n: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, n));

function label(table: Record<string, number | undefined>, value: string): { found: boolean; value: number | undefined } {
  return value in table ? { found: true, value: table[value] } : { found: false, value: undefined };
}

/** rate: a label, "+10%"/"-10%" (relative), "150%" or "1.5" (multiplier), "+0.5" (added to the multiplier) */
function nextRate(current: number | undefined, value: string): number | undefined {
  const l = label(RATE_LABELS, value);
  if (l.found) return l.value;
  const base = current ?? 1;
  const m = /^([+-])?([\d.]+)(%)?$/.exec(value);
  if (m === null) return current;
  const n = Number(m[2]);
  if (Number.isNaN(n)) return current;
  const signed = m[1] === '-' ? -n : n;
  let rate: number;
  if (m[1] !== undefined) rate = m[3] !== undefined ? base * (1 + signed / 100) : base + signed;
  else rate = m[3] !== undefined ? base * (n / 100) : base * n;
  return round(clamp(rate, 0.1, 10));
}

/** pitch: a label, "+2st", "+10%", "+20Hz" (relative to a nominal 120 Hz), "200Hz" (absolute) */
function nextPitch(current: number | undefined, value: string): number | undefined {
  const l = label(PITCH_LABELS, value);
  if (l.found) return l.value;
  const base = current ?? 0;
  const m = /^([+-])?([\d.]+)(st|%|Hz)?$/.exec(value);
  if (m === null) return current;
  const n = Number(m[2]);
  if (Number.isNaN(n)) return current;
  const signed = m[1] === '-' ? -n : n;
  const relative = m[1] !== undefined;
  switch (m[3]) {
    case 'st':
      return round(base + signed);
    case '%':
      return signed <= -100 ? current : round(base + 12 * Math.log2(1 + signed / 100));
    case 'Hz':
      if (!relative) return n <= 0 ? current : round(12 * Math.log2(n / NOMINAL_PITCH_HZ));
      return NOMINAL_PITCH_HZ + signed <= 0 ? current : round(base + 12 * Math.log2((NOMINAL_PITCH_HZ + signed) / NOMINAL_PITCH_HZ));
    default:
      // a bare relative number: semitones
      return relative ? round(base + signed) : current;
  }
}

/** volume: a label, "0".."100" or "50%" (absolute), "+10"/"-10" (points of 100), "+20%" (relative), "+6dB" */
function nextVolume(current: number | undefined, value: string): number | undefined {
  const l = label(VOLUME_LABELS, value);
  if (l.found) return l.value;
  const base = current ?? 1;
  const m = /^([+-])?([\d.]+)(%|dB)?$/.exec(value);
  if (m === null) return current;
  const n = Number(m[2]);
  if (Number.isNaN(n)) return current;
  const signed = m[1] === '-' ? -n : n;
  let volume: number;
  if (m[3] === 'dB') volume = base * 10 ** (signed / 20);
  else if (m[1] === undefined) volume = n / 100;
  else volume = m[3] === '%' ? base * (1 + signed / 100) : base + signed / 100;
  return round(clamp(volume, 0, 1));
}

export function applyProsody(state: ProsodyState, prosody: ProsodyAttributes): ProsodyState {
  const next: ProsodyState = { ...state };
  if (prosody.rate !== undefined) setOrDelete(next, 'rate', nextRate(state.rate, prosody.rate));
  if (prosody.pitch !== undefined) setOrDelete(next, 'pitch', nextPitch(state.pitch, prosody.pitch));
  if (prosody.volume !== undefined) setOrDelete(next, 'volume', nextVolume(state.volume, prosody.volume));
  return next;
}

/** Emphasis as prosody: slower and higher for strong (and moderate, less so); faster and lower for reduced. */
export function applyEmphasis(state: ProsodyState, level: EmphasisLevel): ProsodyState {
  if (level === 'none') return state;
  const e = EMPHASIS[level];
  return { ...state, rate: round((state.rate ?? 1) * e.rate), pitch: round((state.pitch ?? 0) + e.pitch) };
}

function setOrDelete(state: ProsodyState, key: keyof ProsodyState, value: number | undefined): void {
  if (value === undefined) delete state[key];
  else state[key] = value;
}
