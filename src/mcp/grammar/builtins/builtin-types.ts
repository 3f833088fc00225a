/** What one builtin recogniser says about a token sequence (normalised words or DTMF keys). */
export interface BuiltinVerdict {
  status: 'complete' | 'prefix' | 'nomatch';
  canExtend: boolean;
  value?: unknown;
}

export type BuiltinParameters = ReadonlyMap<string, string>;

export interface BuiltinRecogniser {
  /** the words the voice form may use, for ASR vocabularies (undefined for DTMF) */
  vocabulary?: readonly string[];
  recognise(tokens: readonly string[]): BuiltinVerdict;
}

export const NOMATCH: BuiltinVerdict = { status: 'nomatch', canExtend: false };

/** For voice: a sentence that does not parse is a prefix when every word belongs to the vocabulary. */
export function voiceFallback(tokens: readonly string[], vocabulary: ReadonlySet<string>): BuiltinVerdict {
  return tokens.every((t) => vocabulary.has(t) || /^\d+$/.test(t)) ? { status: 'prefix', canExtend: true } : NOMATCH;
}
