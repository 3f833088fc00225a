import { type BuiltinParameters, type BuiltinRecogniser, type BuiltinVerdict, NOMATCH, voiceFallback } from './builtin-types.js';
import { lengthBounds } from './dtmf-builtins.js';
import { DIGIT_WORDS, NUMBER_WORDS, ORDINAL_WORDS, parseCardinal, parseDigitRun, parseOrdinal } from './spoken-numbers.js';

/**
 * The voice builtins of VoiceXML 2.0 Appendix P for English, with the return values the
 * appendix defines: boolean true/false; digits, number, phone, currency, date and time as strings.
 */

const complete = (value: unknown, canExtend = true): BuiltinVerdict => ({ status: 'complete', canExtend, value });

function recogniser(vocabulary: readonly string[], parse: (words: readonly string[]) => BuiltinVerdict | undefined, open = true): BuiltinRecogniser {
  const vocab = new Set(vocabulary);
  return {
    vocabulary,
    recognise(words) {
      if (words.length === 0) return { status: 'prefix', canExtend: true };
      const verdict = parse(words);
      if (verdict !== undefined) return open ? verdict : { ...verdict, canExtend: false };
      return voiceFallback(words, vocab);
    },
  };
}

const YES = ['yes', 'yeah', 'yep', 'yup', 'sure', 'correct', 'right', 'true', 'affirmative', 'ok', 'okay', 'certainly', 'absolutely'];
const NO = ['no', 'nope', 'nah', 'false', 'negative', 'incorrect', 'wrong', 'not'];

function booleanVoice(): BuiltinRecogniser {
  const yes = new Set(YES);
  const no = new Set(NO);
  return recogniser([...YES, ...NO, 'please', "that's", 'that', 'is', 'it'], (words) => {
    // "yes", "yes please", "that's right", "that is correct", "not really"
    const core = words.filter((w) => !['please', "that's", 'that', 'is', 'it', 'really'].includes(w));
    if (core.length !== 1) return undefined;
    if (yes.has(core[0]!)) return complete(true, false);
    if (no.has(core[0]!)) return complete(false, false);
    return undefined;
  }, false);
}

/** Digit words with "double"/"triple" repeats: "double four" is 44. */
function spokenDigits(words: readonly string[]): string | undefined {
  let out = '';
  let repeat = 1;
  for (const word of words) {
    if (word === 'double' || word === 'triple') {
      if (repeat !== 1) return undefined;
      repeat = word === 'double' ? 2 : 3;
      continue;
    }
    const digit = DIGIT_WORDS.get(word) ?? (/^\d+$/.test(word) ? word : undefined);
    if (digit === undefined) return undefined;
    out += String(digit).repeat(repeat);
    repeat = 1;
  }
  return repeat !== 1 || out === '' ? undefined : out;
}

const DIGIT_VOCABULARY = [...DIGIT_WORDS.keys(), 'double', 'triple'];

function digitsVoice(params: BuiltinParameters, uri: string): BuiltinRecogniser {
  const { min, max } = lengthBounds(params, uri);
  const vocab = new Set(DIGIT_VOCABULARY);
  return {
    vocabulary: DIGIT_VOCABULARY,
    recognise(words) {
      if (words.length === 0) return { status: 'prefix', canExtend: true };
      const digits = spokenDigits(words);
      if (digits === undefined) return voiceFallback(words, vocab);
      if (digits.length > max) return NOMATCH;
      if (digits.length < min) return { status: 'prefix', canExtend: true };
      return complete(digits, digits.length < max);
    },
  };
}

/** A decimal amount: cardinal [point digits] or "point digits"; returns [whole, fraction]. */
function parseDecimal(words: readonly string[]): [string, string | undefined] | undefined {
  const point = words.indexOf('point');
  const wholeWords = point < 0 ? words : words.slice(0, point);
  const whole = wholeWords.length === 0 && point >= 0 ? 0 : parseCardinal(wholeWords);
  if (whole === undefined) return undefined;
  if (point < 0) return [String(whole), undefined];
  const fraction = parseDigitRun(words.slice(point + 1));
  return fraction === undefined ? undefined : [String(whole), fraction];
}

