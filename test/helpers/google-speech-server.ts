import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import path from 'node:path';
import { repoRoot } from './paths.js';

/**
 * A local Google Cloud Speech v1 server for tests: StreamingRecognize over plaintext gRPC on
 * 127.0.0.1 and a free port, built from the protos shipped with @google-cloud/speech. It records
 * what each stream sent (config, audio bytes, whether the client half-closed) and, by behaviour:
 * - answer: after `answerAfterBytes` of audio, END_OF_SINGLE_UTTERANCE then the final result;
 * - unavailable: fails the call with UNAVAILABLE on its first message;
 * - hang: reads everything and never answers.
 */
export type SpeechServerBehaviour = 'answer' | 'unavailable' | 'hang';

export interface SpeechServerOptions {
  behaviour?: SpeechServerBehaviour;
  /** the n-best to answer with; the first is the transcript */
  alternatives?: Array<{ transcript: string; confidence: number }>;
  /** audio to receive before answering, 3200 bytes (100 ms at 16 kHz) by default */
  answerAfterBytes?: number;
}

export interface RecordedStream {
  /** the streamingConfig of the first message (proto-loader object, camelCase keys) */
  config: Record<string, unknown> | undefined;
  audioBytes: number;
  halfClosed: boolean;
  cancelled: boolean;
}

interface StreamingRequest {
  streamingConfig?: Record<string, unknown> | null;
  audioContent?: Buffer | null;
}

type SpeechCall = grpc.ServerDuplexStream<StreamingRequest, Record<string, unknown>>;

function loadSpeechService(): grpc.ServiceDefinition {
  const root = repoRoot();
  const definition = protoLoader.loadSync('google/cloud/speech/v1/cloud_speech.proto', {
    includeDirs: [path.join(root, 'node_modules/@google-cloud/speech/build/protos'), path.join(root, 'node_modules/google-gax/build/protos')],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    google: { cloud: { speech: { v1: { Speech: { service: grpc.ServiceDefinition } } } } };
  };
  return pkg.google.cloud.speech.v1.Speech.service;
}

export class GoogleSpeechServer {
  readonly streams: RecordedStream[] = [];
  behaviour: SpeechServerBehaviour;
  alternatives: Array<{ transcript: string; confidence: number }>;
  answerAfterBytes: number;
  private readonly open = new Set<SpeechCall>();

  private constructor(
    private readonly server: grpc.Server,
    readonly port: number,
    options: SpeechServerOptions,
  ) {
    this.behaviour = options.behaviour ?? 'answer';
    this.alternatives = options.alternatives ?? [{ transcript: 'hello', confidence: 0.9 }];
    this.answerAfterBytes = options.answerAfterBytes ?? 3200;
  }

  static async start(options: SpeechServerOptions = {}): Promise<GoogleSpeechServer> {
    const server = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
    });
    const speech = new GoogleSpeechServer(server, port, options);
    const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback({ code: grpc.status.UNIMPLEMENTED, details: 'test server' });
    server.addService(loadSpeechService(), {
      streamingRecognize: (call: SpeechCall) => speech.onStream(call),
      recognize: unimplemented,
      longRunningRecognize: unimplemented,
    });
    return speech;
  }

  /** stop now: open streams are cut */
  close(): Promise<void> {
    for (const call of this.open) call.destroy();
    this.server.forceShutdown();
    return Promise.resolve();
  }

  private onStream(call: SpeechCall): void {
    const behaviour = this.behaviour;
    const recorded: RecordedStream = { config: undefined, audioBytes: 0, halfClosed: false, cancelled: false };
    this.streams.push(recorded);
    this.open.add(call);
    let answered = false;
    call.on('cancelled', () => {
      recorded.cancelled = true;
      this.open.delete(call);
    });
    call.on('error', () => this.open.delete(call));
    call.on('end', () => {
      recorded.halfClosed = true;
      if (behaviour === 'answer' && !answered) this.finish(call);
    });
    call.on('data', (request: StreamingRequest) => {
      if (request.streamingConfig) recorded.config = request.streamingConfig;
      if (request.audioContent) recorded.audioBytes += request.audioContent.length;
      if (behaviour === 'unavailable') {
        if (!answered) {
          answered = true;
          this.open.delete(call);
          call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'test server is unavailable' });
        }
        return;
      }
      if (behaviour === 'answer' && !answered && recorded.audioBytes >= this.answerAfterBytes) {
        answered = true;
        call.write({ speechEventType: 'END_OF_SINGLE_UTTERANCE' });
        call.write({
          results: [{ alternatives: this.alternatives.map((a) => ({ transcript: a.transcript, confidence: a.confidence })), isFinal: true }],
        });
        this.finish(call);
      }
    });
  }

  private finish(call: SpeechCall): void {
    this.open.delete(call);
    call.end();
  }
}
