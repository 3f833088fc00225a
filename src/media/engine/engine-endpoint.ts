import { randomInt } from 'node:crypto';
import type { Logger } from '../../lib/index.js';
import { describeError } from '../../lib/index.js';
import { codecInfo, createDecoder, createEncoder } from '../codec/index.js';
import { InbandDtmfDetector, Rfc4733Receiver, Rfc4733Sender } from '../dtmf/index.js';
import { JitterBuffer, parseRtp, readPayloadType } from '../rtp/index.js';
import type { SdpSession } from '../sdp/index.js';
import type { AudioDecoder, AudioEncoder, CodecInfo, CodecName, DtmfEvent, MediaTransport, NegotiatedCodec, NegotiatedStream, RtpPacket } from '../types.js';
import type { EndpointKind } from './api.js';

import { FRAME_MS, FrameResamplers } from './frame-resampler.js';

export { FRAME_MS };

/** Comfort noise (RFC 3389) carries no audio to decode. */
const PT_COMFORT_NOISE = 13;

/** A transport that also hands out each received RTP packet as bytes, before parsing it (UDP). */
interface RawRtpSource {
  onRawRtp(listener: (packet: Uint8Array) => void): () => void;
}

function hasRawRtp(transport: MediaTransport): transport is MediaTransport & RawRtpSource {
  return typeof (transport as Partial<RawRtpSource>).onRawRtp === 'function';
}

/** Where leadTick/leadEarly take a play's frames from. */
export interface LeadSource {
  playId: string;
  bargeIn: boolean;
  /** the next frame holds real audio (or the end), not silence standing in for audio to come */
  ready(): boolean;
  /** the next frame; undefined once the play has ended */
  next(): Int16Array | undefined;
}

export interface EndpointInit {
  id: string;
  kind: EndpointKind;
  transport: MediaTransport;
  session: SdpSession | undefined;
  logger: Logger;
  jitterBufferMaxMs: number;
  labels: Record<string, string>;
}

/**
 * One media endpoint inside the local engine: a transport plus what turns its packets into audio
 * frames and audio frames into packets. Decoding happens only while something consumes the audio
 * (a recorder, a detector, a conference, a transcoding bridge, a fork): a relayed G.711 call costs
 * no decoding at all.
 */
export class EngineEndpoint {
  readonly id: string;
  readonly kind: EndpointKind;
  readonly transport: MediaTransport;
  readonly session: SdpSession | undefined;
  readonly labels: Record<string, string>;
  stream: NegotiatedStream | undefined;
  sendCodec: NegotiatedCodec | undefined;
  sendInfo: CodecInfo | undefined;
  /** what consumes decoded audio from this endpoint; decoding runs while > 0 */
  consumers = 0;
  /** a raw relay carries this endpoint's packets; listening to parsed packets is then optional */
  relayed = false;
  /** the tx side is held by a relay (the partner's packets go out unchanged) */
  relayOwnsTx = false;
  inband: InbandDtmfDetector | undefined;

  private readonly logger: Logger;
  private readonly jitterBufferMaxMs: number;
  private encoder: AudioEncoder | undefined;
  /** where encodeInto() puts each frame's payload (serializing the packet copies it out) */
  private readonly payloadScratch = new Uint8Array(1280);
  /**
   * Where decodeInto() puts each received frame while something consumes the audio: the frame
   * lives for one tick, and everything that takes it copies it (recorder, taps, forks, mixer).
   * Made with the first decoded frame, sized for the frame: undefined until then.
   */
  private rxScratch: Int16Array | undefined;
  private readonly decoders = new Map<number, AudioDecoder>();
  private jitter: JitterBuffer | undefined;
  private readonly dtmfReceiver = new Rfc4733Receiver();
  private dtmfSender: Rfc4733Sender | undefined;
  private offRtp: (() => void) | undefined;

  // our RTP stream (RFC 3550 §5.1: random initial sequence number and timestamp)
  private readonly ssrc = randomInt(1, 0xffffffff);
  private seq = randomInt(0, 0x10000);
  private timestamp = randomInt(0, 0xffffffff);
  /** the tick of the last audio packet sent: the next one after a pause carries the marker bit */
  private lastSentSlot = -2;
  /**
   * Frames handed to the transport's pacer for ticks after the current one (prompt audio taken
   * ahead of time), and the play they came from.
   */
  private ahead = 0;
  private aheadFrom: LeadSource | undefined;
  /**
   * The packet fillAhead() hands to the pacer, filled in afresh for each frame: the pacer
   * serializes it before sendAt() returns, so one object serves every frame of the call.
   */
  private readonly pacedPacket: RtpPacket = { marker: false, payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, csrcs: [], payload: new Uint8Array(0) };