const SIGNS = new Map([['minus', '-'], ['negative', '-'], ['plus', ''], ['positive', '']]);

function numberVoice(): BuiltinRecogniser {
  return recogniser([...NUMBER_WORDS, 'point', ...SIGNS.keys()], (words) => {
    const sign = SIGNS.get(words[0]!);
    const decimal = parseDecimal(sign === undefined ? words : words.slice(1));
    if (decimal === undefined) return undefined;
    const [whole, fraction] = decimal;
    return complete(`${sign ?? ''}${whole}${fraction === undefined ? '' : `.${fraction}`}`);
  });
}

const CURRENCIES = new Map([
  ['dollar', 'USD'], ['dollars', 'USD'], ['buck', 'USD'], ['bucks', 'USD'], ['euro', 'EUR'], ['euros', 'EUR'],
  ['pound', 'GBP'], ['pounds', 'GBP'], ['yen', 'JPY'], ['franc', 'CHF'], ['francs', 'CHF'],
]);
const SUBUNITS = new Set(['cent', 'cents', 'penny', 'pennies', 'pence', 'p']);

function currencyVoice(): BuiltinRecogniser {
  return recogniser([...NUMBER_WORDS, 'point', ...CURRENCIES.keys(), ...SUBUNITS], (words) => {
    const unitAt = words.findIndex((w) => CURRENCIES.has(w));
    let cents = 0;
    if (unitAt < 0) {
      // "fifty cents" or a bare amount ("ten point two five")
      const last = words[words.length - 1]!;
      if (SUBUNITS.has(last)) {
        const amount = parseCardinal(words.slice(0, -1));
        if (amount === undefined || amount > 99) return undefined;
        return complete(`0.${String(amount).padStart(2, '0')}`);
      }
      const decimal = parseDecimal(words);
      if (decimal === undefined || (decimal[1]?.length ?? 0) > 2) return undefined;
      return complete(`${decimal[0]}.${(decimal[1] ?? '').padEnd(2, '0')}`);
    }
    const code = CURRENCIES.get(words[unitAt]!)!;
    const decimal = parseDecimal(words.slice(0, unitAt));
    if (decimal === undefined || (decimal[1]?.length ?? 0) > 2) return undefined;
    const whole = decimal[0];
    cents = Number((decimal[1] ?? '').padEnd(2, '0'));
    let rest = words.slice(unitAt + 1);
    if (rest[0] === 'and') rest = rest.slice(1);
    if (rest.length > 0 && SUBUNITS.has(rest[rest.length - 1]!)) rest = rest.slice(0, -1);
    if (rest.length > 0) {
      if (decimal[1] !== undefined) return undefined;
      const extra = parseCardinal(rest);
      if (extra === undefined || extra > 99) return undefined;
      cents = extra;
    }
    return complete(`${code}${whole}.${String(cents).padStart(2, '0')}`);
  });
}

function phoneVoice(): BuiltinRecogniser {
  const extensionWords = ['extension', 'ext', 'x'];
  return recogniser([...DIGIT_VOCABULARY, 'hundred', 'thousand', ...extensionWords], (words) => {
    const at = words.findIndex((w) => extensionWords.includes(w));
    const main = phoneDigits(at < 0 ? words : words.slice(0, at));
    if (main === undefined) return undefined;
    if (at < 0) return complete(main);
    const extension = phoneDigits(words.slice(at + 1));
    return extension === undefined ? undefined : complete(`${main}x${extension}`);
  });
}

/** Phone digits: digit words, "double"/"triple", and "eight hundred" style groups. */
function phoneDigits(words: readonly string[]): string | undefined {
  let out = '';
  let group: string[] = [];
  const flush = (): boolean => {
    if (group.length === 0) return true;
    const digits = spokenDigits(group);
    group = [];
    if (digits === undefined) return false;
    out += digits;
    return true;
  };
  for (const word of words) {
    if (word === 'hundred' || word === 'thousand') {
      if (!flush() || out === '') return undefined;
      out += word === 'hundred' ? '00' : '000';
    } else {
      group.push(word);
    }
  }
  return flush() && out !== '' ? out : undefined;
}

