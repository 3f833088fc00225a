import { GrammarError } from './grammar-error.js';
import { normaliseTokens } from './tokens.js';
import type { Expansion, RuleSet } from './types.js';

/**
 * Writes a voice grammar as JSGF 1.0 (the format CMU pocketsphinx takes): the root rule public,
 * the rules it reaches private, weights as /w/, [optional], `*` and `+` for open repeats and
 * fixed repeats written out. Tags are dropped; GARBAGE has no JSGF counterpart and becomes <NULL>.
 */
export function toJsgf(rules: RuleSet, name: string): string {
  if (rules.mode === 'dtmf') throw new GrammarError('DTMF grammars are not converted to JSGF', { grammarId: name });
  const names = jsgfNames(rules);
  const grammarName = name.replace(/[^A-Za-z0-9_.]/g, '_') || 'grammar';
  const lines = ['#JSGF V1.0;', `grammar ${grammarName};`];
  for (const [key, ruleName] of names) {
    const rule = rules.rules.get(key)!;
    const body = write(rule.expansion, names, true);
    lines.push(`${key === rules.root ? 'public ' : ''}<${ruleName}> = ${body === '' ? '<NULL>' : body};`);
  }
  return `${lines.join('\n')}\n`;
}

/** JSGF names for the root and every rule it reaches, in that order. */
function jsgfNames(rules: RuleSet): Map<string, string> {
  const reached: string[] = [];
  const visit = (key: string): void => {
    if (reached.includes(key)) return;
    const rule = rules.rules.get(key);
    if (rule === undefined) throw new GrammarError(`unknown rule "${key}"`);
    reached.push(key);
    forEachRef(rule.expansion, visit);
  };
  visit(rules.root);
  const names = new Map<string, string>();
  const used = new Set(['NULL', 'VOID']);
  for (const key of reached) {
    const base = rules.rules.get(key)!.id.replace(/[^A-Za-z0-9_]/g, '_') || 'rule';
    let candidate = base;
    for (let n = 2; used.has(candidate); n++) candidate = `${base}_${n}`;
    used.add(candidate);
    names.set(key, candidate);
  }
  return names;
}

function forEachRef(expansion: Expansion, visit: (key: string) => void): void {
  switch (expansion.kind) {
    case 'ruleref':
      if (expansion.special === undefined) visit(expansion.rule);
      return;
    case 'sequence':
      for (const item of expansion.items) forEachRef(item, visit);
      return;
    case 'alternatives':
      for (const item of expansion.items) forEachRef(item.expansion, visit);
      return;
    case 'repeat':
      forEachRef(expansion.expansion, visit);
      return;
    default:
      return;
  }
}

function token(text: string): string {
  return normaliseTokens(text)
    .map((word) => (/^[\p{L}\p{N}'_-]+$/u.test(word) ? word : `"${word}"`))
    .join(' ');
}

/** Is the written expansion one unit that a postfix operator can follow? */
function atomic(text: string): boolean {
  return /^(<[^<>]+>|[^\s()[\]|<>]+|\([^()]*\)|\[[^[\]]*\])$/.test(text);
}

function group(text: string): string {
  return atomic(text) ? text : `(${text})`;
}

function write(expansion: Expansion, names: ReadonlyMap<string, string>, top: boolean): string {
  switch (expansion.kind) {
    case 'token':
      return token(expansion.text);
    case 'tag':
      return '';
    case 'ruleref':
      if (expansion.special === 'VOID') return '<VOID>';
      if (expansion.special !== undefined) return '<NULL>';
      return `<${names.get(expansion.rule)!}>`;
    case 'sequence': {
      const parts = expansion.items.map((item) => write(item, names, false)).filter((part) => part !== '');
      // <NULL> adds nothing next to something else
      const meaningful = parts.filter((part) => part !== '<NULL>');
      return (meaningful.length > 0 ? meaningful : parts).join(' ');
    }
    case 'alternatives': {
      const weighted = expansion.items.some((item) => item.weight !== 1);
      const body = expansion.items
        .map((item) => {
          const text = write(item.expansion, names, false) || '<NULL>';
          return weighted ? `/${item.weight}/ ${text}` : text;
        })
        .join(' | ');
      return top || expansion.items.length === 1 ? body : `(${body})`;
    }
    case 'repeat':
      return writeRepeat(expansion, names);
  }
}

function writeRepeat(expansion: Extract<Expansion, { kind: 'repeat' }>, names: ReadonlyMap<string, string>): string {
  const inner = write(expansion.expansion, names, true);
  if (inner === '' || expansion.max === 0) return '';
  const unit = group(inner);
  const { min, max } = expansion;
  if (max === Infinity) {
    if (min === 0) return `${unit}*`;
    return [...Array<string>(min - 1).fill(unit), `${unit}+`].join(' ');
  }
  const required = Array<string>(min).fill(unit);
  let optional = '';
  for (let k = 0; k < max - min; k++) optional = optional === '' ? `[${inner}]` : `[${inner} ${optional}]`;
  return [...required, optional].filter((part) => part !== '').join(' ');
}
