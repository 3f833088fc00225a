/**
 * The TTS port of the Media Control Platform: the interpreter hands over an SSML 1.0 `<speak>`
 * document and gets back mono 16-bit PCM at the rate the media engine asked for (8 or 16 kHz;
 * the engine encodes it to G.711, G.722 or Opus).
 */
export type TtsSampleRate = 8000 | 16000;

export interface TtsRequest {
  /** an SSML 1.0 document (`<speak …>…</speak>`); plain text is accepted by the engines too */
  ssml: string;
  /** BCP 47 language of the prompt, e.g. `en-US`; the SSML's own xml:lang may switch it inside */
  language: string;
  /** an engine-specific voice name; unknown names fall back to the language's default voice */
  voice?: string;
  sampleRate: TtsSampleRate;
}

export interface TtsAudio {
  /**
   * Mono samples at `sampleRate`. Callers treat it as read-only: a caching provider hands the
   * same array to every caller of the same prompt.
   */
  pcm: Int16Array;
  sampleRate: number;
  /** SSML `<mark name>` → offset in ms, where the engine reports them */
  marks?: Record<string, number>;
}

export interface TtsProvider {
  readonly name: string;
  /**
   * Rejects with TtsError on every failure — engine crash, service unavailable, refused input,
   * timeout, abort — and always within the provider's timeout.
   */
  synthesize(request: TtsRequest, signal?: AbortSignal): Promise<TtsAudio>;
  /** idempotent; later synthesize() calls reject with TtsError */
  close(): Promise<void>;
}

/** Every provider's default deadline for one request. */
export const DEFAULT_TTS_TIMEOUT_MS = 10_000;
