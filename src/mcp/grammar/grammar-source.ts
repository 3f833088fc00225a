import { GrammarError } from './grammar-error.js';
import { parseAbnf } from './abnf-parser.js';
import { parseXmlGrammar } from './xml-parser.js';
import type { ParsedGrammar } from './parsed-grammar.js';
import type { GrammarMode } from './types.js';

/** Parses grammar text in either form: by content type when given, else XML when it starts with '<'. */
export function parseGrammarText(
  text: string,
  contentType: string | undefined,
  grammarId: string,
  defaultMode: GrammarMode | undefined,
): ParsedGrammar {
  if (typeof text !== 'string') throw new GrammarError('grammar text is not a string', { grammarId });
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  const xml = type === 'application/srgs+xml' || type === 'application/xml' || type === 'text/xml'
    ? true
    : type === 'application/srgs' || type === 'text/plain'
      ? false
      : text.replace(/^\uFEFF/, '').trimStart().startsWith('<');
  return xml ? parseXmlGrammar(text, grammarId, defaultMode) : parseAbnf(text, grammarId, defaultMode);
}
