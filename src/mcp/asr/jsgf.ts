/**
 * SRGS rule trees (grammar/types.ts) to JSGF 1.0 text for pocketsphinx, which compiles JSGF to
 * its finite-state grammar search.
 *
 * What pocketsphinx (5prealpha) can and cannot take decides the shape of the output:
 * - a word missing from the pronouncing dictionary aborts the decoder, so a token with an
 *   unknown word is dropped (it becomes VOID) and reported;
 * - `<VOID>` breaks the alternation it appears in, so VOID is removed here instead: an
 *   alternative that cannot match is left out, a sequence containing one cannot match, an
 *   optional one becomes `<NULL>`;
 * - tags mean nothing to the recogniser and are left out; GARBAGE is approximated by `<NULL>`;
 * - quoted multi-word tokens would be looked up as one word, so they become plain word lists.
 * Several grammars become one JSGF whose public root is the weighted alternation of their roots.
 */
import type { Expansion, RuleSet } from '../grammar/types.js';

export interface JsgfOptions {
  /** the JSGF grammar name (sanitised); `grammar` by default */
  grammarName?: string;
  /** whether the recogniser knows a (lower-case) word; every word is known when absent */
  isKnownWord?: (word: string) => boolean;
}

export interface JsgfResult {
  text: string;
  /** false when nothing is left that could match (every path had an unknown word, or no rules) */
  usable: boolean;
  /** the distinct words the JSGF uses, lower-case */
  words: string[];
  /** distinct words dropped because the dictionary lacks them */
  droppedWords: string[];
  /** notes on approximations (GARBAGE, missing rules), for the log */
  notes: string[];
}

export interface WeightedRuleSet {
  rules: RuleSet;
  weight?: number;
}

/** the simplified tree that is printed; `void` never appears in it */
type Node =
  | { k: 'words'; words: string[] }
  | { k: 'ref'; name: string }
  | { k: 'null' }
  | { k: 'seq'; items: Node[] }
  | { k: 'alt'; items: Array<{ node: Node; weight: number }> }
  | { k: 'opt'; node: Node }
  | { k: 'star'; node: Node }
  | { k: 'plus'; node: Node };

/** a repeat whose optional tail is longer than this is written as unbounded */
const MAX_FINITE_REPEAT_TAIL = 20;

