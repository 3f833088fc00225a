import type { CodecInfo, CodecName } from '../types.js';

/**
 * What the engine knows about each codec it speaks: SDP names, rates, static payload types
 * (RFC 3551 table 4; RFC 7587 for Opus; G.722's 8000 Hz RTP clock per RFC 3551 §4.5.2).
 */
export const CODECS: Readonly<Record<CodecName, CodecInfo>> = {
  PCMU: { name: 'PCMU', sdpName: 'PCMU', sampleRate: 8000, rtpClockRate: 8000, staticPayloadType: 0 },
  PCMA: { name: 'PCMA', sdpName: 'PCMA', sampleRate: 8000, rtpClockRate: 8000, staticPayloadType: 8 },
  G722: { name: 'G722', sdpName: 'G722', sampleRate: 16000, rtpClockRate: 8000, staticPayloadType: 9 },
  opus: { name: 'opus', sdpName: 'opus', sampleRate: 48000, rtpClockRate: 48000, sdpChannels: 2 },
  L16: { name: 'L16', sdpName: 'L16', sampleRate: 16000, rtpClockRate: 16000 },
};

export const CODEC_NAMES: readonly CodecName[] = ['PCMU', 'PCMA', 'G722', 'opus', 'L16'];

export function codecInfo(name: CodecName): CodecInfo {
  return CODECS[name];
}

/**
 * The codec an rtpmap names (encoding name matched case-insensitively, clock rate exactly), or
 * undefined for one we do not speak (G729, AMR, ...).
 */
export function codecFromRtpmap(encodingName: string, clockRate: number): CodecInfo | undefined {
  const lower = encodingName.toLowerCase();
  for (const name of CODEC_NAMES) {
    const info = CODECS[name];
    if (info.sdpName.toLowerCase() === lower && info.rtpClockRate === clockRate) return info;
  }
  return undefined;
}

/** The codec a static payload type stands for when an SDP has no rtpmap for it (RFC 3264 §5.1). */
export function codecFromStaticPayloadType(payloadType: number): CodecInfo | undefined {
  for (const name of CODEC_NAMES) {
    const info = CODECS[name];
    if (info.staticPayloadType === payloadType) return info;
  }
  return undefined;
}
