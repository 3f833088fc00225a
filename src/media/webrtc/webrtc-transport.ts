/**
 * A WebRTC audio endpoint (MediaTransport kind 'webrtc') on werift's RTCPeerConnection: one
 * audio m-line, ICE with host candidates on one interface (ICE-lite when we answer, RFC 8445
 * §2.5), DTLS-SRTP with werift's self-signed certificate (RFC 5763/5764), Opus plus PCMU/PCMA
 * when the peer offers them. werift owns the sockets; close() closes the peer connection.
 */
import {
  RTCPeerConnection,
  RtcpPacketConverter,
  type RTCDtlsTransport,
  type RTCRtpTransceiver,
  type RtcpPacket,
  type RtpPacket as WeriftRtpPacket,
} from 'werift';
import { ClosedError, ConfigError, InvalidInputError, TimeoutError, UnavailableError, describeError } from '../../lib/index.js';
import { SystemScheduler, type Scheduler, type TimerHandle } from '../../lib/index.js';
import { TypedEmitter } from '../../lib/index.js';
import { silentLogger, type Logger } from '../../lib/index.js';
import type { MediaTransport, MediaTransportEvents, RtpPacket, SocketAddress, StreamStats } from '../types.js';
import { clockRates, webrtcAudioCodecs } from './codecs.js';
import { ReceiveStatistics } from './receive-statistics.js';
import { fromWeriftPacket, toWeriftPacket } from './rtp-convert.js';
import { filterOffer, restoreRejected, type RejectedSection } from './offer-filter.js';
import { keepCandidatesOn, localCandidateAddress } from './sdp-candidates.js';

export type WebRtcConnectionState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export type WebRtcTransportEvents = MediaTransportEvents & {
  /** the peer connection's state (ICE + DTLS, as RTCPeerConnection.connectionState) */
  state: [state: WebRtcConnectionState];
};

export interface WebRtcTransportOptions {
  /** the one interface address ICE gathers host candidates on; default 127.0.0.1 */
  bindAddress?: string;
  /** UDP ports to bind in, inclusive; werift needs min < max */
  portRange?: [number, number];
  /** no RTP for this long → 'timeout'; default 30 s (0 turns it off) */
  rtpTimeoutMs?: number;
  /** how long to wait for ICE gathering before giving up with TimeoutError; default 5 s */
  gatherTimeoutMs?: number;
  scheduler?: Scheduler;
  logger?: Logger;
}

export interface WebRtcAnswerOptions extends WebRtcTransportOptions {
  remoteOfferSdp: string;
}

export interface WebRtcSession {
  transport: WebRtcTransport;
  /** complete SDP with our candidates (no trickle) */
  localSdp: string;
}

const DEFAULT_BIND_ADDRESS = '127.0.0.1';
const DEFAULT_RTP_TIMEOUT_MS = 30_000;
const DEFAULT_GATHER_TIMEOUT_MS = 5_000;

function createPeerConnection(options: WebRtcTransportOptions, iceLite: boolean): RTCPeerConnection {
  const bindAddress = options.bindAddress ?? DEFAULT_BIND_ADDRESS;
  const range = options.portRange;
  // werift's port search needs min < max; a single port would also serve only one call
  if (range !== undefined && !(Number.isInteger(range[0]) && Number.isInteger(range[1]) && range[0] >= 1024 && range[0] < range[1] && range[1] <= 65535)) {
    throw new ConfigError(`WebRTC port range ${range[0]}-${range[1]} is not min < max within 1024-65535`, 'portRange');
  }
  const ipv6 = bindAddress.includes(':');
  return new RTCPeerConnection({
    codecs: { audio: webrtcAudioCodecs(), video: [] },
    // no STUN/TURN: we are a server with a reachable address (host candidates only)
    iceServers: [],
    iceLite,
    iceUseIpv4: !ipv6,
    iceUseIpv6: ipv6,
    // werift binds every ICE socket to this address and, since loopback is never gathered on its
    // own, lists it as an extra host address; other interfaces' candidates are cut from our SDP
    iceInterfaceAddresses: ipv6 ? { udp6: bindAddress } : { udp4: bindAddress },
    iceAdditionalHostAddresses: [bindAddress],
    icePortRange: options.portRange,
    bundlePolicy: 'max-bundle',
  });
}

