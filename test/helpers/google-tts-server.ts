/**
 * A local Google Cloud TextToSpeech gRPC server for tests: the real v1 service definition from
 * the proto files shipped in @google-cloud/text-to-speech (with google/api from google-gax),
 * served by @grpc/grpc-js in plain text on 127.0.0.1 and a free port.
 *
 * SynthesizeSpeech answers LINEAR16 in a RIFF/WAVE header, as Google does: a 440 Hz tone by
 * default, or whatever `audio` returns. Every request is recorded. `mode` switches it to fail
 * (UNAVAILABLE, UNAUTHENTICATED, INVALID_ARGUMENT) or to never answer.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { encodeWav } from '../../src/media/index.js';

export type GoogleTtsServerMode = 'ok' | 'unavailable' | 'unauthenticated' | 'invalid-argument' | 'hang';

/** The failures the server can be told to answer with, as Google would send them. */
const FAILURES: Partial<Record<GoogleTtsServerMode, { code: grpc.status; details: string }>> = {
  unavailable: { code: grpc.status.UNAVAILABLE, details: 'test server told to fail' },
  unauthenticated: { code: grpc.status.UNAUTHENTICATED, details: 'Request had invalid authentication credentials.' },
  'invalid-argument': { code: grpc.status.INVALID_ARGUMENT, details: 'Invalid SSML: unclosed tag.' },
};

/** A SynthesizeSpeech request as proto-loader decodes it (camelCase fields, enums as names). */
export interface RecordedSynthesizeRequest {
  input?: { text?: string; ssml?: string };
  voice?: { languageCode?: string; name?: string; ssmlGender?: string };
  audioConfig?: { audioEncoding?: string; sampleRateHertz?: number };
}

export interface GoogleTtsServerOptions {
  mode?: GoogleTtsServerMode;
  /** samples to answer with at the requested rate (default: 440 Hz, 0.5 s) */
  audio?: (request: RecordedSynthesizeRequest, sampleRate: number) => Int16Array;
  /** answer at this rate whatever was asked (the WAV header says so) */
  answerRate?: number;
}

const TTS_PROTO = 'google/cloud/texttospeech/v1/cloud_tts.proto';

function protoDirs(): string[] {
  const ttsPackage = createRequire(import.meta.url).resolve('@google-cloud/text-to-speech/package.json');
  // google/api/*.proto ship with google-gax, the library's own dependency; its main is build/src/index.js
  const gaxMain = createRequire(ttsPackage).resolve('google-gax');
  return [path.join(path.dirname(ttsPackage), 'build', 'protos'), path.join(path.dirname(gaxMain), '..', 'protos')];
}

export function toneSamples(sampleRate: number, durationMs = 500, frequency = 440): Int16Array {
  const out = new Int16Array(Math.round((sampleRate * durationMs) / 1000));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(8000 * Math.sin((2 * Math.PI * frequency * i) / sampleRate));
  return out;
}

type UnaryHandler = (call: grpc.ServerUnaryCall<RecordedSynthesizeRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => void;

export class GoogleTtsServer {
  mode: GoogleTtsServerMode;
  readonly requests: RecordedSynthesizeRequest[] = [];
  /** the audio samples of the last answer, to compare with what the client decoded */
  lastAnswer: Int16Array | undefined;
  private readonly hanging = new Set<grpc.ServerUnaryCall<RecordedSynthesizeRequest, unknown>>();
  private closed = false;

  private constructor(
    private readonly server: grpc.Server,
    readonly port: number,
    private readonly options: GoogleTtsServerOptions,
  ) {
    this.mode = options.mode ?? 'ok';
  }

  static async start(options: GoogleTtsServerOptions = {}): Promise<GoogleTtsServer> {
    const definition = protoLoader.loadSync(TTS_PROTO, { includeDirs: protoDirs(), keepCase: false, longs: Number, enums: String, defaults: false, oneofs: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      google: { cloud: { texttospeech: { v1: { TextToSpeech: { service: grpc.ServiceDefinition } } } } };
    };
    const server = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
    });
    const instance = new GoogleTtsServer(server, port, options);
    server.addService(loaded.google.cloud.texttospeech.v1.TextToSpeech.service, {
      SynthesizeSpeech: instance.synthesizeSpeech,
      ListVoices: instance.listVoices,
      StreamingSynthesize: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'not in the test server' }),
    });
    return instance;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Stop at once: calls left hanging are cancelled. Idempotent. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.hanging.clear();
    this.server.forceShutdown();
    return Promise.resolve();
  }

  private readonly synthesizeSpeech: UnaryHandler = (call, callback) => {
    this.requests.push(call.request);
    const failure = FAILURES[this.mode];
    if (failure !== undefined) {
      callback(failure);
      return;
    }
    if (this.mode === 'hang') {
      this.hanging.add(call);
      call.on('cancelled', () => this.hanging.delete(call));
      return;
    }
    const rate = this.options.answerRate ?? (call.request.audioConfig?.sampleRateHertz || 24000);
    const samples = this.options.audio?.(call.request, rate) ?? toneSamples(rate);
    this.lastAnswer = samples;
    callback(null, { audioContent: Buffer.from(encodeWav(samples, { sampleRate: rate })) });
  };

  private readonly listVoices: UnaryHandler = (_call, callback) => {
    callback(null, {
      voices: [
        { languageCodes: ['en-US'], name: 'en-US-Test-A', ssmlGender: 'FEMALE', naturalSampleRateHertz: 24000 },
        { languageCodes: ['fr-FR'], name: 'fr-FR-Test-B', ssmlGender: 'MALE', naturalSampleRateHertz: 24000 },
      ],
    });
  };
}
