import { GrammarError } from '../grammar-error.js';
import { normaliseDtmfTokens, normaliseVoiceTokens } from '../tokens.js';
import type { Grammar, GrammarMatch, GrammarMode, RuleSet } from '../types.js';
import type { BuiltinRecogniser } from './builtin-types.js';
import { dtmfBuiltin } from './dtmf-builtins.js';
import { voiceBuiltin } from './voice-builtins.js';

/**
 * VoiceXML 2.0 Appendix P builtin grammars: `builtin:dtmf/<type>`, `builtin:voice/<type>` and
 * `builtin:grammar/<type>` (the mode then comes from the caller), with parameters after `?`
 * separated by `;` (digits?minlength=3;maxlength=5, boolean?y=7;n=9).
 */
class BuiltinGrammar implements Grammar {
  readonly weight = 1;
  readonly rules?: RuleSet;

  constructor(readonly id: string, readonly mode: GrammarMode, private readonly recogniser: BuiltinRecogniser) {
    if (recogniser.vocabulary !== undefined) this.rules = vocabularyRules(recogniser.vocabulary, mode);
  }

  match(tokens: readonly string[], confidence = 1): Promise<GrammarMatch> {
    const words = this.mode === 'dtmf' ? normaliseDtmfTokens(tokens) : normaliseVoiceTokens(tokens);
    const utterance = words.join(this.mode === 'dtmf' ? '' : ' ');
    const verdict = this.recogniser.recognise(words);
    const match: GrammarMatch = { status: verdict.status, canExtend: verdict.canExtend, utterance, confidence: verdict.status === 'complete' ? confidence : 0 };
    if (verdict.status === 'complete') match.interpretation = verdict.value;
    return Promise.resolve(match);
  }
}

/**
 * An over-generating rule tree (any sequence of the builtin's words) so an ASR engine that takes
 * a grammar (JSGF) can listen for the builtin; the native recogniser then decides.
 */
function vocabularyRules(vocabulary: readonly string[], mode: GrammarMode): RuleSet {
  const words = [...new Set(vocabulary)].filter((w) => w.length > 1 || /[a-z0-9]/.test(w));
  const expansion = {
    kind: 'repeat' as const,
    min: 1,
    max: Infinity,
    expansion: { kind: 'alternatives' as const, items: words.map((text) => ({ expansion: { kind: 'token' as const, text }, weight: 1 })) },
  };
  return { mode, root: 'builtin', rules: new Map([['builtin', { key: 'builtin', id: 'builtin', scope: 'public' as const, expansion }]]), tagFormat: 'none' };
}

export function builtinGrammar(uri: string, mode: GrammarMode): Grammar {
  const m = /^builtin:(dtmf|voice|grammar)\/([a-z]+)(?:\?(.*))?$/i.exec(uri.trim());
  if (m === null) throw new GrammarError('not a builtin grammar URI (builtin:dtmf/<type>, builtin:voice/<type>)', { grammarId: uri });
  const kind = m[1]!.toLowerCase();
  const actualMode: GrammarMode = kind === 'grammar' ? mode : (kind as GrammarMode);
  const type = m[2]!.toLowerCase();
  const params = new Map<string, string>();
  for (const part of (m[3] ?? '').split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new GrammarError(`bad builtin parameter "${part}"`, { grammarId: uri });
    params.set(part.slice(0, eq).trim().toLowerCase(), decodeURIComponent(part.slice(eq + 1).trim()));
  }
  const known = type === 'digits' ? ['minlength', 'maxlength', 'length'] : type === 'boolean' ? ['y', 'n'] : [];
  for (const name of params.keys()) {
    if (!known.includes(name)) throw new GrammarError(`builtin ${type} has no parameter "${name}"`, { grammarId: uri });
  }
  const recogniser = actualMode === 'dtmf' ? dtmfBuiltin(type, params, uri) : voiceBuiltin(type, params, uri);
  if (recogniser === undefined) throw new GrammarError(`unknown builtin grammar type "${type}"`, { grammarId: uri });
  return new BuiltinGrammar(uri, actualMode, recogniser);
}
