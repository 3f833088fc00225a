/**
 * What the media platform needs from TTS, ASR and SSML, as structural ports: the composition root
 * plugs src/mcp/tts, src/mcp/asr and src/mcp/ssml in, tests plug fakes.
 */
import type { AsrProvider, AsrSession } from '../asr/index.js';

export interface SpeechSynthesizer {
  synthesize(
    request: { ssml: string; language: string; voice?: string; sampleRate: 8000 | 16000 },
    signal?: AbortSignal,
  ): Promise<{ pcm: Int16Array; sampleRate: number }>;
}

/** the ASR contract of src/mcp/asr: a provider's sessions take caller PCM and give n-best text */
export type SpeechRecognizer = Pick<AsrProvider, 'startSession'>;
export type RecognitionSession = AsrSession;

/** SSML → what to say and play, in order (src/mcp/ssml's ssmlToSegments). */
export type PromptSegment =
  | { kind: 'text'; text: string; rate?: number; pitch?: number; volume?: number; voice?: { name?: string; gender?: string; language?: string } }
  | { kind: 'break'; ms: number }
  | { kind: 'audio'; src: string; fallback: PromptSegment[] }
  | { kind: 'mark'; name: string };

export type SsmlSegmenter = (ssml: string, options?: { language?: string }) => PromptSegment[];

/** Fetches audio named by <audio src> (the session's fetcher, so caching and cookies apply). */
export type AudioLoader = (url: string, signal?: AbortSignal) => Promise<Uint8Array>;
