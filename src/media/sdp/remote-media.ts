/**
 * Reads the media sections of a parsed remote SDP into the few facts offer/answer needs. The
 * input comes from the network, so every field sdp-transform may have left out is checked.
 */
import type { MediaDescription, SessionDescription } from 'sdp-transform';
import { codecFromRtpmap, codecFromStaticPayloadType } from '../codec/registry.js';
import type { MediaDirection, NegotiatedCodec, SocketAddress } from '../types.js';
import type { SdesCryptoLine } from './types.js';

/** How a profile carries media: plain RTP, SDES-keyed SRTP, DTLS-SRTP (WebRTC), or something we do not do. */
export type ProfileKind = 'rtp' | 'srtp' | 'webrtc' | 'unsupported';

const PROFILE_KINDS: ReadonlyMap<string, ProfileKind> = new Map([
  // RFC 3551; AVPF (RFC 4585) is AVP plus feedback we may ignore, so it is answered as plain RTP
  ['RTP/AVP', 'rtp'],
  ['RTP/AVPF', 'rtp'],
  // RFC 3711 §12 (SAVP) and RFC 5124 (SAVPF), keyed with SDES
  ['RTP/SAVP', 'srtp'],
  ['RTP/SAVPF', 'srtp'],
  // RFC 5764 §8 / RFC 8827: DTLS-SRTP, the WebRTC profiles
  ['UDP/TLS/RTP/SAVP', 'webrtc'],
  ['UDP/TLS/RTP/SAVPF', 'webrtc'],
]);

export function profileKind(protocol: string): ProfileKind {
  return PROFILE_KINDS.get(protocol.toUpperCase()) ?? 'unsupported';
}

export interface TelephoneEventFormat {
  payloadType: number;
  clockRate: number;
  /** the fmtp event list as written (RFC 4733 §7.1.1), undefined when absent */
  events?: string;
}

/** One remote m= section, reduced to what offer/answer uses. */
export interface RemoteMedia {
  index: number;
  type: string;
  port: number;
  protocol: string;
  kind: ProfileKind;
  /** the format list of the m= line as written */
  formats: string[];
  /** where the remote receives: media-level c= wins over session-level (RFC 4566 §5.7) */
  connection?: { address: string; family: 'IPv4' | 'IPv6' };
  /** direction as the remote wrote it, media level over session level, default sendrecv (RFC 3264 §5.1) */
  direction: MediaDirection;
  /** c=0.0.0.0: the RFC 2543 way of saying "do not send to me" (RFC 3264 §8.4) */
  legacyHold: boolean;
  /** the formats we can decode, in the remote's order, with the remote's payload types */
  codecs: NegotiatedCodec[];
  /** the first telephone-event/8000 format (RFC 4733 §7.1.1) */
  telephoneEvent?: TelephoneEventFormat;
  ptimeMs?: number;
  rtcpMux: boolean;
  /** RFC 3605 a=rtcp */
  rtcp?: SocketAddress;
  crypto: SdesCryptoLine[];
}

const familyOf = (ipVer: unknown): 'IPv4' | 'IPv6' => (ipVer === 6 ? 'IPv6' : 'IPv4');

function connectionOf(c: { version: number; ip: string } | undefined): RemoteMedia['connection'] {
  if (c === undefined) return undefined;
  // c= may carry a multicast TTL/count suffix (RFC 4566 §5.7); the address is what precedes it
  const address = c.ip.split('/')[0] ?? c.ip;
  return { address, family: familyOf(c.version) };
}

