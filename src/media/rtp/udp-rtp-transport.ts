/**
 * A plain (or SDES-SRTP) RTP endpoint on UDP: the MediaTransport the engine uses for SIP phones
 * and trunks. Sockets come from the PortAllocator; everything that needs time uses the injected
 * Scheduler.
 *
 * Symmetric RTP (RFC 4961): phones behind NAT send from an address that is not the one in their
 * SDP, and expect media back where theirs comes from. Like rtpengine and Kamailio's nathelper we
 * latch the send address to the source of the first valid RTP packet, and move it when another
 * source keeps sending while the latched one is quiet (a NAT rebinding, a re-INVITE we have not
 * seen yet).
 *
 * Receive path cost matters (the relay is measured against rtpengine): per datagram we validate
 * the header without allocating, update counters, and build an RtpPacket only when someone
 * listens to 'rtp'. Raw listeners (onRawRtp) get the buffer itself.
 */
import { randomBytes } from 'node:crypto';
import type { UdpSocket } from '../../platform/index.js';
import {
  SystemScheduler,
  TypedEmitter,
  silentLogger,
  type Logger,
  type Scheduler,
  type TimerHandle,
} from '../../lib/index.js';
import type { MediaTransport, MediaTransportEvents, PacketProtection, RtpPacer, RtpPacket, SocketAddress, StreamStats } from '../types.js';
import type { AddressFamily, PortAllocator, PortLease } from './port-allocator.js';
import { SDES_CNAME, parseRtcpCompound, serializeRtcpCompound, type RtcpPacket } from './rtcp.js';
import { isRtcpPacket, isValidRtp, parseRtp, readSequence, readSsrc, readTimestamp, rtpLayout, serializeRtp, serializeRtpInto } from './rtp-packet.js';
import { ReceiverStatistics, SenderStatistics, roundTripMs } from './stream-stats.js';

export interface LatchingOptions {
  /** default true; false keeps sending where the SDP says */
  enabled?: boolean;
  /** consecutive packets with one SSRC from a new source that move the latch (default 3) */
  packets?: number;
  /** after this long without packets from the latched source, any new source takes over at once (default 1000 ms) */
  silenceMs?: number;
}

export interface UdpRtpTransportOptions {
  allocator: PortAllocator;
  /** default IPv4 */
  family?: AddressFamily;
  /** address to bind, default the family's wildcard */
  bindAddress?: string;
  /** address reported in `local` (what goes into SDP), default the bind address */
  advertisedAddress?: string;
  /** RFC 5761: RTP and RTCP on one port */
  rtcpMux?: boolean;
  /** SRTP (RFC 3711) applied on send and receive; makes kind 'srtp' */
  protection?: PacketProtection;
  scheduler?: Scheduler;
  logger?: Logger;
  /** RTP clock rate of the stream, for jitter and SR timestamps (default 8000) */
  clockRate?: number;
  /** emit 'timeout' after this long without RTP (default 30 000 ms; 0 disables) */
  rtpTimeoutMs?: number;
  /** RTCP report interval (default 5000 ms, RFC 3550 §6.2's minimum; 0 disables reports and BYE) */
  rtcpIntervalMs?: number;
  latching?: LatchingOptions;
  /** SDES CNAME (§6.5.1), default a random token */
  cname?: string;
}

/** Things a transport drops or notes, beyond StreamStats. */
export interface RtpTransportCounters {
  /** datagrams that were neither valid RTP nor valid RTCP, or failed SRTP authentication */
  discarded: number;
  /** packets not sent: no remote address yet, closed, or not RTP */
  notSent: number;
  /** times the remote address moved to a new source */
  relatches: number;
  rtcpReceived: number;
  rtcpSent: number;
}

/** room for any packet of the codecs here at 20 ms (L16 at 16 kHz is 640 bytes of payload) */
const WIRE_SCRATCH_BYTES = 1500;

export type RawRtpListener = (packet: Uint8Array, from: SocketAddress) => void;

