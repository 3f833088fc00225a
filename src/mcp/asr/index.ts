/**
 * Speech recognition for the Media Control Platform: providers turn caller audio into n-best
 * text; the interpreter matches that text against its grammars.
 */
export { AsrError } from './types.js';
export type { AsrProvider, AsrSession, AsrSessionEvents, AsrSessionOptions } from './types.js';
export { EnergyEndpointer, frameLevelDb } from './endpointer.js';
export type { EndpointerEvent, EndpointerOptions, EndpointReason } from './endpointer.js';
export { grammarsToJsgf, ruleSetToJsgf, tokenWords } from './jsgf.js';
export type { JsgfOptions, JsgfResult, WeightedRuleSet } from './jsgf.js';
export { collectGrammarPhrases, collectPhrases } from './grammar-phrases.js';
export { PronouncingDictionary } from './pronouncing-dictionary.js';
export { PocketsphinxAsrProvider, PocketsphinxAsrSession } from './pocketsphinx-provider.js';
export type { PocketsphinxAsrProviderOptions } from './pocketsphinx-provider.js';
export { GoogleSpeechAsrProvider, GoogleSpeechAsrSession } from './google-speech-provider.js';
export type { GoogleSpeechAsrProviderOptions } from './google-speech-provider.js';
export { TextAsrProvider, TextAsrSession } from './text-provider.js';
export type { ScriptedUtterance, TextAsrProviderOptions } from './text-provider.js';
export { createAsrProvider } from './create-asr-provider.js';
export type { AsrProviderConfig, AsrProviderDeps } from './create-asr-provider.js';