const MONTHS: ReadonlyArray<readonly string[]> = [
  ['january', 'jan'], ['february', 'feb'], ['march', 'mar'], ['april', 'apr'], ['may'], ['june', 'jun'],
  ['july', 'jul'], ['august', 'aug'], ['september', 'sep', 'sept'], ['october', 'oct'], ['november', 'nov'], ['december', 'dec'],
];
const MONTH_OF = new Map(MONTHS.flatMap((names, index) => names.map((name) => [name, index + 1] as const)));

/** "two thousand three", "nineteen ninety nine", "twenty oh five", "2003". */
function parseYear(words: readonly string[]): number | undefined {
  if (words.length === 0) return undefined;
  const whole = parseCardinal(words);
  if (whole !== undefined && whole >= 1000 && whole <= 2999 && !(words.length > 1 && words.every((w) => DIGIT_WORDS.has(w)))) return whole;
  for (let split = 1; split < words.length; split++) {
    const century = parseCardinal(words.slice(0, split));
    if (century === undefined || century < 10 || century > 29) continue;
    const tail = words.slice(split);
    if (tail.length === 1 && tail[0] === 'hundred') return century * 100;
    const rest = tail[0] === 'oh' || tail[0] === 'o' ? (tail.length === 2 ? parseDigitRun(tail.slice(1)) : undefined) : parseCardinal(tail);
    const year = rest === undefined ? undefined : Number(rest);
    if (year !== undefined && year >= 0 && year <= 99) return century * 100 + year;
  }
  return undefined;
}

function dateVoice(): BuiltinRecogniser {
  return recogniser([...NUMBER_WORDS, ...ORDINAL_WORDS, ...MONTH_OF.keys(), 'the', 'of'], (words) => {
    const monthAt = words.findIndex((w) => MONTH_OF.has(w));
    if (monthAt < 0) return undefined;
    const month = MONTH_OF.get(words[monthAt]!)!;
    const strip = (list: readonly string[]): readonly string[] => (list[0] === 'the' ? list.slice(1) : list);
    let day: number | undefined;
    let yearWords: readonly string[] = [];
    if (monthAt > 0) {
      // "the fifth of january [two thousand three]"
      const before = strip(words.slice(0, monthAt));
      if (before[before.length - 1] !== 'of') return undefined;
      day = parseOrdinal(before.slice(0, -1));
      if (day === undefined) return undefined;
      yearWords = words.slice(monthAt + 1);
    } else {
      // "january [the] fifth [two thousand three]": the day is the longest prefix that reads as one
      const after = strip(words.slice(1));
      if (after.length === 0) return undefined;
      for (let end = Math.min(after.length, 3); end >= 1 && day === undefined; end--) {
        const candidate = parseOrdinal(after.slice(0, end));
        const rest = after.slice(end);
        if (candidate !== undefined && candidate >= 1 && candidate <= 31 && (rest.length === 0 || parseYear(rest) !== undefined)) {
          day = candidate;
          yearWords = rest;
        }
      }
      if (day === undefined) return undefined;
    }
    if (day < 1 || day > 31) return undefined;
    const year = yearWords.length === 0 ? undefined : parseYear(yearWords);
    if (yearWords.length > 0 && year === undefined) return undefined;
    const yyyy = year === undefined ? '????' : String(year).padStart(4, '0');
    return complete(`${yyyy}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}`, year === undefined);
  });
}

const AM = ['am', 'a', 'morning'];
const PM = ['pm', 'p', 'afternoon', 'evening', 'night'];

