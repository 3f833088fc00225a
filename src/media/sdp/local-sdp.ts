/**
 * Writes our side's SDP. The layout of m= lines is decided by the session (RFC 3264 §8: count
 * and order never change); this only turns a layout into text via sdp-transform.
 */
import { write, type MediaDescription, type SessionDescription } from 'sdp-transform';
import { codecInfo } from '../codec/registry.js';
import type { MediaDirection, NegotiatedCodec } from '../types.js';
import type { SdesCryptoLine } from './types.js';

/** Our audio m= section. */
export interface LocalAudio {
  port: number;
  protocol: string;
  codecs: NegotiatedCodec[];
  telephoneEvent?: { payloadType: number; events: string };
  ptimeMs: number;
  direction: MediaDirection;
  rtcpMux: boolean;
  crypto: SdesCryptoLine[];
}

/** A position in the m= layout: ours, or one we declined/keep declined with port 0 (RFC 3264 §6, §8.2). */
export type MediaSlot = { kind: 'audio' } | { kind: 'rejected'; type: string; protocol: string; formats: string };

export interface LocalDescription {
  username: string;
  sessionId: string;
  version: number;
  sessionName: string;
  address: string;
  family: 'IPv4' | 'IPv6';
  slots: readonly MediaSlot[];
  audio: LocalAudio;
}

const ipVersion = (family: 'IPv4' | 'IPv6'): number => (family === 'IPv6' ? 6 : 4);

function audioSection(audio: LocalAudio): MediaDescription {
  const formats = audio.codecs.map((c) => c.payloadType);
  if (audio.telephoneEvent !== undefined) formats.push(audio.telephoneEvent.payloadType);
  const media: MediaDescription = {
    type: 'audio',
    port: audio.port,
    protocol: audio.protocol,
    payloads: formats.join(' '),
    // every format gets an rtpmap, static ones too: cheap, and some gateways want them
    rtp: audio.codecs.map((c) => {
      const info = codecInfo(c.name);
      const rtp: MediaDescription['rtp'][number] = { payload: c.payloadType, codec: info.sdpName, rate: info.rtpClockRate };
      if (info.sdpChannels !== undefined) rtp.encoding = info.sdpChannels;
      return rtp;
    }),
    fmtp: audio.codecs.flatMap((c) => (c.fmtp === undefined ? [] : [{ payload: c.payloadType, config: c.fmtp }])),
    ptime: audio.ptimeMs,
    direction: audio.direction,
  };
  if (audio.telephoneEvent !== undefined) {
    media.rtp.push({ payload: audio.telephoneEvent.payloadType, codec: 'telephone-event', rate: 8000 });
    media.fmtp.push({ payload: audio.telephoneEvent.payloadType, config: audio.telephoneEvent.events });
  }
  if (audio.rtcpMux) media.rtcpMux = 'rtcp-mux';
  if (audio.crypto.length > 0) media.crypto = audio.crypto.map((c) => ({ id: c.tag, suite: c.suite, config: c.keyParams }));
  return media;
}

function rejectedSection(slot: Extract<MediaSlot, { kind: 'rejected' }>): MediaDescription {
  // RFC 3264 §6: a declined stream keeps its media type, transport and format list, with port 0
  return { type: slot.type, port: 0, protocol: slot.protocol, payloads: slot.formats, rtp: [], fmtp: [] };
}

export function writeLocalSdp(d: LocalDescription): string {
  const ipVer = ipVersion(d.family);
  const sdp: SessionDescription = {
    version: 0,
    origin: { username: d.username, sessionId: d.sessionId, sessionVersion: d.version, netType: 'IN', ipVer, address: d.address },
    name: d.sessionName,
    connection: { version: ipVer, ip: d.address },
    timing: { start: 0, stop: 0 },
    media: d.slots.map((slot) => (slot.kind === 'audio' ? audioSection(d.audio) : rejectedSection(slot))),
  };
  return write(sdp);
}
