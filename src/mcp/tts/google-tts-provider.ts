/**
 * Google Cloud Text-to-Speech over gRPC (`@google-cloud/text-to-speech`, v1 SynthesizeSpeech).
 * The request carries the SSML as is and asks for LINEAR16 at the media engine's rate; Google
 * returns LINEAR16 wrapped in a RIFF/WAVE header, which is stripped here.
 *
 * With `insecure` the client talks plain-text gRPC with no Google auth at all (tests, private
 * gateways): channel credentials are insecure and the universe domain is fixed, so google-gax
 * never looks for Application Default Credentials or the GCE metadata server.
 */
import type { TextToSpeechClient } from '@google-cloud/text-to-speech';
import { ClosedError, ConfigError, SystemScheduler, describeError, type Scheduler } from '../../lib/index.js';
import { looksLikeWav, rawLinear16, wavToPcm } from './pcm-audio.js';
import { checkTtsRequest, withDeadline } from './request-checks.js';
import { TtsError } from './tts-error.js';
import { DEFAULT_TTS_TIMEOUT_MS, type TtsAudio, type TtsProvider, type TtsRequest } from './types.js';

export type GoogleSsmlGender = 'MALE' | 'FEMALE' | 'NEUTRAL';

export interface GoogleTtsOptions {
  /** host of the service or gateway (default texttospeech.googleapis.com) */
  apiEndpoint?: string;
  port?: number;
  /** plain-text gRPC and no Google auth: for tests and private gateways only */
  insecure?: boolean;
  /** a service-account key file */
  keyFilename?: string;
  credentials?: { client_email: string; private_key: string };
  /** the default voice; its name is used only for requests in its language */
  voice?: { languageCode?: string; name?: string; ssmlGender?: GoogleSsmlGender };
  /** deadline of one request, connecting included (default 10 s) */
  timeoutMs?: number;
  scheduler?: Scheduler;
}

const PROVIDER = 'google';

/** google.rpc.Code names, for messages a person can read. */
const GRPC_CODE_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];

type SynthesizeRequest = Parameters<TextToSpeechClient['synthesizeSpeech']>[0];

