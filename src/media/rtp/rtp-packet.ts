/**
 * RTP fixed header (RFC 3550 §5.1), sans I/O. parseRtp() never throws: a datagram off the wire
 * is input from outside, and a truncated or malformed one is a result, not an exception.
 *
 * The peek/poke helpers at the bottom read single fields straight from a buffer so the relay
 * can forward packets without building an RtpPacket per datagram.
 */
import type { RtpPacket } from '../types.js';

/** size of the fixed header before CSRCs (RFC 3550 §5.1) */
export const RTP_HEADER_SIZE = 12;

export type RtpParseErrorCode =
  | 'too-short'
  | 'bad-version'
  | 'truncated-csrc'
  | 'truncated-extension'
  | 'bad-padding';

export interface RtpParseError {
  code: RtpParseErrorCode;
  message: string;
}

export type RtpParseResult = { ok: true; packet: RtpPacket } | { ok: false; error: RtpParseError };

function fail(code: RtpParseErrorCode, message: string): RtpParseResult {
  return { ok: false, error: { code, message } };
}

/**
 * Where the payload starts and ends, or an error: the checks parseRtp needs, without allocating,
 * so the relay fast path can validate as strictly as the full parser.
 */
export type RtpLayout = { ok: true; payloadStart: number; payloadEnd: number } | { ok: false; error: RtpParseError };

export function rtpLayout(buf: Uint8Array): RtpLayout {
  const bounds = rtpBounds(buf);
  if (bounds >= 0) return { ok: true, payloadStart: bounds % BOUNDS_SCALE, payloadEnd: Math.floor(bounds / BOUNDS_SCALE) };
  return { ok: false, error: layoutError(buf, bounds) };
}

/** rtpLayout(buf).ok without building a result: the receive path's check, once per datagram. */
export function isValidRtp(buf: Uint8Array): boolean {
  return rtpBounds(buf) >= 0;
}

/**
 * rtpBounds() packs payloadStart + payloadEnd * BOUNDS_SCALE in one number: the start is at most
 * 12 + 60 + 4 + 4 * 0xffff octets (CSRCs and the longest extension), under 2^24, and the product
 * stays exact for any buffer under 2^29 bytes.
 */
const BOUNDS_SCALE = 0x1000000;
const TOO_SHORT = -1;
const BAD_VERSION = -2;
const TRUNCATED_CSRC = -3;
const TRUNCATED_EXTENSION = -4;
const BAD_PADDING = -5;

/** The payload's bounds packed in one number, or one of the negative codes above. */
function rtpBounds(buf: Uint8Array): number {
  const len = buf.length;
  if (len < RTP_HEADER_SIZE) return TOO_SHORT;
  const b0 = buf[0]!;
  // RFC 3550 §5.1: V is 2; version 0 is STUN/ZRTP territory and 1 is the vat protocol
  if (b0 >> 6 !== 2) return BAD_VERSION;
  let offset = RTP_HEADER_SIZE + (b0 & 0x0f) * 4;
  if (offset > len) return TRUNCATED_CSRC;
  if ((b0 & 0x10) !== 0) {
    // §5.3.1: 16-bit profile, 16-bit length in 32-bit words, not counting this 4-byte header
    if (offset + 4 > len) return TRUNCATED_EXTENSION;
    const words = (buf[offset + 2]! << 8) | buf[offset + 3]!;
    offset += 4 + words * 4;
    if (offset > len) return TRUNCATED_EXTENSION;
  }
  let end = len;
  if ((b0 & 0x20) !== 0) {
    // §5.1 P bit: the last octet counts the padding octets, itself included, so 0 is invalid
    const pad = buf[len - 1]!;
    if (pad === 0 || offset + pad > len) return BAD_PADDING;
    end = len - pad;
  }
  return offset + end * BOUNDS_SCALE;
}

