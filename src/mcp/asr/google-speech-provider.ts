/**
 * Google Cloud Speech-to-Text v1 StreamingRecognize with `singleUtterance`: Google endpoints the
 * utterance itself and says END_OF_SINGLE_UTTERANCE; grammars become speech-context phrases.
 * The local energy endpointer only reports speechStart (barge-in) and, should Google not
 * endpoint, cuts the stream after completetimeout of silence.
 *
 * `insecure` talks plaintext gRPC to a local or test server with no Google auth at all: the
 * client gets insecure channel credentials and an auth object that refuses every lookup, so
 * nothing ever asks the metadata server or reads application default credentials.
 */
import type * as Grpc from '@grpc/grpc-js';
import type { v1 } from '@google-cloud/speech';
import { SystemScheduler, describeError, silentLogger, type Logger, type Scheduler, type TimerHandle } from '../../lib/index.js';
import { EnergyEndpointer } from './endpointer.js';
import { collectGrammarPhrases } from './grammar-phrases.js';
import { AsrSessionBase } from './session-base.js';
import { AsrError, type AsrProvider, type AsrSessionOptions } from './types.js';

type SpeechClientOptions = NonNullable<ConstructorParameters<typeof v1.SpeechClient>[0]>;
type SpeechStream = ReturnType<v1.SpeechClient['_streamingRecognize']>;

export interface GoogleSpeechAsrProviderOptions {
  /** host name of the service; speech.googleapis.com by default */
  apiEndpoint?: string;
  port?: number;
  /** plaintext gRPC and no Google auth: for a local or test server */
  insecure?: boolean;
  keyFilename?: string;
  credentials?: { client_email?: string; private_key?: string };
  /** longest wait for the final result once the audio is over (and for a stalled stream) */
  timeoutMs: number;
  scheduler?: Scheduler;
  logger?: Logger;
}

/** the parts of a StreamingRecognizeResponse read here (enums arrive as names or numbers) */
interface StreamingResponse {
  results?: Array<{ isFinal?: boolean | null; alternatives?: Array<{ transcript?: string | null; confidence?: number | null }> | null }> | null;
  speechEventType?: string | number | null;
}

const END_OF_SINGLE_UTTERANCE = ['END_OF_SINGLE_UTTERANCE', 1];

/** an auth client for insecure mode: any attempt to find credentials fails here, offline */
function offlineAuth(): NonNullable<SpeechClientOptions['auth']> {
  const refuse = (): Promise<never> => Promise.reject(new Error('Google auth is disabled for an insecure Speech endpoint'));
  const auth = {
    getUniverseDomain: () => Promise.resolve('googleapis.com'),
    getClient: refuse,
    getProjectId: refuse,
    getAccessToken: refuse,
    getRequestHeaders: refuse,
  };
  return auth as unknown as NonNullable<SpeechClientOptions['auth']>;
}

export class GoogleSpeechAsrProvider implements AsrProvider {
  readonly name = 'google';
  private client: v1.SpeechClient | undefined;
  private readonly sessions = new Set<GoogleSpeechAsrSession>();
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private closed = false;

  constructor(private readonly options: GoogleSpeechAsrProviderOptions) {
    this.scheduler = options.scheduler ?? new SystemScheduler();
    this.logger = (options.logger ?? silentLogger).child({ asr: 'google' });
  }

  startSession(options: AsrSessionOptions): GoogleSpeechAsrSession {
    const session = new GoogleSpeechAsrSession(options, this.options.timeoutMs, this.scheduler, this.logger, (s) => this.sessions.delete(s));
    // failures are reported after the caller has attached its listeners
    const failSoon = (err: AsrError) => queueMicrotask(() => session.failNow(err));
    if (this.closed) {
      failSoon(new AsrError('Google Speech provider is closed'));
      return session;
    }
    this.sessions.add(session);
    if (this.client !== undefined) {
      session.open(this.client);
      return session;
    }
    // the client library is loaded on the first session (it costs a second of start-up otherwise)
    this.speechClient().then(
      (client) => {
        if (!session.ended) session.open(client);
      },
      (err: unknown) => failSoon(new AsrError(`Google Speech: ${describeError(err)}`, { cause: err })),
    );
    return session;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.sessions]) s.close();
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) await client.close().catch(() => {});
  }

  private async speechClient(): Promise<v1.SpeechClient> {
    const { speech, grpc } = await loadLibraries();
    if (this.client !== undefined) return this.client;
    if (this.closed) throw new AsrError('Google Speech provider is closed');
    const o = this.options;
    const opts: SpeechClientOptions = {};
    if (o.apiEndpoint !== undefined) opts.apiEndpoint = o.apiEndpoint;
    if (o.port !== undefined) opts.port = o.port;
    if (o.insecure === true) {
      opts.sslCreds = grpc.credentials.createInsecure();
      opts.auth = offlineAuth();
    } else {
      if (o.keyFilename !== undefined) opts.keyFilename = o.keyFilename;
      if (o.credentials !== undefined) opts.credentials = o.credentials;
    }
    this.client = new speech.v1.SpeechClient(opts);
    return this.client;
  }
}

let libraries: Promise<{ speech: typeof import('@google-cloud/speech'); grpc: typeof Grpc }> | undefined;
/** gRPC status names for messages, once the library is loaded */
let grpcStatus: Record<number, string> = {};

