/**
 * say-as (SSML 1.0 §3.1.8, W3C say-as Note) and the VoiceXML 2.0 builtin value formats
 * (Appendix P: date yyyymmdd with '?' for unknown fields, time hhmm + a/p/h/?, currency
 * "USD12.50", boolean) turned into the English words a listener hears. Only English is
 * produced; `language` is accepted for the day other languages are added. An interpret-as
 * this module does not know, or text that does not fit it, comes back unchanged.
 */
import { digitWords, numberWords, ordinalWords, yearWords, integerWords, ordinalOfWords } from './number-words.js';

type Interpreter = (text: string, format: string | undefined, detail: string | undefined) => string | undefined;

export function sayAs(text: string, interpretAs: string, format?: string, detail?: string, _language?: string): string {
  const type = interpretAs.trim().toLowerCase().replace(/^vxml:/, '');
  const interpreter = INTERPRETERS[type];
  if (interpreter === undefined) return text;
  const trimmed = text.trim();
  const lowerFormat = format?.trim().toLowerCase();
  return interpreter(trimmed, lowerFormat === '' ? undefined : lowerFormat, detail) ?? text;
}

const SYMBOL_NAMES: Record<string, string> = {
  '@': 'at', '.': 'dot', '-': 'dash', _: 'underscore', '/': 'slash', '\\': 'backslash', '#': 'pound', '*': 'star', '+': 'plus',
  '&': 'and', '%': 'percent', $: 'dollar', ':': 'colon', ',': 'comma', '=': 'equals', '!': 'exclamation mark', '?': 'question mark',
};

/** characters / spell-out: each letter by name (upper-case letters are read as letter names), digits as words. */
function spellOut(text: string, _format?: string, detail?: string): string {
  const words: string[] = [];
  for (const ch of text) {
    if (/\s/.test(ch)) continue;
    if (/\d/.test(ch)) words.push(digitWords(ch));
    else if (/\p{L}/u.test(ch)) words.push(ch.toUpperCase());
    else if (detail !== undefined || SYMBOL_NAMES[ch] !== undefined) words.push(SYMBOL_NAMES[ch] ?? ch);
  }
  return words.join(' ');
}

function cardinal(text: string, format?: string): string | undefined {
  if (format === 'ordinal') return ordinalWords(text);
  if (format === 'digits') return digits(text);
  if (format === 'telephone') return telephone(text);
  return numberWords(text);
}

function digits(text: string): string | undefined {
  if (!/\d/.test(text) || /[^\d\s,.-]/.test(text)) return undefined;
  return digitWords(text.replace(/\D/g, ''));
}

