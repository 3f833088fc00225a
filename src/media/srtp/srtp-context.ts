/**
 * SRTP and SRTCP packet transforms for one master key (RFC 3711 §3, AES-CM + HMAC-SHA1). A
 * context either protects (our key) or unprotects (the peer's key); it keeps per-SSRC rollover
 * counters, SRTCP indexes and replay lists. Pure except for node:crypto: no sockets, no timers.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidInputError } from '../../lib/index.js';
import { aesCmTransform, deriveSessionKeys, packetIv, type SessionKeys } from './key-derivation.js';
import { ReplayWindow } from './replay-window.js';
import { RolloverTracker } from './rollover.js';
import type { SuiteInfo } from './suites.js';

export interface SrtpContextOptions {
  suite: SuiteInfo;
  masterKey: Uint8Array;
  masterSalt: Uint8Array;
  /** MKI carried in each packet (RFC 3711 §3.1), when the key params name one */
  mki?: { value: number; length: number };
}

const SRTCP_E_FLAG = 0x80000000;
const SRTCP_INDEX_MASK = 0x7fffffff;

/** Length of an RTP header (RFC 3550 §5.1, §5.3.1) or undefined if the bytes cannot hold one. */
export function rtpHeaderLength(packet: Uint8Array, available = packet.length): number | undefined {
  if (available < 12) return undefined;
  const first = packet[0] ?? 0;
  if (first >> 6 !== 2) return undefined;
  let length = 12 + 4 * (first & 0x0f);
  if ((first & 0x10) !== 0) {
    if (length + 4 > available) return undefined;
    const words = ((packet[length + 2] ?? 0) << 8) | (packet[length + 3] ?? 0);
    length += 4 + 4 * words;
  }
  return length <= available ? length : undefined;
}

function readUint16(b: Uint8Array, at: number): number {
  return (((b[at] ?? 0) << 8) | (b[at + 1] ?? 0)) >>> 0;
}

function readUint32(b: Uint8Array, at: number): number {
  return (((b[at] ?? 0) << 24) | ((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)) >>> 0;
}

function uint32Bytes(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0, 0);
  return b;
}

