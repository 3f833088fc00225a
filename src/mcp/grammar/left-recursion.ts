import { GrammarError } from './grammar-error.js';
import type { Expansion, RuleSet } from './types.js';

/**
 * Refuses left-recursive grammars (SRGS §2.2.1: "a rule may not directly or indirectly refer
 * to itself at its left edge"), counting rules that can match nothing (nullable prefixes).
 */
export function checkLeftRecursion(rules: RuleSet, grammarId: string): void {
  const nullableRules = nullableRuleKeys(rules);
  const edges = new Map<string, Set<string>>();
  for (const rule of rules.rules.values()) {
    const left = new Set<string>();
    leftRefs(rule.expansion, nullableRules, left);
    edges.set(rule.key, left);
  }
  const state = new Map<string, 'active' | 'done'>();
  const visit = (key: string, path: string[]): void => {
    const seen = state.get(key);
    if (seen === 'done') return;
    if (seen === 'active') {
      const cycle = [...path.slice(path.indexOf(key)), key].join(' -> ');
      throw new GrammarError(`rule "${key}" is left-recursive (${cycle})`, { grammarId });
    }
    state.set(key, 'active');
    for (const next of edges.get(key) ?? []) visit(next, [...path, key]);
    state.set(key, 'done');
  };
  for (const key of edges.keys()) visit(key, []);
}

export function nullableRuleKeys(rules: RuleSet): Set<string> {
  const nullable = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const rule of rules.rules.values()) {
      if (!nullable.has(rule.key) && isNullable(rule.expansion, nullable)) {
        nullable.add(rule.key);
        changed = true;
      }
    }
  }
  return nullable;
}

export function isNullable(expansion: Expansion, nullableRules: ReadonlySet<string>): boolean {
  switch (expansion.kind) {
    case 'token':
      return false;
    case 'tag':
      return true;
    case 'ruleref':
      if (expansion.special === 'NULL' || expansion.special === 'GARBAGE') return true;
      if (expansion.special === 'VOID') return false;
      return nullableRules.has(expansion.rule);
    case 'sequence':
      return expansion.items.every((item) => isNullable(item, nullableRules));
    case 'alternatives':
      return expansion.items.some((item) => isNullable(item.expansion, nullableRules));
    case 'repeat':
      return expansion.min === 0 || isNullable(expansion.expansion, nullableRules);
  }
}

function leftRefs(expansion: Expansion, nullableRules: ReadonlySet<string>, out: Set<string>): void {
  switch (expansion.kind) {
    case 'ruleref':
      if (expansion.special === undefined) out.add(expansion.rule);
      return;
    case 'sequence':
      for (const item of expansion.items) {
        leftRefs(item, nullableRules, out);
        if (!isNullable(item, nullableRules)) return;
      }
      return;
    case 'alternatives':
      for (const item of expansion.items) leftRefs(item.expansion, nullableRules, out);
      return;
    case 'repeat':
      if (expansion.max > 0) leftRefs(expansion.expansion, nullableRules, out);
      return;
    default:
      return;
  }
}
