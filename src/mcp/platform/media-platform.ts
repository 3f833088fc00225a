/**
 * The Platform port over a call's media endpoint: prompts become PCM streams played by the media
 * engine, DTMF comes from its events, speech from an ASR session fed by an audio tap, recordings
 * from its recorder via the blob store. One per VoiceXML session; close() releases everything.
 */
import { randomBytes } from 'node:crypto';
import { describeError, type Logger, type Scheduler, type TimerHandle } from '../../lib/index.js';
import type { MediaEngineApi, MediaEvent } from '../../media/index.js';
import type { BlobStore } from '../../platform/index.js';
import type {
  ConnectionInfo,
  Platform,
  PlatformEvents,
  PlayHandle,
  QueuedPrompt,
  RecognitionRequest,
  RecordRequest,
  RecordResult,
  TransferRequest,
  TransferResult,
} from '../vxml/platform.js';
import type { AudioTapHandle, AudioTapServer } from './audio-tap.js';
import type { RecognitionSession, SpeechRecognizer } from './ports.js';
import type { PromptRenderer } from './prompt-renderer.js';

export interface MediaPlatformOptions {
  engine: MediaEngineApi;
  endpointId: string;
  connection: ConnectionInfo;
  renderer: PromptRenderer;
  blobs: BlobStore;
  scheduler: Scheduler;
  logger: Logger;
  sampleRate?: 8000 | 16000;
  asr?: SpeechRecognizer;
  tap?: AudioTapServer;
  /** blob key prefix for recordings */
  recordingPrefix?: string;
  transfer?: (request: TransferRequest, signal: AbortSignal) => Promise<TransferResult>;
  /** send BYE (the session or <disconnect> ended the call) */
  hangup: () => Promise<void>;
}

interface ActivePlay {
  playId: string | undefined;
  stopped: boolean;
  resolve: () => void;
  /** the engine finished the play with this much audio still queued for sending */
  pendingMs: number;
  /** ends the wait for that audio early (stop) */
  endWait: (() => void) | undefined;
}

const FINAL_SILENCE_LEVEL = 300;

export class MediaPlatform implements Platform {
  readonly connection: ConnectionInfo;
  private listener: Partial<PlatformEvents> = {};
  private readonly sampleRate: 8000 | 16000;
  private tail: Promise<void> = Promise.resolve();
  private readonly plays = new Set<ActivePlay>();
  private recognition: { session: RecognitionSession; tap: Promise<AudioTapHandle | undefined> } | undefined;
  private recordWaiter: { recordingId: string; resolve: (e: Extract<MediaEvent, { type: 'record.done' }>) => void } | undefined;
  private dtmfHook: ((key: string) => void) | undefined;
  private hungUp = false;
  private closed = false;

  constructor(private readonly options: MediaPlatformOptions) {
    this.connection = options.connection;
    this.sampleRate = options.sampleRate ?? 8000;
  }

  setListener(events: Partial<PlatformEvents>): void {
    this.listener = events;
  }

  /** the MCP service routes this endpoint's media events here */
  handleMediaEvent(event: MediaEvent): void {
    switch (event.type) {
      case 'dtmf':
        this.options.logger.debug({ digit: event.digit, source: event.source }, 'caller DTMF');
        this.dtmfHook?.(event.digit);
        this.emit('dtmf', event.digit);
        break;
      case 'play.done':
        for (const p of this.plays) {
          if (p.playId === event.playId) {
            this.plays.delete(p);
            p.pendingMs = event.pendingMs ?? 0;
            p.resolve();
          }
        }
        break;
      case 'record.done':
        if (this.recordWaiter?.recordingId === event.recordingId) this.recordWaiter.resolve(event);
        break;
      case 'endpoint.closed':
      case 'engine.lost':
        this.remoteHangup();
        break;
      default:
        break;
    }
  }

  /** the caller hung up (BYE) or the media went away */
  remoteHangup(): void {
    if (this.hungUp) return;
    this.hungUp = true;
    this.stopAllPlays();
    this.emit('hangup');
  }

  play(prompts: QueuedPrompt[]): PlayHandle {
    const controller = new AbortController();
    this.options.logger.debug({ prompts: prompts.map((p) => p.text) }, 'prompts queued');
    return this.playSources(
      prompts.map((p) => this.options.renderer.render(p, this.sampleRate, controller.signal)),
      controller,
      prompts.map((p) => p.text),
    );
  }

  /** play PCM at the platform's rate (announcements, cached audio) */
  playPcm(pcm: Int16Array): PlayHandle {
    return this.playSources([Promise.resolve(pcm)], new AbortController());
  }