function sameAddress(a: SocketAddress | undefined, address: string, port: number): boolean {
  return a !== undefined && a.port === port && a.address === address;
}

export class UdpRtpTransport extends TypedEmitter<MediaTransportEvents> implements MediaTransport {
  readonly kind: 'rtp' | 'srtp';
  readonly local: SocketAddress;
  /** where RTCP is received when not muxed (the a=rtcp port, RFC 3605) */
  readonly localRtcp: SocketAddress;
  readonly counters: RtpTransportCounters = { discarded: 0, notSent: 0, relatches: 0, rtcpReceived: 0, rtcpSent: 0 };

  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private readonly protection: PacketProtection | undefined;
  private readonly rtcpMux: boolean;
  private readonly clockRate: number;
  private readonly timeoutMs: number;
  private readonly rtcpIntervalMs: number;
  private readonly latchEnabled: boolean;
  private readonly latchPackets: number;
  private readonly latchSilenceMs: number;
  private readonly cname: string;
  private readonly ownSsrc: number;

  private remoteRtp: SocketAddress | undefined;
  private remoteRtcp: SocketAddress | undefined;
  private latchedFrom: SocketAddress | undefined;
  private lastFromLatchedAt = 0;
  private candidate: { from: SocketAddress; ssrc: number; count: number } | undefined;
  private lastFrom: SocketAddress | undefined;
  /** the peer sends RTCP to our RTP port (it muxes, RFC 5761), so we answer from there */
  private rtcpOnRtpSocket: boolean;

  private rawListeners: RawRtpListener[] = [];
  /** fixed at creation: the socket's engine and the protection never change */
  private readonly pacerView: RtpPacer | undefined;
  /**
   * Where the pacer (and sendRtp() on the native engine) serialize: the socket copies the bytes
   * before sendAt() or the native send() returns, so one buffer serves every packet (a packet per
   * 20 ms per call). `wireView` is the last view of it handed out, kept while the length holds.
   */
  private wireScratch: Buffer | undefined;
  private wireView: Buffer | undefined;
  private receiver: ReceiverStatistics | undefined;
  private lostFromEarlierSources = 0;
  private packetsReceived = 0;
  private bytesReceived = 0;
  private readonly sender: SenderStatistics;
  private rttMs: number | undefined;
  private remoteFractionLost: number | undefined;
  private remoteJitterMs: number | undefined;

  private lastRtpAt: number;
  private timedOut = false;
  private timeoutTimer: TimerHandle | undefined;
  private rtcpTimer: TimerHandle | undefined;
  private closed = false;
  private readonly closedPromise: Promise<void>;
  private resolveClosed: () => void = () => {};