export class WebRtcTransport implements MediaTransport {
  readonly kind = 'webrtc' as const;
  private readonly events: TypedEmitter<WebRtcTransportEvents>;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private readonly rtpTimeoutMs: number;
  private readonly unsubscribers: (() => void)[] = [];
  private readonly receiveStats = new ReceiveStatistics();
  private readonly counters = { packetsSent: 0, bytesSent: 0, packetsReceived: 0, bytesReceived: 0 };
  private state: WebRtcConnectionState = 'new';
  private closed = false;
  private lastRtpAt: number | undefined;
  private timeoutTimer: TimerHandle | undefined;
  private timedOut = false;
  private dtls: RTCDtlsTransport | undefined;
  private rates = new Map<number, number>();
  private localAddress: SocketAddress;

  private constructor(
    private readonly pc: RTCPeerConnection,
    private readonly transceiver: RTCRtpTransceiver,
    options: WebRtcTransportOptions,
  ) {
    this.scheduler = options.scheduler ?? new SystemScheduler();
    this.logger = (options.logger ?? silentLogger).child({ component: 'webrtc' });
    this.rtpTimeoutMs = options.rtpTimeoutMs ?? DEFAULT_RTP_TIMEOUT_MS;
    this.events = new TypedEmitter((err, event) => this.logger.warn({ err: describeError(err), event }, 'webrtc listener threw'));
    const bindAddress = options.bindAddress ?? DEFAULT_BIND_ADDRESS;
    this.localAddress = { address: bindAddress, port: 0, family: bindAddress.includes(':') ? 'IPv6' : 'IPv4' };
    const { unSubscribe } = pc.connectionStateChange.subscribe((state) => this.onConnectionState(state));
    this.unsubscribers.push(unSubscribe);
  }

