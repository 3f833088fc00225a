import { GrammarError } from './grammar-error.js';
import { type ParsedGrammar, type ParsedRule, parseRepeat, specialRef } from './parsed-grammar.js';
import type { Expansion, GrammarMode } from './types.js';

/**
 * SRGS 1.0 ABNF form (§4 of the ABNF form): the self-identifying header, declarations
 * (language, mode, root, tag-format, base, lexicon, meta, http-equiv, tags) and rule
 * definitions. A text with no rule definition is one rule expansion (VoiceXML inline grammars).
 */

const SPECIAL_CHARS = new Set([';', '|', '/', '(', ')', '[', ']', '{', '}', '<', '>', '$', '"', '=', '!']);

class AbnfReader {
  pos = 0;

  constructor(readonly text: string, readonly grammarId: string) {}

  line(at = this.pos): number {
    let line = 1;
    for (let i = 0; i < at && i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) line++;
    return line;
  }

  fail(message: string, at = this.pos): never {
    throw new GrammarError(message, { grammarId: this.grammarId, line: this.line(at) });
  }

  /** Skips whitespace and comments (// to end of line, block comments). */
  skip(): void {
    const text = this.text;
    for (;;) {
      while (this.pos < text.length && /\s/.test(text[this.pos]!)) this.pos++;
      if (text.startsWith('//', this.pos)) {
        const end = text.indexOf('\n', this.pos);
        this.pos = end < 0 ? text.length : end + 1;
      } else if (text.startsWith('/*', this.pos)) {
        const end = text.indexOf('*/', this.pos + 2);
        if (end < 0) this.fail('unterminated comment');
        this.pos = end + 2;
      } else {
        return;
      }
    }
  }

  peek(): string {
    this.skip();
    return this.text[this.pos] ?? '';
  }

  atEnd(): boolean {
    return this.peek() === '';
  }

  expect(ch: string): void {
    if (this.peek() !== ch) this.fail(`expected "${ch}" but found ${this.describeNext()}`);
    this.pos++;
  }

  describeNext(): string {
    const next = this.peek();
    return next === '' ? 'end of grammar' : `"${this.text.slice(this.pos, this.pos + 12)}"`;
  }

  /** A bare word: anything up to whitespace or a special character. */
  word(): string {
    this.skip();
    const start = this.pos;
    while (this.pos < this.text.length && !/\s/.test(this.text[this.pos]!) && !SPECIAL_CHARS.has(this.text[this.pos]!)) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** Text up to (not including) `close`, which is consumed. */
  until(close: string, what: string): string {
    const end = this.text.indexOf(close, this.pos);
    if (end < 0) this.fail(`unterminated ${what}`);
    const body = this.text.slice(this.pos, end);
    this.pos = end + close.length;
    return body;
  }

  quoted(): string {
    this.expect('"');
    let out = '';
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos++]!;
      if (ch === '"') return out;
      if (ch === '\\' && this.pos < this.text.length) out += this.text[this.pos++]!;
      else out += ch;
    }
    return this.fail('unterminated quoted token');
  }

  /** A tag `{ ... }` (braces balanced) or `{!{ ... }!}` (§4.x tags). */
  tag(): string {
    this.expect('{');
    if (this.text.startsWith('!{', this.pos)) {
      this.pos += 2;
      return this.until('}!}', 'tag {!{ ... }!}');
    }
    const start = this.pos;
    let depth = 1;
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos++]!;
      if (ch === '{') depth++;
      else if (ch === '}' && --depth === 0) return this.text.slice(start, this.pos - 1);
    }
    return this.fail('unterminated tag', start - 1);
  }

  /** `<uri>` */
  angle(what: string): string {
    this.expect('<');
    return this.until('>', what).trim();
  }

  ruleName(): string {
    const name = this.word();
    if (name === '') this.fail(`expected a rule name but found ${this.describeNext()}`);
    return name;
  }
}

export function parseAbnf(text: string, grammarId: string, defaultMode: GrammarMode | undefined): ParsedGrammar {
  const r = new AbnfReader(text.replace(/^\uFEFF/, ''), grammarId);
  const grammar: ParsedGrammar = { rules: new Map(), headerTags: [] };
  r.skip();
  if (r.text.startsWith('#ABNF', r.pos)) {
    r.pos += 5;
    const version = r.word();
    if (version !== '1.0') r.fail(`unsupported ABNF version "${version}"`);
    // optional character encoding, then ';'
    if (r.peek() !== ';') r.word();
    r.expect(';');
  }
  parseDeclarations(r, grammar);
  if (!r.atEnd() && !looksLikeRule(r)) {
    // No rule definitions: the text is a single expansion (VoiceXML inline "simple" grammar).
    const start = r.pos;
    const expansion = parseAlternatives(r);
    if (r.peek() === ';') r.pos++;
    if (!r.atEnd()) r.fail(`unexpected ${r.describeNext()}`);
    grammar.rules.set('root', { id: 'root', scope: 'public', expansion, line: r.line(start) });
    grammar.root ??= 'root';
  }
  while (!r.atEnd()) {
    const rule = parseRuleDefinition(r);
    if (grammar.rules.has(rule.id)) r.fail(`duplicate rule $${rule.id}`);
    grammar.rules.set(rule.id, rule);
  }
  if (grammar.mode === undefined && defaultMode !== undefined) grammar.mode = defaultMode;
  return grammar;
}

function looksLikeRule(r: AbnfReader): boolean {
  const save = r.pos;
  try {
    const first = r.word();
    if (first === 'public' || first === 'private') return true;
    if (first !== '' || r.peek() !== '$') return false;
    r.pos++;
    if (r.peek() === '<') return false;
    r.word();
    return r.peek() === '=';
  } finally {
    r.pos = save;
  }
}

