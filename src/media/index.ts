/**
 * The RTP media engine (DESIGN.md): SDP offer/answer, RTP/RTCP, codecs, DTMF, jitter buffer,
 * player, recorder, mixer, relay, SRTP and WebRTC endpoints. It knows nothing of SIP: `calls` and
 * `mcp` drive it through MediaEngineApi, in-process (LocalMediaEngine) or over the bus
 * (RemoteMediaEngine talking to a MediaNode in the `media` role).
 */
export * from './types.js';
export * from './engine/index.js';
export { SdpSession, parseSdp, describeRemote } from './sdp/index.js';
export type { LocalMediaOptions, ReceiveOfferResult, ReceiveAnswerResult, SdesCryptoLine } from './sdp/index.js';
export { CODECS, CODEC_NAMES, codecInfo, createEncoder, createDecoder, createTranscoder } from './codec/index.js';
export { createResampler, toneAmplitude, dominantFrequency, levelDbfs, generateTone, ToneGenerator, DTMF_FREQUENCIES } from './dsp/index.js';
export { MediaPortsExhaustedError, PortAllocator, UdpRtpTransport, RtpRelay, parseRtp, serializeRtp } from './rtp/index.js';
export { InbandDtmfDetector, Rfc4733Receiver, Rfc4733Sender } from './dtmf/index.js';
export { parseWav, encodeWav, wavHeader, ULAW_TO_LINEAR, ALAW_TO_LINEAR } from './wav/index.js';
export { recoverSpool, type SpoolRecoveryReport } from './recorder/index.js';
export { WebRtcTransport } from './webrtc/index.js';