  /**
   * Answer a browser's offer (RFC 8829 §5.3). We are ICE-lite (the browser controls and
   * nominates, RFC 8445 §6.1.1) and werift answers a=setup:active, so we are the DTLS client
   * (RFC 5763 §5). Only the first audio m-section is accepted; others are rejected with port 0.
   * A bad offer rejects with InvalidInputError (488); slow gathering with TimeoutError.
   */
  static async answer(options: WebRtcAnswerOptions): Promise<WebRtcSession> {
    const offer = filterOffer(options.remoteOfferSdp);
    if (offer === undefined) throw new InvalidInputError('the WebRTC offer has no audio stream', 488, 400);
    const pc = createPeerConnection(options, true);
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    } catch (err) {
      await closeQuietly(pc);
      throw new InvalidInputError(`unusable WebRTC offer: ${describeError(err)}`, 488, 400, { cause: err });
    }
    const transceiver = pc.getTransceivers().find((t) => t.kind === 'audio');
    if (transceiver === undefined) {
      await closeQuietly(pc);
      throw new InvalidInputError('the WebRTC offer has no audio stream', 488, 400);
    }
    // werift makes remote-created transceivers recvonly; we send too (RFC 8829 §5.3.1)
    transceiver.direction = 'sendrecv';
    const transport = new WebRtcTransport(pc, transceiver, options);
    try {
      await pc.setLocalDescription(await pc.createAnswer());
      return { transport, localSdp: await transport.completeLocalSdp(options, offer.rejected) };
    } catch (err) {
      transport.close();
      throw err instanceof TimeoutError ? err : new InvalidInputError(`cannot answer the WebRTC offer: ${describeError(err)}`, 488, 400, { cause: err });
    }
  }

  /** Make an offer (full ICE, DTLS actpass); complete it with acceptAnswer(). */
  static async offer(options: WebRtcTransportOptions = {}): Promise<WebRtcSession> {
    const pc = createPeerConnection(options, false);
    const transceiver = pc.addTransceiver('audio', { direction: 'sendrecv' });
    const transport = new WebRtcTransport(pc, transceiver, options);
    try {
      await pc.setLocalDescription(await pc.createOffer());
      return { transport, localSdp: await transport.completeLocalSdp(options) };
    } catch (err) {
      transport.close();
      throw err;
    }
  }

  /** Apply the peer's answer to our offer; a bad answer rejects with InvalidInputError. */
  async acceptAnswer(sdp: string): Promise<void> {
    if (this.closed) throw new ClosedError('WebRTC transport is closed');
    try {
      await this.pc.setRemoteDescription({ type: 'answer', sdp });
    } catch (err) {
      throw new InvalidInputError(`unusable WebRTC answer: ${describeError(err)}`, 488, 400, { cause: err });
    }
    this.attachDtls();
  }

  get connectionState(): WebRtcConnectionState {
    return this.state;
  }

  get local(): SocketAddress {
    return this.localAddress;
  }

  /** the nominated ICE pair's remote address, once ICE has chosen one */
  get remote(): SocketAddress | undefined {
    const pair = this.transceiver.dtlsTransport?.iceTransport.connection.nominated;
    if (pair === undefined) return undefined;
    const address = pair.remoteCandidate.host;
    return { address, port: pair.remoteCandidate.port, family: address.includes(':') ? 'IPv6' : 'IPv4' };
  }

  /** ICE decides where media goes (RFC 8445); an address from SDP changes nothing here. */
  setRemote(_rtp: SocketAddress, _rtcp?: SocketAddress): void {}

  /** resolves once ICE and DTLS are up; rejects on failure, close or timeout */
  waitConnected(timeoutMs = 10_000): Promise<void> {
    if (this.state === 'connected') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = this.scheduler.setTimeout(() => {
        off();
        reject(new TimeoutError(`WebRTC connection not up after ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.events.on('state', (state) => {
        if (state === 'connected') {
          timer.cancel();
          off();
          resolve();
        } else if (state === 'failed' || state === 'closed') {
          timer.cancel();
          off();
          reject(new UnavailableError(`WebRTC connection ${state}`));
        }
      });
    });
  }

  /**
   * Sends one RTP packet. Sequence number, timestamp, marker and payload type go out as given.
   * The SSRC is always our sender's (the one in our SDP's a=ssrc): werift would rewrite it
   * anyway. werift's RTCRtpSender.sendRtp() also forces the negotiated send codec's payload
   * type, so only packets of that type go through it (it adds the mid extension and sender
   * reports); any other negotiated type goes straight to the DTLS-SRTP transport.
   * Dropped silently before DTLS is connected and after close.
   */
  sendRtp(packet: RtpPacket): void {
    const dtls = this.dtls;
    if (this.closed || dtls === undefined || dtls.state !== 'connected') return;
    const sender = this.transceiver.sender;
    const weriftPacket = toWeriftPacket(packet, sender.ssrc);
    const sent =
      sender.codec?.payloadType === packet.payloadType
        ? sender.sendRtp(weriftPacket)
        : dtls.sendRtp(weriftPacket.payload, weriftPacket.header).then(() => undefined);
    this.counters.packetsSent++;
    this.counters.bytesSent += packet.payload.length;
    sent.catch((err: unknown) => this.events.emit('error', new UnavailableError(`WebRTC send failed: ${describeError(err)}`, { cause: err })));
  }

  /** Sends a (compound) RTCP packet over SRTCP; unparseable RTCP is dropped with an 'error' event. */
  sendRtcp(packet: Uint8Array): void {
    const dtls = this.dtls;
    if (this.closed || dtls === undefined || dtls.state !== 'connected') return;
    let packets: RtcpPacket[];
    try {
      packets = RtcpPacketConverter.deSerialize(Buffer.from(packet));
    } catch (err) {
      this.events.emit('error', new InvalidInputError(`not RTCP: ${describeError(err)}`));
      return;
    }
    dtls.sendRtcp(packets).catch((err: unknown) => this.events.emit('error', new UnavailableError(`WebRTC RTCP send failed: ${describeError(err)}`, { cause: err })));
  }

  /** counters kept here (werift keeps its own RTT privately, so rttMs stays unset) */
  stats(): StreamStats {
    const stats: StreamStats = {
      ...this.counters,
      packetsLost: this.receiveStats.packetsLost,
      jitterMs: this.receiveStats.jitterMs,
    };
    return stats;
  }

  on<K extends keyof WebRtcTransportEvents>(event: K, listener: (...args: WebRtcTransportEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** Idempotent. Closes the peer connection (ICE sockets, DTLS, werift's timers) and our timer. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timeoutTimer?.cancel();
    this.timeoutTimer = undefined;
    for (const off of this.unsubscribers.splice(0)) off();
    this.setState('closed');
    closeQuietly(this.pc).catch(() => {});
    this.events.removeAllListeners();
  }

  /** waits for ICE gathering (no trickle: SIP carries one complete SDP) and trims candidates */
  private async completeLocalSdp(options: WebRtcTransportOptions, rejected: readonly RejectedSection[] = []): Promise<string> {
    await this.gatheringComplete(options.gatherTimeoutMs ?? DEFAULT_GATHER_TIMEOUT_MS);
    const sdp = this.pc.localDescription?.sdp;
    if (sdp === undefined) throw new UnavailableError('werift produced no local description');
    const bindAddress = options.bindAddress ?? DEFAULT_BIND_ADDRESS;
    const trimmed = restoreRejected(keepCandidatesOn(sdp, bindAddress), rejected);
    const port = localCandidateAddress(trimmed, bindAddress);
    if (port === undefined) throw new UnavailableError(`no ICE host candidate on ${bindAddress}`);
    this.localAddress = { ...this.localAddress, port };
    this.attachDtls();
    return trimmed;
  }

  private gatheringComplete(timeoutMs: number): Promise<void> {
    if (this.pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = this.scheduler.setTimeout(() => {
        unSubscribe();
        reject(new TimeoutError(`ICE gathering did not complete in ${timeoutMs} ms`));
      }, timeoutMs);
      const { unSubscribe } = this.pc.iceGatheringStateChange.subscribe((state) => {
        if (state !== 'complete') return;
        timer.cancel();
        unSubscribe();
        resolve();
      });
    });
  }

  /** hook the DTLS transport once werift has made it (after the local description) */
  private attachDtls(): void {
    const dtls = this.transceiver.dtlsTransport;
    if (dtls === undefined || dtls === this.dtls) return;
    this.dtls = dtls;
    const rtp = dtls.onRtp.subscribe((packet) => this.onRtp(packet));
    const rtcp = dtls.onRtcp.subscribe((packet) => this.onRtcp(packet));
    this.unsubscribers.push(rtp.unSubscribe, rtcp.unSubscribe);
  }

  private onRtp(packet: WeriftRtpPacket): void {
    if (this.closed) return;
    this.rates = this.rates.size > 0 ? this.rates : clockRates(this.transceiver.codecs);
    const clockRate = this.rates.get(packet.header.payloadType);
    // one audio m-line is bundled alone, so anything not negotiated on it is noise
    if (clockRate === undefined) return;
    const now = this.scheduler.now();
    this.lastRtpAt = now;
    this.timedOut = false;
    this.armTimeout();
    this.counters.packetsReceived++;
    this.counters.bytesReceived += packet.payload.length;
    this.receiveStats.add(packet.header.sequenceNumber, packet.header.timestamp >>> 0, now, clockRate);
    const from = this.remote ?? this.localAddress;
    this.events.emit('rtp', fromWeriftPacket(packet), from);
  }

  private onRtcp(packet: RtcpPacket): void {
    if (this.closed) return;
    try {
      const from = this.remote ?? this.localAddress;
      this.events.emit('rtcp', new Uint8Array(packet.serialize()), from);
    } catch (err) {
      this.logger.debug({ err: describeError(err) }, 'could not re-serialize RTCP');
    }
  }

  private onConnectionState(state: WebRtcConnectionState): void {
    if (this.closed) return;
    this.setState(state);
    if (state === 'connected') {
      this.attachDtls();
      this.armTimeout();
    } else if (state === 'failed') {
      this.events.emit('error', new UnavailableError('WebRTC connection failed (ICE or DTLS)'));
    }
  }

  private setState(state: WebRtcConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.logger.debug({ state }, 'webrtc connection state');
    this.events.emit('state', state);
  }

  /** one pending timer at a time, due lastRtpAt + timeout; re-armed lazily when it fires early */
  private armTimeout(): void {
    if (this.rtpTimeoutMs <= 0 || this.timeoutTimer !== undefined || this.closed || this.timedOut) return;
    const since = this.lastRtpAt ?? this.scheduler.now();
    const delay = since + this.rtpTimeoutMs - this.scheduler.now();
    this.timeoutTimer = this.scheduler.setTimeout(() => {
      this.timeoutTimer = undefined;
      const last = this.lastRtpAt ?? since;
      if (this.scheduler.now() - last >= this.rtpTimeoutMs) {
        this.timedOut = true;
        this.events.emit('timeout');
      } else {
        this.armTimeout();
      }
    }, delay);
  }
}

async function closeQuietly(pc: RTCPeerConnection): Promise<void> {
  try {
    await pc.close();
  } catch {}
}
