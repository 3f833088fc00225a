/**
 * describeRemote: what a remote SDP asks for, without answering it. The engine uses it to pick
 * the endpoint kind (plain RTP, SDES-SRTP or WebRTC) before building one; for WebRTC offers it
 * carries the ICE and DTLS parameters the WebRTC transport needs (RFC 8839, RFC 8842).
 */
import type { SessionDescription } from 'sdp-transform';
import type { NegotiatedStream } from '../types.js';
import { negotiatedDirection, streamFor } from './negotiation.js';
import { parseSdp } from './parse-sdp.js';
import { readRemoteMedia, type ProfileKind, type RemoteMedia } from './remote-media.js';

export interface RemoteDescription {
  /** the transport the audio stream needs */
  kind: ProfileKind;
  /** index of the audio m= line described in `stream` */
  audioIndex: number;
  /** every m= line, in order */
  mLines: { type: string; port: number; protocol: string; mid?: string }[];
  /** mids of the first a=group:BUNDLE (RFC 9143), when there is one */
  bundle?: string[];
  /**
   * the audio stream as if we took all of it: every codec we speak in the remote's order, the
   * remote's telephone-event, direction from our side given we would send and receive
   */
  stream: NegotiatedStream;
}

export type DescribeRemoteResult = { ok: true; description: RemoteDescription } | { ok: false; error: string };

const SETUP_ROLES: readonly string[] = ['active', 'passive', 'actpass'];

export function describeRemote(remoteSdp: string): DescribeRemoteResult {
  const parsed = parseSdp(remoteSdp);
  if (!parsed.ok) return parsed;
  const sdp = parsed.sdp;
  const media = readRemoteMedia(sdp);
  const audio = media.find((m) => m.type === 'audio' && m.port !== 0) ?? media.find((m) => m.type === 'audio');
  if (audio === undefined) return { ok: false, error: 'no audio stream' };
  const stream = streamFor(audio, {
    codecs: audio.codecs,
    ...(audio.telephoneEvent !== undefined ? { telephoneEventPt: audio.telephoneEvent.payloadType } : {}),
    direction: negotiatedDirection(audio.direction, audio.legacyHold, 'sendrecv'),
    // WebRTC always muxes (RFC 8834 §5.1.1); for the rest take the offer's word
    rtcpMux: audio.rtcpMux,
    ptimeMs: audio.ptimeMs ?? 20,
    ...(audio.crypto[0] !== undefined ? { crypto: audio.crypto[0] } : {}),
  });
  const ice = iceOf(sdp, audio, remoteSdp);
  if (ice !== undefined) stream.ice = ice;
  const dtls = dtlsOf(sdp, audio);
  if (dtls !== undefined) stream.dtls = dtls;
  const description: RemoteDescription = {
    kind: audio.kind,
    audioIndex: audio.index,
    mLines: sdp.media.map((m) => {
      const line: RemoteDescription['mLines'][number] = { type: String(m.type), port: m.port, protocol: String(m.protocol) };
      if (m.mid !== undefined) line.mid = String(m.mid);
      return line;
    }),
    stream,
  };
  const bundle = (sdp.groups ?? []).find((g) => String(g.type).toUpperCase() === 'BUNDLE');
  if (bundle !== undefined) description.bundle = String(bundle.mids).split(/\s+/).filter((s) => s !== '');
  return { ok: true, description };
}

/** The a= lines of each m= section, raw, so candidate lines keep every extension attribute. */
function sectionLines(text: string): string[][] {
  const sections: string[][] = [];
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line.startsWith('m=')) sections.push([]);
    else if (sections.length > 0 && line.startsWith('a=')) sections[sections.length - 1]?.push(line.slice(2));
  }
  return sections;
}

function iceOf(sdp: SessionDescription, audio: RemoteMedia, text: string): NegotiatedStream['ice'] {
  const m = sdp.media[audio.index];
  const ufrag = m?.iceUfrag ?? sdp.iceUfrag;
  const pwd = m?.icePwd ?? sdp.icePwd;
  if (ufrag === undefined || pwd === undefined) return undefined;
  const sections = sectionLines(text);
  const candidatesOf = (i: number): string[] => (sections[i] ?? []).filter((l) => l.startsWith('candidate:'));
  let candidates = candidatesOf(audio.index);
  // with BUNDLE (RFC 9143 §7.1) candidates may sit only on the section that carries the transport
  if (candidates.length === 0) candidates = sections.map((_, i) => candidatesOf(i)).find((c) => c.length > 0) ?? [];
  return { ufrag: String(ufrag), pwd: String(pwd), candidates, lite: sdp.icelite !== undefined };
}

function dtlsOf(sdp: SessionDescription, audio: RemoteMedia): NegotiatedStream['dtls'] {
  const m = sdp.media[audio.index];
  const fingerprint = m?.fingerprint ?? sdp.fingerprint;
  const setup = String(m?.setup ?? sdp.setup ?? '');
  // RFC 8842 §5: a fingerprint without a usable role is not a DTLS description we can act on
  if (fingerprint === undefined || !SETUP_ROLES.includes(setup)) return undefined;
  return { fingerprint: { hash: String(fingerprint.type), value: String(fingerprint.hash) }, setup: setup as 'active' | 'passive' | 'actpass' };
}
