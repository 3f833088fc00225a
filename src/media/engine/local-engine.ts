import { readFile } from 'node:fs/promises';
import type { Logger, Scheduler, TimerHandle } from '../../lib/index.js';
import { ClosedError, InvalidInputError, NotFoundError, SystemScheduler, TypedEmitter, describeError, firstExternalAddress, randomToken, silentLogger } from '../../lib/index.js';
import { udpPacerStats, type BlobStore, type UdpEngine } from '../../platform/index.js';
import { AudioFork } from '../fork/index.js';
import { ConferenceMixer } from '../mixer/index.js';
import { Player } from '../player/index.js';
import { pcm16FromBytes } from '../wav/index.js';
import { PortAllocator, RtpRelay, UdpRtpTransport, payloadTypeMap } from '../rtp/index.js';
import { SdpSession, describeRemote, type SdesCryptoLine } from '../sdp/index.js';
import { DeferredProtection, answerSuite, generateSdesCrypto } from '../srtp/index.js';
import type { CodecName, DtmfEvent, MediaTransport, NegotiatedStream } from '../types.js';
import { WebRtcTransport } from '../webrtc/index.js';
import type {
  ConferenceJoinOptions,
  CreateEndpointRequest,
  EndpointDescription,
  EndpointStatsView,
  ForkRequest,
  LocalAudioTap,
  LocalAudioTaps,
  MediaEngineApi,
  MediaEvent,
  PlayRequest,
  RecordRequest,
  UpdateEndpointRequest,
} from './api.js';
import { EngineEndpoint } from './engine-endpoint.js';
import { CONFERENCE_RATE, type ActiveFork, type ActivePlay, type ActiveTap, type Bridge, type Conference } from './engine-records.js';
import { EngineRecordings } from './engine-recordings.js';
import { FRAME_MS } from './frame-resampler.js';

export interface LocalMediaEngineOptions {
  /** address RTP sockets bind to (default 0.0.0.0) */
  bindAddress?: string;
  /** the RTP sockets' engine (default 'auto': the native batched one when its addon is built) */
  udpEngine?: UdpEngine | 'auto';
  /** address written in SDP; default the bind address, or this host's first external IPv4 when binding a wildcard */
  advertisedAddress?: string;
  portMin?: number;
  portMax?: number;
  codecs?: CodecName[];
  noRtpTimeoutMs?: number;
  jitterBufferMaxMs?: number;
  /**
   * How far ahead of its time prompt audio is handed to the socket's sending thread (native UDP
   * engine, plain RTP): a prompt plays on through event-loop stalls up to this long. Stopping a
   * play drops what is queued. 0 = every frame at its tick. Default 300 ms.
   */
  promptLeadMs?: number;
  /** where recordings are written while running; required for record() */
  spoolDir?: string;
  /** where finished recordings go; required for record() and for 'blob' play items */
  blobs?: BlobStore;
  /** prefix of every id this engine hands out (`<nodeId>~` in the media role) */
  idPrefix?: string;
  scheduler?: Scheduler;
  logger?: Logger;
}

const DEFAULT_PROMPT_LEAD_MS = 300;
const DEFAULT_CODECS: CodecName[] = ['PCMU', 'PCMA', 'G722', 'opus'];

/**
 * The media engine in this process: endpoints on UDP (plain or SDES-SRTP) and WebRTC, bridges
 * (raw relay when both legs send the same codec, transcoding otherwise), players, recorders,
 * conferences, DTMF and audio forks, all driven by one 20 ms tick. Ids are strings so the same
 * API serves the bus (MediaNode).
 */
export class LocalMediaEngine implements MediaEngineApi, LocalAudioTaps {
  readonly allocator: PortAllocator;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private readonly bindAddress: string;
  private readonly advertisedAddress: string;
  private readonly codecs: CodecName[];
  private readonly idPrefix: string;
  private readonly events: TypedEmitter<{ event: [MediaEvent] }>;
  private readonly endpoints = new Map<string, EngineEndpoint>();
  private readonly bridges = new Map<string, Bridge>();
  private readonly bridgeOf = new Map<string, Bridge>();
  private readonly plays = new Map<string, ActivePlay>();
  private readonly playOf = new Map<string, ActivePlay>();
  private readonly streams = new Map<string, ActivePlay>();
  private readonly recordings: EngineRecordings;
  private readonly conferences = new Map<string, Conference>();
  private readonly conferenceOf = new Map<string, Conference>();
  private readonly forks = new Map<string, ActiveFork>();
  /** the forks that play audio back, per endpoint id, oldest first (looked up for every endpoint on every tick) */
  private readonly playbackForksOf = new Map<string, ActiveFork[]>();
  private readonly taps = new Set<ActiveTap>();
  private ticker: TimerHandle | undefined;
  private nextTickAt = 0;
  /** frames the tick dropped because the process stalled, and frames it sent a frame or more late (metrics) */
  private skippedFrames = 0;
  private lateFrames = 0;
  private tickNo = 0;
  /** frames taken ahead of their tick for plays (promptLeadMs) */
  private readonly leadFrames: number;
  private counter = 0;
  private closed = false;
  /** totals for metrics */
  readonly totals = { endpointsCreated: 0, transcodingBridges: 0 };

