/**
 * The one place that turns TTS configuration into a provider; the composition root (src/cli)
 * calls it. Every provider comes wrapped in the cache unless both tiers are turned off.
 */
import { ConfigError, type Scheduler } from '../../lib/index.js';
import type { BlobStore } from '../../platform/index.js';
import { CachingTtsProvider, DEFAULT_TTS_CACHE_BYTES } from './caching-tts-provider.js';
import { EspeakTtsProvider, type EspeakTtsOptions } from './espeak-tts-provider.js';
import { GoogleTtsProvider, type GoogleTtsOptions } from './google-tts-provider.js';
import type { TtsProvider } from './types.js';

export interface TtsConfig {
  provider: 'espeak' | 'google';
  espeak?: Omit<EspeakTtsOptions, 'scheduler'>;
  google?: Omit<GoogleTtsOptions, 'scheduler'>;
  /** memory cache in bytes (default 64 MiB; 0 turns the memory tier off) */
  cacheBytes?: number;
  /** second cache tier shared by nodes (the platform's blob store) */
  blobs?: BlobStore;
  scheduler?: Scheduler;
}

export function createTtsProvider(config: TtsConfig): TtsProvider {
  const scheduler = config.scheduler !== undefined ? { scheduler: config.scheduler } : {};
  let engine: TtsProvider;
  switch (config.provider) {
    case 'espeak':
      engine = new EspeakTtsProvider({ ...config.espeak, ...scheduler });
      break;
    case 'google':
      engine = new GoogleTtsProvider({ ...config.google, ...scheduler });
      break;
    default:
      throw new ConfigError(`unknown TTS provider "${String(config.provider as unknown)}" (espeak or google)`, 'tts.provider');
  }
  const cacheBytes = config.cacheBytes ?? DEFAULT_TTS_CACHE_BYTES;
  if (!Number.isFinite(cacheBytes) || cacheBytes < 0) throw new ConfigError(`tts.cacheBytes must be a non-negative number, got ${cacheBytes}`, 'tts.cacheBytes');
  if (cacheBytes === 0 && config.blobs === undefined) return engine;
  return new CachingTtsProvider(engine, {
    maxBytes: cacheBytes,
    ...(config.blobs !== undefined ? { blobs: config.blobs } : {}),
    ...scheduler,
  });
}