  private constructor(
    private readonly lease: PortLease,
    options: UdpRtpTransportOptions,
  ) {
    super((err, event) => this.logger.error({ err, event }, 'rtp transport listener threw'));
    this.logger = (options.logger ?? silentLogger).child({ component: 'rtp', port: lease.rtpPort });
    this.scheduler = options.scheduler ?? new SystemScheduler();
    this.protection = options.protection;
    this.kind = options.protection === undefined ? 'rtp' : 'srtp';
    this.rtcpMux = options.rtcpMux === true;
    this.rtcpOnRtpSocket = this.rtcpMux;
    this.clockRate = options.clockRate ?? 8000;
    this.timeoutMs = options.rtpTimeoutMs ?? 30_000;
    this.rtcpIntervalMs = options.rtcpIntervalMs ?? 5000;
    this.latchEnabled = options.latching?.enabled ?? true;
    this.latchPackets = Math.max(1, options.latching?.packets ?? 3);
    this.latchSilenceMs = options.latching?.silenceMs ?? 1000;
    this.cname = options.cname ?? randomBytes(12).toString('base64url');
    this.ownSsrc = randomBytes(4).readUInt32BE(0);
    this.sender = new SenderStatistics(this.clockRate);
    const shown = options.advertisedAddress ?? lease.address;
    this.local = { address: shown, port: lease.rtpPort, family: lease.family };
    this.localRtcp = { address: shown, port: lease.rtcpPort ?? lease.rtpPort, family: lease.family };
    this.closedPromise = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });

    lease.rtpSocket.onMessage((msg, address, port) => this.onRtpDatagram(msg, address, port));
    // errors after binding (ICMP port unreachable and the like) are reported, never thrown
    lease.rtpSocket.onError((err) => this.emit('error', err));
    if (lease.rtcpSocket !== undefined) {
      lease.rtcpSocket.onMessage((msg, address, port) => this.onRtcpDatagram(msg, address, port, false));
      lease.rtcpSocket.onError((err) => this.emit('error', err));
    }

    this.pacerView =
      this.protection === undefined && lease.rtpSocket.schedulesOffThread
        ? { sendAt: (packet, delayMs) => this.sendRtpAt(packet, delayMs), cancel: () => this.lease.rtpSocket.cancelScheduled() }
        : undefined;

    this.lastRtpAt = this.scheduler.now();
    if (this.timeoutMs > 0) this.armTimeout(this.timeoutMs);
    if (this.rtcpIntervalMs > 0) this.rtcpTimer = this.scheduler.setInterval(() => this.sendReport(), this.rtcpIntervalMs);
  }

  /** Allocate ports and start; rejects with MediaPortsExhaustedError when the range is full. */
  static async create(options: UdpRtpTransportOptions): Promise<UdpRtpTransport> {
    const family = options.family ?? 'IPv4';
    const lease = await options.allocator.allocate({
      family,
      ...(options.bindAddress === undefined ? {} : { address: options.bindAddress }),
      rtcpMux: options.rtcpMux === true,
    });
    return new UdpRtpTransport(lease, options);
  }

  get remote(): SocketAddress | undefined {
    return this.remoteRtp;
  }

  /** where RTCP goes: the explicit a=rtcp address, RTCP's real source, or RTP port + 1 */
  get remoteRtcpAddress(): SocketAddress | undefined {
    return this.remoteRtcp;
  }

  /** resolves once the sockets are closed (after the BYE left) */
  whenClosed(): Promise<void> {
    return this.closedPromise;
  }

  setRemote(rtp: SocketAddress, rtcp?: SocketAddress): void {
    this.remoteRtp = rtp;
    this.remoteRtcp = rtcp ?? (this.rtcpMux ? rtp : { ...rtp, port: rtp.port + 1 });
    // new SDP: latch afresh on the first packet that follows (RFC 4961 §4)
    this.latchedFrom = undefined;
    this.candidate = undefined;
  }

  // -------------------------------------------------------------------------------------------
  // receiving

  private fromAddress(address: string, port: number): SocketAddress {
    // one object per source, not per packet
    const last = this.lastFrom;
    if (last !== undefined && last.port === port && last.address === address) return last;
    const from: SocketAddress = { address, port, family: this.lease.family };
    this.lastFrom = from;
    return from;
  }

  private onRtpDatagram(msg: Buffer, address: string, port: number): void {
    if (this.closed) return;
    // RFC 5761 §4 demux even without mux negotiated: RTP may not use payload types 64–95 with
    // the marker bit, and a peer that muxes anyway (it offered a=rtcp-mux) is still understood
    if (isRtcpPacket(msg)) {
      this.onRtcpDatagram(msg, address, port, true);
      return;
    }
    let data: Uint8Array = msg;
    if (this.protection !== undefined) {
      const clear = this.protection.unprotectRtp(msg);
      if (clear === undefined) {
        this.counters.discarded++;
        return;
      }
      data = clear;
    }
    if (!isValidRtp(data)) {
      this.counters.discarded++;
      return;
    }
    const now = this.scheduler.now();
    const from = this.fromAddress(address, port);
    const ssrc = readSsrc(data);
    // a datagram from port 0 (legal on the wire; SIPp's pcap replay sends some) cannot be answered:
    // take its media, never latch onto it
    if (this.latchEnabled && from.port !== 0) this.noteSource(from, ssrc, now);
    this.noteRtpArrival(now);
    this.countReceived(data, ssrc, now);

    const raw = this.rawListeners;
    for (let i = 0; i < raw.length; i++) {
      try {
        raw[i]!(data, from);
      } catch (err) {
        this.logger.error({ err }, 'raw RTP listener threw');
      }
    }
    if (this.listenerCount('rtp') > 0) {
      const parsed = parseRtp(data);
      if (parsed.ok) this.emit('rtp', parsed.packet, from);
    }
  }

  private countReceived(data: Uint8Array, ssrc: number, now: number): void {
    this.packetsReceived++;
    this.bytesReceived += data.length;
    let rx = this.receiver;
    if (rx === undefined || rx.ssrc !== ssrc) {
      // a new source (§8.2 SSRC change, or a new phone after re-latching): fresh A.1 state
      if (rx !== undefined) this.lostFromEarlierSources += Math.max(0, rx.lost);
      rx = new ReceiverStatistics(ssrc, this.clockRate);
      this.receiver = rx;
    }
    rx.update(readSequence(data), readTimestamp(data), now, data.length);
  }

  /** symmetric RTP latching (RFC 4961 §4; see the file comment) */
  private noteSource(from: SocketAddress, ssrc: number, now: number): void {
    const latched = this.latchedFrom;
    if (latched === from || sameAddress(latched, from.address, from.port)) {
      this.lastFromLatchedAt = now;
      this.candidate = undefined;
      return;
    }
    if (latched === undefined || now - this.lastFromLatchedAt >= this.latchSilenceMs) {
      this.latchTo(from, now);
      return;
    }
    const c = this.candidate;
    if (c !== undefined && c.ssrc === ssrc && sameAddress(c.from, from.address, from.port)) {
      c.count++;
    } else {
      this.candidate = { from, ssrc, count: 1 };
    }
    if (this.candidate !== undefined && this.candidate.count >= this.latchPackets) this.latchTo(from, now);
  }

  private latchTo(from: SocketAddress, now: number): void {
    this.latchedFrom = from;
    this.lastFromLatchedAt = now;
    this.candidate = undefined;
    const prev = this.remoteRtp;
    if (prev !== undefined && prev.port === from.port && prev.address === from.address) return;
    const prevRtcp = this.remoteRtcp;
    this.remoteRtp = from;
    // RTCP follows RTP unless RTCP has shown its own source (onRtcpDatagram)
    if (this.rtcpMux || this.rtcpOnRtpSocket) this.remoteRtcp = from;
    else if (prevRtcp === undefined || prev === undefined || prevRtcp.port === prev.port + 1) this.remoteRtcp = { ...from, port: from.port + 1 };
    this.counters.relatches++;
    this.logger.debug({ address: from.address, port: from.port }, 'rtp latched');
    this.emit('latched', from);
  }

  private noteRtpArrival(now: number): void {
    this.lastRtpAt = now;
    if (this.timedOut) {
      // media is back: the next silence reports again
      this.timedOut = false;
      if (this.timeoutMs > 0) this.armTimeout(this.timeoutMs);
    }
  }

  private onRtcpDatagram(msg: Buffer, address: string, port: number, onRtpPort: boolean): void {
    if (this.closed) return;
    let data: Uint8Array = msg;
    if (this.protection !== undefined) {
      const clear = this.protection.unprotectRtcp(msg);
      if (clear === undefined) {
        this.counters.discarded++;
        return;
      }
      data = clear;
    }
    const parsed = parseRtcpCompound(data);
    if (!parsed.ok) {
      this.counters.discarded++;
      return;
    }
    this.counters.rtcpReceived++;
    const from = this.fromAddress(address, port);
    if (this.latchEnabled) {
      // RTCP goes back where the peer's RTCP comes from, and from the socket it arrived on
      this.remoteRtcp = from;
      this.rtcpOnRtpSocket = onRtpPort;
    }
    for (const packet of parsed.packets) this.useRtcp(packet);
    this.emit('rtcp', data, from);
  }

  private useRtcp(packet: RtcpPacket): void {
    if (packet.type !== 'sr' && packet.type !== 'rr') return;
    const now = this.scheduler.now();
    if (packet.type === 'sr' && this.receiver !== undefined && this.receiver.ssrc === packet.ssrc) {
      this.receiver.senderReportReceived(packet.sender.ntpSeconds, packet.sender.ntpFraction, now);
    }
    const ours = this.sender.ssrc ?? this.ownSsrc;
    for (const block of packet.reports) {
      if (block.ssrc !== ours) continue;
      this.remoteFractionLost = block.fractionLost / 256;
      this.remoteJitterMs = (block.jitter * 1000) / this.clockRate;
      const rtt = roundTripMs(block, this.scheduler.wallNow());
      if (rtt !== undefined) this.rttMs = rtt;
    }
  }

  // -------------------------------------------------------------------------------------------
  // sending

  /**
   * The relay fast path: every valid received RTP packet (already unprotected), as the buffer it
   * arrived in. The listener may modify it in place (payload-type mapping) and pass it on.
   */
  onRawRtp(listener: RawRtpListener): () => void {
    this.rawListeners = [...this.rawListeners, listener];
    return () => {
      this.rawListeners = this.rawListeners.filter((l) => l !== listener);
    };
  }

  sendRtp(packet: RtpPacket): void {
    // the native engine copies in send(); node:dgram may still hold the bytes after it returns
    this.sendRawRtp(this.lease.rtpSocket.engine === 'native' ? this.wireBytes(packet) : serializeRtp(packet));
  }

  /**
   * The socket's off-thread sender, on the native engine and for plain RTP (an SRTP sender's
   * index must not go back, and dropping queued packets rewinds the sequence).
   */
  get pacer(): RtpPacer | undefined {
    return this.pacerView;
  }

  private sendRtpAt(packet: RtpPacket, delayMs: number): void {
    const remote = this.remoteRtp;
    if (this.closed || remote === undefined) {
      this.counters.notSent++;
      return;
    }
    const wire = this.wireBytes(packet);
    this.sender.packetSent(packet.ssrc, packet.timestamp, packet.payload.length, wire.length, this.scheduler.now());
    this.lease.rtpSocket.sendAt(wire, remote.port, remote.address, delayMs);
  }

  /**
   * `packet` serialized into the scratch buffer (a packet too big for it gets its own). Valid
   * until the next call: only for bytes handed straight to the socket, which copies them.
   */
  private wireBytes(packet: RtpPacket): Buffer {
    this.wireScratch ??= Buffer.allocUnsafe(WIRE_SCRATCH_BYTES);
    const length = serializeRtpInto(packet, this.wireScratch);
    if (length === 0) return serializeRtp(packet);
    let wire = this.wireView;
    if (wire === undefined || wire.length !== length) {
      wire = this.wireScratch.subarray(0, length);
      this.wireView = wire;
    }
    return wire;
  }

  /** Send an RTP packet given as bytes (protected here when SRTP is on). Invalid RTP is not sent. */
  sendRawRtp(packet: Uint8Array): void {
    const remote = this.remoteRtp;
    const layout = rtpLayout(packet);
    if (this.closed || remote === undefined || !layout.ok) {
      this.counters.notSent++;
      return;
    }
    const wire = this.protection === undefined ? packet : this.protection.protectRtp(packet);
    this.sender.packetSent(readSsrc(packet), readTimestamp(packet), layout.payloadEnd - layout.payloadStart, wire.length, this.scheduler.now());
    this.sendOn(this.lease.rtpSocket, wire, remote);
  }

  sendRtcp(packet: Uint8Array): void {
    const remote = this.remoteRtcp;
    if (this.closed || remote === undefined) {
      this.counters.notSent++;
      return;
    }
    this.sendOn(this.rtcpSendSocket(), this.protectRtcp(packet), remote);
    this.counters.rtcpSent++;
  }

  private rtcpSendSocket(): UdpSocket {
    return this.rtcpOnRtpSocket ? this.lease.rtpSocket : (this.lease.rtcpSocket ?? this.lease.rtpSocket);
  }

  private protectRtcp(packet: Uint8Array): Uint8Array {
    return this.protection === undefined ? packet : this.protection.protectRtcp(packet);
  }

  /**
   * Queued on the socket and handed to the kernel with the rest of this event-loop turn's packets
   * (one sendmmsg on the native engine); a refused send reaches the socket's error handler.
   */
  private sendOn(socket: UdpSocket, data: Uint8Array, to: SocketAddress): void {
    socket.send(data, to.port, to.address);
  }

  /** the compound report of §6.4: SR if we sent since the previous report, else RR; then SDES CNAME (§6.1) */
  private buildReport(): RtcpPacket[] {
    const now = this.scheduler.now();
    const ssrc = this.sender.ssrc ?? this.ownSsrc;
    const rx = this.receiver;
    const reports = rx !== undefined && rx.expected > 0 ? [rx.reportBlock(now)] : [];
    const lastSent = this.sender.lastSentAt;
    const sentRecently = lastSent !== undefined && now - lastSent < 2 * Math.max(this.rtcpIntervalMs, 1);
    const first: RtcpPacket = sentRecently
      ? { type: 'sr', ssrc, sender: this.sender.senderInfo(this.scheduler.wallNow(), now), reports }
      : { type: 'rr', ssrc, reports };
    return [first, { type: 'sdes', chunks: [{ ssrc, items: [{ type: SDES_CNAME, value: this.cname }] }] }];
  }

  private sendReport(): void {
    // §6.2 wants a randomised interval; the fixed 5 s is the simplification the brief allows
    if (this.closed || this.remoteRtcp === undefined) return;
    if (this.sender.packets === 0 && this.packetsReceived === 0) return;
    this.sendRtcp(serializeRtcpCompound(this.buildReport()));
  }

  private armTimeout(delayMs: number): void {
    this.timeoutTimer = this.scheduler.setTimeout(() => {
      this.timeoutTimer = undefined;
      if (this.closed) return;
      const idle = this.scheduler.now() - this.lastRtpAt;
      if (idle >= this.timeoutMs) {
        this.timedOut = true;
        this.emit('timeout');
      } else {
        this.armTimeout(this.timeoutMs - idle);
      }
    }, delayMs);
  }

  stats(): StreamStats {
    const rx = this.receiver;
    const s: StreamStats = {
      packetsSent: this.sender.packets,
      bytesSent: this.sender.bytes,
      packetsReceived: this.packetsReceived,
      bytesReceived: this.bytesReceived,
      packetsLost: this.lostFromEarlierSources + Math.max(0, rx?.lost ?? 0),
      jitterMs: rx?.jitterMs ?? 0,
    };
    if (this.rttMs !== undefined) s.rttMs = this.rttMs;
    if (this.remoteFractionLost !== undefined) s.remoteFractionLost = this.remoteFractionLost;
    if (this.remoteJitterMs !== undefined) s.remoteJitterMs = this.remoteJitterMs;
    return s;
  }

  /** Idempotent: sends an RTCP BYE (§6.6) when media flowed, then frees the ports. */
  close(): void {
    if (this.closed) return;
    const remote = this.remoteRtcp;
    const bye =
      this.rtcpIntervalMs > 0 && remote !== undefined && (this.sender.packets > 0 || this.packetsReceived > 0)
        ? serializeRtcpCompound([...this.buildReport(), { type: 'bye', ssrcs: [this.sender.ssrc ?? this.ownSsrc] }])
        : undefined;
    this.closed = true;
    this.timeoutTimer?.cancel();
    this.rtcpTimer?.cancel();
    this.rawListeners = [];
    const finish = (): void => {
      this.lease.release();
      this.resolveClosed();
    };
    if (bye === undefined || remote === undefined) {
      finish();
      return;
    }
    // the BYE goes to the kernel now, before the sockets close
    const socket = this.rtcpSendSocket();
    this.sendOn(socket, this.protectRtcp(bye), remote);
    socket.flush();
    finish();
  }
}