  constructor(private readonly options: LocalMediaEngineOptions = {}) {
    this.scheduler = options.scheduler ?? new SystemScheduler();
    this.logger = (options.logger ?? silentLogger).child({ component: 'media' });
    this.events = new TypedEmitter((err, event) => this.logger.warn({ err: describeError(err), event }, 'media event listener threw'));
    this.bindAddress = options.bindAddress ?? '0.0.0.0';
    this.advertisedAddress = options.advertisedAddress ?? defaultAdvertised(this.bindAddress);
    this.codecs = options.codecs ?? DEFAULT_CODECS;
    this.idPrefix = options.idPrefix ?? '';
    const leadMs = options.promptLeadMs ?? DEFAULT_PROMPT_LEAD_MS;
    this.leadFrames = Number.isFinite(leadMs) && leadMs > 0 ? Math.round(leadMs / FRAME_MS) : 0;
    this.allocator = new PortAllocator({ minPort: options.portMin ?? 20000, maxPort: options.portMax ?? 45000, engine: options.udpEngine ?? 'auto' });
    this.recordings = new EngineRecordings({
      spoolDir: options.spoolDir,
      blobs: options.blobs,
      logger: this.logger,
      newId: (kind) => this.newId(kind),
      emit: (event) => this.emit(event),
      endpointsOf: (target) => {
        if ('endpointId' in target) return [this.endpoint(target.endpointId)];
        if ('bridgeId' in target) {
          const bridge = this.bridges.get(target.bridgeId);
          if (bridge === undefined) throw new NotFoundError(`no bridge ${target.bridgeId}`);
          return [bridge.a, bridge.b];
        }
        this.conferenceById(target.conferenceId);
        return [];
      },
      conferenceMix: (conferenceId) => this.conferences.get(conferenceId)?.lastMix,
    });
  }

  // --- endpoints

  async createEndpoint(request: CreateEndpointRequest): Promise<EndpointDescription> {
    this.assertOpen();
    const codecs = request.codecs ?? this.codecs;
    const id = this.newId('ep');
    if (request.kind === 'webrtc') return this.createWebRtcEndpoint(id, request);

    let family = request.family ?? 'IPv4';
    let remoteCrypto: SdesCryptoLine[] = [];
    if (request.remoteSdp !== undefined) {
      const described = describeRemote(request.remoteSdp);
      if (!described.ok) throw new InvalidInputError(`unusable SDP: ${described.error}`, 400, 400);
      family = described.description.stream.remote.family;
      if (described.description.stream.crypto !== undefined) remoteCrypto = [described.description.stream.crypto];
    }
    const wantSrtp = request.kind === 'srtp';
    // SDES (RFC 4568): our key protects what we send, theirs unprotects what we receive; when we
    // offer, their key arrives with the answer, so the protection is filled in then
    const protection = wantSrtp ? new DeferredProtection() : undefined;
    const localCrypto = wantSrtp ? generateSdesCrypto(answerSuite(remoteCrypto[0]?.suite), remoteCrypto[0]?.tag ?? 1) : undefined;
    if (protection !== undefined && localCrypto !== undefined && remoteCrypto[0] !== undefined) protection.setKeys(localCrypto, remoteCrypto[0]);
    const bindAddress = family === 'IPv6' && !this.bindAddress.includes(':') ? '::' : this.bindAddress;
    const advertised = family === 'IPv6' && !this.advertisedAddress.includes(':') ? defaultAdvertised('::') : this.advertisedAddress;
    const transport = await UdpRtpTransport.create({
      allocator: this.allocator,
      family,
      bindAddress,
      advertisedAddress: advertised,
      rtcpMux: false,
      scheduler: this.scheduler,
      logger: this.logger,
      rtpTimeoutMs: this.options.noRtpTimeoutMs ?? 60_000,
      ...(protection !== undefined ? { protection } : {}),
    });
    const session = new SdpSession({
      address: advertised,
      port: transport.local.port,
      family,
      codecs,
      telephoneEvent: true,
      rtcpMux: true,
      ...(localCrypto !== undefined ? { protocol: 'RTP/SAVP' as const, crypto: [localCrypto] } : {}),
    });
    const endpoint = this.addEndpoint(id, request, transport, session);
    try {
      if (request.remoteSdp === undefined) return { id, localSdp: session.createOffer() };
      const answer = session.receiveOffer(request.remoteSdp);
      if (!answer.ok) throw new InvalidInputError(answer.reason, answer.status, 400);
      endpoint.applyStream(answer.stream);
      return this.describe(endpoint, answer.answerSdp);
    } catch (err) {
      await this.removeEndpoint(endpoint);
      throw err;
    }
  }

