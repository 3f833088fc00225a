/**
 * The contracts shared by the parts of the media engine (DESIGN.md: `media` knows nothing of SIP).
 *
 * Internally audio is mono 16-bit linear PCM in frames (normally 20 ms). Codecs turn frames into
 * RTP payloads and back; transports move RTP packets; the engine joins endpoints, players,
 * recorders, mixers and detectors on a 20 ms tick. Every part here is either pure (codecs, DSP,
 * packet parsing, jitter buffer, DTMF state) or a thin I/O wrapper (sockets, files, blobs).
 */

/** The codecs the engine can encode and decode. L16 is the internal format and also an RTP codec (RFC 3551 §4.5.11). */
export type CodecName = 'PCMU' | 'PCMA' | 'G722' | 'opus' | 'L16';

/** Static facts about a codec, as SDP and RTP see them. */
export interface CodecInfo {
  readonly name: CodecName;
  /** the encoding name in an rtpmap line (case-insensitive when matching) */
  readonly sdpName: string;
  /** PCM sample rate the codec's encoder takes and decoder returns */
  readonly sampleRate: number;
  /** RTP timestamp rate and the rate written in rtpmap (G.722: 8000 though it samples at 16 kHz, RFC 3551 §4.5.2) */
  readonly rtpClockRate: number;
  /** channel count written in rtpmap, when written (opus/48000/2 per RFC 7587) */
  readonly sdpChannels?: number;
  /** static payload type (RFC 3551 table 4), absent for dynamic ones */
  readonly staticPayloadType?: number;
}

/** One direction of one stream: encoders are stateful (G.722 ADPCM, Opus) so each stream gets its own. */
export interface AudioEncoder {
  readonly info: CodecInfo;
  /** pcm holds one frame at info.sampleRate (20 ms = sampleRate / 50 samples) */
  encode(pcm: Int16Array): Uint8Array;
  /**
   * Optional: encode into `out` (reused by the caller frame after frame) and return the bytes
   * written, a view of `out`; undefined when `out` is too small. Same bytes as encode().
   */
  encodeInto?(pcm: Int16Array, out: Uint8Array): Uint8Array | undefined;
  close(): void;
}

export interface AudioDecoder {
  readonly info: CodecInfo;
  /** decode one RTP payload; garbage gives silence or a short frame, never a throw */
  decode(payload: Uint8Array): Int16Array;
  /**
   * Optional: decode into `out` (reused by the caller frame after frame) and return the samples
   * written, `out` or a view of it; undefined when `out` is too small. Same samples and the same
   * decoder state as decode().
   */
  decodeInto?(payload: Uint8Array, out: Int16Array): Int16Array | undefined;
  /** packet-loss concealment: `samples` samples at info.sampleRate to stand in for a lost packet */
  conceal(samples: number): Int16Array;
  close(): void;
}

/** An RTP packet (RFC 3550 §5.1), parsed. */
export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  /** 16-bit */
  sequenceNumber: number;
  /** 32-bit, unsigned */
  timestamp: number;
  /** 32-bit, unsigned */
  ssrc: number;
  csrcs: number[];
  /** header extension (RFC 3550 §5.3.1), kept as bytes */
  extension?: { profile: number; data: Uint8Array };
  payload: Uint8Array;
}

