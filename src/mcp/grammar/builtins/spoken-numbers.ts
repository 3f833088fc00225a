/**
 * Spoken English numbers for the voice builtins (VoiceXML 2.0 Appendix P): cardinals such as
 * "one hundred and twenty three", digit strings such as "four oh two", ordinals for dates.
 */

export const DIGIT_WORDS: ReadonlyMap<string, number> = new Map([
  ['zero', 0], ['oh', 0], ['o', 0], ['nought', 0], ['one', 1], ['two', 2], ['three', 3], ['four', 4],
  ['five', 5], ['six', 6], ['seven', 7], ['eight', 8], ['nine', 9],
]);

const TEENS: ReadonlyMap<string, number> = new Map([
  ['ten', 10], ['eleven', 11], ['twelve', 12], ['thirteen', 13], ['fourteen', 14], ['fifteen', 15],
  ['sixteen', 16], ['seventeen', 17], ['eighteen', 18], ['nineteen', 19],
]);

const TENS: ReadonlyMap<string, number> = new Map([
  ['twenty', 20], ['thirty', 30], ['forty', 40], ['fourty', 40], ['fifty', 50], ['sixty', 60],
  ['seventy', 70], ['eighty', 80], ['ninety', 90],
]);

const SCALES: ReadonlyMap<string, number> = new Map([['thousand', 1e3], ['million', 1e6], ['billion', 1e9]]);

const ORDINALS: ReadonlyMap<string, number> = new Map([
  ['first', 1], ['second', 2], ['third', 3], ['fourth', 4], ['fifth', 5], ['sixth', 6], ['seventh', 7],
  ['eighth', 8], ['ninth', 9], ['tenth', 10], ['eleventh', 11], ['twelfth', 12], ['thirteenth', 13],
  ['fourteenth', 14], ['fifteenth', 15], ['sixteenth', 16], ['seventeenth', 17], ['eighteenth', 18],
  ['nineteenth', 19], ['twentieth', 20], ['thirtieth', 30],
]);

/** Every word a spoken cardinal may use. */
export const NUMBER_WORDS: ReadonlySet<string> = new Set([
  ...DIGIT_WORDS.keys(), ...TEENS.keys(), ...TENS.keys(), ...SCALES.keys(), 'hundred', 'a', 'and',
]);

export const ORDINAL_WORDS: ReadonlySet<string> = new Set(ORDINALS.keys());

/** "3", "42", "1st" written as digits by some recognisers. */
function numeral(word: string): number | undefined {
  return /^\d+$/.test(word) ? Number(word) : undefined;
}

/**
 * Parses a spoken cardinal ("one hundred and twenty three", "twenty", "4 2") into an integer.
 * A run of single digit words ("one two three") reads as the digit string 123.
 */
export function parseCardinal(words: readonly string[]): number | undefined {
  if (words.length === 0) return undefined;
  if (words.length > 1 && words.every((w) => DIGIT_WORDS.has(w) || /^\d$/.test(w))) {
    return Number(words.map((w) => DIGIT_WORDS.get(w) ?? Number(w)).join(''));
  }
  let total = 0;
  let current = 0;
  /** what the previous word was, to refuse "twenty twenty" style runs inside one group */
  let last: 'none' | 'unit' | 'teen' | 'tens' | 'hundred' | 'scale' | 'and' | 'a' = 'none';
  for (const word of words) {
    const digit = DIGIT_WORDS.get(word);
    const teen = TEENS.get(word);
    const tens = TENS.get(word);
    const scale = SCALES.get(word);
    const written = numeral(word);
    if (written !== undefined) {
      if (last === 'unit' || last === 'teen' || last === 'tens' && written > 9) return undefined;
      current += written;
      last = 'unit';
    } else if (digit !== undefined) {
      if (last === 'unit' || last === 'teen') return undefined;
      current += digit;
      last = 'unit';
    } else if (teen !== undefined) {
      if (last === 'unit' || last === 'teen' || last === 'tens') return undefined;
      current += teen;
      last = 'teen';
    } else if (tens !== undefined) {
      if (last === 'unit' || last === 'teen' || last === 'tens') return undefined;
      current += tens;
      last = 'tens';
    } else if (word === 'hundred') {
      if (last === 'hundred' || current % 100 >= 10 && current >= 100) return undefined;
      current = (current === 0 ? 1 : current) * 100;
      last = 'hundred';
    } else if (scale !== undefined) {
      if (last === 'scale' || last === 'and') return undefined;
      total += (current === 0 ? 1 : current) * scale;
      current = 0;
      last = 'scale';
    } else if (word === 'and') {
      if (last !== 'hundred' && last !== 'scale') return undefined;
      last = 'and';
    } else if (word === 'a') {
      if (last !== 'none' && last !== 'scale' && last !== 'and') return undefined;
      current += 1;
      last = 'a';
    } else {
      return undefined;
    }
  }
  if (last === 'and' || last === 'a') return undefined;
  return total + current;
}

/** Spoken digits after "point": each a digit word (or a written digit). */
export function parseDigitRun(words: readonly string[]): string | undefined {
  let out = '';
  for (const word of words) {
    const digit = DIGIT_WORDS.get(word);
    if (digit !== undefined) out += String(digit);
    else if (/^\d+$/.test(word)) out += word;
    else return undefined;
  }
  return out === '' ? undefined : out;
}

/** An ordinal or cardinal day such as "fifth", "twenty first", "twenty one", "21st". */
export function parseOrdinal(words: readonly string[]): number | undefined {
  if (words.length === 0) return undefined;
  const lastWord = words[words.length - 1]!;
  const suffixed = /^(\d+)(st|nd|rd|th)$/.exec(lastWord);
  if (suffixed !== null && words.length === 1) return Number(suffixed[1]);
  const ordinal = ORDINALS.get(lastWord);
  if (ordinal !== undefined) {
    if (words.length === 1) return ordinal;
    const head = parseCardinal(words.slice(0, -1));
    return head !== undefined && head % 10 === 0 && head >= 20 && ordinal < 10 ? head + ordinal : undefined;
  }
  return parseCardinal(words);
}