  private async createWebRtcEndpoint(id: string, request: CreateEndpointRequest): Promise<EndpointDescription> {
    const common = {
      bindAddress: this.advertisedAddress,
      rtpTimeoutMs: this.options.noRtpTimeoutMs ?? 60_000,
      scheduler: this.scheduler,
      logger: this.logger,
    };
    const session =
      request.remoteSdp !== undefined ? await WebRtcTransport.answer({ ...common, remoteOfferSdp: request.remoteSdp }) : await WebRtcTransport.offer(common);
    const endpoint = this.addEndpoint(id, request, session.transport, undefined);
    if (request.remoteSdp !== undefined) {
      const described = describeRemote(request.remoteSdp);
      if (described.ok) endpoint.applyStream(webrtcStream(described.description.stream));
    }
    return this.describe(endpoint, session.localSdp);
  }

  private addEndpoint(id: string, request: CreateEndpointRequest, transport: MediaTransport, session: SdpSession | undefined): EngineEndpoint {
    const endpoint = new EngineEndpoint(
      { id, kind: request.kind, transport, session, logger: this.logger, jitterBufferMaxMs: this.options.jitterBufferMaxMs ?? 200, labels: request.labels ?? {} },
      (ep, event) => this.onDtmf(ep, event),
      () => this.scheduler.now(),
    );
    transport.on('timeout', () => this.emit({ type: 'endpoint.timeout', endpointId: id }));
    transport.on('latched', (to) => this.emit({ type: 'endpoint.latched', endpointId: id, address: to.address, port: to.port }));
    transport.on('error', (err) => this.logger.warn({ err: describeError(err), endpointId: id }, 'media transport error'));
    this.endpoints.set(id, endpoint);
    this.totals.endpointsCreated++;
    this.ensureTicker();
    return endpoint;
  }

  async updateEndpoint(id: string, request: UpdateEndpointRequest): Promise<EndpointDescription> {
    const endpoint = this.endpoint(id);
    if (endpoint.kind === 'webrtc') {
      const transport = endpoint.transport as WebRtcTransport;
      await transport.acceptAnswer(request.remoteSdp);
      const described = describeRemote(request.remoteSdp);
      if (described.ok) endpoint.applyStream(webrtcStream(described.description.stream));
      return this.describe(endpoint, '');
    }
    const session = endpoint.session as SdpSession;
    // an answer to our outstanding offer, else a re-offer (hold, codec or address change) we answer
    const asAnswer = session.receiveAnswer(request.remoteSdp);
    if (asAnswer.ok) {
      this.applyAndRebridge(endpoint, asAnswer.stream);
      return this.describe(endpoint, '');
    }
    if (asAnswer.reason !== 'no offer outstanding') throw new InvalidInputError(`unusable SDP answer: ${asAnswer.reason}`, 488, 400);
    const answer = session.receiveOffer(request.remoteSdp);
    if (!answer.ok) throw new InvalidInputError(answer.reason, answer.status, 400);
    this.applyAndRebridge(endpoint, answer.stream);
    return this.describe(endpoint, answer.answerSdp);
  }

  /** A codec change can turn a relay into a transcoding bridge or back. */
  private applyAndRebridge(endpoint: EngineEndpoint, stream: NegotiatedStream): void {
    const before = endpoint.codecName;
    endpoint.applyStream(stream);
    const bridge = this.bridgeOf.get(endpoint.id);
    if (bridge !== undefined && before !== endpoint.codecName) {
      this.teardownBridge(bridge);
      this.setupBridge(bridge);
    }
  }

  async deleteEndpoint(id: string): Promise<void> {
    const endpoint = this.endpoints.get(id);
    if (endpoint === undefined) return;
    await this.removeEndpoint(endpoint);
  }

  private removeEndpoint(endpoint: EngineEndpoint): Promise<void> {
    const id = endpoint.id;
    const bridge = this.bridgeOf.get(id);
    if (bridge !== undefined) this.removeBridge(bridge);
    const play = this.playOf.get(id);
    if (play !== undefined) this.finishPlay(play, 'stopped');
    const conference = this.conferenceOf.get(id);
    if (conference !== undefined) this.leave(conference, endpoint);
    for (const fork of [...this.forks.values()]) if (fork.endpoint === endpoint) this.closeFork(fork, 'endpoint deleted');
    for (const tap of [...this.taps]) if (tap.endpoint === endpoint) this.closeTap(tap);
    void this.recordings.endWhere((rec) => rec.endpoints.includes(endpoint));
    const closed = endpoint.close();
    if (this.endpoints.delete(id)) this.emit({ type: 'endpoint.closed', endpointId: id });
    return closed;
  }

  async endpointStats(id: string): Promise<EndpointStatsView> {
    const endpoint = this.endpoint(id);
    const s = endpoint.transport.stats();
    await Promise.resolve();
    return {
      id,
      kind: endpoint.kind,
      packetsSent: s.packetsSent,
      packetsReceived: s.packetsReceived,
      packetsLost: s.packetsLost,
      jitterMs: s.jitterMs,
      ...(s.rttMs !== undefined ? { rttMs: s.rttMs } : {}),
      ...(endpoint.codecName !== undefined ? { codec: endpoint.codecName } : {}),
    };
  }

  // --- bridges

