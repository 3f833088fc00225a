/** Hand-built SRGS rule trees for the ASR tests (the grammar parser is not needed). */
import type { Expansion, GrammarRule, RuleSet } from '../../../../src/mcp/grammar/types.js';

export const tok = (text: string): Expansion => ({ kind: 'token', text });
export const ref = (rule: string): Expansion => ({ kind: 'ruleref', rule });
export const special = (name: 'NULL' | 'VOID' | 'GARBAGE'): Expansion => ({ kind: 'ruleref', rule: name, special: name });
export const seq = (...items: Expansion[]): Expansion => ({ kind: 'sequence', items });
export const alt = (...items: Array<Expansion | [Expansion, number]>): Expansion => ({
  kind: 'alternatives',
  items: items.map((i) => (Array.isArray(i) ? { expansion: i[0], weight: i[1] } : { expansion: i, weight: 1 })),
});
export const rep = (min: number, max: number, expansion: Expansion): Expansion => ({ kind: 'repeat', min, max, expansion });
export const tag = (text: string): Expansion => ({ kind: 'tag', text });

/** rules: key → expansion; the id is the part after '#' for external keys */
export function ruleSet(root: string, rules: Record<string, Expansion>): RuleSet {
  const map = new Map<string, GrammarRule>();
  for (const [key, expansion] of Object.entries(rules)) {
    const id = key.includes('#') ? key.slice(key.indexOf('#') + 1) : key;
    map.set(key, { key, id, scope: key === root ? 'public' : 'private', expansion });
  }
  return { mode: 'voice', root, rules: map, tagFormat: 'semantics/1.0' };
}

export const CITIES = ['chicago', 'san francisco', 'new york', 'london', 'tokyo', 'yes', 'no', 'one two three'];

export function citiesRuleSet(): RuleSet {
  return ruleSet('city', { city: alt(...CITIES.map((c) => seq(tok(c), tag(`out='${c}';`)))) });
}