/** The error rtpBounds() found, told in words (only for packets that failed). */
function layoutError(buf: Uint8Array, code: number): RtpParseError {
  const len = buf.length;
  const b0 = buf[0] ?? 0;
  switch (code) {
    case TOO_SHORT:
      return { code: 'too-short', message: `${len} bytes, the RTP header needs 12` };
    case BAD_VERSION:
      return { code: 'bad-version', message: `RTP version ${b0 >> 6}, expected 2` };
    case TRUNCATED_CSRC:
      return { code: 'truncated-csrc', message: `CSRC count ${b0 & 0x0f} runs past ${len} bytes` };
    case TRUNCATED_EXTENSION: {
      const at = RTP_HEADER_SIZE + (b0 & 0x0f) * 4;
      if (at + 4 > len) return { code: 'truncated-extension', message: 'extension header runs past the packet' };
      const words = (buf[at + 2]! << 8) | buf[at + 3]!;
      return { code: 'truncated-extension', message: `extension of ${words} words runs past ${len} bytes` };
    }
    default:
      return { code: 'bad-padding', message: `padding count ${buf[len - 1] ?? 0} does not fit` };
  }
}

/** Parse one RTP packet. The payload and extension data are views into buf, not copies. */
export function parseRtp(buf: Uint8Array): RtpParseResult {
  const layout = rtpLayout(buf);
  if (!layout.ok) return fail(layout.error.code, layout.error.message);
  const b0 = buf[0]!;
  const csrcCount = b0 & 0x0f;
  const csrcs: number[] = [];
  for (let i = 0; i < csrcCount; i++) csrcs.push(readUint32(buf, RTP_HEADER_SIZE + i * 4));
  const packet: RtpPacket = {
    marker: (buf[1]! & 0x80) !== 0,
    payloadType: buf[1]! & 0x7f,
    sequenceNumber: readSequence(buf),
    timestamp: readTimestamp(buf),
    ssrc: readSsrc(buf),
    csrcs,
    payload: buf.subarray(layout.payloadStart, layout.payloadEnd),
  };
  if ((b0 & 0x10) !== 0) {
    const at = RTP_HEADER_SIZE + csrcCount * 4;
    const words = (buf[at + 2]! << 8) | buf[at + 3]!;
    packet.extension = { profile: (buf[at]! << 8) | buf[at + 1]!, data: buf.subarray(at + 4, at + 4 + words * 4) };
  }
  return { ok: true, packet };
}

export interface SerializeRtpOptions {
  /** pad the packet with this many octets (1–255), e.g. for block ciphers (RFC 3550 §5.1 P bit) */
  paddingBytes?: number;
}

/**
 * Serialize an RTP packet. Extension data shorter than a multiple of 4 octets is zero-padded
 * (§5.3.1 counts its length in 32-bit words); more than 15 CSRCs are cut to 15 (the CC field is 4 bits).
 */
export function serializeRtp(packet: RtpPacket, options: SerializeRtpOptions = {}): Buffer {
  const pad = paddingOf(options);
  // from Node's buffer pool (a packet per endpoint per 20 ms: a zero-filled buffer of its own each
  // time was an allocation and a free for the GC); every byte is written below, the pads zeroed
  const length = serializedRtpLength(packet) + pad;
  const buf = Buffer.allocUnsafe(length);
  writeRtp(packet, buf, pad, length);
  return buf;
}

/** Bytes serializeRtp() makes of `packet` without padding. */
export function serializedRtpLength(packet: RtpPacket): number {
  const csrcCount = Math.min(packet.csrcs.length, 15);
  const ext = packet.extension;
  const extWords = ext === undefined ? 0 : Math.min(0xffff, Math.ceil(ext.data.length / 4));
  return RTP_HEADER_SIZE + csrcCount * 4 + (ext === undefined ? 0 : 4 + extWords * 4) + packet.payload.length;
}

/**
 * serializeRtp() into `out` at offset 0, for a sender that hands the bytes on to a socket that
 * copies them (one scratch buffer instead of a buffer per packet). Returns the length written,
 * or 0 when `out` is too short (nothing is written then).
 */
