/**
 * The Media Control Platform (DESIGN.md): the VoiceXML interpreter and what it runs on —
 * grammars, fetching, SSML, TTS, ASR, and the SIP entry points (RFC 5552 dialog, RFC 4240
 * announcements). The interpreter knows neither SIP nor RTP: it talks to the Platform port.
 */
export type * from './grammar/types.js';
export type * from './vxml/platform.js';
export type * from './fetch/types.js';
export { FetchError } from './fetch/types.js';
export * as grammar from './grammar/index.js';
export * as ssml from './ssml/index.js';
export * as tts from './tts/index.js';
export * as asr from './asr/index.js';
export { ssmlToSegments, ssmlToText } from './ssml/index.js';
export { HttpFetcher, FetchCache } from './fetch/index.js';
export { createTtsProvider, type TtsProvider } from './tts/index.js';
export { createAsrProvider, type AsrProvider } from './asr/index.js';
export { VoiceXmlSession, type SessionResult, type SessionOptions } from './vxml/session.js';
export { SpareSandbox } from './script/index.js';
export { McpService, type SessionRunner, type SessionRunRequest, type SessionOutcome } from './entry/mcp-service.js';
export { createSessionTransfer } from './entry/transfer.js';
export { parseEntryUri, isEntryUri } from './entry/entry-uri.js';
export { AudioTapServer } from './platform/audio-tap.js';
export type { SpeechRecognizer, SpeechSynthesizer } from './platform/ports.js';
export { runInTerminal, type TerminalOptions } from './vxml/runner/terminal.js';
