/**
 * Between werift's RtpPacket and the engine's (types.ts). werift's header objects are mutable
 * and its sender rewrites them, so every conversion makes fresh objects.
 */
import { RtpHeader, RtpPacket as WeriftRtpPacket } from 'werift';
import type { RtpPacket } from '../types.js';

/** Our packet from a werift one; the header extension is kept as raw bytes (RFC 3550 §5.3.1). */
export function fromWeriftPacket(packet: WeriftRtpPacket): RtpPacket {
  const { header } = packet;
  const converted: RtpPacket = {
    marker: header.marker,
    payloadType: header.payloadType,
    sequenceNumber: header.sequenceNumber,
    timestamp: header.timestamp >>> 0,
    ssrc: header.ssrc >>> 0,
    csrcs: [...header.csrc],
    payload: new Uint8Array(packet.payload),
  };
  if (header.extension) {
    const extension = rawExtension(packet);
    if (extension !== undefined) converted.extension = extension;
  }
  return converted;
}

/** werift parses extensions into elements; re-serialize and cut the block out to keep it exact */
function rawExtension(packet: WeriftRtpPacket): { profile: number; data: Uint8Array } | undefined {
  try {
    const bytes = packet.serialize();
    const at = 12 + 4 * packet.header.csrc.length;
    if (bytes.length < at + 4) return undefined;
    const words = bytes.readUInt16BE(at + 2);
    if (bytes.length < at + 4 + 4 * words) return undefined;
    return { profile: bytes.readUInt16BE(at), data: new Uint8Array(bytes.subarray(at + 4, at + 4 + 4 * words)) };
  } catch {
    return undefined;
  }
}

/**
 * A werift packet to send under `ssrc`. The caller's header extension is not carried: werift's
 * sender writes its own negotiated extensions (mid, abs-send-time) and the engine sends none.
 */
export function toWeriftPacket(packet: RtpPacket, ssrc: number): WeriftRtpPacket {
  const header = new RtpHeader({
    marker: packet.marker,
    payloadType: packet.payloadType,
    sequenceNumber: packet.sequenceNumber & 0xffff,
    timestamp: packet.timestamp >>> 0,
    ssrc,
    csrc: [...packet.csrcs],
    csrcLength: packet.csrcs.length,
  });
  // a copy: werift sends asynchronously, and the engine reuses its payload buffer on the next frame
  return new WeriftRtpPacket(header, Buffer.from(packet.payload));
}
