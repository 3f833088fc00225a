/**
 * The Media Control Platform (DESIGN.md): the VoiceXML interpreter and what it runs on —
 * grammars, TTS, ASR, and the SIP entry points (RFC 5552 dialog, RFC 4240 announcements).
 */
export type * from './grammar/types.js';
export type * from './vxml/platform.js';
export type * from './fetch/types.js';
export { FetchError } from './fetch/types.js';
