/**
 * What the interpreter needs from the grammar module (src/mcp/grammar): loading SRGS grammars,
 * the builtin types and <option>/<choice> grammars. Injected, so the interpreter and its tests
 * can run with any implementation.
 */
import type { Grammar, GrammarLoadOptions, GrammarMode, GrammarSource } from '../grammar/types.js';

export interface GrammarFactory {
  loadGrammar(source: GrammarSource, options?: GrammarLoadOptions): Promise<Grammar>;
  builtinGrammar(uri: string, mode: GrammarMode): Grammar;
  choiceGrammar(choices: Array<{ phrase?: string; dtmf?: string; value: string }>, mode: GrammarMode, accept: 'exact' | 'approximate'): Grammar;
}
