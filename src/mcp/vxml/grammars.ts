/**
 * The grammar module of the MCP (src/mcp/grammar) as the interpreter's GrammarFactory.
 */
import { builtinGrammar, choiceGrammar, loadGrammar } from '../grammar/index.js';
import type { GrammarFactory } from './grammar-port.js';

export const defaultGrammars: GrammarFactory = { loadGrammar, builtinGrammar, choiceGrammar };
