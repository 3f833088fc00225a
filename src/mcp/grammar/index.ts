/**
 * Grammars of the Media Control Platform: SRGS 1.0 (XML and ABNF), SISR 1.0, the VoiceXML
 * builtin grammars, option/choice grammars, one Earley matcher, and JSGF export for ASR.
 */
export type * from './types.js';
export { GrammarError } from './grammar-error.js';
export { loadGrammar } from './load-grammar.js';
export { builtinGrammar } from './builtins/builtin-grammar.js';
export { choiceGrammar } from './choice-grammar.js';
export { normaliseTokens } from './tokens.js';