  async bridge(endpointA: string, endpointB: string): Promise<{ bridgeId: string; transcoding: boolean }> {
    const a = this.endpoint(endpointA);
    const b = this.endpoint(endpointB);
    if (a === b) throw new InvalidInputError('an endpoint cannot be bridged to itself');
    for (const ep of [a, b]) {
      if (this.bridgeOf.has(ep.id)) throw new InvalidInputError(`endpoint ${ep.id} is already bridged`);
      if (this.conferenceOf.has(ep.id)) throw new InvalidInputError(`endpoint ${ep.id} is in a conference`);
    }
    const bridge: Bridge = { id: this.newId('br'), a, b, relay: undefined, transcoding: false };
    this.setupBridge(bridge);
    this.bridges.set(bridge.id, bridge);
    this.bridgeOf.set(a.id, bridge);
    this.bridgeOf.set(b.id, bridge);
    await Promise.resolve();
    return { bridgeId: bridge.id, transcoding: bridge.transcoding };
  }

  private setupBridge(bridge: Bridge): void {
    const { a, b } = bridge;
    // the partner's audio replaces whatever prompt tail is still queued
    a.dropAhead();
    b.dropAhead();
    const ca = a.sendCodec;
    const cb = b.sendCodec;
    if (ca !== undefined && cb !== undefined && ca.name === cb.name && ca.clockRate === cb.clockRate) {
      bridge.transcoding = false;
      bridge.relay = this.startRelay(a, b);
    } else {
      bridge.transcoding = true;
      bridge.relay = undefined;
      a.addConsumer();
      b.addConsumer();
      this.totals.transcodingBridges++;
    }
  }

  /** Packets pass unchanged but for payload-type numbers each side negotiated on its own. */
  private startRelay(a: EngineEndpoint, b: EngineEndpoint): { stop(): void } {
    const aToB = payloadTypeMap(a.stream, b.stream);
    const bToA = payloadTypeMap(b.stream, a.stream);
    a.relayed = b.relayed = true;
    a.relayOwnsTx = b.relayOwnsTx = true;
    let relay: { stop(): void };
    if (a.transport instanceof UdpRtpTransport && b.transport instanceof UdpRtpTransport) {
      relay = new RtpRelay({ a: a.transport, b: b.transport, aToB, bToA });
    } else {
      // WebRTC has no raw path: relay parsed packets
      const offA = a.transport.on('rtp', (p) => b.transport.sendRtp({ ...p, payloadType: aToB.get(p.payloadType) ?? p.payloadType }));
      const offB = b.transport.on('rtp', (p) => a.transport.sendRtp({ ...p, payloadType: bToA.get(p.payloadType) ?? p.payloadType }));
      relay = {
        stop: () => {
          offA();
          offB();
        },
      };
    }
    a.updateListening();
    b.updateListening();
    return relay;
  }

  private teardownBridge(bridge: Bridge): void {
    const { a, b } = bridge;
    if (bridge.relay !== undefined) {
      bridge.relay.stop();
      bridge.relay = undefined;
      a.relayed = b.relayed = false;
      a.relayOwnsTx = b.relayOwnsTx = false;
      a.updateListening();
      b.updateListening();
    }
    if (bridge.transcoding) {
      a.removeConsumer();
      b.removeConsumer();
      bridge.transcoding = false;
    }
  }

  async unbridge(bridgeId: string): Promise<void> {
    const bridge = this.bridges.get(bridgeId);
    if (bridge === undefined) throw new NotFoundError(`no bridge ${bridgeId}`);
    this.removeBridge(bridge);
    await Promise.resolve();
  }

  private removeBridge(bridge: Bridge): void {
    this.teardownBridge(bridge);
    this.bridges.delete(bridge.id);
    this.bridgeOf.delete(bridge.a.id);
    this.bridgeOf.delete(bridge.b.id);
    void this.recordings.endWhere((rec) => 'bridgeId' in rec.target && rec.target.bridgeId === bridge.id);
  }

  // --- players

  async play(request: PlayRequest): Promise<{ playId: string }> {
    const endpoint = this.endpoint(request.endpointId);
    if (endpoint.sendInfo === undefined) throw new InvalidInputError(`endpoint ${endpoint.id} has no negotiated codec yet`);
    const previous = this.playOf.get(endpoint.id);
    if (previous !== undefined) this.finishPlay(previous, 'stopped');
    const blobs = this.options.blobs;
    const player = new Player({
      items: request.items,
      sampleRate: endpoint.sendRate,
      loop: request.loop ?? false,
      loadFile: async (file) => new Uint8Array(await readFile(file)),
      loadBlob: async (key) => {
        if (blobs === undefined) throw new InvalidInputError('no blob store is configured');
        return blobs.get(key);
      },
    });
    const id = this.newId('play');
    const bargeIn = request.bargeIn ?? false;
    const frame = new Int16Array(player.frameSamples);
    const play: ActivePlay = {
      id,
      endpoint,
      player,
      bargeIn,
      streamIds: request.items.flatMap((i) => (i.kind === 'stream' ? [i.streamId] : [])),
      frame,
      lead: { playId: id, bargeIn, ready: () => player.readyAhead(), next: () => player.nextFrame(frame) },
    };
    this.plays.set(play.id, play);
    this.playOf.set(endpoint.id, play);
    for (const s of play.streamIds) this.streams.set(s, play);
    // a relayed leg stops taking its partner's packets while something plays to it
    if (endpoint.relayed) endpoint.relayOwnsTx = false;
    await Promise.resolve();
    return { playId: play.id };
  }

