/**
 * Caller audio for speech recognition and for <record finalsilence>: the media engine forks an
 * endpoint's audio (src/media/fork wire format: one JSON start message, then 16-bit little-endian
 * PCM frames) to this loopback WebSocket server. Forking works the same with the engine in
 * process and on a media node, so the MCP never needs to sit in the RTP path. When the engine
 * runs in this very process it hands the frames over directly instead (LocalAudioTaps): the same
 * audio without a socket, framing and copies for every 20 ms of every tapped call.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { describeError, type Logger } from '../../lib/index.js';
import { hasLocalAudioTaps, type MediaEngineApi } from '../../media/index.js';

export interface AudioTapHandle {
  /** stop the fork; idempotent */
  close(): Promise<void>;
}

interface Waiting {
  onFrame: (pcm: Int16Array) => void;
  socket?: WebSocket;
}

export class AudioTapServer {
  private server: WebSocketServer | undefined;
  private port = 0;
  private readonly taps = new Map<string, Waiting>();

  constructor(
    private readonly engine: MediaEngineApi,
    private readonly logger: Logger,
    /** address the media engine reaches us at (loopback when it runs in this process) */
    private readonly host = '127.0.0.1',
  ) {}

  async start(): Promise<void> {
    if (this.server !== undefined) return;
    const server = new WebSocketServer({ host: this.host, port: 0, maxPayload: 64 * 1024 });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    server.on('connection', (socket, req) => this.accept(socket, req.url ?? ''));
    server.on('error', (err) => this.logger.warn({ err: describeError(err) }, 'audio tap server error'));
  }

  /** fork an endpoint's incoming audio to onFrame (PCM at sampleRate, 20 ms frames) */
  async tap(endpointId: string, sampleRate: 8000 | 16000, onFrame: (pcm: Int16Array) => void): Promise<AudioTapHandle> {
    const engine = this.engine;
    if (hasLocalAudioTaps(engine)) {
      const local = engine.tapAudio(endpointId, sampleRate, (pcm) => {
        try {
          onFrame(pcm);
        } catch (err) {
          this.logger.warn({ err: describeError(err) }, 'audio tap consumer threw');
        }
      });
      await Promise.resolve();
      return {
        close: async () => {
          local.close();
          await Promise.resolve();
        },
      };
    }
    await this.start();
    const token = randomBytes(12).toString('hex');
    this.taps.set(token, { onFrame });
    let forkId: string | undefined;
    try {
      forkId = (await this.engine.startFork({ endpointId, url: `ws://${this.host}:${this.port}/tap/${token}`, sampleRate, playback: false })).forkId;
    } catch (err) {
      this.taps.delete(token);
      throw err;
    }
    let closed = false;
    return {
      close: async () => {
        if (closed) return;
        closed = true;
        const tap = this.taps.get(token);
        this.taps.delete(token);
        tap?.socket?.terminate();
        await this.engine.stopFork(forkId).catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    for (const tap of this.taps.values()) tap.socket?.terminate();
    this.taps.clear();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: WebSocket, url: string): void {
    const token = /^\/tap\/([0-9a-f]+)$/.exec(url)?.[1];
    const tap = token === undefined ? undefined : this.taps.get(token);
    if (tap === undefined) {
      socket.close(1008, 'unknown tap');
      return;
    }
    tap.socket = socket;
    socket.on('message', (data: RawData, binary: boolean) => {
      if (!binary) return;
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      const samples = new Int16Array(buf.length >> 1);
      for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(i * 2);
      try {
        tap.onFrame(samples);
      } catch (err) {
        this.logger.warn({ err: describeError(err) }, 'audio tap consumer threw');
      }
    });
    socket.on('error', () => undefined);
  }
}
