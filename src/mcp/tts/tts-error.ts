import { UnavailableError } from '../../lib/index.js';

/**
 * Any failure of a TTS provider. It is an UnavailableError (503 towards SIP/HTTP) because the
 * interpreter cannot speak right now; it maps it to the VoiceXML event error.noresource.
 */
export class TtsError extends UnavailableError {
  constructor(
    message: string,
    /** the provider that failed (`espeak`, `google`, …) */
    readonly provider: string,
    options?: { cause?: unknown },
  ) {
    super(`${provider} TTS: ${message}`, options);
  }
}
