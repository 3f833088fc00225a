import { GrammarError } from './grammar-error.js';
import { normaliseTokens, splitDtmfKeys } from './tokens.js';
import type { Expansion, RuleSet } from './types.js';

/**
 * The rule tree flattened into a context-free grammar for the Earley matcher: every rule and
 * every alternatives/repeat node becomes a nonterminal; tokens become word symbols (one per
 * word or key); tags are symbols that consume nothing; GARBAGE is "any token, zero or more
 * times"; VOID is a nonterminal with no production.
 */

export type CfgSymbol =
  | { kind: 'nt'; id: number }
  | { kind: 'word'; text: string }
  | { kind: 'any' }
  | { kind: 'tag'; text: string };

export interface Production {
  index: number;
  lhs: number;
  rhs: CfgSymbol[];
  /** log of the alternative's normalised weight (0 for plain sequences) */
  logWeight: number;
  /** false when a symbol can never derive a token string (VOID inside): never predicted */
  live: boolean;
}

export interface Nonterminal {
  id: number;
  /** set for the nonterminal of a grammar rule */
  rule?: { key: string; id: string };
  productions: Production[];
  nullable: boolean;
  productive: boolean;
}

export interface Cfg {
  nonterminals: Nonterminal[];
  productions: Production[];
  start: number;
  maxRhs: number;
  hasTags: boolean;
}

/** Bounds that keep a hostile grammar from compiling into millions of symbols. */
const MAX_REPEAT_BOUND = 1000;
const MAX_PRODUCTIONS = 200_000;
/** each token GARBAGE swallows costs this much, so real tokens win ties */
const GARBAGE_LOG_WEIGHT = Math.log(0.5);

class CfgBuilder {
  readonly nonterminals: Nonterminal[] = [];
  readonly productions: Production[] = [];
  private readonly ruleNts = new Map<string, number>();
  private garbageNt: number | undefined;
  private voidNt: number | undefined;
  hasTags = false;

  constructor(private readonly ruleSet: RuleSet, private readonly grammarId: string) {}

  newNt(rule?: { key: string; id: string }): number {
    const id = this.nonterminals.length;
    this.nonterminals.push({ id, ...(rule !== undefined ? { rule } : {}), productions: [], nullable: false, productive: false });
    return id;
  }

  addProduction(lhs: number, rhs: CfgSymbol[], logWeight = 0): void {
    if (this.productions.length >= MAX_PRODUCTIONS) throw new GrammarError('grammar too large to compile', { grammarId: this.grammarId });
    const production: Production = { index: this.productions.length, lhs, rhs, logWeight, live: true };
    this.productions.push(production);
    this.nonterminals[lhs]!.productions.push(production);
  }

  ruleNt(key: string): number {
    const existing = this.ruleNts.get(key);
    if (existing !== undefined) return existing;
    const rule = this.ruleSet.rules.get(key);
    if (rule === undefined) throw new GrammarError(`unknown rule "${key}"`, { grammarId: this.grammarId });
    const nt = this.newNt({ key, id: rule.id });
    this.ruleNts.set(key, nt);
    this.addProduction(nt, this.symbols(rule.expansion));
    return nt;
  }

  private garbage(): number {
    if (this.garbageNt === undefined) {
      const nt = this.newNt();
      this.garbageNt = nt;
      this.addProduction(nt, []);
      this.addProduction(nt, [{ kind: 'nt', id: nt }, { kind: 'any' }], GARBAGE_LOG_WEIGHT);
    }
    return this.garbageNt;
  }

  private void(): number {
    this.voidNt ??= this.newNt();
    return this.voidNt;
  }

  private tokenSymbols(text: string): CfgSymbol[] {
    if (this.ruleSet.mode === 'dtmf') {
      const keys = splitDtmfKeys(text);
      if (keys === undefined) throw new GrammarError(`"${text}" is not a DTMF key sequence`, { grammarId: this.grammarId });
      return keys.map((key) => ({ kind: 'word', text: key }));
    }
    return normaliseTokens(text).map((word) => ({ kind: 'word', text: word }));
  }