  private playSources(rendered: Promise<Int16Array>[], controller: AbortController, texts: string[] = []): PlayHandle {
    const active: ActivePlay = { playId: undefined, stopped: false, resolve: () => undefined, pendingMs: 0, endWait: undefined };
    // a failed render must not surface as an unhandled rejection while earlier prompts still play
    for (const r of rendered) r.catch(() => undefined);
    const run = async (): Promise<void> => {
      if (active.stopped || this.hungUp || this.closed || rendered.length === 0) return;
      const streams = rendered.map(() => `mcp-${randomBytes(8).toString('hex')}`);
      const finished = new Promise<void>((resolve) => {
        active.resolve = resolve;
      });
      this.plays.add(active);
      try {
        const { playId } = await this.options.engine.play({
          endpointId: this.options.endpointId,
          items: streams.map((streamId) => ({ kind: 'stream' as const, streamId, sampleRate: this.sampleRate })),
        });
        active.playId = playId;
        if (active.stopped) await this.options.engine.stopPlay(playId).catch(() => undefined);
        for (const [i, r] of rendered.entries()) {
          let pcm: Int16Array;
          try {
            pcm = await r;
          } catch (err) {
            pcm = new Int16Array(0);
            if (!controller.signal.aborted) {
              // VoiceXML 2.0 §5.2.6: a platform resource that fails is error.noresource for the document
              this.options.logger.warn({ err: describeError(err), prompt: (texts[i] ?? '').slice(0, 120) }, 'prompt not rendered: TTS or audio unavailable');
              this.emit('recognitionError', `prompt not rendered: ${describeError(err)}`);
            }
          }
          await this.options.engine.writeStream(streams[i] as string, toBytes(pcm), true);
        }
        await finished;
      } catch (err) {
        this.plays.delete(active);
        // writing to a play that barge-in stopped meanwhile fails: that is no fault
        if (!active.stopped) this.options.logger.warn({ err: describeError(err) }, 'prompt playback failed');
      }
    };
    const ran = this.tail.then(run);
    // the next prompts start as soon as the engine has all of this one's audio (no gap between
    // them); this one is done for the caller when its audio has been heard
    this.tail = ran.catch(() => undefined);
    const done = ran.then(() => this.untilHeard(active));
    return {
      done,
      stop: () => {
        if (active.stopped) return;
        active.stopped = true;
        active.endWait?.();
        controller.abort();
        if (active.playId !== undefined) void this.options.engine.stopPlay(active.playId).catch(() => undefined);
        this.plays.delete(active);
        active.resolve();
      },
    };
  }