function parseDeclarations(r: AbnfReader, grammar: ParsedGrammar): void {
  for (;;) {
    if (r.peek() === '{') {
      grammar.headerTags.push(r.tag());
      r.expect(';');
      continue;
    }
    const save = r.pos;
    const keyword = r.word();
    switch (keyword) {
      case 'language':
        grammar.language = r.word();
        break;
      case 'mode': {
        const mode = r.word();
        if (mode !== 'voice' && mode !== 'dtmf') r.fail(`mode must be voice or dtmf, not "${mode}"`);
        grammar.mode = mode;
        break;
      }
      case 'root':
        r.expect('$');
        grammar.root = r.ruleName();
        break;
      case 'tag-format':
        grammar.tagFormat = r.peek() === '<' ? r.angle('tag-format') : r.word();
        break;
      case 'base':
        grammar.base = r.angle('base');
        break;
      case 'lexicon':
        r.angle('lexicon');
        if (r.peek() === '~') {
          r.pos++;
          r.angle('lexicon type');
        }
        break;
      case 'meta':
      case 'http-equiv':
        r.quoted();
        if (r.word() !== 'is') r.fail(`${keyword}: expected "is"`);
        r.quoted();
        break;
      default:
        r.pos = save;
        return;
    }
    r.expect(';');
  }
}

function parseRuleDefinition(r: AbnfReader): ParsedRule {
  const start = r.pos;
  let scope: 'public' | 'private' = 'private';
  const save = r.pos;
  const first = r.word();
  if (first === 'public' || first === 'private') scope = first;
  else if (first !== '') r.fail(`expected a rule definition but found "${first}"`, save);
  else r.pos = save;
  r.expect('$');
  const id = r.ruleName();
  if (specialRef(id) !== undefined) r.fail(`cannot redefine special rule $${id}`);
  r.expect('=');
  const expansion = parseAlternatives(r);
  r.expect(';');
  return { id, scope, expansion, line: r.line(start) };
}

function isEndOfSequence(ch: string): boolean {
  return ch === '' || ch === '|' || ch === ')' || ch === ']' || ch === ';';
}

function parseAlternatives(r: AbnfReader): Expansion {
  const items: Array<{ expansion: Expansion; weight: number }> = [];
  let weighted = false;
  for (;;) {
    let weight = 1;
    if (r.peek() === '/') {
      r.pos++;
      const text = r.until('/', 'weight');
      weight = Number(text);
      if (text.trim() === '' || !Number.isFinite(weight) || weight < 0) r.fail(`bad weight "/${text}/"`);
      weighted = true;
    }
    items.push({ expansion: parseSequence(r), weight });
    if (r.peek() !== '|') break;
    r.pos++;
  }
  if (items.length === 1 && !weighted) return items[0]!.expansion;
  return { kind: 'alternatives', items };
}

function parseSequence(r: AbnfReader): Expansion {
  const items: Expansion[] = [];
  while (!isEndOfSequence(r.peek())) items.push(parseRepeated(r));
  if (items.length === 0) r.fail(`empty expansion before ${r.describeNext()} (write $NULL)`);
  return items.length === 1 ? items[0]! : { kind: 'sequence', items };
}

function parseRepeated(r: AbnfReader): Expansion {
  const unit = parsePrimary(r);
  // language attachment on a token or group (§4.x "!en-US"): accepted and ignored
  if (r.text[r.pos] === '!') {
    r.pos++;
    r.word();
  }
  if (r.text[r.pos] !== '<') {
    // a repeat operator must follow its unit, possibly after whitespace
    if (r.peek() !== '<') return unit;
  }
  const at = r.pos;
  r.expect('<');
  const body = r.until('>', 'repeat operator');
  const m = /^([^/]*)(?:\/([^/]*)\/)?\s*$/.exec(body);
  const repeat = m === null ? undefined : parseRepeat(m[1] ?? '');
  if (m === null || repeat === undefined) r.fail(`bad repeat <${body}>`, at);
  let probability: number | undefined;
  if (m[2] !== undefined) {
    probability = Number(m[2]);
    if (m[2].trim() === '' || !(probability >= 0 && probability <= 1)) r.fail(`bad repeat probability /${m[2]}/`, at);
  }
  return { kind: 'repeat', min: repeat.min, max: repeat.max, expansion: unit, ...(probability !== undefined ? { probability } : {}) };
}

function parsePrimary(r: AbnfReader): Expansion {
  const ch = r.peek();
  switch (ch) {
    case '$':
      return parseReference(r);
    case '"':
      return { kind: 'token', text: r.quoted() };
    case '{':
      return { kind: 'tag', text: r.tag() };
    case '(': {
      r.pos++;
      const inner = parseAlternatives(r);
      r.expect(')');
      return inner;
    }
    case '[': {
      r.pos++;
      const inner = parseAlternatives(r);
      r.expect(']');
      return { kind: 'repeat', min: 0, max: 1, expansion: inner };
    }
    default: {
      const word = r.word();
      if (word === '') r.fail(`unexpected ${r.describeNext()}`);
      return { kind: 'token', text: word };
    }
  }
}

function parseReference(r: AbnfReader): Expansion {
  r.expect('$');
  if (r.text[r.pos] === '<') {
    const uri = r.angle('rule reference');
    if (uri === '') r.fail('empty rule reference $<>');
    return { kind: 'ruleref', rule: uri };
  }
  const name = r.ruleName();
  return specialRef(name) ?? { kind: 'ruleref', rule: `#${name}` };
}