/** Where a packet came from or goes to. */
export interface SocketAddress {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/**
 * Protects and unprotects packets on the wire (SRTP with SDES keys, RFC 3711/4568). A plain RTP
 * endpoint uses none. unprotect returns undefined for a packet that fails authentication.
 */
export interface PacketProtection {
  protectRtp(packet: Uint8Array): Uint8Array;
  unprotectRtp(packet: Uint8Array): Uint8Array | undefined;
  protectRtcp(packet: Uint8Array): Uint8Array;
  unprotectRtcp(packet: Uint8Array): Uint8Array | undefined;
}

/** Counters every transport keeps (RFC 3550 §6.4 / appendix A.3 and A.8). */
export interface StreamStats {
  packetsSent: number;
  bytesSent: number;
  packetsReceived: number;
  bytesReceived: number;
  /** expected − received, from extended sequence numbers (RFC 3550 A.3) */
  packetsLost: number;
  /** interarrival jitter in milliseconds (RFC 3550 A.8) */
  jitterMs: number;
  /** round-trip time from the last RTCP RR/SR exchange, undefined until known */
  rttMs?: number;
  /** what the remote end reports about our stream in its RTCP RR */
  remoteFractionLost?: number;
  remoteJitterMs?: number;
}

export type MediaTransportEvents = {
  rtp: [packet: RtpPacket, from: SocketAddress];
  /** a raw (already unprotected) RTCP compound packet */
  rtcp: [packet: Uint8Array, from: SocketAddress];
  /** symmetric RTP: the remote address changed to where media really comes from */
  latched: [to: SocketAddress];
  /** no RTP for the configured time */
  timeout: [];
  /** an I/O error that did not close the transport */
  error: [err: Error];
};

/**
 * Moves RTP for one media stream: a plain UDP RTP endpoint, an SRTP one, or a WebRTC peer
 * connection (ICE-lite + DTLS-SRTP). The engine sees them all through this.
 */
/** Packets sent later, at their time, from another thread (MediaTransport.pacer). */
export interface RtpPacer {
  /** Send `packet` `delayMs` from now (≤ 0: at once); serialized before this returns, like sendRtp(). */
  sendAt(packet: RtpPacket, delayMs: number): void;
  /** Drop what sendAt() queued that has not left yet; returns how many packets that was. */
  cancel(): number;
}

export interface MediaTransport {
  readonly kind: 'rtp' | 'srtp' | 'webrtc';
  /** where we receive (what goes in our SDP) */
  readonly local: SocketAddress;
  /** where we send; undefined until known */
  readonly remote: SocketAddress | undefined;
  setRemote(rtp: SocketAddress, rtcp?: SocketAddress): void;
  /**
   * Send one packet. The packet and its payload are the caller's again when this returns (the
   * engine encodes every frame into the same buffer): serialize or copy before returning.
   */
  sendRtp(packet: RtpPacket): void;
  sendRtcp(packet: Uint8Array): void;
  /**
   * Present where packets can be handed over ahead of their time and are sent at it by a thread
   * that no JavaScript work holds up (the native UDP engine): prompts then play on through a
   * stalled event loop.
   */
  readonly pacer?: RtpPacer | undefined;
  stats(): StreamStats;
  on<K extends keyof MediaTransportEvents>(event: K, listener: (...args: MediaTransportEvents[K]) => void): () => void;
  /** idempotent; frees the ports */
  close(): void;
}

/** A codec as negotiated in SDP for one stream. */
export interface NegotiatedCodec {
  name: CodecName;
  payloadType: number;
  clockRate: number;
  channels?: number;
  /** fmtp parameters as written, e.g. "useinbandfec=1" */
  fmtp?: string;
}

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** What an SDP offer/answer settles for one audio stream (the engine's view of a remote SDP). */
export interface NegotiatedStream {
  /** remote RTP address; port 0 means the stream is rejected/disabled */
  remote: SocketAddress;
  remoteRtcp?: SocketAddress;
  rtcpMux: boolean;
  /** the codec to send with (first common one in preference order) and the others accepted */
  codecs: NegotiatedCodec[];
  /** RFC 4733 telephone-event payload type at 8000 Hz, if both sides have it */
  telephoneEvent?: { payloadType: number; clockRate: number };
  /** direction as seen from OUR side after negotiation (remote sendonly => we are recvonly) */
  direction: MediaDirection;
  ptimeMs: number;
  /** SDES crypto line chosen (RFC 4568), e.g. { suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: 'inline:...' } */
  crypto?: { tag: number; suite: string; keyParams: string };
  /** WebRTC bits, passed through to the WebRTC transport */
  ice?: { ufrag: string; pwd: string; candidates: string[]; lite: boolean };
  dtls?: { fingerprint: { hash: string; value: string }; setup: 'active' | 'passive' | 'actpass' };
}

/** DTMF digits (RFC 4733 §3.2 events 0–15). */
export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

export const DTMF_DIGITS: readonly DtmfDigit[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D'];

export interface DtmfEvent {
  digit: DtmfDigit;
  durationMs: number;
  source: 'rfc4733' | 'inband';
}