  /** Waits out the audio the engine still had queued when the play ended (cut short by stop()). */
  private untilHeard(active: ActivePlay): Promise<void> {
    if (active.stopped || active.pendingMs <= 0 || this.hungUp || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = this.options.scheduler.setTimeout(() => {
        active.endWait = undefined;
        resolve();
      }, active.pendingMs);
      active.endWait = () => {
        timer.cancel();
        active.endWait = undefined;
        resolve();
      };
    });
  }

  startRecognition(request: RecognitionRequest): void {
    this.stopRecognition();
    this.options.logger.debug({ modes: request.modes, grammars: request.grammars.map((g) => g.id) }, 'recognition started');
    const asr = this.options.asr;
    const tap = this.options.tap;
    if (!request.modes.includes('voice') || asr === undefined || tap === undefined || this.hungUp) return;
    const voice = request.grammars.filter((g) => g.mode === 'voice');
    if (voice.length === 0) return;
    let session: RecognitionSession;
    try {
      session = asr.startSession({
        grammars: voice,
        language: request.language,
        sampleRate: this.sampleRate,
        completetimeoutMs: request.completetimeoutMs,
        incompletetimeoutMs: request.incompletetimeoutMs,
        maxspeechtimeoutMs: request.maxspeechtimeoutMs,
        sensitivity: request.sensitivity,
      });
    } catch (err) {
      this.emit('recognitionError', describeError(err));
      return;
    }
    session.on('speechStart', () => this.emit('speechStart'));
    session.on('result', (r) => this.emit('speech', r));
    session.on('error', (err) => this.emit('recognitionError', describeError(err)));
    const handle = tap.tap(this.options.endpointId, this.sampleRate, (pcm) => session.write(pcm)).catch((err: unknown) => {
      this.emit('recognitionError', `no caller audio for recognition: ${describeError(err)}`);
      return undefined;
    });
    this.recognition = { session, tap: handle };
  }

  stopRecognition(): void {
    const r = this.recognition;
    this.recognition = undefined;
    if (r === undefined) return;
    r.session.close();
    void r.tap.then((h) => h?.close());
  }

  async record(request: RecordRequest, signal: AbortSignal): Promise<RecordResult> {
    const type = request.type === '' ? 'audio/x-wav' : request.type;
    if (request.prompts.length > 0) await this.play(request.prompts).done;
    if (this.hungUp) return { audio: new Uint8Array(0) as Buffer, type, durationMs: 0, maxtime: false, hangup: true };
    if (request.beep) {
      const beep = await this.options.engine.play({ endpointId: this.options.endpointId, items: [{ kind: 'tone', frequenciesHz: [1000], durationMs: 250 }] });
      await new Promise<void>((resolve) => {
        // recording starts once the beep has been heard, also when its end was queued ahead
        const active: ActivePlay = { playId: beep.playId, stopped: false, pendingMs: 0, endWait: undefined, resolve: () => void this.untilHeard(active).then(resolve) };
        this.plays.add(active);
        this.options.scheduler.setTimeout(resolve, 600);
      });
    }
    const key = `${this.options.recordingPrefix ?? 'vxml-recordings'}/${new Date(this.options.scheduler.wallNow()).toISOString().slice(0, 10)}/${randomBytes(10).toString('hex')}.wav`;
    const { recordingId } = await this.options.engine.record({ target: { endpointId: this.options.endpointId }, key, sampleRate: this.sampleRate });
    this.options.logger.debug({ key, maxtimeMs: request.maxtimeMs, finalsilenceMs: request.finalsilenceMs, dtmfterm: request.dtmfterm }, 'recording');
    const done = new Promise<Extract<MediaEvent, { type: 'record.done' }>>((resolve) => {
      this.recordWaiter = { recordingId, resolve };
    });
    let why: { termchar?: string; maxtime: boolean } = { maxtime: false };
    const stop = (reason: { termchar?: string; maxtime: boolean }): void => {
      why = reason;
      void this.options.engine.stopRecord(recordingId).catch(() => undefined);
    };
    const timers: TimerHandle[] = [this.options.scheduler.setTimeout(() => stop({ maxtime: true }), Math.max(100, request.maxtimeMs))];
    if (request.dtmfterm) this.dtmfHook = (key) => stop({ termchar: key, maxtime: false });
    const onAbort = (): void => stop({ maxtime: false });
    signal.addEventListener('abort', onAbort, { once: true });
    const hangupCheck = this.options.scheduler.setInterval(() => {
      if (this.hungUp) stop({ maxtime: false });
    }, 100);
    timers.push(hangupCheck);
    let silenceTap: AudioTapHandle | undefined;
    if (request.finalsilenceMs > 0 && this.options.tap !== undefined) {
      let heard = false;
      let quietMs = 0;
      silenceTap = await this.options.tap
        .tap(this.options.endpointId, this.sampleRate, (pcm) => {
          const loud = rms(pcm) > FINAL_SILENCE_LEVEL;
          heard ||= loud;
          quietMs = loud ? 0 : quietMs + (pcm.length * 1000) / this.sampleRate;
          if (heard && quietMs >= request.finalsilenceMs) stop({ maxtime: false });
        })
        .catch(() => undefined);
    }
    const event = await done;
    this.options.logger.debug({ key: event.key, durationMs: event.durationMs, reason: event.reason, why }, 'recording done');
    this.recordWaiter = undefined;
    this.dtmfHook = undefined;
    signal.removeEventListener('abort', onAbort);
    for (const t of timers) t.cancel();
    await silenceTap?.close();
    let audio: Uint8Array = new Uint8Array(0);
    if (event.reason !== 'error') {
      try {
        audio = await this.options.blobs.get(event.key);
      } catch (err) {
        this.options.logger.warn({ key: event.key, err: describeError(err) }, 'recording not readable');
      }
    }
    const result: RecordResult = { audio: Buffer.from(audio), type: 'audio/x-wav', durationMs: event.durationMs, maxtime: why.maxtime, hangup: this.hungUp, blobKey: event.key };
    if (why.termchar !== undefined) result.termchar = why.termchar;
    return result;
  }

  async transfer(request: TransferRequest, signal: AbortSignal): Promise<TransferResult> {
    if (request.prompts.length > 0) await this.play(request.prompts).done;
    if (this.options.transfer === undefined) return { outcome: 'unknown', durationMs: 0, unsupported: request.type };
    return this.options.transfer(request, signal);
  }

  async disconnect(): Promise<void> {
    this.stopAllPlays();
    this.stopRecognition();
    await this.options.hangup();
  }

  log(label: string | undefined, text: string): void {
    this.options.logger.info({ label, vxml: 'log' }, text);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopAllPlays();
    this.stopRecognition();
  }

  private stopAllPlays(): void {
    for (const p of this.plays) {
      p.stopped = true;
      if (p.playId !== undefined) void this.options.engine.stopPlay(p.playId).catch(() => undefined);
      p.resolve();
    }
    this.plays.clear();
  }

  private emit<K extends keyof PlatformEvents>(name: K, ...args: Parameters<PlatformEvents[K]>): void {
    const fn = this.listener[name] as ((...a: Parameters<PlatformEvents[K]>) => void) | undefined;
    try {
      fn?.(...args);
    } catch (err) {
      this.options.logger.warn({ err: describeError(err), event: name }, 'interpreter listener threw');
    }
  }
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * L16 little-endian bytes of a prompt for writeStream. On a little-endian host the samples'
 * memory already is that: a view, no copy (the engine copies what it keeps; cached prompts are
 * shared by every call and never written to).
 */
function toBytes(pcm: Int16Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const out = Buffer.allocUnsafe(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i] as number, i * 2);
  return out;
}

function rms(pcm: Int16Array): number {
  let sum = 0;
  for (const s of pcm) sum += s * s;
  return Math.sqrt(sum / Math.max(1, pcm.length));
}
