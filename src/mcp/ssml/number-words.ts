/**
 * English number words (US usage: no "and" after hundred), for say-as. Integers are handled as
 * digit strings, so amounts beyond 2^53 still read correctly (up to 10^24 - 1).
 */

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'] as const;
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'] as const;
const SCALES = ['', 'thousand', 'million', 'billion', 'trillion', 'quadrillion', 'quintillion', 'sextillion', 'septillion'] as const;

export const DIGIT_WORDS: readonly string[] = ONES.slice(0, 10);

/** 0..99 */
function underHundred(n: number): string {
  if (n < 20) return ONES[n] ?? '';
  const tens = TENS[Math.floor(n / 10)] ?? '';
  const ones = n % 10;
  return ones === 0 ? tens : `${tens}-${ONES[ones] ?? ''}`;
}

/** 0..999, empty for 0 */
function underThousand(n: number): string {
  const hundreds = Math.floor(n / 100);
  const rest = n % 100;
  const words: string[] = [];
  if (hundreds > 0) words.push(`${ONES[hundreds] ?? ''} hundred`);
  if (rest > 0) words.push(underHundred(rest));
  return words.join(' ');
}

/** Cardinal words of a non-negative integer written in digits; undefined when it is not one or too long. */
export function integerWords(digits: string): string | undefined {
  if (!/^\d+$/.test(digits)) return undefined;
  const trimmed = digits.replace(/^0+(?=\d)/, '');
  if (trimmed.length > SCALES.length * 3) return undefined;
  if (trimmed === '0') return 'zero';
  const groups: number[] = [];
  for (let end = trimmed.length; end > 0; end -= 3) groups.unshift(Number(trimmed.slice(Math.max(0, end - 3), end)));
  const words: string[] = [];
  groups.forEach((group, i) => {
    if (group === 0) return;
    const scale = SCALES[groups.length - 1 - i] ?? '';
    words.push(scale === '' ? underThousand(group) : `${underThousand(group)} ${scale}`);
  });
  return words.join(' ');
}

export function digitWords(digits: string): string {
  return [...digits].map((d) => DIGIT_WORDS[Number(d)] ?? d).join(' ');
}

/**
 * A decimal number: optional sign, optional thousands separators, optional fraction
 * ("-1,234.05" → "minus one thousand two hundred thirty-four point zero five").
 */
export function numberWords(text: string): string | undefined {
  const m = /^([+-])?(\d{1,3}(?:,\d{3})+|\d*)(?:\.(\d+))?$/.exec(text.trim());
  if (m === null) return undefined;
  const [, sign, whole = '', fraction] = m;
  if (whole === '' && fraction === undefined) return undefined;
  const words: string[] = [];
  if (sign === '-') words.push('minus');
  if (sign === '+') words.push('plus');
  const integer = integerWords(whole === '' ? '0' : whole.replace(/,/g, ''));
  if (integer === undefined) return undefined;
  words.push(integer);
  if (fraction !== undefined) words.push('point', digitWords(fraction));
  return words.join(' ');
}

const IRREGULAR_ORDINALS: Record<string, string> = {
  zero: 'zeroth', one: 'first', two: 'second', three: 'third', five: 'fifth', eight: 'eighth', nine: 'ninth', twelve: 'twelfth',
};

/** "twenty-one" → "twenty-first": only the last word changes. */
export function ordinalOfWords(cardinal: string): string {
  const m = /^(.*?)([a-z]+)$/.exec(cardinal);
  if (m === null) return cardinal;
  const [, head = '', last = ''] = m;
  const irregular = IRREGULAR_ORDINALS[last];
  if (irregular !== undefined) return head + irregular;
  if (last.endsWith('y')) return `${head}${last.slice(0, -1)}ieth`;
  return `${head}${last}th`;
}

/** "3", "3rd", "1,000th" → ordinal words; undefined when not an ordinal number. */
export function ordinalWords(text: string): string | undefined {
  const m = /^(\d{1,3}(?:,\d{3})+|\d+)(?:st|nd|rd|th)?\.?$/i.exec(text.trim());
  if (m?.[1] === undefined) return undefined;
  const cardinal = integerWords(m[1].replace(/,/g, ''));
  return cardinal === undefined ? undefined : ordinalOfWords(cardinal);
}

/** How English speakers say a year: 1999 "nineteen ninety-nine", 2005 "two thousand five", 2026 "twenty twenty-six", 1900 "nineteen hundred". */
export function yearWords(year: number): string {
  if (!Number.isInteger(year) || year < 0) return String(year);
  if (year < 1000 || year >= 10_000 || (year >= 2000 && year < 2010) || year % 1000 === 0) return integerWords(String(year)) ?? String(year);
  const high = Math.floor(year / 100);
  const low = year % 100;
  const first = underHundred(high);
  if (low === 0) return `${first} hundred`;
  if (low < 10) return `${first} oh ${ONES[low] ?? ''}`;
  return `${first} ${underHundred(low)}`;
}