export function serializeRtpInto(packet: RtpPacket, out: Uint8Array, options: SerializeRtpOptions = {}): number {
  const pad = paddingOf(options);
  const length = serializedRtpLength(packet) + pad;
  if (length > out.length) return 0;
  writeRtp(packet, out, pad, length);
  return length;
}

function paddingOf(options: SerializeRtpOptions): number {
  return options.paddingBytes !== undefined && options.paddingBytes > 0 ? Math.min(255, Math.floor(options.paddingBytes)) : 0;
}

/** Lays `packet` out at the start of `buf`, in its first `end` bytes (serializedRtpLength(packet) + pad). */
function writeRtp(packet: RtpPacket, buf: Uint8Array, pad: number, end: number): void {
  const csrcCount = Math.min(packet.csrcs.length, 15);
  const ext = packet.extension;
  const extWords = ext === undefined ? 0 : Math.min(0xffff, Math.ceil(ext.data.length / 4));
  buf[0] = 0x80 | (pad > 0 ? 0x20 : 0) | (ext !== undefined ? 0x10 : 0) | csrcCount;
  buf[1] = (packet.marker ? 0x80 : 0) | (packet.payloadType & 0x7f);
  writeUint16(buf, 2, packet.sequenceNumber);
  writeUint32(buf, 4, packet.timestamp);
  writeUint32(buf, 8, packet.ssrc);
  let offset = RTP_HEADER_SIZE;
  for (let i = 0; i < csrcCount; i++, offset += 4) writeUint32(buf, offset, packet.csrcs[i]!);
  if (ext !== undefined) {
    writeUint16(buf, offset, ext.profile);
    writeUint16(buf, offset + 2, extWords);
    const data = ext.data.subarray(0, extWords * 4);
    buf.set(data, offset + 4);
    buf.fill(0, offset + 4 + data.length, offset + 4 + extWords * 4);
    offset += 4 + extWords * 4;
  }
  buf.set(packet.payload, offset);
  if (pad > 0) {
    buf.fill(0, offset + packet.payload.length, end - 1);
    buf[end - 1] = pad;
  }
}

function writeUint16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = (value >>> 8) & 0xff;
  buf[at + 1] = value & 0xff;
}

function writeUint32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = (value >>> 24) & 0xff;
  buf[at + 1] = (value >>> 16) & 0xff;
  buf[at + 2] = (value >>> 8) & 0xff;
  buf[at + 3] = value & 0xff;
}

/**
 * RFC 5761 §4: with RTP and RTCP on one port, the second octet tells them apart. RTCP packet
 * types 192–223 (SR 200, RR 201, SDES 202, BYE 203, APP 204, RTPFB/PSFB 205/206) would be RTP
 * payload types 64–95 with the marker bit set, which §4 forbids RTP from using.
 */
export function isRtcpPacket(buf: Uint8Array): boolean {
  if (buf.length < 8) return false;
  const pt = buf[1]!;
  return pt >= 192 && pt <= 223 && buf[0]! >> 6 === 2;
}

function readUint32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

// Peek helpers for the fast path: the caller has checked the buffer holds a header (rtpLayout).
export function readSequence(buf: Uint8Array): number {
  return (buf[2]! << 8) | buf[3]!;
}

export function readTimestamp(buf: Uint8Array): number {
  return readUint32(buf, 4);
}

export function readSsrc(buf: Uint8Array): number {
  return readUint32(buf, 8);
}

export function readPayloadType(buf: Uint8Array): number {
  return buf[1]! & 0x7f;
}

export function readMarker(buf: Uint8Array): boolean {
  return (buf[1]! & 0x80) !== 0;
}

/** Rewrite the payload type in place, keeping the marker bit. */
export function writePayloadType(buf: Uint8Array, payloadType: number): void {
  buf[1] = (buf[1]! & 0x80) | (payloadType & 0x7f);
}
