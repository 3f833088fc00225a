/**
 * Audio fork: streams a call's audio to a WebSocket service (transcription, voice bots,
 * analytics) and takes the audio it sends back for the engine to play into the call. A thin
 * I/O wrapper over the `ws` client; the engine feeds it one frame per 20 ms tick.
 *
 * Wire format (what the far end implements):
 *   - first, one text message: {"event":"start","sampleRate":8000,"encoding":"L16","channels":1,"metadata":{...}}
 *   - then one binary message per frame: 16-bit signed PCM, little-endian (the byte order of
 *     every common consumer, unlike RTP's big-endian L16 of RFC 3551 §4.5.11), mono;
 *   - binary messages from the far end are the same format at the same rate, played back;
 *   - last, when we stop, one text message: {"event":"stop"}.
 *
 * Real time wins over completeness: a frame that cannot go out now (socket not open yet, or
 * more than maxBufferedBytes waiting in the socket) is dropped and counted rather than queued,
 * so a slow consumer never makes us hold seconds of stale audio. Failures are events, never
 * throws: the call goes on without its fork.
 */
import { WebSocket, type RawData } from 'ws';
import {
  InvalidInputError,
  SystemScheduler,
  TimeoutError,
  TypedEmitter,
  UnavailableError,
  describeError,
  silentLogger,
  type Logger,
  type Scheduler,
  type TimerHandle,
} from '../../lib/index.js';

export interface AudioForkOptions {
  /** ws:// or wss:// */
  url: string;
  /** PCM rate of the frames we write and of the audio sent back; 8000 by default */
  sampleRate?: number;
  /** sent in the start message (call id, tenant, caller...) */
  metadata?: Record<string, string>;
  /** extra HTTP headers for the handshake (an Authorization token, say) */
  headers?: Record<string, string>;
  /** for wss: refuse a certificate that does not verify (default true; false only for development) */
  rejectUnauthorized?: boolean;
  /** give up connecting after this long (default 10 s) */
  connectTimeoutMs?: number;
  /** after our close frame, wait this long for the far end's before cutting the connection (default 2 s) */
  closeTimeoutMs?: number;
  /** drop frames while more than this many bytes wait in the socket (default one second of audio) */
  maxBufferedBytes?: number;
  /** keep at most this much audio sent back and not yet played (default 60 s); more is dropped */
  maxPlaybackMs?: number;
  scheduler?: Scheduler;
  logger?: Logger;
}

export type AudioForkState = 'connecting' | 'open' | 'closing' | 'closed';

export type AudioForkEvents = {
  /** the start message is sent; frames go out from now */
  open: [];
  /** the fork is over, for good: emitted once, whoever ended it */
  closed: [reason: string];
  /** something went wrong (connect failure, timeout, socket error); 'closed' follows if it was fatal */
  error: [err: Error];
};

export interface AudioForkStats {
  framesSent: number;
  bytesSent: number;
  /** frames dropped because the socket was backed up */
  framesDropped: number;
  /** frames written while the fork was not open (connecting or closed) */
  framesSkipped: number;
  playbackSamplesReceived: number;
  playbackSamplesQueued: number;
  /** samples sent back beyond maxPlaybackMs, thrown away */
  playbackSamplesDropped: number;
}