/** lower-case words of a token text; punctuation other than inner apostrophes, hyphens, dots goes */
export function tokenWords(text: string): string[] {
  return text
    .toLowerCase()
    .split(/\s+/)
    .map((w) => w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '').replace(/[^\p{L}\p{N}'.-]/gu, ''))
    .filter((w) => w.length > 0);
}

/** one grammar to JSGF */
export function ruleSetToJsgf(rules: RuleSet, options: JsgfOptions = {}): JsgfResult {
  return grammarsToJsgf([{ rules }], options);
}

/** several grammars to one JSGF whose public root is the weighted alternation of their roots */
export function grammarsToJsgf(grammars: readonly WeightedRuleSet[], options: JsgfOptions = {}): JsgfResult {
  const compiler = new JsgfCompiler(options.isKnownWord ?? (() => true));
  const roots: Array<{ node: Node; weight: number }> = [];
  grammars.forEach((g, i) => {
    const node = compiler.compileGrammar(g.rules, grammars.length > 1 ? `g${i}_` : '');
    if (node !== undefined) roots.push({ node, weight: g.weight ?? 1 });
  });
  const name = sanitizeName(options.grammarName ?? 'grammar');
  const lines = ['#JSGF V1.0;', `grammar ${name};`];
  let usable = roots.length > 0;
  if (grammars.length === 1 && roots[0] !== undefined) {
    const only = roots[0].node;
    // a single grammar keeps its own root rule as the public rule
    if (only.k === 'ref') {
      const body = compiler.bodies.get(only.name);
      if (body !== undefined) {
        compiler.bodies.delete(only.name);
        lines.push(`public <${only.name}> = ${print(body)};`);
      }
    } else {
      lines.push(`public <root> = ${print(only)};`);
    }
  } else if (roots.length > 0) {
    lines.push(`public <root> = ${print(roots.length === 1 && roots[0] ? roots[0].node : { k: 'alt', items: roots })};`);
  }
  for (const [ruleName, body] of compiler.bodies) lines.push(`<${ruleName}> = ${print(body)};`);
  if (!usable) lines.push('public <root> = <NULL>;');
  usable = usable && compiler.hasWords;
  return {
    text: lines.join('\n') + '\n',
    usable,
    words: [...compiler.words],
    droppedWords: [...compiler.dropped],
    notes: compiler.notes,
  };
}

class JsgfCompiler {
  /** printed rule name → body, in the order they are first reached */
  readonly bodies = new Map<string, Node>();
  readonly words = new Set<string>();
  readonly dropped = new Set<string>();
  readonly notes: string[] = [];
  private readonly usedNames = new Set<string>(['root', 'NULL', 'VOID', 'GARBAGE']);
  private ruleSet: RuleSet | undefined;
  private prefix = '';
  /** rule key → printed name, for the current grammar */
  private names = new Map<string, string>();
  /** rule keys that can match some word sequence (after unknown words are dropped) */
  private productive = new Set<string>();

  constructor(private readonly isKnownWord: (word: string) => boolean) {}

  get hasWords(): boolean {
    return this.words.size > 0;
  }

  /** a ref to the grammar's root rule, or undefined when the grammar cannot match */
  compileGrammar(rules: RuleSet, prefix: string): Node | undefined {
    this.ruleSet = rules;
    this.prefix = prefix;
    this.names = new Map();
    this.productive = this.findProductive(rules);
    if (!rules.rules.has(rules.root)) {
      this.notes.push(`root rule ${rules.root} is missing`);
      return undefined;
    }
    if (!this.productive.has(rules.root)) return undefined;
    return this.ref(rules.root);
  }

  /** fixpoint: a rule is productive when its expansion can match given the rules known productive */
  private findProductive(rules: RuleSet): Set<string> {
    const productive = new Set<string>();
    for (let changed = true; changed; ) {
      changed = false;
      for (const [key, rule] of rules.rules) {
        if (!productive.has(key) && this.canMatch(rule.expansion, productive)) {
          productive.add(key);
          changed = true;
        }
      }
    }
    return productive;
  }

  private canMatch(e: Expansion, productive: Set<string>): boolean {
    switch (e.kind) {
      case 'token':
        return tokenWords(e.text).every((w) => this.isKnownWord(w));
      case 'tag':
        return true;
      case 'ruleref':
        if (e.special !== undefined) return e.special !== 'VOID';
        return productive.has(e.rule);
      case 'sequence':
        return e.items.every((i) => this.canMatch(i, productive));
      case 'alternatives':
        return e.items.some((i) => this.canMatch(i.expansion, productive));
      case 'repeat':
        return e.min === 0 || e.max === 0 || this.canMatch(e.expansion, productive);
    }
  }

  /** the printed name of a rule, compiling its body the first time (undefined: cannot match) */
  private ref(key: string): Node | undefined {
    const known = this.names.get(key);
    if (known !== undefined) return { k: 'ref', name: known };
    const rule = this.ruleSet?.rules.get(key);
    if (rule === undefined) {
      this.notes.push(`rule ${key} is missing`);
      return undefined;
    }
    if (!this.productive.has(key)) return undefined;
    const name = this.uniqueName(this.prefix + (key === rule.id ? rule.id : `ext_${rule.id}`));
    this.names.set(key, name);
    // reserve the slot first so rules print in the order they are reached, then fill it
    this.bodies.set(name, { k: 'null' });
    this.bodies.set(name, this.simplify(rule.expansion) ?? { k: 'null' });
    return { k: 'ref', name };
  }

  /** undefined means VOID: this expansion cannot match */
  private simplify(e: Expansion): Node | undefined {
    switch (e.kind) {
      case 'token':
        return this.token(e.text);
      case 'tag':
        return { k: 'null' };
      case 'ruleref':
        if (e.special === 'VOID') return undefined;
        if (e.special === 'GARBAGE') this.notes.push('GARBAGE approximated by NULL');
        if (e.special !== undefined) return { k: 'null' };
        return this.ref(e.rule);
      case 'sequence':
        return this.sequence(e.items);
      case 'alternatives':
        return this.alternatives(e.items);
      case 'repeat':
        return this.repeat(e.min, e.max, e.expansion);
    }
  }

  private token(text: string): Node | undefined {
    const words = tokenWords(text);
    const unknown = words.filter((w) => !this.isKnownWord(w));
    if (unknown.length > 0) {
      for (const w of unknown) this.dropped.add(w);
      return undefined;
    }
    if (words.length === 0) return { k: 'null' };
    for (const w of words) this.words.add(w);
    return { k: 'words', words };
  }

  private sequence(items: readonly Expansion[]): Node | undefined {
    const out: Node[] = [];
    for (const item of items) {
      const node = this.simplify(item);
      if (node === undefined) return undefined;
      if (node.k === 'null') continue;
      // adjacent word lists print the same as one
      const last = out[out.length - 1];
      if (node.k === 'words' && last?.k === 'words') out[out.length - 1] = { k: 'words', words: [...last.words, ...node.words] };
      else out.push(node);
    }
    if (out.length === 0) return { k: 'null' };
    return out.length === 1 ? out[0] : { k: 'seq', items: out };
  }

  private alternatives(items: ReadonlyArray<{ expansion: Expansion; weight: number }>): Node | undefined {
    const out: Array<{ node: Node; weight: number }> = [];
    for (const item of items) {
      const node = this.simplify(item.expansion);
      if (node !== undefined) out.push({ node, weight: item.weight });
    }
    if (out.length === 0) return undefined;
    return out.length === 1 && out[0] !== undefined ? out[0].node : { k: 'alt', items: out };
  }

  private repeat(min: number, max: number, expansion: Expansion): Node | undefined {
    if (max === 0) return { k: 'null' };
    const node = this.simplify(expansion);
    if (node === undefined) return min === 0 ? { k: 'null' } : undefined;
    if (node.k === 'null') return node;
    const unbounded = max === Infinity || max - min > MAX_FINITE_REPEAT_TAIL;
    const items: Node[] = [];
    if (unbounded) {
      for (let i = 1; i < min; i++) items.push(node);
      items.push(min === 0 ? { k: 'star', node } : { k: 'plus', node });
    } else {
      for (let i = 0; i < min; i++) items.push(node);
      // x{0,3} → [x [x [x]]]
      let tail: Node | undefined;
      for (let i = min; i < max; i++) tail = { k: 'opt', node: tail === undefined ? node : { k: 'seq', items: [node, tail] } };
      if (tail !== undefined) items.push(tail);
    }
    return items.length === 1 && items[0] !== undefined ? items[0] : { k: 'seq', items };
  }

  private uniqueName(wanted: string): string {
    const base = sanitizeName(wanted);
    let name = base;
    for (let i = 2; this.usedNames.has(name); i++) name = `${base}_${i}`;
    this.usedNames.add(name);
    return name;
  }
}

function sanitizeName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_]/g, '_');
  return clean.length > 0 ? clean : '_';
}

