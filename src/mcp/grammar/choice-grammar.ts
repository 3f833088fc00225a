import { stableToken } from '../../lib/index.js';
import { GrammarError } from './grammar-error.js';
import { normaliseDtmfTokens, normaliseTokens, normaliseVoiceTokens, splitDtmfKeys } from './tokens.js';
import type { Expansion, Grammar, GrammarMatch, GrammarMode, RuleSet } from './types.js';

/**
 * The grammar of VoiceXML <option> lists and menu <choice>s (VoiceXML 2.0 §2.2.1, §2.3.1.3):
 * a choice's phrase (voice) or DTMF sequence yields its value. With accept="approximate" any
 * ordered subsequence of the phrase's words matches ("san francisco" for "san francisco
 * california"); an exact match wins over an approximate one, then the longer one.
 */

interface Choice {
  sequence: string[];
  value: string;
}

class ChoiceGrammar implements Grammar {
  readonly weight = 1;
  readonly rules: RuleSet;

  constructor(
    readonly id: string,
    readonly mode: GrammarMode,
    private readonly choices: readonly Choice[],
    private readonly approximate: boolean,
  ) {
    this.rules = choiceRules(choices, mode, approximate);
  }

  match(tokens: readonly string[], confidence = 1): Promise<GrammarMatch> {
    const words = this.mode === 'dtmf' ? normaliseDtmfTokens(tokens) : normaliseVoiceTokens(tokens);
    const utterance = words.join(this.mode === 'dtmf' ? '' : ' ');
    let best: { choice: Choice; coverage: number } | undefined;
    let canExtend = false;
    for (const choice of this.choices) {
      const end = this.approximate ? subsequenceEnd(words, choice.sequence) : prefixEnd(words, choice.sequence);
      if (end === undefined) continue;
      // more words can follow when the match has not used the whole phrase yet
      if (end < choice.sequence.length) canExtend = true;
      const exact = words.length === choice.sequence.length && end === choice.sequence.length;
      if (!exact && !(this.approximate && words.length > 0)) continue;
      const coverage = words.length / choice.sequence.length;
      if (best === undefined || coverage > best.coverage) best = { choice, coverage };
    }
    if (best === undefined) {
      return Promise.resolve({ status: canExtend ? 'prefix' : 'nomatch', canExtend, utterance, confidence: 0 });
    }
    return Promise.resolve({
      status: 'complete',
      canExtend,
      utterance,
      confidence: confidence * best.coverage,
      interpretation: best.choice.value,
    });
  }
}

/** Where `words` ends as a prefix of `sequence`, or undefined. */
function prefixEnd(words: readonly string[], sequence: readonly string[]): number | undefined {
  if (words.length > sequence.length) return undefined;
  return words.every((w, i) => w === sequence[i]) ? words.length : undefined;
}

/** Where `words` ends when matched greedily as an ordered subsequence of `sequence`, or undefined. */
function subsequenceEnd(words: readonly string[], sequence: readonly string[]): number | undefined {
  let at = 0;
  for (const word of words) {
    while (at < sequence.length && sequence[at] !== word) at++;
    if (at === sequence.length) return undefined;
    at++;
  }
  return at;
}

function choiceRules(choices: readonly Choice[], mode: GrammarMode, approximate: boolean): RuleSet {
  const items = choices.map((choice) => {
    const tokens: Expansion[] = choice.sequence.map((text) => ({ kind: 'token', text }));
    const body: Expansion[] = approximate && mode === 'voice' ? tokens.map((t) => ({ kind: 'repeat', min: 0, max: 1, expansion: t })) : tokens;
    return {
      expansion: { kind: 'sequence' as const, items: [...body, { kind: 'tag' as const, text: JSON.stringify(choice.value) }] },
      weight: 1,
    };
  });
  const expansion: Expansion = { kind: 'alternatives', items };
  return {
    mode,
    root: 'choices',
    rules: new Map([['choices', { key: 'choices', id: 'choices', scope: 'public' as const, expansion }]]),
    tagFormat: 'semantics/1.0-literals',
  };
}

export function choiceGrammar(
  choices: ReadonlyArray<{ phrase?: string; dtmf?: string; value: string }>,
  mode: GrammarMode,
  accept: 'exact' | 'approximate',
): Grammar {
  const id = `choice:${stableToken(JSON.stringify([mode, accept, choices]))}`;
  const list: Choice[] = [];
  for (const choice of choices) {
    if (mode === 'dtmf') {
      if (choice.dtmf === undefined || choice.dtmf.trim() === '') continue;
      const keys = splitDtmfKeys(choice.dtmf);
      if (keys === undefined || keys.length === 0) throw new GrammarError(`"${choice.dtmf}" is not a DTMF sequence`, { grammarId: id });
      list.push({ sequence: keys, value: choice.value });
    } else {
      if (choice.phrase === undefined) continue;
      const words = normaliseTokens(choice.phrase);
      if (words.length > 0) list.push({ sequence: words, value: choice.value });
    }
  }
  return new ChoiceGrammar(id, mode, list, accept === 'approximate' && mode === 'voice');
}
