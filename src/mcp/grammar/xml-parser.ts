import { DOMParser } from '@xmldom/xmldom';
import { GrammarError } from './grammar-error.js';
import { type ParsedGrammar, type ParsedRule, parseRepeat, specialRef } from './parsed-grammar.js';
import { parseAbnf } from './abnf-parser.js';
import type { Expansion, GrammarMode } from './types.js';

/**
 * SRGS 1.0 XML form (§2, §4 of the XML form). Works on localName so grammars inline in a
 * VoiceXML document (vxml namespace) and grammars with no namespace parse alike.
 */

interface XmlNode {
  nodeType: number;
  localName?: string | null;
  nodeName: string;
  nodeValue?: string | null;
  childNodes: ArrayLike<XmlNode>;
  lineNumber?: number;
  getAttribute?(name: string): string | null;
  getAttributeNS?(ns: string, name: string): string | null;
  hasAttribute?(name: string): boolean;
}

const ELEMENT = 1;
const TEXT = 3;
const CDATA = 4;
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

class XmlContext {
  constructor(readonly grammarId: string, readonly mode: GrammarMode) {}
  fail(message: string, node?: XmlNode): never {
    throw new GrammarError(message, { grammarId: this.grammarId, ...(node?.lineNumber !== undefined ? { line: node.lineNumber } : {}) });
  }
}

function nameOf(node: XmlNode): string {
  return node.localName ?? node.nodeName.replace(/^.*:/, '');
}

function attr(node: XmlNode, name: string): string | undefined {
  const value = node.getAttribute?.(name);
  return value === null || value === undefined || (value === '' && node.hasAttribute?.(name) !== true) ? undefined : value;
}

function children(node: XmlNode): XmlNode[] {
  return Array.from(node.childNodes);
}

function elementChildren(node: XmlNode): XmlNode[] {
  return children(node).filter((child) => child.nodeType === ELEMENT);
}

function textOf(node: XmlNode): string {
  let text = '';
  for (const child of children(node)) {
    if (child.nodeType === TEXT || child.nodeType === CDATA) text += child.nodeValue ?? '';
    else if (child.nodeType === ELEMENT) text += textOf(child);
  }
  return text;
}

/** Parses a whole SRGS XML document, or a `<grammar>` element found inside VoiceXML. */
export function parseXmlGrammar(text: string, grammarId: string, defaultMode: GrammarMode | undefined): ParsedGrammar {
  const errors: string[] = [];
  let doc: { documentElement: XmlNode | null } | undefined;
  try {
    doc = new DOMParser({
      onError: (level: string, message: string) => {
        if (level !== 'warning') errors.push(message);
      },
    }).parseFromString(text, 'text/xml') as unknown as { documentElement: XmlNode | null };
  } catch (err) {
    throw new GrammarError(`malformed XML: ${err instanceof Error ? err.message : String(err)}`, { grammarId, cause: err });
  }
  if (errors.length > 0) throw new GrammarError(`malformed XML: ${errors[0]!.split('\n')[0]}`, { grammarId });
  const root = doc.documentElement;
  if (root === null || root === undefined) throw new GrammarError('empty XML document', { grammarId });
  const grammar = findGrammarElement(root);
  if (grammar === undefined) throw new GrammarError(`no <grammar> element (found <${nameOf(root)}>)`, { grammarId });
  return parseGrammarElement(grammar, grammarId, defaultMode);
}

function findGrammarElement(node: XmlNode): XmlNode | undefined {
  if (nameOf(node) === 'grammar') return node;
  for (const child of elementChildren(node)) {
    const found = findGrammarElement(child);
    if (found !== undefined) return found;
  }
  return undefined;
}

function parseGrammarElement(grammar: XmlNode, grammarId: string, defaultMode: GrammarMode | undefined): ParsedGrammar {
  const modeAttr = attr(grammar, 'mode');
  if (modeAttr !== undefined && modeAttr !== 'dtmf' && modeAttr !== 'voice') {
    throw new GrammarError(`mode must be voice or dtmf, not "${modeAttr}"`, { grammarId, ...lineOf(grammar) });
  }
  const mode: GrammarMode = modeAttr ?? defaultMode ?? 'voice';
  const elements = elementChildren(grammar);
  const hasRules = elements.some((el) => nameOf(el) === 'rule');
  const language = grammar.getAttributeNS?.(XML_NS, 'lang') ?? attr(grammar, 'xml:lang');
  const base = grammar.getAttributeNS?.(XML_NS, 'base') ?? attr(grammar, 'xml:base');
  const root = attr(grammar, 'root');
  const tagFormat = attr(grammar, 'tag-format');

  if (!hasRules && elements.length === 0) {
    // VoiceXML inline "simple" grammar: ABNF text inside <grammar>.
    const parsed = parseAbnf(textOf(grammar), grammarId, mode);
    return {
      ...parsed,
      mode: parsed.mode ?? mode,
      ...(parsed.root === undefined && root !== undefined ? { root } : {}),
      ...(parsed.tagFormat === undefined && tagFormat !== undefined ? { tagFormat } : {}),
      ...(parsed.language === undefined && language !== null && language !== undefined ? { language } : {}),
    };
  }

  const ctx = new XmlContext(grammarId, mode);
  const rules = new Map<string, ParsedRule>();
  const headerTags: string[] = [];
  if (!hasRules) {
    // Legacy form: the rule content sits directly in <grammar>.
    const id = root ?? 'root';
    rules.set(id, { id, scope: 'public', expansion: parseContent(grammar, ctx, ['lexicon', 'meta', 'metadata']), ...lineOf(grammar) });
  } else {
    for (const el of elements) {
      const name = nameOf(el);
      if (name === 'rule') {
        const rule = parseRule(el, ctx);
        if (rules.has(rule.id)) ctx.fail(`duplicate rule id "${rule.id}"`, el);
        rules.set(rule.id, rule);
      } else if (name === 'tag') {
        headerTags.push(textOf(el));
      } else if (name !== 'lexicon' && name !== 'meta' && name !== 'metadata') {
        ctx.fail(`unexpected <${name}> in <grammar>`, el);
      }
    }
  }
  return {
    mode,
    rules,
    headerTags,
    ...(root !== undefined ? { root } : {}),
    ...(tagFormat !== undefined ? { tagFormat } : {}),
    ...(language !== null && language !== undefined && language !== '' ? { language } : {}),
    ...(base !== null && base !== undefined && base !== '' ? { base } : {}),
  };
}