  symbols(expansion: Expansion): CfgSymbol[] {
    switch (expansion.kind) {
      case 'token':
        return this.tokenSymbols(expansion.text);
      case 'tag':
        this.hasTags = true;
        return [{ kind: 'tag', text: expansion.text }];
      case 'ruleref':
        if (expansion.special === 'NULL') return [];
        if (expansion.special === 'VOID') return [{ kind: 'nt', id: this.void() }];
        if (expansion.special === 'GARBAGE') return [{ kind: 'nt', id: this.garbage() }];
        return [{ kind: 'nt', id: this.ruleNt(expansion.rule) }];
      case 'sequence':
        return expansion.items.flatMap((item) => this.symbols(item));
      case 'alternatives': {
        if (expansion.items.length === 1) return this.symbols(expansion.items[0]!.expansion);
        const nt = this.newNt();
        const total = expansion.items.reduce((sum, item) => sum + item.weight, 0);
        for (const item of expansion.items) {
          const share = total > 0 ? item.weight / total : 1 / expansion.items.length;
          this.addProduction(nt, this.symbols(item.expansion), Math.log(Math.max(share, 1e-12)));
        }
        return [{ kind: 'nt', id: nt }];
      }
      case 'repeat':
        return this.repeat(expansion);
    }
  }

  private repeat(expansion: Extract<Expansion, { kind: 'repeat' }>): CfgSymbol[] {
    const { min, max } = expansion;
    if (min > MAX_REPEAT_BOUND || (max !== Infinity && max > MAX_REPEAT_BOUND)) {
      throw new GrammarError(`repeat bound ${max === Infinity ? min : max} is above ${MAX_REPEAT_BOUND}`, { grammarId: this.grammarId });
    }
    if (min === 1 && max === 1) return this.symbols(expansion.expansion);
    if (max === 0) return [];
    const inner = this.symbols(expansion.expansion);
    let unit: CfgSymbol;
    if (inner.length === 1 && inner[0]!.kind !== 'tag') {
      unit = inner[0]!;
    } else {
      const nt = this.newNt();
      this.addProduction(nt, inner);
      unit = { kind: 'nt', id: nt };
    }
    const out: CfgSymbol[] = [];
    for (let i = 0; i < min; i++) out.push(unit);
    if (max === Infinity) {
      // star: S -> ε | S unit (left recursion is cheap for Earley)
      const star = this.newNt();
      this.addProduction(star, []);
      this.addProduction(star, [{ kind: 'nt', id: star }, unit]);
      out.push({ kind: 'nt', id: star });
    } else if (max > min) {
      // optional chain: O_k -> ε | unit O_(k-1)
      let next: number | undefined;
      for (let k = 1; k <= max - min; k++) {
        const nt = this.newNt();
        this.addProduction(nt, []);
        this.addProduction(nt, next === undefined ? [unit] : [unit, { kind: 'nt', id: next }]);
        next = nt;
      }
      out.push({ kind: 'nt', id: next! });
    }
    return out;
  }
}

function analyse(cfg: Cfg): void {
  const { nonterminals, productions } = cfg;
  const symbolNullable = (s: CfgSymbol): boolean => s.kind === 'tag' || (s.kind === 'nt' && nonterminals[s.id]!.nullable);
  const symbolProductive = (s: CfgSymbol): boolean => s.kind !== 'nt' || nonterminals[s.id]!.productive;
  for (let changed = true; changed; ) {
    changed = false;
    for (const p of productions) {
      const lhs = nonterminals[p.lhs]!;
      if (!lhs.nullable && p.rhs.every(symbolNullable)) {
        lhs.nullable = true;
        changed = true;
      }
      if (!lhs.productive && p.rhs.every(symbolProductive)) {
        lhs.productive = true;
        changed = true;
      }
    }
  }
  for (const p of productions) p.live = p.rhs.every(symbolProductive);
}

export function compileCfg(ruleSet: RuleSet, grammarId: string): Cfg {
  const builder = new CfgBuilder(ruleSet, grammarId);
  const start = builder.newNt();
  builder.addProduction(start, [{ kind: 'nt', id: builder.ruleNt(ruleSet.root) }]);
  const productions = builder.productions;
  const cfg: Cfg = {
    nonterminals: builder.nonterminals,
    productions,
    start,
    maxRhs: productions.reduce((max, p) => Math.max(max, p.rhs.length), 0),
    hasTags: builder.hasTags,
  };
  analyse(cfg);
  return cfg;
}
