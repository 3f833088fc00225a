/**
 * One endpoint's side of SDP offer/answer (RFC 3264) across the life of a session: the initial
 * exchange and every re-offer after it (hold, unhold, codec or address change). It keeps what
 * RFC 3264 §8 says must stay put: the o= session id, a version that moves only when our SDP
 * does, the count and order of m= lines, and our payload type numbers.
 *
 * Sans-I/O: it takes SDP text and returns SDP text plus the engine's NegotiatedStream.
 */
import { randomInt } from 'node:crypto';
import { InvalidInputError } from '../../lib/index.js';
import { codecInfo } from '../codec/registry.js';
import type { NegotiatedCodec, NegotiatedStream } from '../types.js';
import { writeLocalSdp, type LocalAudio, type MediaSlot } from './local-sdp.js';
import { commonCodecs, commonEvents, negotiatedDirection, OUR_TELEPHONE_EVENTS, streamFor } from './negotiation.js';
import { parseSdp } from './parse-sdp.js';
import { PayloadTypeMap } from './payload-types.js';
import { payloadTypes as formatNumbers } from './remote-media.js';
import { readRemoteMedia, type RemoteMedia } from './remote-media.js';
import type { LocalMediaOptions, ReceiveAnswerResult, ReceiveOfferResult, SdesCryptoLine, SdpSessionOptions } from './types.js';

/**
 * The last SDP we sent, offer or answer, accepted or not: RFC 3264 §8 counts versions from the
 * previous SDP the remote saw, so this is never rolled back.
 */
interface SentSdp {
  text: string;
  version: number;
  rtcpMux: boolean;
}

/** Everything an offer/answer round may change, so a failed or abandoned round can be undone. */
interface Layout {
  slots: MediaSlot[];
  audioIndex: number | undefined;
  payloadTypes: ReturnType<PayloadTypeMap['snapshot']>;
}

interface PendingOffer {
  before: Layout;
  slots: MediaSlot[];
  audioIndex: number;
  audio: LocalAudio;
}

type Rejection = { status: 488 | 400; reason: string };

function validateOptions(o: LocalMediaOptions): void {
  if (o.address === '') throw new InvalidInputError('SDP session needs a local address');
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new InvalidInputError(`bad local RTP port ${o.port}`);
  if (o.codecs.length === 0) throw new InvalidInputError('SDP session needs at least one codec');
  if (o.ptimeMs !== undefined && (!Number.isFinite(o.ptimeMs) || o.ptimeMs <= 0)) throw new InvalidInputError(`bad ptime ${o.ptimeMs}`);
  if (o.protocol === 'RTP/SAVP' && (o.crypto === undefined || o.crypto.length === 0)) {
    throw new InvalidInputError('RTP/SAVP needs at least one a=crypto line (RFC 4568 §5)');
  }
}

export class SdpSession {
  private local: LocalMediaOptions;
  private readonly sessionId: string;
  private readonly username: string;
  private slots: MediaSlot[] = [];
  private audioIndex: number | undefined;
  private sent: SentSdp | undefined;
  private readonly payloadTypes = new PayloadTypeMap();
  private pending: PendingOffer | undefined;
  private negotiatedStream: NegotiatedStream | undefined;

  constructor(options: SdpSessionOptions) {
    const { sessionId, username, ...local } = options;
    validateOptions(local);
    this.local = local;
    // RFC 4566 §5.2: a numeric id; an NTP-style timestamp is suggested, any unique number does
    this.sessionId = sessionId ?? String(randomInt(1, 2 ** 47));
    this.username = username ?? 'opencx';
  }

  /** The stream as last settled, undefined before the first successful exchange. */
  get stream(): NegotiatedStream | undefined {
    return this.negotiatedStream;
  }

  /** True while an offer of ours waits for its answer. */
  get offerPending(): boolean {
    return this.pending !== undefined;
  }

  /** Change what the next offer or answer says (hold = direction 'sendonly', codecs, address/port). */
  setLocal(changes: Partial<LocalMediaOptions>): void {
    const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
    const next: LocalMediaOptions = { ...this.local, ...defined };
    validateOptions(next);
    this.local = next;
  }

