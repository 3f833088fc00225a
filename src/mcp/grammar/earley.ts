import type { Cfg, Production } from './cfg.js';

/**
 * An Earley recogniser over a compiled grammar (Earley 1970, with the Aycock–Horspool fix for
 * nullable nonterminals), and the extraction of the highest-weight parse tree from its chart.
 */

interface Item {
  production: Production;
  dot: number;
  origin: number;
}

interface EarleySet {
  items: Item[];
  keys: Set<number>;
  /** items waiting for a nonterminal, by nonterminal id */
  waiting: Map<number, Item[]>;
  /** items whose next symbol is a word, by word */
  scanWords: Map<string, Item[]>;
  /** items whose next symbol is GARBAGE's "any token" */
  scanAny: Item[];
  /** completed nonterminals: id -> items (production, origin) */
  completed: Map<number, Item[]>;
  predicted: Set<number>;
}

/** A node of the parse tree kept for semantics: a grammar rule and what it matched, in order. */
export interface RuleNode {
  key: string;
  id: string;
  events: ParseEvent[];
}

export type ParseEvent = { word: string } | { tag: string } | { rule: RuleNode };

export interface Recognition {
  complete: boolean;
  /** more tokens could extend the input (a scan is pending in the last set) */
  extendable: boolean;
  /** the chart, for tree extraction; absent when the input died early */
  chart?: EarleySet[];
}

const MAX_TOKENS = 4096;

function newSet(): EarleySet {
  return { items: [], keys: new Set(), waiting: new Map(), scanWords: new Map(), scanAny: [], completed: new Map(), predicted: new Set() };
}

export class EarleyMatcher {
  private readonly dotSpan: number;
  private firstSet: EarleySet | undefined;

  constructor(readonly cfg: Cfg) {
    this.dotSpan = cfg.maxRhs + 1;
  }

  private key(item: Item): number {
    return (item.production.index * this.dotSpan + item.dot) * (MAX_TOKENS + 1) + item.origin;
  }

  private add(set: EarleySet, item: Item): void {
    const key = this.key(item);
    if (set.keys.has(key)) return;
    set.keys.add(key);
    set.items.push(item);
  }

  /** Runs prediction and completion on set `i` until nothing changes. */
  private close(chart: EarleySet[], i: number): void {
    const set = chart[i]!;
    const { nonterminals } = this.cfg;
    for (let n = 0; n < set.items.length; n++) {
      const item = set.items[n]!;
      const { production, dot, origin } = item;
      if (dot === production.rhs.length) {
        let done = set.completed.get(production.lhs);
        if (done === undefined) set.completed.set(production.lhs, (done = []));
        done.push(item);
        for (const parent of chart[origin]!.waiting.get(production.lhs) ?? []) {
          this.add(set, { production: parent.production, dot: parent.dot + 1, origin: parent.origin });
        }
        continue;
      }
      const symbol = production.rhs[dot]!;
      switch (symbol.kind) {
        case 'tag':
          this.add(set, { production, dot: dot + 1, origin });
          break;
        case 'word': {
          let list = set.scanWords.get(symbol.text);
          if (list === undefined) set.scanWords.set(symbol.text, (list = []));
          list.push(item);
          break;
        }
        case 'any':
          set.scanAny.push(item);
          break;
        case 'nt': {
          let list = set.waiting.get(symbol.id);
          if (list === undefined) set.waiting.set(symbol.id, (list = []));
          list.push(item);
          const target = nonterminals[symbol.id]!;
          if (target.nullable) this.add(set, { production, dot: dot + 1, origin });
          if (!set.predicted.has(symbol.id)) {
            set.predicted.add(symbol.id);
            for (const p of target.productions) if (p.live) this.add(set, { production: p, dot: 0, origin: i });
          }
          break;
        }
      }
    }
  }

  private initialSet(): EarleySet {
    if (this.firstSet === undefined) {
      const chart = [newSet()];
      for (const p of this.cfg.nonterminals[this.cfg.start]!.productions) if (p.live) this.add(chart[0]!, { production: p, dot: 0, origin: 0 });
      this.close(chart, 0);
      this.firstSet = chart[0]!;
    }
    return this.firstSet;
  }

  recognise(tokens: readonly string[]): Recognition {
    if (tokens.length > MAX_TOKENS) return { complete: false, extendable: false };
    const chart: EarleySet[] = [this.initialSet()];
    for (let i = 0; i < tokens.length; i++) {
      const current = chart[i]!;
      const next = newSet();
      chart.push(next);
      for (const item of current.scanWords.get(tokens[i]!) ?? []) this.add(next, { production: item.production, dot: item.dot + 1, origin: item.origin });
      for (const item of current.scanAny) this.add(next, { production: item.production, dot: item.dot + 1, origin: item.origin });
      if (next.items.length === 0) return { complete: false, extendable: false };
      this.close(chart, i + 1);
    }
    const last = chart[tokens.length]!;
    const complete = (last.completed.get(this.cfg.start) ?? []).some((item) => item.origin === 0);
    const extendable = last.scanWords.size > 0 || last.scanAny.length > 0;
    return { complete, extendable, chart };
  }

