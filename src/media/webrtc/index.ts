export { WebRtcTransport } from './webrtc-transport.js';
export type { WebRtcAnswerOptions, WebRtcConnectionState, WebRtcSession, WebRtcTransportEvents, WebRtcTransportOptions } from './webrtc-transport.js';
export { webrtcAudioCodecs } from './codecs.js';
export { ReceiveStatistics } from './receive-statistics.js';