  createOffer(): string {
    // a new offer replaces one still unanswered: the earlier round is abandoned
    if (this.pending !== undefined) this.restore(this.pending.before);
    const before = this.layout();
    const slots = this.slots.length === 0 ? [{ kind: 'audio' } as const] : [...this.slots];
    const audioIndex = this.audioIndex ?? 0;
    const audio = this.offerAudio();
    const text = this.render(slots, audio);
    this.pending = { before, slots, audioIndex, audio };
    return text;
  }

  /**
   * Abandon our outstanding offer (e.g. the re-INVITE failed): the previous agreement stays
   * (RFC 3264 §8). The version moves on from the abandoned SDP, which the remote may have seen.
   */
  rollback(): void {
    if (this.pending === undefined) return;
    this.restore(this.pending.before);
    this.pending = undefined;
  }

  receiveOffer(remoteSdp: string): ReceiveOfferResult {
    // RFC 3261 §14.2: an offer while ours is outstanding is glare, answered 491
    if (this.pending !== undefined) return { ok: false, status: 491, reason: 'an offer of ours is outstanding' };
    const parsed = parseSdp(remoteSdp);
    if (!parsed.ok) return { ok: false, status: 400, reason: parsed.error };
    // answer() changes nothing unless it succeeds
    const answer = this.answer(readRemoteMedia(parsed.sdp));
    if ('status' in answer) return { ok: false, status: answer.status, reason: answer.reason };
    return { ok: true, answerSdp: answer.text, stream: answer.stream };
  }

  receiveAnswer(remoteSdp: string): ReceiveAnswerResult {
    const pending = this.pending;
    if (pending === undefined) return { ok: false, reason: 'no offer outstanding' };
    this.pending = undefined;
    const parsed = parseSdp(remoteSdp);
    const result = parsed.ok ? this.acceptAnswer(pending, readRemoteMedia(parsed.sdp)) : { reason: parsed.error };
    if ('reason' in result) {
      // the round is over either way; a bad answer leaves the session as it was before our offer
      this.restore(pending.before);
      return { ok: false, reason: result.reason };
    }
    this.slots = pending.slots;
    this.audioIndex = pending.audioIndex;
    this.negotiatedStream = result;
    return { ok: true, stream: result };
  }

  // ---- offers ----

  private offerAudio(): LocalAudio {
    const o = this.local;
    const protocol = o.protocol ?? 'RTP/AVP';
    const audio: LocalAudio = {
      port: o.port,
      protocol,
      codecs: o.codecs.map((name) => {
        const info = codecInfo(name);
        const codec: NegotiatedCodec = { name, payloadType: this.payloadTypes.numberFor(name), clockRate: info.rtpClockRate };
        if (info.sdpChannels !== undefined) codec.channels = info.sdpChannels;
        return codec;
      }),
      ptimeMs: o.ptimeMs ?? 20,
      direction: o.direction ?? 'sendrecv',
      rtcpMux: this.offerRtcpMux(),
      crypto: protocol === 'RTP/SAVP' ? (o.crypto ?? []) : [],
    };
    if (o.telephoneEvent) audio.telephoneEvent = { payloadType: this.payloadTypes.numberFor('telephone-event'), events: OUR_TELEPHONE_EVENTS };
    return audio;
  }

  /**
   * A re-offer says about rtcp-mux what our last SDP said, so a refresh or hold changes nothing
   * else; RFC 5761 §5.1.3 asks that once agreed it stays in every offer, which this keeps too.
   */
  private offerRtcpMux(): boolean {
    if (this.local.rtcpMux === false) return false;
    return this.sent?.rtcpMux ?? true;
  }