  // the received audio of the current tick, and its resampled views
  private tickNo = -1;
  private frame: Int16Array | undefined;
  private frameRate = 8000;
  private readonly views = new Map<number, Int16Array>();
  /** received audio to the rates consumers want */
  private readonly rxResamplers = new FrameResamplers();
  /** what is sent (prompts, conference mix, fork playback) to the codec's rate */
  private readonly txResamplers = new FrameResamplers();

  constructor(
    init: EndpointInit,
    private readonly onDtmf: (endpoint: EngineEndpoint, event: DtmfEvent) => void,
    private readonly now: () => number,
  ) {
    this.id = init.id;
    this.kind = init.kind;
    this.transport = init.transport;
    this.session = init.session;
    this.logger = init.logger;
    this.jitterBufferMaxMs = init.jitterBufferMaxMs;
    this.labels = init.labels;
  }

  /** Apply a negotiated stream (first answer, re-offer, hold). */
  applyStream(stream: NegotiatedStream): void {
    const previous = this.sendCodec;
    this.stream = stream;
    if (stream.remote.port !== 0) this.transport.setRemote(stream.remote, stream.remoteRtcp);
    const first = stream.codecs[0];
    if (first === undefined) return;
    if (previous === undefined || previous.name !== first.name || previous.payloadType !== first.payloadType) {
      this.encoder?.close();
      this.encoder = undefined;
      this.sendCodec = first;
      this.sendInfo = codecInfo(first.name);
      this.jitter = undefined; // clock rate may have changed
      this.dtmfSender = undefined;
    }
    this.updateListening();
  }

  get sendRate(): number {
    return this.sendInfo?.sampleRate ?? 8000;
  }

  /** May we send (RFC 3264 §6.1: not when we are recvonly or inactive)? */
  get canSend(): boolean {
    const d = this.stream?.direction ?? 'sendrecv';
    return d === 'sendrecv' || d === 'sendonly';
  }

  get canReceive(): boolean {
    const d = this.stream?.direction ?? 'sendrecv';
    return d === 'sendrecv' || d === 'recvonly';
  }

  /**
   * Listen to received packets unless a raw relay carries them and nobody needs audio or DTMF.
   * Where the transport offers the bytes, only the packets used here are parsed: an IVR call's
   * voice packets are dropped unparsed while nothing consumes its audio, its keys still counted.
   */
  updateListening(): void {
    const want = !this.relayed || this.consumers > 0;
    if (want && this.offRtp === undefined) {
      const transport = this.transport;
      this.offRtp = hasRawRtp(transport) ? transport.onRawRtp((bytes) => this.onRawRtp(bytes)) : transport.on('rtp', (packet) => this.onRtp(packet));
    } else if (!want && this.offRtp !== undefined) {
      this.offRtp();
      this.offRtp = undefined;
    }
  }

  addConsumer(): void {
    this.consumers++;
    this.updateListening();
  }

  removeConsumer(): void {
    this.consumers = Math.max(0, this.consumers - 1);
    if (this.consumers === 0) this.jitter?.reset();
    this.updateListening();
  }

  private onRawRtp(bytes: Uint8Array): void {
    const payloadType = readPayloadType(bytes);
    // what onRtp() would drop without looking further: no need to parse it
    if (payloadType !== this.stream?.telephoneEvent?.payloadType && (this.consumers === 0 || payloadType === PT_COMFORT_NOISE)) return;
    const parsed = parseRtp(bytes);
    if (parsed.ok) this.onRtp(parsed.packet);
  }

  private onRtp(packet: RtpPacket): void {
    if (!this.canReceive) return;
    const te = this.stream?.telephoneEvent;
    const now = this.now();
    if (te !== undefined && packet.payloadType === te.payloadType) {
      for (const event of this.dtmfReceiver.receive({ payload: packet.payload, timestamp: packet.timestamp, marker: packet.marker, arrivalMs: now })) {
        this.onDtmf(this, event);
      }
      return;
    }
    if (this.consumers === 0 || packet.payloadType === PT_COMFORT_NOISE) return;
    const codec = this.codecFor(packet.payloadType);
    if (codec === undefined) return;
    if (this.jitter === undefined) {
      this.jitter = new JitterBuffer({ clockRate: codec.clockRate, frameMs: FRAME_MS, maxDelayMs: this.jitterBufferMaxMs });
    }
    this.jitter.push(packet, now);
  }