function lineOf(node: XmlNode): { line?: number } {
  return node.lineNumber !== undefined ? { line: node.lineNumber } : {};
}

function parseRule(el: XmlNode, ctx: XmlContext): ParsedRule {
  const id = attr(el, 'id');
  if (id === undefined || !/^[^\s.:-][^\s.:]*$/u.test(id)) ctx.fail(`rule needs a valid id (got "${id ?? ''}")`, el);
  const scope = attr(el, 'scope') ?? 'private';
  if (scope !== 'public' && scope !== 'private') ctx.fail(`rule "${id}": scope must be public or private`, el);
  return { id, scope, expansion: parseContent(el, ctx, ['example']), ...lineOf(el) };
}

/** The content of a rule or item: a sequence of tokens and elements (SRGS §2.3). */
function parseContent(parent: XmlNode, ctx: XmlContext, ignored: readonly string[]): Expansion {
  const items: Expansion[] = [];
  for (const child of children(parent)) {
    if (child.nodeType === TEXT || child.nodeType === CDATA) {
      for (const token of splitPlainText(child.nodeValue ?? '')) items.push({ kind: 'token', text: token });
    } else if (child.nodeType === ELEMENT) {
      const name = nameOf(child);
      if (ignored.includes(name)) continue;
      items.push(parseElement(child, ctx));
    }
  }
  return items.length === 1 ? items[0]! : { kind: 'sequence', items };
}

/** Plain text in a rule: whitespace-separated tokens, with "double quoted" multi-word tokens (§2.1). */
function splitPlainText(text: string): string[] {
  const tokens: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const token = m[1] ?? m[2] ?? '';
    if (token.trim() !== '') tokens.push(token);
  }
  return tokens;
}

function parseElement(el: XmlNode, ctx: XmlContext): Expansion {
  switch (nameOf(el)) {
    case 'item':
      return parseItem(el, ctx);
    case 'one-of':
      return parseOneOf(el, ctx);
    case 'ruleref':
      return parseRuleref(el, ctx);
    case 'token': {
      const text = textOf(el).replace(/\s+/g, ' ').trim();
      if (text === '') ctx.fail('empty <token>', el);
      return { kind: 'token', text };
    }
    case 'tag':
      return { kind: 'tag', text: textOf(el) };
    default:
      return ctx.fail(`unexpected <${nameOf(el)}> in a rule expansion`, el);
  }
}

function parseWeight(el: XmlNode, ctx: XmlContext): number {
  const text = attr(el, 'weight');
  if (text === undefined) return 1;
  const weight = Number(text);
  if (text.trim() === '' || !Number.isFinite(weight) || weight < 0) ctx.fail(`bad weight "${text}"`, el);
  return weight;
}

function parseItem(el: XmlNode, ctx: XmlContext): Expansion {
  const body = parseContent(el, ctx, []);
  const repeatText = attr(el, 'repeat');
  if (repeatText === undefined) return body;
  const repeat = parseRepeat(repeatText);
  if (repeat === undefined) ctx.fail(`bad repeat "${repeatText}"`, el);
  const probText = attr(el, 'repeat-prob');
  let probability: number | undefined;
  if (probText !== undefined) {
    probability = Number(probText);
    if (probText.trim() === '' || !(probability >= 0 && probability <= 1)) ctx.fail(`bad repeat-prob "${probText}"`, el);
  }
  return { kind: 'repeat', min: repeat.min, max: repeat.max, expansion: body, ...(probability !== undefined ? { probability } : {}) };
}

function parseOneOf(el: XmlNode, ctx: XmlContext): Expansion {
  const items: Array<{ expansion: Expansion; weight: number }> = [];
  for (const child of elementChildren(el)) {
    if (nameOf(child) !== 'item') ctx.fail(`<one-of> may hold only <item>, not <${nameOf(child)}>`, child);
    items.push({ expansion: parseItem(child, ctx), weight: parseWeight(child, ctx) });
  }
  if (items.length === 0) ctx.fail('empty <one-of>', el);
  return { kind: 'alternatives', items };
}

function parseRuleref(el: XmlNode, ctx: XmlContext): Expansion {
  const special = attr(el, 'special');
  const uri = attr(el, 'uri');
  if (special !== undefined) {
    if (uri !== undefined) ctx.fail('<ruleref> has both uri and special', el);
    const ref = specialRef(special);
    if (ref === undefined) ctx.fail(`unknown special rule "${special}"`, el);
    return ref;
  }
  if (uri === undefined || uri.trim() === '') ctx.fail('<ruleref> needs uri or special', el);
  return { kind: 'ruleref', rule: uri.trim() };
}
