/**
 * The VoiceXML 2.0/2.1 interpreter of the Media Control Platform.
 */
export { VoiceXmlSession } from './session.js';
export type { SessionOptions, SessionResult, SessionLimits } from './session.js';
export type { GrammarFactory } from './grammar-port.js';
export { defaultGrammars } from './grammars.js';
export type * from './platform.js';
export { runInTerminal } from './runner/terminal.js';
export type { TerminalOptions } from './runner/terminal.js';
export { runConformance, parseManifest } from './runner/conformance.js';
export type { ConformanceOptions, ConformanceResult, ConformanceSummary, ManifestEntry } from './runner/conformance.js';
export { ScriptedPlatform } from './runner/scripted-platform.js';