  private codecFor(payloadType: number): NegotiatedCodec | undefined {
    const codecs = this.stream?.codecs;
    if (codecs === undefined) return undefined;
    for (const c of codecs) if (c.payloadType === payloadType) return c;
    return undefined;
  }

  private decoderFor(codec: NegotiatedCodec): AudioDecoder {
    let d = this.decoders.get(codec.payloadType);
    if (d === undefined) {
      d = createDecoder(codec.name);
      this.decoders.set(codec.payloadType, d);
    }
    return d;
  }

  /**
   * A leg a raw relay carries both ways with nothing else to do (no decoding, no DTMF to send, no
   * parsed packets): its tick only keeps its own RTP clock running. Relayed calls are most calls,
   * so the tick must cost them next to nothing.
   */
  get idleRelay(): boolean {
    return this.relayed && this.relayOwnsTx && this.consumers === 0 && this.dtmfSender === undefined && this.offRtp === undefined;
  }

  /** The tick of an idle relayed leg: advance our RTP timestamp so a later prompt continues in time. */
  skipTick(): void {
    const info = this.sendInfo;
    if (info !== undefined) this.timestamp = (this.timestamp + (info.rtpClockRate * FRAME_MS) / 1000) >>> 0;
  }

  /**
   * The process stalled and the engine skipped `frames` ticks: the RTP clock moves on by as much,
   * and audio queued ahead for those ticks has been sent by the pacer meanwhile.
   */
  skipFrames(frames: number): void {
    const info = this.sendInfo;
    if (info !== undefined) this.timestamp = (this.timestamp + frames * ((info.rtpClockRate * FRAME_MS) / 1000)) >>> 0;
    this.lastSentSlot -= frames;
    this.ahead = Math.max(0, this.ahead - frames);
  }

  /** Start a tick: decode this tick's received frame when someone listens; DTMF end timeouts. */
  beginTick(tickNo: number, nowMs: number): void {
    this.tickNo = tickNo;
    if (this.views.size > 0) this.views.clear();
    this.frame = undefined;
    // only a key still held can time out (RFC 4733 §2.5.2.2 end without end packets)
    if (this.dtmfReceiver.activeDigit !== undefined) for (const event of this.dtmfReceiver.tick(nowMs)) this.onDtmf(this, event);
    if (this.consumers === 0 || this.sendCodec === undefined) return;
    const out = this.jitter?.pop(nowMs) ?? { kind: 'empty' as const };
    try {
      if (out.kind === 'packet') {
        const codec = this.codecFor(out.packet.payloadType) ?? this.sendCodec;
        const decoder = this.decoderFor(codec);
        this.frame = this.decodeFrame(decoder, out.packet.payload);
        this.frameRate = decoder.info.sampleRate;
      } else if (out.kind === 'lost') {
        const decoder = this.decoderFor(this.sendCodec);
        this.frameRate = decoder.info.sampleRate;
        this.frame = decoder.conceal((this.frameRate * FRAME_MS) / 1000);
      } else {
        this.frameRate = codecInfo(this.sendCodec.name).sampleRate;
        this.frame = undefined;
      }
    } catch (err) {
      this.logger.warn({ err: describeError(err), endpointId: this.id }, 'decoding failed; frame dropped');
      this.frame = undefined;
    }
    if (this.inband !== undefined) {
      for (const event of this.inband.process(this.frameAt(8000))) this.onDtmf(this, event);
    }
  }

  /** One payload's samples, in rxScratch when the decoder can write there. */
  private decodeFrame(decoder: AudioDecoder, payload: Uint8Array): Int16Array {
    if (decoder.decodeInto === undefined) return decoder.decode(payload);
    if (this.rxScratch === undefined || this.rxScratch.length < payload.length) this.rxScratch = new Int16Array(payload.length);
    return decoder.decodeInto(payload, this.rxScratch) ?? decoder.decode(payload);
  }

  /** This tick's received audio at `rate` (silence when nothing arrived). */
  frameAt(rate: number): Int16Array {
    const cached = this.views.get(rate);
    if (cached !== undefined) return cached;
    let out: Int16Array;
    if (this.frame === undefined) {
      out = new Int16Array((rate * FRAME_MS) / 1000);
      this.rxResamplers.reset(rate);
    } else {
      out = this.rxResamplers.convert(this.frame, this.frameRate, rate);
    }
    this.views.set(rate, out);
    return out;
  }