function loadLibraries(): Promise<{ speech: typeof import('@google-cloud/speech'); grpc: typeof Grpc }> {
  libraries ??= Promise.all([import('@google-cloud/speech'), import('@grpc/grpc-js')]).then(
    ([speech, grpc]) => {
      grpcStatus = grpc.status as unknown as Record<number, string>;
      return { speech, grpc };
    },
    (err: unknown) => {
      libraries = undefined;
      throw err;
    },
  );
  return libraries;
}

export class GoogleSpeechAsrSession extends AsrSessionBase {
  private stream: SpeechStream | undefined;
  private readonly endpointer: EnergyEndpointer;
  /** no more audio goes up: Google endpointed, the local endpointer cut, or end() */
  private halfClosed = false;
  private stallTimer: TimerHandle | undefined;
  private readonly alternatives: Array<{ text: string; confidence: number }> = [];
  private early: Int16Array[] = [];

  constructor(
    private readonly options: AsrSessionOptions,
    private readonly timeoutMs: number,
    private readonly scheduler: Scheduler,
    logger: Logger,
    private readonly onRelease: (s: GoogleSpeechAsrSession) => void,
  ) {
    super(logger);
    this.endpointer = new EnergyEndpointer({
      sampleRate: options.sampleRate,
      completetimeoutMs: options.completetimeoutMs,
      maxspeechtimeoutMs: options.maxspeechtimeoutMs,
      ...(options.noSpeechTimeoutMs !== undefined ? { noSpeechTimeoutMs: options.noSpeechTimeoutMs } : {}),
      ...(options.sensitivity !== undefined ? { sensitivity: options.sensitivity } : {}),
    });
  }

  /** the session ended before the client library finished loading */
  get ended(): boolean {
    return this.isClosed || this.isFinished;
  }

  open(client: v1.SpeechClient): void {
    const stream = client._streamingRecognize();
    this.stream = stream;
    stream.on('data', (response: StreamingResponse) => this.onResponse(response));
    stream.on('error', (err: Error & { code?: number }) => {
      const status = err.code !== undefined ? ` (gRPC ${grpcStatus[err.code] ?? err.code})` : '';
      this.failNow(new AsrError(`Google Speech failed${status}: ${err.message}`, { cause: err }));
    });
    stream.on('end', () => this.finish());
    const phrases = collectGrammarPhrases(this.options.grammars);
    stream.write({
      streamingConfig: {
        config: {
          encoding: 'LINEAR16',
          sampleRateHertz: this.options.sampleRate,
          languageCode: this.options.language,
          maxAlternatives: Math.max(1, this.options.maxnbest ?? 1),
          ...(phrases.length > 0 ? { speechContexts: [{ phrases }] } : {}),
        },
        singleUtterance: true,
        interimResults: false,
      },
    });
    const early = this.early;
    this.early = [];
    for (const pcm of early) this.write(pcm);
  }

  write(pcm: Int16Array): void {
    if (this.isFinished || this.halfClosed) return;
    if (this.stream === undefined) {
      // audio from before the stream opened (the library was still loading): up to 5 s is kept
      if (this.early.length < 250) this.early.push(pcm.slice());
      return;
    }
    this.stream.write({ audioContent: Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength) });
    for (const e of this.endpointer.process(pcm)) {
      if (e.type === 'speechStart') this.emitSpeechStart();
      else if (e.type === 'noSpeech') this.finishWith([]);
      else this.halfClose();
    }
  }

  end(): void {
    if (this.isFinished) return;
    this.halfClose();
  }

  failNow(err: AsrError): void {
    if (!this.isFinished) this.logger.warn({ err: err.message }, 'Google Speech session failed');
    this.emitError(err);
    this.close();
  }

  protected release(): void {
    this.stallTimer?.cancel();
    this.stallTimer = undefined;
    const stream = this.stream;
    this.stream = undefined;
    if (stream !== undefined) {
      // errors after we stopped listening (CANCELLED) must not surface as unhandled
      stream.removeAllListeners();
      stream.on('error', () => {});
      stream.cancel();
    }
    this.onRelease(this);
  }

  private onResponse(response: StreamingResponse): void {
    if (this.isFinished) return;
    if (response.speechEventType !== undefined && response.speechEventType !== null && END_OF_SINGLE_UTTERANCE.includes(response.speechEventType)) {
      this.emitSpeechStart();
      this.halfClose();
    }
    for (const result of response.results ?? []) {
      if (result.isFinal !== true) continue;
      for (const alt of result.alternatives ?? []) {
        const text = (alt.transcript ?? '').trim();
        // confidence travels as a proto float: 0.87 arrives as 0.8700000047683716
        if (text.length > 0) this.alternatives.push({ text, confidence: Math.round((alt.confidence ?? 0) * 1e4) / 1e4 });
      }
      this.finish();
      return;
    }
    if (this.halfClosed) this.armStallTimer();
  }

  /** stop sending audio; the final result must come within timeoutMs */
  private halfClose(): void {
    if (this.halfClosed || this.isFinished) return;
    this.halfClosed = true;
    this.stream?.end();
    this.armStallTimer();
  }

  private armStallTimer(): void {
    this.stallTimer?.cancel();
    this.stallTimer = this.scheduler.setTimeout(() => {
      this.failNow(new AsrError(`Google Speech gave no result within ${this.timeoutMs} ms`));
    }, this.timeoutMs);
  }

  private finish(): void {
    const max = Math.max(1, this.options.maxnbest ?? 1);
    this.finishWith(this.alternatives.slice(0, max));
  }

  private finishWith(hypotheses: Array<{ text: string; confidence: number }>): void {
    this.emitResult({ hypotheses });
    this.close();
  }
}
