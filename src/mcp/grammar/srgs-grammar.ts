import { compileCfg } from './cfg.js';
import { EarleyMatcher, type RuleNode } from './earley.js';
import { GrammarError } from './grammar-error.js';
import { interpret } from './sisr.js';
import { normaliseDtmfTokens, normaliseVoiceTokens } from './tokens.js';
import type { Grammar, GrammarMatch, GrammarMode, RuleSet } from './types.js';

/** A loaded SRGS grammar: the rule tree compiled once, matched by Earley, interpreted by SISR. */
export class SrgsGrammar implements Grammar {
  readonly mode: GrammarMode;
  readonly id: string;
  readonly weight: number;
  readonly rules: RuleSet;
  private readonly headerTags: readonly string[];
  private readonly matcher: EarleyMatcher;

  constructor(options: { id: string; weight: number; rules: RuleSet; headerTags?: readonly string[] }) {
    this.id = options.id;
    this.weight = options.weight;
    this.rules = options.rules;
    this.mode = options.rules.mode;
    this.headerTags = options.headerTags ?? [];
    this.matcher = new EarleyMatcher(compileCfg(options.rules, options.id));
  }

  async match(tokens: readonly string[], confidence = 1): Promise<GrammarMatch> {
    const words = this.mode === 'dtmf' ? normaliseDtmfTokens(tokens) : normaliseVoiceTokens(tokens);
    const separator = this.mode === 'dtmf' ? '' : ' ';
    const utterance = words.join(separator);
    const recognition = this.matcher.recognise(words);
    if (!recognition.complete) {
      return { status: recognition.extendable ? 'prefix' : 'nomatch', canExtend: recognition.extendable, utterance, confidence: 0 };
    }
    const result: GrammarMatch = { status: 'complete', canExtend: recognition.extendable, utterance, confidence, interpretation: utterance };
    if (this.matcher.cfg.hasTags || this.headerTags.length > 0) {
      let tree: RuleNode | undefined;
      try {
        tree = this.matcher.bestParse(words, recognition.chart!);
      } catch (err) {
        // only a parse thousands of tokens deep exhausts the stack
        throw new GrammarError(`cannot interpret ${words.length} tokens: ${err instanceof Error ? err.message : String(err)}`, { grammarId: this.id, cause: err });
      }
      if (tree !== undefined) {
        result.interpretation = await interpret(tree, { format: this.rules.tagFormat, headerTags: this.headerTags, separator, grammarId: this.id });
      }
    }
    return result;
  }
}