  /**
   * End a tick: send `frame` (at sendRate) if given, RFC 4733 packets while a digit is being sent
   * (voice is held back meanwhile, RFC 4733 §2.5.1.1), and keep the RTP clock running in silence.
   */
  endTick(frame: Int16Array | undefined, nowMs: number): void {
    const info = this.sendInfo;
    const codec = this.sendCodec;
    if (info === undefined || codec === undefined) return;
    const step = (info.rtpClockRate * FRAME_MS) / 1000;
    if (this.ahead > 0) {
      // a prompt's tail is still queued: whatever else wants to send now cuts it off
      if ((frame !== undefined || this.dtmfSender !== undefined) && this.canSend && !this.relayOwnsTx) this.dropAhead();
      if (this.ahead > 0) {
        // this tick's frame has left the pacer already
        this.ahead--;
        this.timestamp = (this.timestamp + step) >>> 0;
        return;
      }
    }
    let sent = false;
    if (this.dtmfSender !== undefined && this.canSend && !this.relayOwnsTx) {
      const te = this.stream?.telephoneEvent;
      for (const p of this.dtmfSender.tick(nowMs)) {
        if (te === undefined) break;
        this.send({ marker: p.marker, payloadType: te.payloadType, sequenceNumber: this.nextSeq(), timestamp: p.timestamp, ssrc: this.ssrc, csrcs: [], payload: p.payload });
        sent = true;
      }
      if (this.dtmfSender.sendingEvent) frame = undefined;
      if (!this.dtmfSender.busy) this.dtmfSender = undefined;
    }
    if (frame !== undefined && this.canSend && !this.relayOwnsTx) {
      try {
        if (this.encoder === undefined) this.encoder = createEncoder(codec.name);
        const payload = this.encoder.encodeInto?.(frame, this.payloadScratch) ?? this.encoder.encode(frame);
        this.send({ marker: this.lastSentSlot !== this.tickNo - 1, payloadType: codec.payloadType, sequenceNumber: this.nextSeq(), timestamp: this.timestamp, ssrc: this.ssrc, csrcs: [], payload });
        sent = true;
      } catch (err) {
        this.logger.warn({ err: describeError(err), endpointId: this.id }, 'encoding failed; frame dropped');
      }
    }
    if (sent) this.lastSentSlot = this.tickNo;
    this.timestamp = (this.timestamp + step) >>> 0;
  }

  /** Can this tick's frame and the next ones go through the transport's pacer (see leadTick)? */
  get canLead(): boolean {
    return this.transport.pacer !== undefined && this.sendInfo !== undefined && this.canSend && !this.relayed && this.dtmfSender === undefined;
  }

  /**
   * End a tick whose audio comes from a play, taking frames ahead of their time: this tick's
   * frame (if not queued already) and the following ones until `leadFrames` are queued past this
   * tick, each handed to the transport's pacer with the time it is due. While the event loop is
   * held up (a garbage collection, a burst of call set-ups) the pacer's thread keeps sending.
   * Returns false when the play ended.
   */
  leadTick(nowMs: number, leadFrames: number, source: LeadSource): boolean {
    const info = this.sendInfo;
    if (info === undefined || this.transport.pacer === undefined) return true;
    // this tick's own frame is taken even when it would be silence for audio still to come
    const playing = this.fillAhead(this.tickNo, nowMs, leadFrames, source, false);
    if (this.ahead > 0) this.ahead--;
    this.timestamp = (this.timestamp + (info.rtpClockRate * FRAME_MS) / 1000) >>> 0;
    return playing;
  }

  /**
   * Between ticks, when a play's audio has just arrived and nothing is queued ahead: take the
   * frames of tick `nextTick` (due at `nextTickMs`) and after, as leadTick would at that tick,
   * but hand the first one over to leave at once. The ahead count then covers that tick already.
   * Only real audio is taken (no silence for audio still to come). False when the play ended.
   */
  leadEarly(nextTick: number, nextTickMs: number, leadFrames: number, source: LeadSource): boolean {
    if (this.ahead > 0 || this.transport.pacer === undefined) return true;
    // the next tick's timestamp: endTick/leadTick/skipTick of the last tick moved it on already
    return this.fillAhead(nextTick, nextTickMs, leadFrames, source, true);
  }