function mkiBytes(mki: { value: number; length: number } | undefined): Buffer {
  if (mki === undefined) return Buffer.alloc(0);
  // the MKI value is written big-endian in its declared length (RFC 4568 §6.1)
  const b = Buffer.alloc(mki.length);
  let v = mki.value;
  for (let i = mki.length - 1; i >= 0 && v > 0; i--) {
    b[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return b;
}

export class SrtpContext {
  private readonly rtpKeys: SessionKeys;
  private readonly rtcpKeys: SessionKeys;
  private readonly mki: Buffer;
  private readonly rollovers = new Map<number, RolloverTracker>();
  private readonly rtpReplay = new Map<number, ReplayWindow>();
  private readonly rtcpReplay = new Map<number, ReplayWindow>();
  private readonly rtcpSendIndex = new Map<number, number>();

  constructor(private readonly options: SrtpContextOptions) {
    this.rtpKeys = deriveSessionKeys(options.masterKey, options.masterSalt, false);
    this.rtcpKeys = deriveSessionKeys(options.masterKey, options.masterSalt, true);
    this.mki = mkiBytes(options.mki);
  }

  /** RTP → SRTP (RFC 3711 §3.3). A malformed packet is the caller's bug: InvalidInputError. */
  protectRtp(packet: Uint8Array): Uint8Array {
    const headerLength = rtpHeaderLength(packet);
    if (headerLength === undefined) throw new InvalidInputError('not an RTP packet');
    const seq = readUint16(packet, 2);
    const ssrc = readUint32(packet, 8);
    const tracker = this.rolloverFor(ssrc);
    // a sequence number from before the first one we sent: index it in ROC 0, as the receiver would try
    const { index, roc } = tracker.estimate(seq) ?? { index: seq, roc: 0 };
    tracker.update(seq, roc);
    const header = Buffer.from(packet.subarray(0, headerLength));
    const encrypted = aesCmTransform(this.rtpKeys.encryptionKey, packetIv(this.rtpKeys.salt, ssrc, index), packet.subarray(headerLength));
    // the authenticated portion is header + encrypted payload, with the ROC appended (§4.2)
    const tag = this.tag(this.rtpKeys, [header, encrypted, uint32Bytes(roc)], this.options.suite.srtpTagLength);
    return Buffer.concat([header, encrypted, this.mki, tag]);
  }

  /** SRTP → RTP, or undefined when the packet is malformed, replayed or fails authentication. */
  unprotectRtp(packet: Uint8Array): Uint8Array | undefined {
    const tagLength = this.options.suite.srtpTagLength;
    const authenticatedLength = packet.length - this.mki.length - tagLength;
    const headerLength = rtpHeaderLength(packet, authenticatedLength);
    if (headerLength === undefined) return undefined;
    const seq = readUint16(packet, 2);
    const ssrc = readUint32(packet, 8);
    // state is only stored once a packet authenticates, so forged SSRCs cost no memory
    const tracker = this.rollovers.get(ssrc) ?? new RolloverTracker();
    const estimate = tracker.estimate(seq);
    if (estimate === undefined) return undefined;
    const replay = this.rtpReplay.get(ssrc) ?? new ReplayWindow();
    // §3.3.2: drop replays before spending an HMAC on them
    if (!replay.accepts(estimate.index)) return undefined;
    if (!this.mkiMatches(packet, authenticatedLength)) return undefined;
    const authenticated = packet.subarray(0, authenticatedLength);
    const expected = this.tag(this.rtpKeys, [authenticated, uint32Bytes(estimate.roc)], tagLength);
    const received = packet.subarray(packet.length - tagLength);
    if (!timingSafeEqual(expected, received)) return undefined;
    tracker.update(seq, estimate.roc);
    replay.record(estimate.index);
    this.rollovers.set(ssrc, tracker);
    this.rtpReplay.set(ssrc, replay);
    const plain = aesCmTransform(this.rtpKeys.encryptionKey, packetIv(this.rtpKeys.salt, ssrc, estimate.index), packet.subarray(headerLength, authenticatedLength));
    return Buffer.concat([packet.subarray(0, headerLength), plain]);
  }

  /** RTCP → SRTCP (RFC 3711 §3.4): everything after the sender SSRC is encrypted, E flag set. */
  protectRtcp(packet: Uint8Array): Uint8Array {
    if (packet.length < 8 || (packet[0] ?? 0) >> 6 !== 2) throw new InvalidInputError('not an RTCP packet');
    const ssrc = readUint32(packet, 4);
    // §3.4: the SRTCP index starts at 0 and counts every packet sent, modulo 2^31
    const index = this.rtcpSendIndex.get(ssrc) ?? 0;
    this.rtcpSendIndex.set(ssrc, (index + 1) & SRTCP_INDEX_MASK);
    const header = Buffer.from(packet.subarray(0, 8));
    const encrypted = aesCmTransform(this.rtcpKeys.encryptionKey, packetIv(this.rtcpKeys.salt, ssrc, index), packet.subarray(8));
    const eIndex = uint32Bytes((SRTCP_E_FLAG | index) >>> 0);
    const tag = this.tag(this.rtcpKeys, [header, encrypted, eIndex], this.options.suite.srtcpTagLength);
    return Buffer.concat([header, encrypted, eIndex, this.mki, tag]);
  }

  /** SRTCP → RTCP, or undefined when malformed, replayed or not authentic. */
  unprotectRtcp(packet: Uint8Array): Uint8Array | undefined {
    const tagLength = this.options.suite.srtcpTagLength;
    const authenticatedLength = packet.length - this.mki.length - tagLength;
    if (authenticatedLength < 12 || (packet[0] ?? 0) >> 6 !== 2) return undefined;
    const ssrc = readUint32(packet, 4);
    const eIndex = readUint32(packet, authenticatedLength - 4);
    const index = eIndex & SRTCP_INDEX_MASK;
    const replay = this.rtcpReplay.get(ssrc) ?? new ReplayWindow();
    if (!replay.accepts(index)) return undefined;
    if (!this.mkiMatches(packet, authenticatedLength)) return undefined;
    const expected = this.tag(this.rtcpKeys, [packet.subarray(0, authenticatedLength)], tagLength);
    if (!timingSafeEqual(expected, packet.subarray(packet.length - tagLength))) return undefined;
    replay.record(index);
    this.rtcpReplay.set(ssrc, replay);
    const body = packet.subarray(8, authenticatedLength - 4);
    // §3.4: E = 0 means the sender chose not to encrypt this one
    const plain = (eIndex & SRTCP_E_FLAG) !== 0 ? aesCmTransform(this.rtcpKeys.encryptionKey, packetIv(this.rtcpKeys.salt, ssrc, index), body) : Buffer.from(body);
    return Buffer.concat([packet.subarray(0, 8), plain]);
  }

  private rolloverFor(ssrc: number): RolloverTracker {
    let tracker = this.rollovers.get(ssrc);
    if (tracker === undefined) {
      tracker = new RolloverTracker();
      this.rollovers.set(ssrc, tracker);
    }
    return tracker;
  }

  private mkiMatches(packet: Uint8Array, authenticatedLength: number): boolean {
    if (this.mki.length === 0) return true;
    return this.mki.equals(packet.subarray(authenticatedLength, authenticatedLength + this.mki.length));
  }

  private tag(keys: SessionKeys, parts: Uint8Array[], length: number): Buffer {
    const hmac = createHmac('sha1', keys.authenticationKey);
    for (const part of parts) hmac.update(part);
    return hmac.digest().subarray(0, length);
  }
}