  private acceptAnswer(pending: PendingOffer, media: RemoteMedia[]): NegotiatedStream | { reason: string } {
    // RFC 3264 §6: the answer has exactly as many m= lines as the offer, in the same order
    if (media.length !== pending.slots.length) return { reason: `answer has ${media.length} m= lines, offer had ${pending.slots.length}` };
    const remote = media[pending.audioIndex];
    if (remote === undefined || remote.type !== 'audio') return { reason: 'answer has no audio stream where the offer had one' };
    if (remote.port === 0) return { reason: 'audio stream rejected (port 0)' };
    if (remote.protocol.toUpperCase() !== pending.audio.protocol) return { reason: `answer changed the profile to ${remote.protocol}` };
    const offered = pending.audio;
    // §7: we may send with any format of the answer that we offered; the answerer's first is preferred
    const codecs = commonCodecs(remote.codecs, offered.codecs.map((c) => c.name));
    if (codecs.length === 0) return { reason: 'no common codec in the answer' };
    let crypto: SdesCryptoLine | undefined;
    if (offered.crypto.length > 0) {
      // RFC 4568 §7.1.3: the answer's tag names the offered line it accepted, with the same suite
      crypto = remote.crypto.find((c) => offered.crypto.some((ours) => ours.tag === c.tag && ours.suite === c.suite));
      if (crypto === undefined) return { reason: 'answer has no a=crypto matching an offered one' };
    }
    return streamFor(remote, {
      codecs,
      ...(offered.telephoneEvent !== undefined && remote.telephoneEvent !== undefined ? { telephoneEventPt: remote.telephoneEvent.payloadType } : {}),
      direction: negotiatedDirection(remote.direction, remote.legacyHold, offered.direction),
      // RFC 5761 §5.1.1: muxing only when offered and answered
      rtcpMux: offered.rtcpMux && remote.rtcpMux,
      ptimeMs: remote.ptimeMs ?? offered.ptimeMs,
      ...(crypto !== undefined ? { crypto } : {}),
    });
  }

  // ---- answers ----

  private answer(media: RemoteMedia[]): { text: string; stream: NegotiatedStream } | Rejection {
    // RFC 3264 §8: a re-offer keeps every earlier m= line, in order, and may only add at the end
    if (media.length < this.slots.length) return { status: 400, reason: `re-offer has ${media.length} m= lines, fewer than the ${this.slots.length} before` };
    const picked = this.pickAudio(media);
    if ('status' in picked) return picked;
    const { index, remote } = picked;
    const slots: MediaSlot[] = media.map((m, i) =>
      i === index ? { kind: 'audio' } : { kind: 'rejected', type: m.type, protocol: m.protocol, formats: m.formats.join(' ') },
    );
    // RFC 3264 §8.2: the remote disabled our stream; answer with port 0 as well
    const settled = remote.port === 0 ? this.disabledAnswer(remote) : this.acceptOffer(remote);
    if ('status' in settled) return settled;
    const text = this.render(slots, settled.audio);
    this.slots = slots;
    this.audioIndex = index;
    // RFC 3264 §8.3.2: numbers the offerer bound stay bound; do not reuse them for something else
    this.payloadTypes.reserve(formatNumbers(remote.formats).filter((pt) => pt >= 96));
    for (const c of settled.audio.codecs) this.payloadTypes.adopt(c.name, c.payloadType);
    if (settled.audio.telephoneEvent !== undefined) this.payloadTypes.adopt('telephone-event', settled.audio.telephoneEvent.payloadType);
    this.negotiatedStream = settled.stream;
    return { text, stream: settled.stream };
  }

  /** Our audio m= line: fixed after the first round; on the first, the first enabled audio line we can take. */
  private pickAudio(media: RemoteMedia[]): { index: number; remote: RemoteMedia } | Rejection {
    if (this.audioIndex !== undefined) {
      const remote = media[this.audioIndex];
      // RFC 3264 §8.3.3: an m= line in use cannot change media type
      if (remote === undefined || remote.type !== 'audio') return { status: 400, reason: 're-offer replaced the audio stream' };
      return { index: this.audioIndex, remote };
    }
    const enabled = media.filter((m) => m.type === 'audio' && m.port !== 0);
    if (enabled.length === 0) return { status: 488, reason: 'no enabled audio stream in the offer' };
    let firstRejection: Rejection | undefined;
    for (const remote of enabled) {
      const verdict = this.acceptOffer(remote);
      if (!('status' in verdict)) return { index: remote.index, remote };
      firstRejection ??= verdict;
    }
    return firstRejection ?? { status: 488, reason: 'no acceptable audio stream' };
  }

  private disabledAnswer(remote: RemoteMedia): { audio: LocalAudio; stream: NegotiatedStream } {
    const audio: LocalAudio = {
      port: 0,
      protocol: remote.protocol,
      codecs: remote.codecs,
      ptimeMs: remote.ptimeMs ?? this.local.ptimeMs ?? 20,
      direction: 'inactive',
      rtcpMux: false,
      crypto: [],
    };
    return { audio, stream: streamFor(remote, { codecs: [], direction: 'inactive', rtcpMux: false, ptimeMs: audio.ptimeMs }) };
  }

