/**
 * The MCP's call entry: an INVITE for `dialog@` (RFC 5552 / RFC 4240 §4), for `annc@` (RFC 4240
 * §3), or a call the B2BUA routed to a VoiceXML application is answered here with a media
 * endpoint, and a VoiceXML session (or an announcement) runs on it until either side hangs up.
 */
import { randomBytes } from 'node:crypto';
import { TypedEmitter, describeError, type Logger, type Scheduler } from '../../lib/index.js';
import type { MediaEngineApi, MediaEvent } from '../../media/index.js';
import type { BlobStore } from '../../platform/index.js';
import type { ua } from '../../sip/index.js';
import type { Fetcher } from '../fetch/types.js';
import type { Platform, TransferRequest, TransferResult } from '../vxml/platform.js';
import type { AudioTapServer } from '../platform/audio-tap.js';
import { MediaPlatform } from '../platform/media-platform.js';
import type { SpeechRecognizer, SpeechSynthesizer, SsmlSegmenter } from '../platform/ports.js';
import { PromptRenderer, decodeAudio } from '../platform/prompt-renderer.js';
import { connectionInfoFromInvite } from './connection-info.js';
import type { TransferSession } from './transfer.js';
import { isEntryUri, parseEntryUri, type AnnouncementEntry, type EntryRequest } from './entry-uri.js';

/** how long a session may go on after its caller hung up (its catch handlers may still submit) */
const HANGUP_GRACE_MS = 15_000;

export interface SessionRunRequest {
  url: string;
  platform: Platform;
  fetcher: Fetcher;
  method: 'get' | 'post';
  maxageS?: number;
  maxstaleS?: number;
  signal: AbortSignal;
}

export interface SessionOutcome {
  reason: string;
  event?: string;
  message?: string;
}

/** runs one VoiceXML session to its end (the interpreter); never rejects for a bad document */
export type SessionRunner = (request: SessionRunRequest) => Promise<SessionOutcome>;

export interface McpServiceOptions {
  engine: MediaEngineApi;
  tap?: AudioTapServer;
  tts: SpeechSynthesizer;
  asr?: SpeechRecognizer;
  segments: SsmlSegmenter;
  /** a fresh fetcher per session (cookies are per session; the cache is shared inside) */
  createFetcher: () => Fetcher;
  runSession: SessionRunner;
  blobs: BlobStore;
  scheduler: Scheduler;
  logger: Logger;
  /** refuse new sessions beyond this with 503 */
  maxSessions?: number;
  language?: string;
  voice?: string;
  /** bridge/consultation/blind transfer of a session's caller (the calls layer) */
  transfer?: (session: TransferSession, request: TransferRequest, signal: AbortSignal) => Promise<TransferResult>;
}

export interface McpSessionEvents {
  /** a session was answered */
  started: [info: { id: string; url: string; kind: EntryRequest['kind'] }];
  /** and ended, with the interpreter's outcome */
  ended: [info: { id: string; outcome: SessionOutcome; durationMs: number }];
}

/** resolves in the event loop's next turn, after its I/O flushes (two check phases from now) */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

interface Live {
  id: string;
  platform: MediaPlatform;
  endpointId: string;
  controller: AbortController;
  /** a consultation transfer took the call over: the session's end must not hang up or free it */
  handedOff: boolean;
}

export class McpService {
  readonly events: TypedEmitter<{ [K in keyof McpSessionEvents]: McpSessionEvents[K] }>;
  private readonly byEndpoint = new Map<string, Live>();
  private readonly unsubscribe: () => void;
  private readonly log: Logger;
  private closed = false;

  constructor(private readonly options: McpServiceOptions) {
    this.log = options.logger.child({ component: 'mcp' });
    this.events = new TypedEmitter((err, event) => this.log.warn({ err: describeError(err), event }, 'MCP event listener threw'));
    this.unsubscribe = options.engine.onEvent((e) => this.route(e));
  }

  get activeSessions(): number {
    return this.byEndpoint.size;
  }

  /** does this INVITE's Request-URI ask for the MCP (dialog@ / annc@)? */
  static claims(request: { method: string; uri: Parameters<typeof isEntryUri>[0]; toTag: string | undefined }): boolean {
    return request.method === 'INVITE' && request.toTag === undefined && isEntryUri(request.uri);
  }

