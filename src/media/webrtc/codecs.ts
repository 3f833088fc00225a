/**
 * The audio codecs we answer and offer with in WebRTC. werift keeps the offerer's payload types
 * in its answer (RFC 8829 §5.3.1, RFC 3264 §6.1), so the Opus PT here only matters in our offers.
 */
import { RTCRtpCodecParameters } from 'werift';

export function webrtcAudioCodecs(): RTCRtpCodecParameters[] {
  return [
    // RFC 7587 §7: opus is always written as 48000/2, whatever the channel count actually sent
    new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111, parameters: 'minptime=10;useinbandfec=1' }),
    new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 }),
    new RTCRtpCodecParameters({ mimeType: 'audio/PCMA', clockRate: 8000, channels: 1, payloadType: 8 }),
  ];
}

/** RTP clock rate for the payload types negotiated on a transceiver, for jitter (RFC 3550 A.8). */
export function clockRates(codecs: readonly RTCRtpCodecParameters[]): Map<number, number> {
  return new Map(codecs.map((c) => [c.payloadType, c.clockRate]));
}
