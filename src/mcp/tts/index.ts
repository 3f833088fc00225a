/**
 * Text-to-speech for the Media Control Platform: SSML in, 8/16 kHz mono PCM out.
 * `createTtsProvider` picks the engine (embedded eSpeak NG, or Google Cloud TTS) and the cache.
 */
export type { TtsRequest, TtsAudio, TtsProvider, TtsSampleRate } from './types.js';
export { DEFAULT_TTS_TIMEOUT_MS } from './types.js';
export { TtsError } from './tts-error.js';
export { EspeakTtsProvider, type EspeakTtsOptions } from './espeak-tts-provider.js';
export { espeakVoiceFor } from './espeak-voices.js';
export { GoogleTtsProvider, type GoogleTtsOptions, type GoogleSsmlGender } from './google-tts-provider.js';
export { CachingTtsProvider, DEFAULT_TTS_CACHE_BYTES, type CachingTtsOptions, type TtsCacheStats } from './caching-tts-provider.js';
export { createTtsProvider, type TtsConfig } from './create-tts-provider.js';
