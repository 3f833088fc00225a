/** The SIP message layer (RFC 3261 §7, §20, §25): sans-I/O parse, serialize, build. */
export * from './types.js';
export { parseMessage, DEFAULT_MAX_MESSAGE_SIZE, type ParseOptions } from './parser.js';
export { serializeMessage, serializeMessageText } from './serializer.js';
export { createResponse, createRequest, type CreateResponseOptions, type CreateRequestOptions } from './factory.js';
export { reasonPhrase } from './reason-phrases.js';
export { SipRequestMessage, SipResponseMessage, type SipRequestInit, type SipResponseInit } from './message.js';
export { HeaderList } from './header-list.js';
export { canonicalHeaderName, isListHeader } from './header-names.js';
export { parseUri, formatUri, unescapeUriPart } from './uri.js';
export { parseNameAddr, parseNameAddrList, parseContactList, formatNameAddr } from './name-addr.js';
export { parseVia, parseViaList, formatVia } from './via.js';
export { parseAuthHeader, formatAuthHeader } from './auth-header.js';
export { parseCSeq, parseMaxForwards, MAX_CSEQ } from './scalars.js';
export { splitList, quote, unquote } from './syntax.js';
export { detachedString, flatString } from './detached-string.js';
