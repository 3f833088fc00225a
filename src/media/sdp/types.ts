/**
 * What the SDP layer takes and returns. Everything here is plain data: the offer/answer logic
 * (RFC 3264) is sans-I/O and the engine owns the sockets the addresses describe.
 */
import type { CodecName, MediaDirection, NegotiatedStream } from '../types.js';

/** The RTP profiles a plain or SDES endpoint writes in its m= line (RFC 3551, RFC 3711 §12). */
export type RtpProfile = 'RTP/AVP' | 'RTP/SAVP';

/** One a=crypto attribute (RFC 4568 §9.1): tag, crypto suite and inline key params. */
export interface SdesCryptoLine {
  tag: number;
  suite: string;
  keyParams: string;
}

/** Our side of a media session: what goes into our offers and answers. */
export interface LocalMediaOptions {
  /** where we receive RTP (the c= line) */
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
  /** codecs we speak, in our preference order (used for offers; answers follow the offerer's order) */
  codecs: CodecName[];
  /** offer/accept RFC 4733 telephone-event/8000 with events 0-16 */
  telephoneEvent: boolean;
  /** packetization time we ask for; default 20 */
  ptimeMs?: number;
  /** default sendrecv; sendonly puts the remote on hold (RFC 3264 §8.4) */
  direction?: MediaDirection;
  /** offer RTCP multiplexing (RFC 5761 §5.1.1); default true. Answers carry it only when offered. */
  rtcpMux?: boolean;
  /** default RTP/AVP; RTP/SAVP needs `crypto` */
  protocol?: RtpProfile;
  /**
   * SDES (RFC 4568): the lines we offer, in preference order, or the ones we may answer with
   * (the first whose suite the offer has is used, with the offer's tag).
   */
  crypto?: SdesCryptoLine[];
  /** s= line; default "opencx" */
  sessionName?: string;
}

/** Constructor options: LocalMediaOptions plus the fixed parts of o= (RFC 4566 §5.2). */
export interface SdpSessionOptions extends LocalMediaOptions {
  /** o= sess-id; default a random numeric string. Fixed for the life of the session. */
  sessionId?: string;
  /** o= username; default "opencx" */
  username?: string;
}

export type ReceiveOfferResult =
  | { ok: true; answerSdp: string; stream: NegotiatedStream }
  /**
   * 488: nothing acceptable (no common codec, unsupported profile, no audio);
   * 400: malformed SDP or a re-offer that breaks RFC 3264 §8 rules;
   * 491: we have an offer of our own outstanding (RFC 3261 §14.2 glare).
   */
  | { ok: false; status: 488 | 400 | 491; reason: string };

export type ReceiveAnswerResult = { ok: true; stream: NegotiatedStream } | { ok: false; reason: string };
