/**
 * The audio codecs we answer and offer with in WebRTC. werift answers with the offer's codecs
 * whose MIME type is listed here (it ignores clock rates when matching), in the offer's order and
 * with the offer's payload types (RFC 3264 §6.1), so these PTs only matter in our own offers.
 */
import { RTCRtpCodecParameters } from 'werift';

export function webrtcAudioCodecs(): RTCRtpCodecParameters[] {
  return [
    // RFC 7587 §7: opus is always written as 48000/2, whatever the channel count actually sent
    new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111, parameters: 'minptime=10;useinbandfec=1' }),
    new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 }),
    new RTCRtpCodecParameters({ mimeType: 'audio/PCMA', clockRate: 8000, channels: 1, payloadType: 8 }),
    // RFC 4733 digits; browsers offer it at 48000 and 8000 and send it only if the answer has it
    new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: 8000, channels: 1, payloadType: 101, parameters: '0-16' }),
  ];
}

/** RTP clock rate for the payload types negotiated on a transceiver, for jitter (RFC 3550 A.8). */
export function clockRates(codecs: readonly RTCRtpCodecParameters[]): Map<number, number> {
  return new Map(codecs.map((c) => [c.payloadType, c.clockRate]));
}