  /** Our answer to one offered audio line, or why we cannot take it (RFC 3264 §6.1). */
  private acceptOffer(remote: RemoteMedia): { audio: LocalAudio; stream: NegotiatedStream } | Rejection {
    const o = this.local;
    const crypto = this.answerCrypto(remote);
    if ('status' in crypto) return crypto;
    const codecs = commonCodecs(remote.codecs, o.codecs);
    if (codecs.length === 0) return { status: 488, reason: 'no common codec' };
    const events = o.telephoneEvent && remote.telephoneEvent !== undefined ? commonEvents(remote.telephoneEvent.events) : undefined;
    const direction = negotiatedDirection(remote.direction, remote.legacyHold, o.direction ?? 'sendrecv');
    const rtcpMux = remote.rtcpMux && o.rtcpMux !== false;
    const ptimeMs = remote.ptimeMs ?? o.ptimeMs ?? 20;
    const audio: LocalAudio = {
      port: o.port,
      // the answer repeats the offered transport (RFC 3264 §6), e.g. RTP/AVPF stays RTP/AVPF
      protocol: remote.protocol,
      codecs,
      ptimeMs,
      direction,
      rtcpMux,
      crypto: crypto.ours === undefined ? [] : [crypto.ours],
    };
    const tePt = events !== undefined ? remote.telephoneEvent?.payloadType : undefined;
    if (tePt !== undefined && events !== undefined) audio.telephoneEvent = { payloadType: tePt, events };
    const stream = streamFor(remote, {
      codecs,
      ...(tePt !== undefined ? { telephoneEventPt: tePt } : {}),
      direction,
      rtcpMux,
      ptimeMs,
      ...(crypto.theirs !== undefined ? { crypto: crypto.theirs } : {}),
    });
    return { audio, stream };
  }

  /**
   * The SDES line to answer with (RFC 4568 §7.1.2): the first offered line whose suite we have,
   * under the offer's tag with our key. Plain offers need none; a session set to RTP/SAVP refuses them.
   */
  private answerCrypto(remote: RemoteMedia): { ours?: SdesCryptoLine; theirs?: SdesCryptoLine } | Rejection {
    if (remote.kind === 'webrtc') return { status: 488, reason: `${remote.protocol} (DTLS-SRTP) needs a WebRTC endpoint` };
    if (remote.kind === 'unsupported') return { status: 488, reason: `unsupported transport ${remote.protocol}` };
    if (remote.kind === 'rtp') {
      if (this.local.protocol === 'RTP/SAVP') return { status: 488, reason: 'SRTP required, offer is plain RTP' };
      return {};
    }
    const ours = this.local.crypto ?? [];
    for (const theirs of remote.crypto) {
      const mine = ours.find((c) => c.suite === theirs.suite);
      if (mine !== undefined) return { ours: { tag: theirs.tag, suite: mine.suite, keyParams: mine.keyParams }, theirs };
    }
    return { status: 488, reason: ours.length === 0 ? `${remote.protocol} offer and we have no SRTP keys` : 'no common SRTP crypto suite' };
  }

  // ---- state ----

  /** Our SDP with the version RFC 3264 §8 asks for: unchanged when the text is, else one more. */
  private render(slots: readonly MediaSlot[], audio: LocalAudio): string {
    const describe = (version: number): string =>
      writeLocalSdp({
        username: this.username,
        sessionId: this.sessionId,
        version,
        sessionName: this.local.sessionName ?? 'opencx',
        address: this.local.address,
        family: this.local.family,
        slots,
        audio,
      });
    if (this.sent !== undefined) {
      const same = describe(this.sent.version);
      if (same === this.sent.text) return same;
    }
    const version = this.sent === undefined ? 0 : this.sent.version + 1;
    const text = describe(version);
    this.sent = { text, version, rtcpMux: audio.rtcpMux };
    return text;
  }

  private layout(): Layout {
    return { slots: [...this.slots], audioIndex: this.audioIndex, payloadTypes: this.payloadTypes.snapshot() };
  }

  private restore(layout: Layout): void {
    this.slots = layout.slots;
    this.audioIndex = layout.audioIndex;
    this.payloadTypes.restore(layout.payloadTypes);
  }
}
