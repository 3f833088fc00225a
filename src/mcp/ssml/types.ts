/**
 * The SSML 1.0 document tree (W3C Speech Synthesis Markup Language 1.0) and the speech segments
 * a TTS renderer and an audio player consume.
 */
import { InvalidInputError } from '../../lib/index.js';

/** Malformed SSML: not well-formed XML, not a <speak> document, or an invalid attribute value. */
export class SsmlError extends InvalidInputError {}

export type BreakStrength = 'none' | 'x-weak' | 'weak' | 'medium' | 'strong' | 'x-strong';
export type EmphasisLevel = 'strong' | 'moderate' | 'none' | 'reduced';

/** Attributes as written; the numeric interpretation happens when segments are made. */
export interface ProsodyAttributes {
  rate?: string;
  pitch?: string;
  volume?: string;
  duration?: string;
}

export interface VoiceAttributes {
  gender?: string;
  age?: number;
  name?: string;
  variant?: number;
  /** xml:lang */
  language?: string;
}

export type SsmlNode =
  | { kind: 'text'; text: string }
  | { kind: 'p' | 's'; language?: string; children: SsmlNode[] }
  /** ms: the resolved pause (time wins over strength; neither: medium, 500 ms) */
  | { kind: 'break'; time?: string; strength?: BreakStrength; ms: number }
  | { kind: 'emphasis'; level: EmphasisLevel; children: SsmlNode[] }
  | { kind: 'prosody'; prosody: ProsodyAttributes; children: SsmlNode[] }
  | { kind: 'say-as'; interpretAs: string; format?: string; detail?: string; text: string }
  /** children: the fallback content, spoken when the audio cannot be played */
  | { kind: 'audio'; src: string; children: SsmlNode[] }
  | { kind: 'mark'; name: string }
  | { kind: 'sub'; alias: string; text: string }
  | { kind: 'phoneme'; ph: string; alphabet?: string; text: string }
  | { kind: 'voice'; voice: VoiceAttributes; children: SsmlNode[] }
  /** an element SSML 1.0 does not define: only its content counts */
  | { kind: 'unknown'; name: string; children: SsmlNode[] };

export interface SsmlDocument {
  version?: string;
  /** xml:lang of <speak> */
  language?: string;
  children: SsmlNode[];
}

export interface SegmentVoice {
  name?: string;
  gender?: string;
  language?: string;
}

export type SpeechSegment =
  | {
      kind: 'text';
      text: string;
      /** speaking-rate multiplier: 1 = normal, 2 = twice as fast */
      rate?: number;
      /** pitch change in semitones from the voice's normal pitch (+12 = an octave up) */
      pitch?: number;
      /** loudness 0..1 where 1 is SSML's 100 (its default); absent: the voice's normal level */
      volume?: number;
      voice?: SegmentVoice;
    }
  | { kind: 'break'; ms: number }
  | { kind: 'audio'; src: string; fallback: SpeechSegment[] }
  | { kind: 'mark'; name: string };
