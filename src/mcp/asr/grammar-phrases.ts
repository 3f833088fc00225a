/**
 * The phrases a rule tree can say, for recognisers that take hints rather than grammars
 * (Google speech contexts): every token text reachable from the root, once each.
 */
import type { Expansion, Grammar, RuleSet } from '../grammar/types.js';

/** Google accepts at most 5000 phrases of at most 100 characters per request */
const MAX_PHRASES = 5000;
const MAX_PHRASE_LENGTH = 100;

export function collectPhrases(rules: RuleSet, limit = MAX_PHRASES): string[] {
  const phrases = new Set<string>();
  const visited = new Set<string>();
  const walk = (e: Expansion): void => {
    if (phrases.size >= limit) return;
    switch (e.kind) {
      case 'token': {
        const text = e.text.trim().replace(/\s+/g, ' ');
        if (text.length > 0 && text.length <= MAX_PHRASE_LENGTH) phrases.add(text);
        return;
      }
      case 'tag':
        return;
      case 'ruleref': {
        if (e.special !== undefined || visited.has(e.rule)) return;
        visited.add(e.rule);
        const rule = rules.rules.get(e.rule);
        if (rule !== undefined) walk(rule.expansion);
        return;
      }
      case 'sequence':
        e.items.forEach(walk);
        return;
      case 'alternatives':
        e.items.forEach((i) => walk(i.expansion));
        return;
      case 'repeat':
        walk(e.expansion);
        return;
    }
  };
  walk({ kind: 'ruleref', rule: rules.root });
  return [...phrases];
}

/** the phrases of every voice grammar with a rule tree */
export function collectGrammarPhrases(grammars: readonly Grammar[], limit = MAX_PHRASES): string[] {
  const all = new Set<string>();
  for (const g of grammars) {
    if (g.mode !== 'voice' || g.rules === undefined) continue;
    for (const p of collectPhrases(g.rules, limit - all.size)) all.add(p);
    if (all.size >= limit) break;
  }
  return [...all];
}
