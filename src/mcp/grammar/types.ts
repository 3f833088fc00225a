/**
 * The grammar contract shared by the VoiceXML interpreter, every ASR path and the DTMF
 * collector: SRGS 1.0 rule trees (XML and ABNF forms parse to the same tree), SISR 1.0 tags,
 * builtin grammars, and one matcher that turns tokens into interpretations.
 */

export type GrammarMode = 'dtmf' | 'voice';

/** A rule expansion (SRGS 1.0 §2.3-2.8); the XML and ABNF forms both parse to this. */
export type Expansion =
  /** a word or quoted phrase token (voice), or one DTMF key 0-9 * # A-D (dtmf) */
  | { kind: 'token'; text: string }
  /** a reference: `rule` is a key of RuleSet.rules; NULL matches nothing, VOID never matches, GARBAGE any words */
  | { kind: 'ruleref'; rule: string; special?: 'NULL' | 'VOID' | 'GARBAGE' }
  | { kind: 'sequence'; items: Expansion[] }
  | { kind: 'alternatives'; items: Array<{ expansion: Expansion; weight: number }> }
  /** max may be Infinity; probability is the repeat-prob, when given */
  | { kind: 'repeat'; min: number; max: number; probability?: number; expansion: Expansion }
  /** a SISR tag: script (semantics/1.0) or a string literal (semantics/1.0-literals) */
  | { kind: 'tag'; text: string };

export interface GrammarRule {
  /** key in RuleSet.rules: the rule id, or `<absolute grammar uri>#<id>` for rules of external grammars */
  key: string;
  id: string;
  scope: 'public' | 'private';
  expansion: Expansion;
}

/** A parsed grammar with its external references resolved into one rule table. */
export interface RuleSet {
  mode: GrammarMode;
  /** key of the root rule */
  root: string;
  rules: Map<string, GrammarRule>;
  tagFormat: 'semantics/1.0' | 'semantics/1.0-literals' | 'none';
  language?: string;
}

/** How far a token sequence got against a grammar. */
export interface GrammarMatch {
  /**
   * complete: the tokens are a sentence of the grammar; prefix: not yet, but more tokens could
   * make one; nomatch: no continuation can
   */
  status: 'complete' | 'prefix' | 'nomatch';
  /** complete, and more tokens could still give a longer sentence (DTMF uses termtimeout then) */
  canExtend: boolean;
  /** the SISR result (JSON-compatible value) when complete; the utterance text when the grammar has no tags */
  interpretation?: unknown;
  /** the matched tokens joined by single spaces (DTMF: the keys with no separator) */
  utterance: string;
  /** 0..1: the recogniser's confidence times how well the tokens fit (1 for an exact match) */
  confidence: number;
}

/** An active, compiled grammar. Builtins implement match natively and may have no rule tree. */
export interface Grammar {
  readonly mode: GrammarMode;
  /** for logs and caches: the source URI, `builtin:...`, or `inline:<hash>` */
  readonly id: string;
  /** the grammar's weight attribute (VoiceXML <grammar weight>), 1 by default */
  readonly weight: number;
  /** the rule tree (absent for builtins whose language is not finite, such as digits of any length) */
  readonly rules?: RuleSet;
  /**
   * tokens: voice words as the recogniser wrote them (case and punctuation are normalised here),
   * or DTMF keys, one per token. confidence: the recogniser's own (1 for DTMF and text input).
   */
  match(tokens: readonly string[], confidence?: number): Promise<GrammarMatch>;
}

/** Where a grammar comes from: inline text (SRGS XML or ABNF) or a fetched document. */
export interface GrammarSource {
  text: string;
  /** application/srgs+xml, application/srgs, or undefined to sniff (XML starts with '<') */
  contentType?: string;
  /** absolute URI the text came from (or the document's URI for inline grammars): resolves relative rulerefs */
  baseUri?: string;
  /** mode when the grammar does not say (VoiceXML <grammar mode>) */
  mode?: GrammarMode;
  weight?: number;
}

export interface GrammarLoadOptions {
  /** fetches an external grammar (ruleref uri); rejects with an Error whose message names the URI and status */
  fetch?: (absoluteUri: string) => Promise<{ text: string; contentType?: string }>;
}