const TRANSITIONS: Readonly<Record<AudioForkState, readonly AudioForkState[]>> = {
  connecting: ['open', 'closing', 'closed'],
  open: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
};

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class AudioFork {
  readonly url: string;
  readonly sampleRate: number;
  private readonly events: TypedEmitter<AudioForkEvents>;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private readonly metadata: Record<string, string>;
  private readonly closeTimeoutMs: number;
  private readonly maxBufferedBytes: number;
  private readonly maxPlaybackSamples: number;
  private ws: WebSocket | undefined;
  private currentState: AudioForkState = 'connecting';
  private connectTimer: TimerHandle | undefined;
  private closeTimer: TimerHandle | undefined;
  /** set once we decided to end: errors after that are expected noise */
  private ending = false;
  /** why the connection failed, when it did, for the 'closed' reason */
  private failure: string | undefined;
  private closedEmitted = false;
  private readonly playback: Int16Array[] = [];
  private playbackOffset = 0;
  /** the odd byte of a message whose length was odd, completed by the next one */
  private carryByte: number | undefined;
  private readonly counters: AudioForkStats = {
    framesSent: 0,
    bytesSent: 0,
    framesDropped: 0,
    framesSkipped: 0,
    playbackSamplesReceived: 0,
    playbackSamplesQueued: 0,
    playbackSamplesDropped: 0,
  };

  constructor(options: AudioForkOptions) {
    this.url = options.url;
    this.sampleRate = positiveOr(options.sampleRate, 8000);
    this.scheduler = options.scheduler ?? new SystemScheduler();
    this.logger = (options.logger ?? silentLogger).child({ component: 'audio-fork', url: options.url });
    this.events = new TypedEmitter<AudioForkEvents>((err, event) =>
      this.logger.warn({ err: describeError(err), event }, 'audio fork listener threw'),
    );
    this.metadata = { ...(options.metadata ?? {}) };
    this.closeTimeoutMs = positiveOr(options.closeTimeoutMs, 2000);
    this.maxBufferedBytes = positiveOr(options.maxBufferedBytes, this.sampleRate * 2);
    this.maxPlaybackSamples = Math.round((positiveOr(options.maxPlaybackMs, 60_000) * this.sampleRate) / 1000);

    const invalid = invalidUrlReason(options.url);
    if (invalid !== undefined) {
      this.failLater(new InvalidInputError(`audio fork: ${invalid}`), invalid);
      return;
    }
    let ws: WebSocket;
    try {
      ws = new WebSocket(options.url, {
        headers: options.headers ?? {},
        rejectUnauthorized: options.rejectUnauthorized ?? true,
        perMessageDeflate: false,
      });
    } catch (err) {
      this.failLater(new InvalidInputError(`audio fork: cannot connect to ${options.url}: ${describeError(err)}`, 400, 400, { cause: err }), describeError(err));
      return;
    }
    this.ws = ws;
    ws.on('open', () => this.onOpen());
    ws.on('message', (data: RawData, isBinary: boolean) => {
      // text messages from the far end (marks, acknowledgements) carry nothing we play
      if (isBinary) this.enqueuePlayback(data);
    });
    // an 'error' listener must stay for the socket's whole life: without one, ws would throw
    ws.on('error', (err: Error) => this.onSocketError(err));
    ws.on('close', (code: number, reason: Buffer) => this.onSocketClose(code, reason.toString('utf8')));
    this.connectTimer = this.scheduler.setTimeout(() => this.onConnectTimeout(), positiveOr(options.connectTimeoutMs, 10_000));
  }

  get state(): AudioForkState {
    return this.currentState;
  }

  stats(): AudioForkStats {
    return { ...this.counters };
  }

  on<K extends keyof AudioForkEvents>(event: K, listener: (...args: AudioForkEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  once<K extends keyof AudioForkEvents>(event: K, listener: (...args: AudioForkEvents[K]) => void): () => void {
    return this.events.once(event, listener);
  }

  /**
   * Send one frame of PCM at sampleRate. Returns false when the frame was not sent: the fork is
   * not open (yet or any more) or the socket is backed up (counted in stats()).
   */
  write(frame: Int16Array): boolean {
    const ws = this.ws;
    if (this.currentState !== 'open' || ws === undefined || ws.readyState !== WebSocket.OPEN) {
      this.counters.framesSkipped++;
      return false;
    }
    if (ws.bufferedAmount > this.maxBufferedBytes) {
      this.counters.framesDropped++;
      return false;
    }
    const bytes = toLittleEndian(frame);
    try {
      ws.send(bytes, { binary: true });
    } catch (err) {
      this.counters.framesDropped++;
      this.logger.debug({ err: describeError(err) }, 'audio fork send failed');
      return false;
    }
    this.counters.framesSent++;
    this.counters.bytesSent += bytes.length;
    return true;
  }

  /**
   * The next `samples` samples of audio the far end sent, or undefined when none is waiting.
   * When fewer are waiting the rest of the frame is silence, so playback never stalls on a
   * partial frame.
   */
  readPlayback(samples: number): Int16Array | undefined {
    if (this.counters.playbackSamplesQueued === 0 || !(samples > 0)) return undefined;
    const out = new Int16Array(Math.floor(samples));
    let filled = 0;
    while (filled < out.length) {
      const head = this.playback[0];
      if (head === undefined) break;
      const take = Math.min(out.length - filled, head.length - this.playbackOffset);
      out.set(head.subarray(this.playbackOffset, this.playbackOffset + take), filled);
      filled += take;
      this.playbackOffset += take;
      if (this.playbackOffset === head.length) {
        this.playback.shift();
        this.playbackOffset = 0;
      }
    }
    this.counters.playbackSamplesQueued -= filled;
    return out;
  }

  /** Forget the audio waiting to be played (barge-in: the caller spoke over the bot). */
  clearPlayback(): void {
    this.playback.length = 0;
    this.playbackOffset = 0;
    this.counters.playbackSamplesQueued = 0;
  }

  /** End the fork: a stop message and a normal close when open. Idempotent; 'closed' follows once. */
  close(): void {
    if (this.currentState === 'closing' || this.currentState === 'closed') return;
    this.ending = true;
    this.cancelConnectTimer();
    const ws = this.ws;
    const wasOpen = this.currentState === 'open';
    this.transition('closing');
    if (ws === undefined) {
      this.finish('closed locally');
      return;
    }
    if (wasOpen && ws.readyState === WebSocket.OPEN) {
      try {
        ws.send(JSON.stringify({ event: 'stop' }));
        ws.close(1000, 'fork stopped');
      } catch (err) {
        this.logger.debug({ err: describeError(err) }, 'audio fork close failed');
        ws.terminate();
      }
    } else {
      ws.terminate();
    }
    // a far end that never answers our close frame must not keep the socket, nor 'closed' wait
    this.closeTimer = this.scheduler.setTimeout(() => {
      this.closeTimer = undefined;
      ws.terminate();
      this.finish('closed locally');
    }, this.closeTimeoutMs);
  }

  private onOpen(): void {
    this.cancelConnectTimer();
    if (this.currentState !== 'connecting' || this.ws === undefined) return;
    this.transition('open');
    try {
      this.ws.send(JSON.stringify({ event: 'start', sampleRate: this.sampleRate, encoding: 'L16', channels: 1, metadata: this.metadata }));
    } catch (err) {
      this.logger.debug({ err: describeError(err) }, 'audio fork start message failed');
    }
    this.events.emit('open');
  }

  private onConnectTimeout(): void {
    this.connectTimer = undefined;
    if (this.currentState !== 'connecting') return;
    this.ending = true;
    this.failure = 'connect timeout';
    this.events.emit('error', new TimeoutError(`audio fork: no connection to ${this.url} within the timeout`));
    this.ws?.terminate();
  }

  private onSocketError(err: Error): void {
    if (this.ending || this.currentState === 'closed') {
      this.logger.debug({ err: describeError(err) }, 'audio fork socket error while closing');
      return;
    }
    if (this.currentState === 'connecting') this.failure = `connection failed: ${describeError(err)}`;
    this.events.emit('error', new UnavailableError(`audio fork ${this.url}: ${describeError(err)}`, { cause: err }));
  }

  private onSocketClose(code: number, reason: string): void {
    if (this.ending) {
      this.finish(this.failure ?? 'closed locally');
      return;
    }
    this.finish(this.failure ?? `remote closed: ${code}${reason === '' ? '' : ` ${reason}`}`);
  }

  private finish(reason: string): void {
    this.cancelConnectTimer();
    this.closeTimer?.cancel();
    this.closeTimer = undefined;
    if (this.currentState !== 'closed') this.transition('closed');
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    this.logger.debug({ reason, ...this.counters }, 'audio fork closed');
    this.events.emit('closed', reason);
  }

  /** A fork that never got a socket still reports through events, once listeners are attached. */
  private failLater(err: Error, reason: string): void {
    this.ending = true;
    this.transition('closed');
    this.scheduler.setTimeout(() => {
      this.events.emit('error', err);
      this.closedEmitted = true;
      this.events.emit('closed', reason);
    }, 0);
  }

  private enqueuePlayback(data: RawData): void {
    let bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (this.carryByte !== undefined) {
      bytes = Buffer.concat([Buffer.from([this.carryByte]), bytes]);
      this.carryByte = undefined;
    }
    const samples = bytes.length >> 1;
    if (bytes.length % 2 === 1) this.carryByte = bytes[bytes.length - 1];
    if (samples === 0) return;
    this.counters.playbackSamplesReceived += samples;
    if (this.counters.playbackSamplesQueued + samples > this.maxPlaybackSamples) {
      this.counters.playbackSamplesDropped += samples;
      return;
    }
    const pcm = new Int16Array(samples);
    for (let i = 0; i < samples; i++) pcm[i] = bytes.readInt16LE(2 * i);
    this.playback.push(pcm);
    this.counters.playbackSamplesQueued += samples;
  }

  private cancelConnectTimer(): void {
    this.connectTimer?.cancel();
    this.connectTimer = undefined;
  }

  private transition(to: AudioForkState): void {
    if (!TRANSITIONS[this.currentState].includes(to)) {
      throw new Error(`AudioFork: illegal transition ${this.currentState} -> ${to}`);
    }
    this.currentState = to;
  }
}

function invalidUrlReason(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `invalid URL ${JSON.stringify(url)}`;
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') return `URL must be ws:// or wss://, not ${parsed.protocol}`;
  return undefined;
}

/** A copy of the frame as little-endian bytes (the caller may reuse its frame). */
function toLittleEndian(frame: Int16Array): Buffer {
  if (LITTLE_ENDIAN_HOST) return Buffer.from(new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength));
  const out = Buffer.allocUnsafe(frame.length * 2);
  for (let i = 0; i < frame.length; i++) out.writeInt16LE(frame[i] as number, 2 * i);
  return out;
}

function positiveOr(v: number | undefined, fallback: number): number {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : fallback;
}