export class GoogleTtsProvider implements TtsProvider {
  readonly name = PROVIDER;
  private readonly options: GoogleTtsOptions;
  private readonly timeoutMs: number;
  private readonly scheduler: Scheduler;
  private client: Promise<TextToSpeechClient> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: GoogleTtsOptions = {}) {
    this.options = options;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TTS_TIMEOUT_MS;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) throw new ConfigError(`timeoutMs must be positive, got ${this.timeoutMs}`, 'timeoutMs');
    this.scheduler = options.scheduler ?? new SystemScheduler();
  }

  async synthesize(request: TtsRequest, signal?: AbortSignal): Promise<TtsAudio> {
    if (this.closing !== undefined) throw new TtsError('provider is closed', PROVIDER, { cause: new ClosedError('closed') });
    checkTtsRequest(request, PROVIDER);
    // loading the client library is local work (half a second, once) that cannot hang: it stays
    // outside the deadline, which is for the network
    await loadLibrary();
    const call: SynthesizeRequest = {
      input: { ssml: request.ssml },
      voice: this.voiceFor(request),
      audioConfig: { audioEncoding: 'LINEAR16', sampleRateHertz: request.sampleRate },
    };
    const deadlineAt = this.scheduler.now() + this.timeoutMs;
    return withDeadline(
      { provider: PROVIDER, timeoutMs: this.timeoutMs, scheduler: this.scheduler, signal, describeFailure: describeGrpcFailure },
      async () => {
        const client = await this.connectedClient();
        // the gRPC deadline is what is left after connecting, so the server stops working too;
        // no retries: a prompt that is late is useless, and the interpreter has its own fallback
        const timeout = Math.max(1, Math.round(deadlineAt - this.scheduler.now()));
        const [response] = await client.synthesizeSpeech(call, { timeout, retry: { retryCodes: [] } });
        return { pcm: await decodeAudio(response.audioContent, request.sampleRate), sampleRate: request.sampleRate };
      },
    );
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const client = await this.client?.catch(() => undefined);
      this.client = undefined;
      await client?.close().catch(() => undefined);
    })();
    return this.closing;
  }

  private voiceFor(request: TtsRequest): NonNullable<SynthesizeRequest['voice']> {
    const configured = this.options.voice;
    const sameLanguage = configured?.languageCode === undefined || configured.languageCode.toLowerCase() === request.language.toLowerCase();
    const name = request.voice ?? (sameLanguage ? configured?.name : undefined);
    return {
      languageCode: request.language,
      ...(name !== undefined ? { name } : {}),
      ...(configured?.ssmlGender !== undefined ? { ssmlGender: configured.ssmlGender } : {}),
    };
  }

  /**
   * The client, initialised. A client whose initialisation failed is thrown away: the library
   * would rethrow that failure as an unhandled rejection on every later call.
   */
  private connectedClient(): Promise<TextToSpeechClient> {
    if (this.client === undefined) {
      const created = this.createClient();
      this.client = created;
      created.catch(() => {
        if (this.client === created) this.client = undefined;
      });
    }
    return this.client;
  }

  private async createClient(): Promise<TextToSpeechClient> {
    const Client = await loadLibrary();
    // loaded with the client library, not at start-up
    const { credentials: grpcCredentials } = await import('@grpc/grpc-js');
    const o = this.options;
    const client = new Client({
      ...(o.apiEndpoint !== undefined ? { apiEndpoint: o.apiEndpoint } : {}),
      ...(o.port !== undefined ? { port: o.port } : {}),
      ...(o.insecure === true
        ? { sslCreds: grpcCredentials.createInsecure(), universeDomain: 'googleapis.com' }
        : {
            ...(o.keyFilename !== undefined ? { keyFilename: o.keyFilename } : {}),
            ...(o.credentials !== undefined ? { credentials: o.credentials } : {}),
          }),
    });
    try {
      await client.initialize();
    } catch (err) {
      await client.close().catch(() => undefined);
      throw new TtsError(`cannot set up the client: ${describeError(err)}`, PROVIDER, { cause: err });
    }
    if (this.closing !== undefined) {
      await client.close().catch(() => undefined);
      throw new TtsError('provider is closed', PROVIDER, { cause: new ClosedError('closed') });
    }
    return client;
  }
}

let library: Promise<typeof TextToSpeechClient> | undefined;

function loadLibrary(): Promise<typeof TextToSpeechClient> {
  library ??= import('@google-cloud/text-to-speech').then(
    (loaded) => loaded.TextToSpeechClient,
    (err: unknown) => {
      library = undefined;
      throw new TtsError(`cannot load @google-cloud/text-to-speech: ${describeError(err)}`, PROVIDER, { cause: err });
    },
  );
  return library;
}

function describeGrpcFailure(err: unknown): TtsError {
  if (err instanceof TtsError) return err;
  const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number' ? err.code : undefined;
  const codeName = code !== undefined ? GRPC_CODE_NAMES[code] : undefined;
  const detail = describeError(err);
  return new TtsError(codeName !== undefined && !detail.includes(codeName) ? `${codeName}: ${detail}` : detail, PROVIDER, { cause: err });
}

async function decodeAudio(content: Uint8Array | string | null | undefined, sampleRate: number): Promise<Int16Array> {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'base64') : content;
  if (bytes === null || bytes === undefined || bytes.length === 0) throw new TtsError('the response carries no audio', PROVIDER);
  // LINEAR16 comes with a WAV header (Cloud TTS AudioEncoding docs); a gateway may strip it
  return looksLikeWav(bytes) ? wavToPcm(bytes, sampleRate, PROVIDER) : rawLinear16(bytes);
}