function timeVoice(): BuiltinRecogniser {
  const fillers = ['m', 'in', 'the', 'at', "o'clock", 'oclock', 'half', 'quarter', 'past', 'after', 'to', 'before', 'minutes', 'minute', 'noon', 'midnight', 'midday'];
  return recogniser([...NUMBER_WORDS, ...AM, ...PM, ...fillers], (words) => {
    const [clock, suffix] = splitMeridiem(words);
    if (suffix === 'invalid') return undefined;
    if (clock.length === 1 && (clock[0] === 'noon' || clock[0] === 'midday') && suffix === undefined) return complete('1200p', false);
    if (clock.length === 1 && clock[0] === 'midnight' && suffix === undefined) return complete('1200a', false);
    const time = parseClock(clock);
    if (time === undefined) return undefined;
    const [hour, minute] = time;
    if (suffix !== undefined && (hour < 1 || hour > 12)) return undefined;
    const mark = suffix ?? (hour === 0 || hour > 12 ? 'h' : '?');
    return complete(`${String(hour).padStart(2, '0')}${String(minute).padStart(2, '0')}${mark}`, suffix === undefined);
  });
}

/** Splits "three thirty p m" into the clock words and a/p (undefined when not said). */
function splitMeridiem(words: readonly string[]): [readonly string[], 'a' | 'p' | undefined | 'invalid'] {
  const n = words.length;
  const last = words[n - 1]!;
  if (last === 'am' || last === 'pm') return [words.slice(0, -1), last === 'am' ? 'a' : 'p'];
  if (n >= 2 && last === 'm' && (words[n - 2] === 'a' || words[n - 2] === 'p')) return [words.slice(0, -2), words[n - 2] === 'a' ? 'a' : 'p'];
  const phrase = words.slice(-3).join(' ');
  if (phrase === 'in the morning') return [words.slice(0, -3), 'a'];
  if (phrase === 'in the afternoon' || phrase === 'in the evening') return [words.slice(0, -3), 'p'];
  if (words.slice(-2).join(' ') === 'at night') return [words.slice(0, -2), 'p'];
  return [words, undefined];
}

function minutesOf(words: readonly string[]): number | undefined {
  if (words.length === 0 || (words.length === 1 && (words[0] === "o'clock" || words[0] === 'oclock' || words[0] === 'hundred'))) return 0;
  if ((words[0] === 'oh' || words[0] === 'o') && words.length === 2) {
    const digit = DIGIT_WORDS.get(words[1]!);
    return digit !== undefined && words[1] !== 'oh' ? digit : undefined;
  }
  if (words[0] === 'oh' || words[0] === 'o') return undefined;
  const minutes = parseCardinal(words.filter((w) => w !== 'minutes' && w !== 'minute'));
  return minutes !== undefined && minutes <= 59 ? minutes : undefined;
}

function parseClock(words: readonly string[]): [number, number] | undefined {
  // "half past three", "quarter to four", "twenty past six", "ten minutes to nine"
  for (const [link, direction] of [['past', 1], ['after', 1], ['to', -1], ['before', -1]] as const) {
    const at = words.indexOf(link);
    if (at <= 0) continue;
    const head = words.slice(0, at);
    const offset = head.length === 1 && head[0] === 'half' ? 30 : head.length <= 2 && head[head.length - 1] === 'quarter' && (head.length === 1 || head[0] === 'a') ? 15 : minutesOf(head);
    const hour = parseCardinal(words.slice(at + 1));
    if (offset === undefined || offset === 0 || hour === undefined || hour < 1 || hour > 12) return undefined;
    if (direction === 1) return offset < 60 ? [hour, offset] : undefined;
    return [hour === 1 ? 12 : hour - 1, 60 - offset];
  }
  for (let split = 1; split <= Math.min(2, words.length); split++) {
    const hour = parseCardinal(words.slice(0, split));
    if (hour === undefined || hour > 23) continue;
    const minutes = minutesOf(words.slice(split));
    if (minutes !== undefined) return [hour, minutes];
  }
  return undefined;
}

export function voiceBuiltin(type: string, params: BuiltinParameters, uri: string): BuiltinRecogniser | undefined {
  switch (type) {
    case 'boolean':
      return booleanVoice();
    case 'digits':
      return digitsVoice(params, uri);
    case 'number':
      return numberVoice();
    case 'currency':
      return currencyVoice();
    case 'phone':
      return phoneVoice();
    case 'date':
      return dateVoice();
    case 'time':
      return timeVoice();
    default:
      return undefined;
  }
}