  private finishPlay(play: ActivePlay, reason: 'finished' | 'stopped' | 'barge-in' | 'error', error?: string): void {
    if (!this.plays.delete(play.id)) return;
    if (this.playOf.get(play.endpoint.id) === play) this.playOf.delete(play.endpoint.id);
    for (const s of play.streamIds) this.streams.delete(s);
    if (reason === 'stopped' || reason === 'barge-in') {
      play.player.stop(reason);
      play.endpoint.dropAhead();
    }
    // a play that ended with audio still queued ahead is heard for that much longer
    const pendingMs = reason === 'finished' || reason === 'error' ? play.endpoint.aheadMs : 0;
    this.emit({ type: 'play.done', playId: play.id, endpointId: play.endpoint.id, reason, ...(error !== undefined ? { error } : {}), ...(pendingMs > 0 ? { pendingMs } : {}) });
  }

  async stopPlay(playId: string): Promise<void> {
    const play = this.plays.get(playId);
    if (play !== undefined) this.finishPlay(play, 'stopped');
    else {
      // a play that has ended may still be heard: its last frames wait in the pacer
      for (const ep of this.endpoints.values()) if (ep.aheadPlay?.playId === playId) ep.dropAhead();
    }
    await Promise.resolve();
  }

  async pausePlay(playId: string): Promise<void> {
    this.playById(playId).player.pause();
    await Promise.resolve();
  }

  async resumePlay(playId: string): Promise<void> {
    this.playById(playId).player.resume();
    await Promise.resolve();
  }

  async writeStream(streamId: string, pcm: Uint8Array, end?: boolean): Promise<void> {
    const play = this.streams.get(streamId);
    if (play === undefined) throw new NotFoundError(`no playing stream ${streamId}`);
    play.player.writeStream(streamId, pcm16FromBytes(pcm), end ?? false);
    this.leadEarly(play);
    await Promise.resolve();
  }

  // --- recordings

  record(request: RecordRequest): Promise<{ recordingId: string; key: string }> {
    return this.recordings.start(request);
  }

  stopRecord(recordingId: string): Promise<void> {
    return this.recordings.stop(recordingId);
  }

  async pauseRecord(recordingId: string): Promise<void> {
    this.recordings.pause(recordingId);
    await Promise.resolve();
  }

  async resumeRecord(recordingId: string): Promise<void> {
    this.recordings.resume(recordingId);
    await Promise.resolve();
  }

  // --- DTMF