function print(node: Node): string {
  switch (node.k) {
    case 'words':
      return node.words.join(' ');
    case 'ref':
      return `<${node.name}>`;
    case 'null':
      return '<NULL>';
    case 'seq':
      return node.items.map(printAtom).join(' ');
    case 'alt': {
      const weighted = node.items.some((i) => i.weight !== node.items[0]?.weight);
      return node.items.map((i) => (weighted ? `/${formatWeight(i.weight)}/ ` : '') + printAtom(i.node)).join(' | ');
    }
    case 'opt':
      return `[${print(node.node)}]`;
    case 'star':
      return `${printUnary(node.node)}*`;
    case 'plus':
      return `${printUnary(node.node)}+`;
  }
}

/** an item inside a sequence or alternation: nested alternations need parentheses */
function printAtom(node: Node): string {
  return node.k === 'alt' ? `(${print(node)})` : print(node);
}

/** the operand of * and +: one word or a rule reference stands alone */
function printUnary(node: Node): string {
  if (node.k === 'ref' || (node.k === 'words' && node.words.length === 1)) return print(node);
  return `(${print(node)})`;
}

function formatWeight(weight: number): string {
  return Number.isFinite(weight) && weight >= 0 ? String(Number(weight.toPrecision(6))) : '1';
}
