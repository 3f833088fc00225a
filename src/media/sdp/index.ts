/** SDP for the media engine: parsing, offer/answer (RFC 3264) and remote descriptions. */
export { parseSdp, type ParseSdpResult } from './parse-sdp.js';
export { SdpSession } from './sdp-session.js';
export { describeRemote, type DescribeRemoteResult, type RemoteDescription } from './describe-remote.js';
export { profileKind, type ProfileKind } from './remote-media.js';
export type { LocalMediaOptions, ReceiveAnswerResult, ReceiveOfferResult, RtpProfile, SdesCryptoLine, SdpSessionOptions } from './types.js';