  async sendDtmf(endpointId: string, digits: string, durationMs?: number): Promise<void> {
    const endpoint = this.endpoint(endpointId);
    if (!/^[0-9A-Da-d*#]+$/.test(digits)) throw new InvalidInputError(`"${digits}" holds characters that are not DTMF digits`);
    if (!endpoint.sendDtmf(digits, durationMs, this.scheduler.now())) {
      // no telephone-event negotiated: play the tones in-band (RFC 4733 §1 leaves this to the sender)
      await this.play({ endpointId, items: [{ kind: 'dtmf-tones', digits, ...(durationMs !== undefined ? { toneMs: durationMs } : {}) }] });
    }
  }

  async detectInbandDtmf(endpointId: string, on: boolean): Promise<void> {
    this.endpoint(endpointId).setInband(on);
    await Promise.resolve();
  }

  private onDtmf(endpoint: EngineEndpoint, event: DtmfEvent): void {
    this.emit({ type: 'dtmf', endpointId: endpoint.id, digit: event.digit, durationMs: event.durationMs, source: event.source });
    const play = this.playOf.get(endpoint.id);
    if (play !== undefined && play.bargeIn) this.finishPlay(play, 'barge-in');
    else if (play === undefined && endpoint.aheadPlay?.bargeIn === true) endpoint.dropAhead();
  }

  // --- conferences

  async createConference(_options?: { near?: string }): Promise<{ conferenceId: string }> {
    this.assertOpen();
    const conference: Conference = { id: this.newId('conf'), mixer: new ConferenceMixer({ sampleRate: CONFERENCE_RATE, frameMs: FRAME_MS }), members: new Map(), outputs: new Map(), lastMix: undefined };
    this.conferences.set(conference.id, conference);
    this.ensureTicker();
    await Promise.resolve();
    return { conferenceId: conference.id };
  }

  async joinConference(conferenceId: string, endpointId: string, options: ConferenceJoinOptions = {}): Promise<void> {
    const conference = this.conferenceById(conferenceId);
    const endpoint = this.endpoint(endpointId);
    if (this.bridgeOf.has(endpointId)) throw new InvalidInputError(`endpoint ${endpointId} is bridged; unbridge it first`);
    const current = this.conferenceOf.get(endpointId);
    if (current === conference) return this.updateParticipant(conferenceId, endpointId, options);
    if (current !== undefined) this.leave(current, endpoint);
    conference.mixer.add(endpointId, participantOptions(options));
    conference.members.set(endpointId, endpoint);
    this.conferenceOf.set(endpointId, conference);
    endpoint.addConsumer();
    await Promise.resolve();
  }

  async updateParticipant(conferenceId: string, endpointId: string, options: ConferenceJoinOptions): Promise<void> {
    const conference = this.conferenceById(conferenceId);
    if (!conference.members.has(endpointId)) throw new NotFoundError(`endpoint ${endpointId} is not in conference ${conferenceId}`);
    conference.mixer.update(endpointId, participantOptions(options));
    await Promise.resolve();
  }

  async leaveConference(conferenceId: string, endpointId: string): Promise<void> {
    const conference = this.conferenceById(conferenceId);
    const endpoint = conference.members.get(endpointId);
    if (endpoint !== undefined) this.leave(conference, endpoint);
    await Promise.resolve();
  }

  private leave(conference: Conference, endpoint: EngineEndpoint): void {
    if (!conference.members.delete(endpoint.id)) return;
    conference.mixer.remove(endpoint.id);
    conference.outputs.delete(endpoint.id);
    this.conferenceOf.delete(endpoint.id);
    endpoint.removeConsumer();
  }

  async deleteConference(conferenceId: string): Promise<void> {
    const conference = this.conferences.get(conferenceId);
    if (conference === undefined) return;
    for (const endpoint of [...conference.members.values()]) this.leave(conference, endpoint);
    this.conferences.delete(conferenceId);
    await Promise.all(this.recordings.endWhere((rec) => 'conferenceId' in rec.target && rec.target.conferenceId === conferenceId));
  }

  // --- forks

  async startFork(request: ForkRequest): Promise<{ forkId: string }> {
    const endpoint = this.endpoint(request.endpointId);
    if (!/^wss?:\/\//.test(request.url)) throw new InvalidInputError(`fork url must be ws:// or wss://, got "${request.url}"`);
    const rate = request.sampleRate ?? 8000;
    const id = this.newId('fork');
    const fork = new AudioFork({ url: request.url, sampleRate: rate, metadata: { ...(request.metadata ?? {}), endpointId: endpoint.id, forkId: id }, scheduler: this.scheduler, logger: this.logger });
    const active: ActiveFork = { id, endpoint, fork, rate, playback: request.playback ?? false };
    fork.on('closed', (reason) => this.closeFork(active, reason));
    this.forks.set(id, active);
    if (active.playback) {
      const list = this.playbackForksOf.get(endpoint.id);
      if (list === undefined) this.playbackForksOf.set(endpoint.id, [active]);
      else list.push(active);
    }
    endpoint.addConsumer();
    if (active.playback && endpoint.relayed) endpoint.relayOwnsTx = false;
    await Promise.resolve();
    return { forkId: id };
  }

  private closeFork(active: ActiveFork, reason: string): void {
    if (!this.forks.delete(active.id)) return;
    if (active.playback) {
      const list = this.playbackForksOf.get(active.endpoint.id) ?? [];
      const left = list.filter((f) => f !== active);
      if (left.length === 0) this.playbackForksOf.delete(active.endpoint.id);
      else this.playbackForksOf.set(active.endpoint.id, left);
    }
    active.endpoint.removeConsumer();
    active.fork.close();
    this.emit({ type: 'fork.closed', forkId: active.id, endpointId: active.endpoint.id, reason });
  }

  async stopFork(forkId: string): Promise<void> {
    const active = this.forks.get(forkId);
    if (active !== undefined) this.closeFork(active, 'stopped');
    await Promise.resolve();
  }

  /**
   * The endpoint's received audio to `onFrame`, one frame per tick, in this process (see
   * LocalAudioTaps). A consumer that throws is logged and keeps its tap.
   */
  tapAudio(endpointId: string, sampleRate: 8000 | 16000, onFrame: (pcm: Int16Array) => void): LocalAudioTap {
    const endpoint = this.endpoint(endpointId);
    if (sampleRate !== 8000 && sampleRate !== 16000) throw new InvalidInputError(`tap sample rate must be 8000 or 16000, got ${String(sampleRate)}`);
    const tap: ActiveTap = { endpoint, rate: sampleRate, onFrame };
    this.taps.add(tap);
    endpoint.addConsumer();
    return { close: () => this.closeTap(tap) };
  }

  private closeTap(tap: ActiveTap): void {
    if (!this.taps.delete(tap)) return;
    tap.endpoint.removeConsumer();
  }

  // --- events, lifecycle

  onEvent(listener: (event: MediaEvent) => void): () => void {
    return this.events.on('event', listener);
  }

  private emit(event: MediaEvent): void {
    this.events.emit('event', event);
  }

  /** Figures for metrics and the media node's heartbeat. */
  load(): { endpoints: number; portsInUse: number; portsFree: number; bridges: number; transcoding: number; conferences: number; recordings: number; plays: number } {
    let transcoding = 0;
    for (const b of this.bridges.values()) if (b.transcoding) transcoding++;
    const portsInUse = this.allocator.inUse();
    return {
      endpoints: this.endpoints.size,
      portsInUse,
      portsFree: Math.max(0, this.allocator.maxPort - this.allocator.minPort + 1 - portsInUse),
      bridges: this.bridges.size,
      transcoding,
      conferences: this.conferences.size,
      recordings: this.recordings.size,
      plays: this.plays.size,
    };
  }

  /** How the 20 ms tick kept time since start: frames skipped (stalls) and frames sent late. */
  tickHealth(): { skippedFrames: number; lateFrames: number; pacedLate: number; pacedMaxLateMs: number } {
    // the pacer thread is the process's: with several engines in one process they share it
    const paced = udpPacerStats();
    return { skippedFrames: this.skippedFrames, lateFrames: this.lateFrames, pacedLate: paced?.late ?? 0, pacedMaxLateMs: paced?.maxLateMs ?? 0 };
  }

  /** Sum of every endpoint's stream statistics (metrics). */
  trafficTotals(): { packetsIn: number; packetsOut: number; packetsLost: number; maxJitterMs: number } {
    let packetsIn = 0;
    let packetsOut = 0;
    let packetsLost = 0;
    let maxJitterMs = 0;
    for (const ep of this.endpoints.values()) {
      const s = ep.transport.stats();
      packetsIn += s.packetsReceived;
      packetsOut += s.packetsSent;
      packetsLost += Math.max(0, s.packetsLost);
      maxJitterMs = Math.max(maxJitterMs, s.jitterMs);
    }
    return { packetsIn, packetsOut, packetsLost, maxJitterMs };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ticker?.cancel();
    this.ticker = undefined;
    const pending = this.recordings.endWhere(() => true);
    const closing = [...this.endpoints.values()].map((endpoint) => this.removeEndpoint(endpoint));
    for (const id of [...this.conferences.keys()]) await this.deleteConference(id);
    await Promise.all([...pending, ...closing]);
  }

  // --- the tick

  private ensureTicker(): void {
    if (this.ticker !== undefined || this.closed) return;
    this.nextTickAt = this.scheduler.now() + FRAME_MS;
    // a 10 ms timer catching up on due 20 ms frames keeps the RTP clock from drifting with Node's timers
    this.ticker = this.scheduler.setInterval(() => this.onTimer(), FRAME_MS / 2);
  }

  private onTimer(): void {
    const now = this.scheduler.now();
    if (now - this.nextTickAt > 10 * FRAME_MS) {
      // the process stalled: skip, don't burst (every skipped frame is a gap in every stream we send)
      const skipped = Math.floor((now - this.nextTickAt) / FRAME_MS);
      this.skippedFrames += skipped;
      this.nextTickAt = now;
      // every stream's clock moves on by what was skipped; audio queued ahead covered part of it
      for (const ep of this.endpoints.values()) ep.skipFrames(skipped);
    }
    // a frame sent more than one frame late is a gap the far end's jitter buffer has to hide
    if (now - this.nextTickAt >= FRAME_MS) this.lateFrames += Math.floor((now - this.nextTickAt) / FRAME_MS);
    let guard = 0;
    while (now >= this.nextTickAt && guard++ < 10) {
      try {
        this.tick(this.nextTickAt);
      } catch (err) {
        this.logger.error({ err: describeError(err) }, 'media tick failed');
      }
      this.nextTickAt += FRAME_MS;
    }
    if (this.endpoints.size === 0 && this.conferences.size === 0) {
      this.ticker?.cancel();
      this.ticker = undefined;
    }
  }

  /** One 20 ms frame for everything that terminates media. */
  private tick(nowMs: number): void {
    const tickNo = ++this.tickNo;
    const active: EngineEndpoint[] = [];
    for (const ep of this.endpoints.values()) {
      if (ep.idleRelay && !this.playOf.has(ep.id)) ep.skipTick();
      else {
        ep.beginTick(tickNo, nowMs);
        active.push(ep);
      }
    }
    for (const conference of this.conferences.values()) this.mixConference(conference);
    this.recordings.writeTick();
    for (const fork of this.forks.values()) fork.fork.write(fork.endpoint.frameAt(fork.rate));
    for (const ep of active) {
      const play = this.leadingPlay(ep);
      if (play === undefined) ep.endTick(this.outgoingFrame(ep), nowMs);
      else this.leadTick(ep, play, nowMs);
    }
    // after every packet of this tick is out: a consumer may take its time, or stop a recording
    if (this.taps.size > 0) this.deliverTaps();
  }

  private deliverTaps(): void {
    for (const tap of [...this.taps]) {
      if (!this.taps.has(tap)) continue; // closed by an earlier consumer of this tick
      try {
        tap.onFrame(tap.endpoint.frameAt(tap.rate).slice());
      } catch (err) {
        this.logger.warn({ err: describeError(err), endpointId: tap.endpoint.id }, 'audio tap consumer threw');
      }
    }
  }

  private outgoingFrame(ep: EngineEndpoint): Int16Array | undefined {
    const rate = ep.sendRate;
    const play = this.playOf.get(ep.id);
    if (play !== undefined) {
      const frame = play.player.nextFrame(play.frame);
      if (frame !== undefined) return frame;
      const outcome = play.player.outcome;
      this.finishPlay(play, outcome?.reason ?? 'finished', outcome?.error);
      const bridge = this.bridgeOf.get(ep.id);
      if (bridge?.relay !== undefined && !this.hasPlaybackFork(ep)) ep.relayOwnsTx = true;
    }
    const conference = this.conferenceOf.get(ep.id);
    if (conference !== undefined) {
      const out = conference.outputs.get(ep.id);
      return out === undefined ? undefined : ep.toSendRate(out, CONFERENCE_RATE);
    }
    const bridge = this.bridgeOf.get(ep.id);
    if (bridge?.transcoding === true) {
      const partner = bridge.a === ep ? bridge.b : bridge.a;
      return partner.frameAt(rate);
    }
    const playbackForks = this.playbackForksOf.get(ep.id);
    if (playbackForks !== undefined) {
      for (const fork of playbackForks) {
        const back = fork.fork.readPlayback((fork.rate * FRAME_MS) / 1000);
        if (back !== undefined) return ep.toSendRate(back, fork.rate);
      }
    }
    return undefined;
  }

  /** The play whose frames this endpoint can take ahead of their time, if that applies now. */
  private leadingPlay(ep: EngineEndpoint): ActivePlay | undefined {
    if (this.leadFrames === 0) return undefined;
    const play = this.playOf.get(ep.id);
    if (play === undefined || !ep.canLead) return undefined;
    if (this.conferenceOf.has(ep.id) || this.bridgeOf.has(ep.id) || this.playbackForksOf.has(ep.id)) return undefined;
    return play;
  }

  /**
   * A play's first audio has arrived between two ticks: its first frame leaves now instead of at
   * the next tick (up to 20 ms sooner: the time to the first prompt), the ones after it on the
   * tick's grid. Only when nothing of this endpoint is queued ahead yet.
   */
  private leadEarly(play: ActivePlay): void {
    if (this.ticker === undefined || this.closed) return;
    const ep = play.endpoint;
    if (ep.aheadMs > 0 || this.leadingPlay(ep) !== play) return;
    this.endedUnlessPlaying(play, ep.leadEarly(this.tickNo + 1, this.nextTickAt, this.leadFrames, play.lead));
  }

  private leadTick(ep: EngineEndpoint, play: ActivePlay, nowMs: number): void {
    this.endedUnlessPlaying(play, ep.leadTick(nowMs, this.leadFrames, play.lead));
  }

  private endedUnlessPlaying(play: ActivePlay, playing: boolean): void {
    if (playing) return;
    const outcome = play.player.outcome;
    this.finishPlay(play, outcome?.reason ?? 'finished', outcome?.error);
  }

  private hasPlaybackFork(ep: EngineEndpoint): boolean {
    return this.playbackForksOf.has(ep.id);
  }

  private mixConference(conference: Conference): void {
    const frames = new Map<string, Int16Array | undefined>();
    for (const [id, ep] of conference.members) frames.set(id, ep.frameAt(CONFERENCE_RATE));
    conference.outputs = conference.mixer.mix(frames);
    conference.lastMix = conference.mixer.mixdown();
  }

  // --- lookups

  private endpoint(id: string): EngineEndpoint {
    this.assertOpen();
    const ep = this.endpoints.get(id);
    if (ep === undefined) throw new NotFoundError(`no media endpoint ${id}`);
    return ep;
  }

  private playById(id: string): ActivePlay {
    const play = this.plays.get(id);
    if (play === undefined) throw new NotFoundError(`no play ${id}`);
    return play;
  }

  private conferenceById(id: string): Conference {
    const conference = this.conferences.get(id);
    if (conference === undefined) throw new NotFoundError(`no conference ${id}`);
    return conference;
  }

  private describe(endpoint: EngineEndpoint, localSdp: string): EndpointDescription {
    return {
      id: endpoint.id,
      localSdp,
      ...(endpoint.codecName !== undefined ? { codec: endpoint.codecName } : {}),
      ...(endpoint.stream !== undefined ? { direction: endpoint.stream.direction } : {}),
    };
  }

  private newId(kind: string): string {
    return `${this.idPrefix}${kind}-${(++this.counter).toString(36)}-${randomToken(4)}`;
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('media engine is closed');
  }
}

function participantOptions(options: ConferenceJoinOptions): { muted?: boolean; gainDb?: number } {
  return { ...(options.muted !== undefined ? { muted: options.muted } : {}), ...(options.gainDb !== undefined ? { gainDb: options.gainDb } : {}) };
}

/** WebRTC's own SDP machinery negotiated; we only need the codec and telephone-event numbers. */
function webrtcStream(stream: NegotiatedStream): NegotiatedStream {
  return { ...stream, direction: 'sendrecv' };
}

/** An address peers can send to when we bind a wildcard: this host's first external address of that family. */
function defaultAdvertised(bind: string): string {
  if (bind !== '0.0.0.0' && bind !== '::') return bind;
  return bind === '::' ? (firstExternalAddress('IPv6') ?? '::1') : (firstExternalAddress('IPv4') ?? '127.0.0.1');
}