  /** The highest-weight parse of the whole input (call only when recognise() said complete). */
  bestParse(tokens: readonly string[], chart: EarleySet[]): RuleNode | undefined {
    return new TreeBuilder(this.cfg, tokens, chart).root();
  }
}

/**
 * A derivation as back-pointers: `left` covers the symbols before `item` in the same
 * production, `item` is a parse event or the derivation of a nonterminal. Sharing sub-derivations
 * keeps extraction linear; the events are flattened once, for the chosen tree only.
 */
interface Derivation {
  score: number;
  left: Derivation | null;
  item: ParseEvent | Derivation | null;
  /** set when this derivation is a grammar rule's: it becomes a RuleNode */
  rule?: { key: string; id: string };
}

const EMPTY: Derivation = { score: 0, left: null, item: null };

function isDerivation(item: ParseEvent | Derivation): item is Derivation {
  return 'score' in item;
}

/** The events of one rule's derivation, in token order; nested rules become RuleNodes. */
function flatten(derivation: Derivation): ParseEvent[] {
  const events: ParseEvent[] = [];
  const stack: Array<ParseEvent | Derivation> = [derivation];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    if (!isDerivation(top)) {
      events.push(top);
    } else if (top.rule !== undefined && top !== derivation) {
      events.push({ rule: { key: top.rule.key, id: top.rule.id, events: flatten(top) } });
    } else {
      // push the chain's items so that the first one is popped first
      for (let link: Derivation | null = top; link !== null; link = link.left) if (link.item !== null) stack.push(link.item);
    }
  }
  return events;
}

class TreeBuilder {
  private readonly span: number;
  private readonly ntMemo = new Map<number, Derivation | null>();
  private readonly prefixMemo = new Map<number, Derivation | null>();
  private readonly active = new Set<number>();

  constructor(private readonly cfg: Cfg, private readonly tokens: readonly string[], private readonly chart: EarleySet[]) {
    this.span = tokens.length + 1;
  }

  root(): RuleNode | undefined {
    const start = this.nonterminal(this.cfg.start, 0, this.tokens.length);
    if (start === null) return undefined;
    const events = flatten(start);
    const first = events[0];
    return first !== undefined && 'rule' in first ? first.rule : undefined;
  }

  /** The best derivation of nonterminal `nt` over tokens [from, to). */
  private nonterminal(nt: number, from: number, to: number): Derivation | null {
    const memoKey = (nt * this.span + from) * this.span + to;
    const memo = this.ntMemo.get(memoKey);
    if (memo !== undefined) return memo;
    if (this.active.has(memoKey)) return null;
    this.active.add(memoKey);
    let best: Derivation | null = null;
    for (const item of this.chart[to]!.completed.get(nt) ?? []) {
      if (item.origin !== from) continue;
      const body = this.prefix(item.production, item.production.rhs.length, from, to);
      if (body === null) continue;
      const score = body.score + item.production.logWeight;
      if (best === null || score > best.score) best = { score, left: null, item: body };
    }
    this.active.delete(memoKey);
    const rule = this.cfg.nonterminals[nt]!.rule;
    if (best !== null && rule !== undefined) best = { ...best, rule };
    this.ntMemo.set(memoKey, best);
    return best;
  }

  /**
   * The best derivation of the first `length` symbols of `production` over [from, to), found
   * right to left: the last symbol's start positions come from the chart, not from a scan.
   */
  private prefix(production: Production, length: number, from: number, to: number): Derivation | null {
    if (length === 0) return from === to ? EMPTY : null;
    const memoKey = ((production.index * (this.cfg.maxRhs + 1) + length) * this.span + from) * this.span + to;
    const memo = this.prefixMemo.get(memoKey);
    if (memo !== undefined) return memo;
    const symbol = production.rhs[length - 1]!;
    let best: Derivation | null = null;
    const consider = (mid: number, item: ParseEvent | Derivation, itemScore: number): void => {
      const left = this.prefix(production, length - 1, from, mid);
      if (left === null) return;
      const score = left.score + itemScore;
      if (best === null || score > best.score) best = { score, left, item };
    };
    switch (symbol.kind) {
      case 'tag':
        consider(to, { tag: symbol.text }, 0);
        break;
      case 'word':
        if (to > from && this.tokens[to - 1] === symbol.text) consider(to - 1, { word: symbol.text }, 0);
        break;
      case 'any':
        if (to > from) consider(to - 1, { word: this.tokens[to - 1]! }, 0);
        break;
      case 'nt': {
        const starts = new Set<number>();
        for (const item of this.chart[to]!.completed.get(symbol.id) ?? []) if (item.origin >= from) starts.add(item.origin);
        for (const mid of starts) {
          const sub = this.nonterminal(symbol.id, mid, to);
          if (sub !== null) consider(mid, sub, sub.score);
        }
        break;
      }
    }
    this.prefixMemo.set(memoKey, best);
    return best;
  }
}
