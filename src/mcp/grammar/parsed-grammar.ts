import type { Expansion, GrammarMode } from './types.js';

/**
 * One grammar document as parsed, before its references are resolved. Rulerefs hold the raw
 * reference: `#id` (local), `uri#id` or `uri` (external, root rule).
 */
export interface ParsedRule {
  id: string;
  scope: 'public' | 'private';
  expansion: Expansion;
  line?: number;
}

export interface ParsedGrammar {
  mode?: GrammarMode;
  root?: string;
  /** the tag-format as written, e.g. semantics/1.0 */
  tagFormat?: string;
  language?: string;
  /** xml:base / ABNF base declaration */
  base?: string;
  rules: Map<string, ParsedRule>;
  /** grammar-level tags (SISR §3.3 "global" script), run once before the root rule */
  headerTags: string[];
}

/** A reference to a special rule (SRGS §2.2.3) in either form. */
export function specialRef(name: string): Expansion | undefined {
  if (name === 'NULL' || name === 'VOID' || name === 'GARBAGE') return { kind: 'ruleref', rule: '', special: name };
  return undefined;
}

const REPEAT = /^\s*(\d+)\s*(?:(-)\s*(\d+)?)?\s*$/;

/** Parses an SRGS repeat "n", "n-", "n-m" (§2.5); undefined when malformed or max < min. */
export function parseRepeat(text: string): { min: number; max: number } | undefined {
  const m = REPEAT.exec(text);
  if (m === null) return undefined;
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : m[3] === undefined ? Infinity : Number(m[3]);
  if (!Number.isSafeInteger(min) || (max !== Infinity && !Number.isSafeInteger(max)) || max < min) return undefined;
  return { min, max };
}