  /**
   * Queue frames from `source` for tick `firstSlot` (due at `firstSlotMs`) + the frames already
   * ahead, until `leadFrames` are ahead of it; the first frame leaves at once when `firstAtOnce`.
   * A frame after the first is taken only when it holds real audio (source.ready()).
   */
  private fillAhead(firstSlot: number, firstSlotMs: number, leadFrames: number, source: LeadSource, firstAtOnce: boolean): boolean {
    const info = this.sendInfo;
    const codec = this.sendCodec;
    const pacer = this.transport.pacer;
    if (info === undefined || codec === undefined || pacer === undefined) return true;
    const step = (info.rtpClockRate * FRAME_MS) / 1000;
    // one clock reading for the batch: encoding a frame takes microseconds, the delays are in ms
    const now = this.now();
    while (this.ahead <= leadFrames) {
      if ((this.ahead > 0 || firstAtOnce) && !source.ready()) break;
      const frame = source.next();
      if (frame === undefined) return false;
      const slot = firstSlot + this.ahead;
      try {
        if (this.encoder === undefined) this.encoder = createEncoder(codec.name);
        const packet = this.pacedPacket;
        packet.payload = this.encoder.encodeInto?.(frame, this.payloadScratch) ?? this.encoder.encode(frame);
        packet.marker = this.lastSentSlot !== slot - 1;
        packet.payloadType = codec.payloadType;
        packet.sequenceNumber = this.nextSeq();
        packet.timestamp = (this.timestamp + this.ahead * step) >>> 0;
        packet.ssrc = this.ssrc;
        pacer.sendAt(packet, firstAtOnce && this.ahead === 0 ? 0 : firstSlotMs + this.ahead * FRAME_MS - now);
        this.lastSentSlot = slot;
      } catch (err) {
        this.logger.warn({ err: describeError(err), endpointId: this.id }, 'encoding failed; frame dropped');
      }
      this.ahead++;
      this.aheadFrom = source;
    }
    return true;
  }

  /** Milliseconds of audio still queued in the pacer after the current tick's frame. */
  get aheadMs(): number {
    return this.ahead * FRAME_MS;
  }

  /** The play whose audio is still queued ahead, if any. */
  get aheadPlay(): { playId: string; bargeIn: boolean } | undefined {
    return this.ahead > 0 ? this.aheadFrom : undefined;
  }

  /**
   * Drop the audio queued ahead (a prompt stopped or barged in): the sequence numbers go on from
   * the first packet that did not leave. Packets the pacer sent already keep their ticks.
   */
  dropAhead(): void {
    if (this.ahead === 0) return;
    const dropped = Math.min(this.transport.pacer?.cancel() ?? 0, this.ahead);
    this.seq = (this.seq - dropped) & 0xffff;
    this.ahead -= dropped;
    this.lastSentSlot -= dropped;
  }

  private send(packet: RtpPacket): void {
    this.transport.sendRtp(packet);
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) & 0xffff;
    return s;
  }

  /** Queue RFC 4733 digits; false when the remote did not negotiate telephone-event. */
  sendDtmf(digits: string, durationMs: number | undefined, nowMs: number): boolean {
    const te = this.stream?.telephoneEvent;
    if (te === undefined) return false;
    if (this.dtmfSender === undefined) {
      this.dtmfSender = new Rfc4733Sender({ clockRate: te.clockRate, referenceTimestamp: this.timestamp, referenceMs: nowMs, packetIntervalMs: FRAME_MS });
    }
    this.dtmfSender.enqueue(digits, durationMs);
    return true;
  }

  /** In-band detection for legs without telephone-event (decodes while on). */
  setInband(on: boolean): void {
    if (on && this.inband === undefined) {
      this.inband = new InbandDtmfDetector({ sampleRate: 8000 });
      this.addConsumer();
    } else if (!on && this.inband !== undefined) {
      this.inband = undefined;
      this.removeConsumer();
    }
  }

  /** a frame at `rate` to send: resampled to the codec's rate with this stream's own filter state */
  toSendRate(frame: Int16Array, rate: number): Int16Array {
    return this.txResamplers.convert(frame, rate, this.sendRate);
  }

  get codecName(): CodecName | undefined {
    return this.sendCodec?.name;
  }

  get currentTick(): number {
    return this.tickNo;
  }

  /** Resolves once the transport has given its ports back. */
  close(): Promise<void> {
    this.offRtp?.();
    this.offRtp = undefined;
    this.encoder?.close();
    for (const d of this.decoders.values()) d.close();
    this.decoders.clear();
    this.transport.close();
    const t = this.transport as Partial<{ whenClosed(): Promise<void> }>;
    return typeof t.whenClosed === 'function' ? t.whenClosed() : Promise.resolve();
  }
}