  /** an INVITE addressed to dialog@ or annc@ */
  handleInvite(incoming: ua.IncomingInvite): void {
    const parsed = parseEntryUri(incoming.request.uri);
    if (!parsed.ok) return incoming.reject(parsed.status, { reason: parsed.reason });
    void this.answer(incoming, parsed.entry);
  }

  /** a call the dial plan sent to a VoiceXML application */
  handleApplication(incoming: ua.IncomingInvite, url: string): void {
    void this.answer(incoming, { kind: 'dialog', url, method: 'get', params: { voicexml: url } });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const live of this.byEndpoint.values()) live.controller.abort();
    this.unsubscribe();
  }

  private route(event: MediaEvent): void {
    if (event.type === 'engine.lost') {
      for (const id of event.endpointIds) this.byEndpoint.get(id)?.platform.handleMediaEvent(event);
      return;
    }
    if (event.type === 'record.done') {
      // names its recording, not its endpoint: the platform waiting for that recording takes it
      for (const live of this.byEndpoint.values()) live.platform.handleMediaEvent(event);
      return;
    }
    const live = 'endpointId' in event ? this.byEndpoint.get(event.endpointId) : undefined;
    live?.platform.handleMediaEvent(event);
  }

  private async answer(incoming: ua.IncomingInvite, entry: EntryRequest): Promise<void> {
    if (this.closed || (this.options.maxSessions !== undefined && this.byEndpoint.size >= this.options.maxSessions)) {
      return incoming.reject(503, { reason: 'MCP At Capacity', headers: [['Retry-After', '5']] });
    }
    const offer = incoming.sdp;
    if (offer === undefined) return incoming.reject(488, { reason: 'Offer Required' });
    const id = `mcp-${randomBytes(6).toString('hex')}`;
    let endpointId: string;
    let localSdp: string;
    try {
      const ep = await this.options.engine.createEndpoint({ kind: 'rtp', remoteSdp: offer, labels: { session: id, callId: incoming.request.callId ?? '' } });
      endpointId = ep.id;
      localSdp = ep.localSdp;
    } catch (err) {
      this.log.info({ err: describeError(err) }, 'no media for an MCP session');
      return incoming.reject(/not acceptable|codec|488/i.test(describeError(err)) ? 488 : 503);
    }
    if (!incoming.pending) {
      await this.options.engine.deleteEndpoint(endpointId).catch(() => undefined);
      return;
    }
    // The session starts as soon as the 200 OK is sent, not when the ACK arrives (RFC 3261
    // §13.3.1.4: the answer is in the 200, and media may flow from then on): on a loaded node the
    // ACK's trip through the SIP layer would otherwise delay the first prompt. What needs the
    // confirmed dialog (BYE, transfer, the hang-up watch) waits for it; with no ACK the session
    // is cut off.
    const dialogOrFailure = incoming.accept({ sdp: localSdp }).catch((err: unknown) => {
      this.log.info({ err: describeError(err) }, 'MCP session not established');
      return undefined;
    });
    // The 200 OK is queued on the SIP socket, which sends what a turn of the event loop queued at
    // the start of the next turn (the native UDP engine batches); the first prompt packet goes
    // out from the media engine's sending thread at once. Starting a turn later keeps the prompt
    // from overtaking the 200 (a phone drops media that comes before the answer).
    await nextTurn();
    const started = this.options.scheduler.now();
    const connection = connectionInfoFromInvite(incoming.request, entry.kind === 'dialog' && entry.aai !== undefined ? { aai: entry.aai } : {});
    const fetcher = this.options.createFetcher();
    const renderer = new PromptRenderer({
      tts: this.options.tts,
      segments: this.options.segments,
      loadAudio: async (url, signal) => (await fetcher.fetch({ url, ...(signal !== undefined ? { signal } : {}) })).body,
      logger: this.log,
      ...(this.options.language !== undefined ? { language: this.options.language } : {}),
      ...(this.options.voice !== undefined ? { voice: this.options.voice } : {}),
    });
    const controller = new AbortController();
    const transfer = this.options.transfer;
    const handOff = (): void => {
      live.handedOff = true;
    };
    const platform = new MediaPlatform({
      engine: this.options.engine,
      endpointId,
      connection,
      renderer,
      blobs: this.options.blobs,
      scheduler: this.options.scheduler,
      logger: this.log.child({ session: id }),
      ...(this.options.asr !== undefined ? { asr: this.options.asr } : {}),
      ...(this.options.tap !== undefined ? { tap: this.options.tap } : {}),
      ...(transfer !== undefined
        ? {
            transfer: async (req: TransferRequest, signal: AbortSignal) => {
              const dialog = await dialogOrFailure;
              if (dialog === undefined) throw new Error('the call was never confirmed (no ACK)');
              return transfer({ dialog, endpointId, connection, handOff }, req, signal);
            },
          }
        : {}),
      hangup: async () => {
        const dialog = await dialogOrFailure;
        if (dialog !== undefined && !dialog.ended) await dialog.bye().catch(() => undefined);
      },
    });
    const live: Live = { id, platform, endpointId, controller, handedOff: false };
    this.byEndpoint.set(endpointId, live);
    // the caller hung up: the session runs its hangup handlers, but a session stuck in a fetch or a
    // render is cut off after a grace period so its endpoint and ports are freed
    let hangupGrace: { cancel(): void } | undefined;
    const hungUp = () => {
      platform.remoteHangup();
      hangupGrace = this.options.scheduler.setTimeout(() => controller.abort(), HANGUP_GRACE_MS);
    };
    void dialogOrFailure.then((dialog) => {
      if (dialog === undefined) hungUp();
      else dialog.whenEnded(hungUp);
    });
    this.events.emit('started', { id, url: entry.kind === 'dialog' ? entry.url : entry.play, kind: entry.kind });
    let outcome: SessionOutcome;
    try {
      outcome =
        entry.kind === 'annc'
          ? await this.announce(entry, platform, fetcher, controller.signal)
          : await this.options.runSession({
              url: entry.url,
              platform,
              fetcher,
              method: entry.method,
              ...(entry.maxageS !== undefined ? { maxageS: entry.maxageS } : {}),
              ...(entry.maxstaleS !== undefined ? { maxstaleS: entry.maxstaleS } : {}),
              signal: controller.signal,
            });
    } catch (err) {
      outcome = { reason: 'error', message: describeError(err) };
      this.log.error({ err: describeError(err), session: id }, 'MCP session failed');
    }
    hangupGrace?.cancel();
    platform.close();
    this.byEndpoint.delete(endpointId);
    if (!live.handedOff) {
      const dialog = await dialogOrFailure;
      if (dialog !== undefined && !dialog.ended) await dialog.bye().catch(() => undefined);
      await this.options.engine.deleteEndpoint(endpointId).catch(() => undefined);
    }
    const durationMs = Math.round(this.options.scheduler.now() - started);
    // one line per session for the operator: how it ended, and the error event when there was one
    this.log.info({ session: id, reason: outcome.reason, event: outcome.event, message: outcome.message, durationMs }, 'MCP session ended');
    this.events.emit('ended', { id, outcome, durationMs });
  }

  /** RFC 4240 §3: play the announcement `repeat` times with `delay` between, within `duration`, then BYE */
  private async announce(entry: AnnouncementEntry, platform: MediaPlatform, fetcher: Fetcher, signal: AbortSignal): Promise<SessionOutcome> {
    let audio: Int16Array;
    try {
      const response = await fetcher.fetch({ url: entry.play, signal });
      audio = decodeAudio(entry.play, response.body, 8000);
    } catch (err) {
      return { reason: 'error', event: 'error.badfetch', message: describeError(err) };
    }
    let hungUp = false;
    platform.setListener({ hangup: () => (hungUp = true) });
    const deadline = entry.durationMs !== undefined ? this.options.scheduler.now() + entry.durationMs : Infinity;
    const timer = entry.durationMs !== undefined ? this.options.scheduler.setTimeout(() => handle?.stop(), entry.durationMs) : undefined;
    let handle: { stop(): void } | undefined;
    for (let i = 0; i < entry.repeat && !hungUp && !signal.aborted && this.options.scheduler.now() < deadline; i++) {
      if (i > 0 && entry.delayMs > 0) await new Promise<void>((r) => this.options.scheduler.setTimeout(r, entry.delayMs));
      const play = platform.playPcm(audio);
      handle = play;
      await play.done;
    }
    timer?.cancel();
    return { reason: hungUp ? 'hangup' : 'exit' };
  }
}
