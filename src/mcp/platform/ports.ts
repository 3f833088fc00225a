/**
 * What the media platform needs from TTS, ASR and SSML, as structural ports: the composition root
 * plugs src/mcp/tts, src/mcp/asr and src/mcp/ssml in, tests plug fakes.
 */
import type { SpeechResult } from '../vxml/platform.js';
import type { Grammar } from '../grammar/types.js';

export interface SpeechSynthesizer {
  synthesize(
    request: { ssml: string; language: string; voice?: string; sampleRate: 8000 | 16000 },
    signal?: AbortSignal,
  ): Promise<{ pcm: Int16Array; sampleRate: number }>;
}

export interface RecognitionSession {
  write(pcm: Int16Array): void;
  end(): void;
  close(): void;
  on(event: 'speechStart', fn: () => void): unknown;
  on(event: 'result', fn: (result: SpeechResult) => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
}

export interface SpeechRecognizer {
  startSession(options: {
    grammars: readonly Grammar[];
    language: string;
    sampleRate: 8000 | 16000;
    completetimeoutMs: number;
    incompletetimeoutMs: number;
    maxspeechtimeoutMs: number;
    sensitivity?: number;
    maxnbest?: number;
  }): RecognitionSession;
}

/** SSML → what to say and play, in order (src/mcp/ssml's ssmlToSegments). */
export type PromptSegment =
  | { kind: 'text'; text: string; rate?: number; pitch?: number; volume?: number; voice?: { name?: string; gender?: string; language?: string } }
  | { kind: 'break'; ms: number }
  | { kind: 'audio'; src: string; fallback: PromptSegment[] }
  | { kind: 'mark'; name: string };

export type SsmlSegmenter = (ssml: string, options?: { language?: string }) => PromptSegment[];

/** Fetches audio named by <audio src> (the session's fetcher, so caching and cookies apply). */
export type AudioLoader = (url: string, signal?: AbortSignal) => Promise<Uint8Array>;
