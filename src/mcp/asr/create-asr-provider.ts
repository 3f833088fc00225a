/**
 * The one place that turns ASR configuration into a provider (validated, so a typo is a
 * ConfigError naming the key rather than a failure on the first call).
 */
import { ConfigError, type Logger, type Scheduler } from '../../lib/index.js';
import { GoogleSpeechAsrProvider, type GoogleSpeechAsrProviderOptions } from './google-speech-provider.js';
import { PocketsphinxAsrProvider } from './pocketsphinx-provider.js';
import { TextAsrProvider, type ScriptedUtterance } from './text-provider.js';
import type { AsrProvider } from './types.js';

export interface AsrProviderConfig {
  provider: 'pocketsphinx' | 'google' | 'text';
  google?: Omit<GoogleSpeechAsrProviderOptions, 'scheduler' | 'logger' | 'timeoutMs'> & { timeoutMs?: number };
  pocketsphinx?: { modelDir?: string; dict?: string; binary?: string; lm?: string; workDir?: string; decodeTimeoutMs?: number };
  text?: { script?: readonly ScriptedUtterance[] };
}

export interface AsrProviderDeps {
  scheduler?: Scheduler;
  logger?: Logger;
}

/** Google's default wait for a final result once the audio is over */
const DEFAULT_GOOGLE_TIMEOUT_MS = 10_000;

export function createAsrProvider(config: AsrProviderConfig, deps: AsrProviderDeps = {}): AsrProvider {
  const common = { ...(deps.scheduler !== undefined ? { scheduler: deps.scheduler } : {}), ...(deps.logger !== undefined ? { logger: deps.logger } : {}) };
  switch (config.provider) {
    case 'pocketsphinx':
      return new PocketsphinxAsrProvider({ ...config.pocketsphinx, ...common });
    case 'google': {
      const google = config.google ?? {};
      const timeoutMs = google.timeoutMs ?? DEFAULT_GOOGLE_TIMEOUT_MS;
      if (!(timeoutMs > 0)) throw new ConfigError(`asr.google.timeoutMs must be positive, got ${timeoutMs}`, 'asr.google.timeoutMs');
      if (google.port !== undefined && !(Number.isInteger(google.port) && google.port > 0 && google.port < 65536)) {
        throw new ConfigError(`asr.google.port must be a TCP port, got ${google.port}`, 'asr.google.port');
      }
      return new GoogleSpeechAsrProvider({ ...google, timeoutMs, ...common });
    }
    case 'text':
      return new TextAsrProvider({ ...(config.text?.script !== undefined ? { script: config.text.script } : {}), ...(deps.scheduler !== undefined ? { scheduler: deps.scheduler } : {}) });
    default:
      throw new ConfigError(`asr.provider must be pocketsphinx, google or text, got ${String((config as { provider: unknown }).provider)}`, 'asr.provider');
  }
}