function positiveNumber(v: unknown): number | undefined {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

const DIRECTIONS: readonly string[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];
function directionOf(v: unknown): MediaDirection | undefined {
  return typeof v === 'string' && DIRECTIONS.includes(v) ? (v as MediaDirection) : undefined;
}

/** Formats as payload type numbers, in m= order; non-numeric formats (RTP profiles only use numbers) are skipped. */
export function payloadTypes(formats: readonly string[]): number[] {
  const out: number[] = [];
  for (const f of formats) if (/^\d{1,3}$/.test(f) && Number(f) <= 127) out.push(Number(f));
  return out;
}

function readCodecs(m: MediaDescription): { codecs: NegotiatedCodec[]; telephoneEvent?: TelephoneEventFormat } {
  const rtpmaps = Array.isArray(m.rtp) ? m.rtp : [];
  const fmtps = Array.isArray(m.fmtp) ? m.fmtp : [];
  const codecs: NegotiatedCodec[] = [];
  let telephoneEvent: TelephoneEventFormat | undefined;
  for (const pt of payloadTypes(String(m.payloads ?? '').trim().split(/\s+/))) {
    const rtpmap = rtpmaps.find((r) => r.payload === pt);
    const fmtp = fmtps.find((f) => f.payload === pt)?.config;
    const fmtpText = fmtp === undefined ? undefined : String(fmtp);
    if (rtpmap === undefined) {
      // RFC 3264 §5.1: static payload types need no rtpmap; a dynamic one without it is meaningless
      const info = pt < 96 ? codecFromStaticPayloadType(pt) : undefined;
      if (info !== undefined) codecs.push(negotiated(info.name, pt, info.rtpClockRate, info.sdpChannels, fmtpText));
      continue;
    }
    const name = String(rtpmap.codec);
    const rate = positiveNumber(rtpmap.rate);
    if (rate === undefined) continue;
    const channels = positiveNumber(rtpmap.encoding) ?? 1;
    if (name.toLowerCase() === 'telephone-event') {
      // RFC 4733 §7.1.1: we generate and detect events at 8000 Hz only (Chrome also offers a 48 kHz one)
      if (rate === 8000 && channels === 1 && telephoneEvent === undefined) {
        telephoneEvent = fmtpText === undefined ? { payloadType: pt, clockRate: rate } : { payloadType: pt, clockRate: rate, events: fmtpText };
      }
      continue;
    }
    const info = codecFromRtpmap(name, rate);
    if (info === undefined || channels !== (info.sdpChannels ?? 1)) continue;
    codecs.push(negotiated(info.name, pt, info.rtpClockRate, info.sdpChannels, fmtpText));
  }
  return telephoneEvent === undefined ? { codecs } : { codecs, telephoneEvent };
}

function negotiated(name: NegotiatedCodec['name'], payloadType: number, clockRate: number, channels: number | undefined, fmtp: string | undefined): NegotiatedCodec {
  const codec: NegotiatedCodec = { name, payloadType, clockRate };
  if (channels !== undefined) codec.channels = channels;
  if (fmtp !== undefined) codec.fmtp = fmtp;
  return codec;
}

function readRtcp(m: MediaDescription, connection: RemoteMedia['connection']): SocketAddress | undefined {
  const rtcp = m.rtcp as Partial<NonNullable<MediaDescription['rtcp']>> | undefined;
  if (rtcp === undefined || typeof rtcp.port !== 'number' || !Number.isInteger(rtcp.port) || rtcp.port <= 0 || rtcp.port > 65535) return undefined;
  // RFC 3605 §2.1: without an address the RTCP address is the one of the c= line
  if (typeof rtcp.address === 'string' && rtcp.address !== '') return { address: rtcp.address, port: rtcp.port, family: familyOf(rtcp.ipVer) };
  if (connection === undefined) return undefined;
  return { address: connection.address, port: rtcp.port, family: connection.family };
}

function readCrypto(m: MediaDescription): SdesCryptoLine[] {
  const lines = Array.isArray(m.crypto) ? m.crypto : [];
  const out: SdesCryptoLine[] = [];
  for (const c of lines) {
    if (typeof c.id !== 'number' || typeof c.suite !== 'string' || typeof c.config !== 'string') continue;
    out.push({ tag: c.id, suite: c.suite, keyParams: c.config });
  }
  return out;
}

/** Session-level attributes sdp-transform stores but does not declare in its session type. */
interface LooseSession {
  direction?: unknown;
  ptime?: unknown;
  connection?: { version: number; ip: string };
}

export function readRemoteMedia(sdp: SessionDescription): RemoteMedia[] {
  const session = sdp as LooseSession;
  const sessionConnection = connectionOf(session.connection);
  return sdp.media.map((m, index) => {
    const connection = connectionOf(m.connection) ?? sessionConnection;
    const { codecs, telephoneEvent } = readCodecs(m);
    const protocol = String(m.protocol);
    const media: RemoteMedia = {
      index,
      type: String(m.type),
      port: m.port,
      protocol,
      kind: profileKind(protocol),
      formats: String(m.payloads ?? '').trim().split(/\s+/),
      direction: directionOf(m.direction) ?? directionOf(session.direction) ?? 'sendrecv',
      // with ICE the c= line is a placeholder (RFC 8839 §5.1: 0.0.0.0 and port 9 when trickling), not hold
      legacyHold: connection?.address === '0.0.0.0' && m.iceUfrag === undefined && sdp.iceUfrag === undefined && profileKind(protocol) !== 'webrtc',
      codecs,
      rtcpMux: m.rtcpMux !== undefined,
      crypto: readCrypto(m),
    };
    if (connection !== undefined) media.connection = connection;
    if (telephoneEvent !== undefined) media.telephoneEvent = telephoneEvent;
    const ptime = positiveNumber(m.ptime) ?? positiveNumber(session.ptime);
    if (ptime !== undefined) media.ptimeMs = ptime;
    const rtcp = readRtcp(m, connection);
    if (rtcp !== undefined) media.rtcp = rtcp;
    return media;
  });
}