/** Digits one by one, a pause (comma) between the groups the number was written in. */
function telephone(text: string): string | undefined {
  if (!/\d/.test(text)) return undefined;
  const groups: string[] = [];
  const leadingPlus = text.startsWith('+');
  for (const group of text.split(/[\s().\-/]+/)) {
    const clean = group.replace(/^\+/, '');
    if (clean === '') continue;
    if (!/^[\dA-Za-z]+$/.test(clean)) return undefined;
    groups.push(spellOut(clean));
  }
  return (leadingPlus ? 'plus ' : '') + groups.join(', ');
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

interface DateParts {
  year: number | undefined;
  month: number | undefined;
  day: number | undefined;
}

function monthFromText(part: string): number | undefined {
  if (/^\d{1,2}$/.test(part)) return Number(part);
  const lower = part.toLowerCase();
  if (lower.length < 3) return undefined;
  const index = MONTHS.findIndex((m) => m.toLowerCase().startsWith(lower.replace(/\.$/, '')));
  return index < 0 ? undefined : index + 1;
}

function field(part: string | undefined): number | undefined {
  if (part === undefined || /^\?+$/.test(part)) return undefined;
  return /^\d+$/.test(part) ? Number(part) : Number.NaN;
}

const DATE_FORMATS = new Set(['mdy', 'dmy', 'ymd', 'md', 'dm', 'ym', 'my', 'y', 'm', 'd']);

function parseDate(text: string, format: string | undefined): { parts: DateParts; order: string } | undefined {
  // VoiceXML builtin date: yyyymmdd, '?' for what the caller did not say
  const compact = /^([\d?]{4})([\d?]{2})([\d?]{2})$/.exec(text);
  if (compact !== null) {
    const parts = { year: field(compact[1]), month: field(compact[2]), day: field(compact[3]) };
    const order = format !== undefined && DATE_FORMATS.has(format) ? format : 'mdy';
    return { parts: keepOnly(parts, order), order };
  }
  const pieces = text.split(/[\s/.,-]+/).filter((p) => p !== '');
  const order = format ?? defaultDateOrder(pieces);
  if (!DATE_FORMATS.has(order) || pieces.length !== order.length) return undefined;
  const parts: DateParts = { year: undefined, month: undefined, day: undefined };
  [...order].forEach((letter, i) => {
    const piece = pieces[i] ?? '';
    if (letter === 'y') parts.year = field(piece);
    else if (letter === 'm') parts.month = /^\?+$/.test(piece) ? undefined : (monthFromText(piece) ?? Number.NaN);
    else parts.day = field(piece);
  });
  return { parts, order };
}

function keepOnly(parts: DateParts, order: string): DateParts {
  return {
    year: order.includes('y') ? parts.year : undefined,
    month: order.includes('m') ? parts.month : undefined,
    day: order.includes('d') ? parts.day : undefined,
  };
}

/** Without a format: ISO-like input (year first) is ymd, otherwise US English month-first. */
function defaultDateOrder(pieces: string[]): string {
  if (pieces.length === 3) return /^\d{4}$/.test(pieces[0] ?? '') ? 'ymd' : 'mdy';
  if (pieces.length === 2) return /^\d{4}$/.test(pieces[1] ?? '') ? 'my' : 'md';
  return /^\d{3,4}$/.test(pieces[0] ?? '') ? 'y' : 'd';
}

function date(text: string, format: string | undefined): string | undefined {
  const parsed = parseDate(text, format);
  if (parsed === undefined) return undefined;
  const { year, month, day } = parsed.parts;
  if (year !== undefined && Number.isNaN(year)) return undefined;
  if (month !== undefined && (Number.isNaN(month) || month < 1 || month > 12)) return undefined;
  if (day !== undefined && (Number.isNaN(day) || day < 1 || day > 31)) return undefined;
  const monthName = month === undefined ? undefined : MONTHS[month - 1];
  const dayName = day === undefined ? undefined : ordinalOfWords(integerWords(String(day)) ?? '');
  const yearName = year === undefined ? undefined : yearWords(year);
  const dayFirst = parsed.order.indexOf('d') >= 0 && parsed.order.indexOf('d') < parsed.order.indexOf('m');
  let monthDay: string | undefined;
  if (monthName !== undefined && dayName !== undefined) monthDay = dayFirst ? `the ${dayName} of ${monthName}` : `${monthName} ${dayName}`;
  else if (dayName !== undefined) monthDay = `the ${dayName}`;
  else monthDay = monthName;
  if (monthDay === undefined) return yearName;
  if (yearName === undefined) return monthDay;
  return monthName !== undefined && dayName === undefined ? `${monthDay} ${yearName}` : `${monthDay}, ${yearName}`;
}

interface TimeParts {
  hour: number;
  minute: number;
  second: number | undefined;
  /** a: am, p: pm, h: 24-hour clock, ?: unknown */
  designator: 'a' | 'p' | 'h' | '?';
}

function parseTime(text: string): TimeParts | undefined {
  // VoiceXML builtin time: hhmm followed by a, p, h or ?
  const builtin = /^(\d{2})(\d{2})([aph?])$/i.exec(text);
  if (builtin !== null) {
    const designator = (builtin[3] ?? '?').toLowerCase() as TimeParts['designator'];
    return { hour: Number(builtin[1]), minute: Number(builtin[2]), second: undefined, designator };
  }
  const m = /^(\d{1,2})(?::?(\d{2}))?(?::(\d{2}))?\s*(?:([ap])\.?\s*m?\.?)?$/i.exec(text);
  if (m === null) return undefined;
  const designator = m[4] === undefined ? 'h' : (m[4].toLowerCase() as 'a' | 'p');
  return { hour: Number(m[1]), minute: Number(m[2] ?? '0'), second: m[3] === undefined ? undefined : Number(m[3]), designator };
}

function minuteWords(minute: number, hour24: boolean): string {
  if (minute === 0) return hour24 ? 'hundred' : '';
  if (minute < 10) return `oh ${integerWords(String(minute)) ?? ''}`;
  return integerWords(String(minute)) ?? '';
}

/** time; format hms12 (default) or hms24, or a subset such as hm12. */
function time(text: string, format: string | undefined): string | undefined {
  const parts = parseTime(text);
  if (parts === undefined) return undefined;
  const { hour, minute, second, designator } = parts;
  const twelveHourInput = designator === 'a' || designator === 'p';
  if (minute > 59 || (second ?? 0) > 59 || hour > (twelveHourInput ? 12 : 24)) return undefined;
  const fmt = /^(h?m?s?)(12|24)$/.exec(format ?? 'hms12');
  if (fmt === null) return undefined;
  const fields = fmt[1] === '' ? 'hms' : (fmt[1] ?? 'hms');
  const hour24 = designator === 'p' && hour < 12 ? hour + 12 : designator === 'a' && hour === 12 ? 0 : hour;
  const words: string[] = [];
  if (fmt[2] === '24') {
    words.push(integerWords(String(hour24)) ?? '');
    if (fields.includes('m')) words.push(minuteWords(minute, true));
  } else {
    words.push(integerWords(String(hour24 % 12 === 0 ? 12 : hour24 % 12)) ?? '');
    if (fields.includes('m')) words.push(minute === 0 && designator === '?' ? "o'clock" : minuteWords(minute, false));
    if (designator !== '?') words.push(hour24 < 12 ? 'A M' : 'P M');
  }
  if (second !== undefined && second > 0 && fields.includes('s')) {
    words.push(`and ${integerWords(String(second)) ?? ''} ${second === 1 ? 'second' : 'seconds'}`);
  }
  return words.filter((w) => w !== '').join(' ');
}

interface CurrencyNames {
  major: [string, string];
  minor: [string, string] | undefined;
}

const CURRENCIES: Record<string, CurrencyNames> = {
  USD: { major: ['dollar', 'dollars'], minor: ['cent', 'cents'] },
  EUR: { major: ['euro', 'euros'], minor: ['cent', 'cents'] },
  GBP: { major: ['pound', 'pounds'], minor: ['penny', 'pence'] },
  CAD: { major: ['Canadian dollar', 'Canadian dollars'], minor: ['cent', 'cents'] },
  AUD: { major: ['Australian dollar', 'Australian dollars'], minor: ['cent', 'cents'] },
  JPY: { major: ['yen', 'yen'], minor: undefined },
};

const CURRENCY_SYMBOLS: Record<string, string> = { $: 'USD', '€': 'EUR', '£': 'GBP', '¥': 'JPY' };

/** "USD12.50", "$12.50", "12.50 EUR", "-£3" → words; without a code or symbol the format (a code) or USD. */
function currency(text: string, format: string | undefined): string | undefined {
  const m = /^(-)?\s*([A-Za-z]{3})?\s*([$€£¥])?\s*(-)?\s*(\d{1,3}(?:,\d{3})+|\d*)(?:\.(\d+))?\s*([A-Za-z]{3})?$/.exec(text);
  if (m === null) return undefined;
  const [, minus1, codeBefore, symbol, minus2, wholeRaw = '', fraction, codeAfter] = m;
  if (wholeRaw === '' && fraction === undefined) return undefined;
  const code = (codeBefore ?? codeAfter ?? (symbol === undefined ? undefined : CURRENCY_SYMBOLS[symbol]) ?? format ?? 'USD').toUpperCase();
  const names = CURRENCIES[code];
  const negative = minus1 !== undefined || minus2 !== undefined ? 'minus ' : '';
  const whole = wholeRaw === '' ? '0' : wholeRaw.replace(/,/g, '');
  if (names === undefined) {
    const amount = numberWords(fraction === undefined ? whole : `${whole}.${fraction}`);
    return amount === undefined ? undefined : `${negative}${amount} ${spellOut(code)}`;
  }
  let major = whole;
  let minor = 0;
  if (fraction !== undefined && names.minor !== undefined) {
    minor = Math.round(Number(`0.${fraction}`) * 100);
    if (minor === 100) {
      minor = 0;
      major = (BigInt(major) + 1n).toString();
    }
  }
  const majorWords = integerWords(major);
  if (majorWords === undefined) return undefined;
  const parts: string[] = [];
  if (major !== '0' || minor === 0) parts.push(`${majorWords} ${major === '1' ? names.major[0] : names.major[1]}`);
  if (minor > 0 && names.minor !== undefined) parts.push(`${integerWords(String(minor)) ?? ''} ${minor === 1 ? names.minor[0] : names.minor[1]}`);
  return negative + parts.join(' and ');
}

function boolean(text: string): string | undefined {
  const lower = text.toLowerCase();
  if (lower === 'true' || lower === 'yes') return 'yes';
  if (lower === 'false' || lower === 'no') return 'no';
  return undefined;
}

const INTERPRETERS: Record<string, Interpreter> = {
  characters: spellOut,
  'spell-out': spellOut,
  letters: spellOut,
  cardinal,
  number: cardinal,
  ordinal: (text) => ordinalWords(text),
  digits: (text) => digits(text),
  telephone: (text) => telephone(text),
  phone: (text) => telephone(text),
  date,
  time,
  currency,
  boolean: (text) => boolean(text),
};
