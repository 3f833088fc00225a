import { stableToken } from '../../lib/index.js';
import { GrammarError } from './grammar-error.js';
import { parseGrammarText } from './grammar-source.js';
import { checkLeftRecursion } from './left-recursion.js';
import { resolveGrammar } from './resolver.js';
import { SrgsGrammar } from './srgs-grammar.js';
import type { Grammar, GrammarLoadOptions, GrammarSource } from './types.js';

/**
 * Loads an SRGS 1.0 grammar (XML or ABNF form, or a VoiceXML inline grammar), fetching its
 * external rulerefs, and compiles it for matching. Any malformed grammar rejects with a
 * GrammarError naming the grammar (and the line when known).
 */
export async function loadGrammar(source: GrammarSource, options: GrammarLoadOptions = {}): Promise<Grammar> {
  const text = typeof source.text === 'string' ? source.text : '';
  const id = source.baseUri ?? `inline:${stableToken(text)}`;
  try {
    if (typeof source.text !== 'string') throw new GrammarError('grammar text is not a string', { grammarId: id });
    const parsed = parseGrammarText(text, source.contentType, id, source.mode);
    const resolved = await resolveGrammar(parsed, source.baseUri, id, options, source.mode);
    checkLeftRecursion(resolved.rules, id);
    const weight = source.weight ?? 1;
    if (!Number.isFinite(weight) || weight < 0) throw new GrammarError(`bad grammar weight ${weight}`, { grammarId: id });
    return new SrgsGrammar({ id, weight, rules: resolved.rules, headerTags: resolved.headerTags });
  } catch (err) {
    if (err instanceof GrammarError) throw err;
    // a grammar nested deeply enough to exhaust the stack, or anything else unforeseen
    throw new GrammarError(`cannot load grammar: ${err instanceof Error ? err.message : String(err)}`, { grammarId: id, cause: err });
  }
}
