/**
 * E.164 normalisation (ITU-T E.164: '+', country code, national significant number, at most
 * 15 digits) of numbers as people and peers write them: with visual separators, national or
 * international dialling prefixes, or as the user part of tel: (RFC 3966) and sip: URIs.
 */

export interface NumberingContext {
  /** country code of the dialling context, digits only: '1', '44', '49' */
  countryCode: string;
  /** trunk prefix before a national number: '0' by default, '1' in the NANP ('' = none) */
  nationalPrefix?: string;
  /** prefix before a country code: '00' by default, '011' in the NANP */
  internationalPrefix?: string;
}

export type E164Result = { ok: true; e164: string } | { ok: false; reason: string };

/** RFC 3966 §5.1.1 visual separators, plus the space and '/' people write. */
const VISUAL_SEPARATORS = /[\s().\-/]/g;
/** 'ext. 12', 'x12', '#12', ',12' (a pause then digits) at the end of a written number */
const EXTENSION = /(?:extension|ext\.?|x|#|,)\s*\d+$/i;
const E164_MAX_DIGITS = 15;
/** shorter than this cannot be a full number (short codes like 112, 911) */
const E164_MIN_DIGITS = 7;

/** National significant number checks for the plans we know well; others get only the length limits. */
const NATIONAL_RULES: Record<string, { nsn: RegExp; describe: string }> = {
  // NANP: NPA-NXX-XXXX, neither NPA nor NXX starts with 0 or 1
  '1': { nsn: /^[2-9]\d{2}[2-9]\d{6}$/, describe: 'NANP numbers have 10 digits: NXX NXX XXXX' },
  // UK: 9 or 10 digits after the 0 trunk prefix, never starting with 0
  '44': { nsn: /^[1-9]\d{8,9}$/, describe: 'UK numbers have 9 or 10 digits after +44 (or 0)' },
  // Germany: variable length, 6 to 13 digits after +49 (or 0)
  '49': { nsn: /^[1-9]\d{5,12}$/, describe: 'German numbers have 6 to 13 digits after +49 (or 0)' },
};

export function isNanp(ctx: NumberingContext): boolean {
  return ctx.countryCode === '1';
}

export function nationalPrefixOf(ctx: NumberingContext): string {
  return ctx.nationalPrefix ?? (isNanp(ctx) ? '1' : '0');
}

export function internationalPrefixOf(ctx: NumberingContext): string {
  return ctx.internationalPrefix ?? (isNanp(ctx) ? '011' : '00');
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/**
 * The number inside a tel: or sip:/sips: URI and its phone-context (RFC 3966 §5.1.5), or the
 * input itself when it is not a URI.
 */
function unwrapUri(input: string): { number: string; phoneContext: string | undefined } | string {
  const m = /^(tel|sips?):(.*)$/i.exec(input);
  if (m === null) return { number: input, phoneContext: undefined };
  const scheme = (m[1] as string).toLowerCase();
  let rest = m[2] as string;
  if (scheme !== 'tel') {
    const at = rest.indexOf('@');
    if (at === -1) return `${scheme}: URI has no user part`;
    rest = rest.slice(0, at);
  }
  const [number = '', ...params] = rest.split(';');
  let phoneContext: string | undefined;
  for (const p of params) {
    const [k = '', v] = p.split('=');
    const key = k.trim().toLowerCase();
    if (key === 'phone-context' && v !== undefined) phoneContext = v.trim();
    if (key === 'ext' || key === 'postd') return `the URI carries an extension (;${key}=), which is not part of an E.164 number: dial it separately`;
  }
  const decoded = safeDecode(number);
  if (decoded === undefined) return 'bad %-escape in the URI user part';
  return { number: decoded, phoneContext };
}

function checkLength(e164: string): E164Result {
  const digits = e164.slice(1);
  if (digits.startsWith('0')) return { ok: false, reason: 'a country code never starts with 0' };
  if (digits.length > E164_MAX_DIGITS) return { ok: false, reason: `too long: E.164 numbers have at most ${E164_MAX_DIGITS} digits` };
  if (digits.length < E164_MIN_DIGITS) return { ok: false, reason: `too short for an E.164 number (${digits.length} digits); short codes and extensions are not E.164` };
  for (const [cc, rule] of Object.entries(NATIONAL_RULES)) {
    // country codes are a prefix code (no code starts another), so startsWith identifies it
    if (digits.startsWith(cc) && !rule.nsn.test(digits.slice(cc.length))) return { ok: false, reason: `${e164} is not valid: ${rule.describe}` };
  }
  return { ok: true, e164 };
}

/**
 * Normalise a written number to E.164 in a dialling context. Accepted forms, for ctx +49:
 * '+49 30 1234567', '0049 (30) 123-4567', '030/1234567', 'tel:+49-30-1234567',
 * 'sip:030123456@host;user=phone', 'tel:1234567;phone-context=+4930'. Letters are refused
 * (vanity numbers are not translated); a trailing extension gets its own reason.
 */
export function normalizeE164(input: string, ctx: NumberingContext): E164Result {
  if (!/^\d{1,3}$/.test(ctx.countryCode) || ctx.countryCode.startsWith('0')) return { ok: false, reason: `bad country code '${ctx.countryCode}' in the context` };
  const unwrapped = unwrapUri(input.trim());
  if (typeof unwrapped === 'string') return { ok: false, reason: unwrapped };
  const raw = unwrapped.number.trim();
  const extension = EXTENSION.exec(raw);
  if (extension !== null && /\d/.test(raw.slice(0, extension.index))) {
    return { ok: false, reason: `'${raw}' ends with an extension, which is not part of an E.164 number: dial it separately` };
  }
  // '+44 (0)20 …': the trunk prefix in brackets is written for national callers only
  const withoutTrunkPrefix = /^(\+|00|011)/.test(raw) ? raw.replace(/\(\s*0\s*\)/, '') : raw;
  const compact = withoutTrunkPrefix.replace(VISUAL_SEPARATORS, '');
  if (compact === '') return { ok: false, reason: 'empty number' };
  if (/[A-Za-z]/.test(compact)) return { ok: false, reason: `'${raw}' contains letters; only digits, '+' and separators are allowed` };
  if (!/^\+?\d+$/.test(compact)) return { ok: false, reason: `'${raw}' contains characters that are not digits, '+' or separators` };
  if (compact.startsWith('+')) return checkLength(compact);
  const context = unwrapped.phoneContext;
  if (context !== undefined && context.startsWith('+')) {
    const contextDigits = context.replace(VISUAL_SEPARATORS, '');
    if (!/^\+\d+$/.test(contextDigits)) return { ok: false, reason: `bad phone-context '${context}'` };
    // RFC 3966 §5.1.5: a local number within a global-number-digits context. When the context
    // is our own country, the number is dialled like any national string; otherwise the
    // context digits are its leading digits.
    if (contextDigits.slice(1) !== ctx.countryCode) return checkLength(contextDigits + compact);
  }
  return fromDialledDigits(compact, ctx);
}

function fromDialledDigits(digits: string, ctx: NumberingContext): E164Result {
  const intl = internationalPrefixOf(ctx);
  const national = nationalPrefixOf(ctx);
  if (intl !== '' && digits.startsWith(intl)) return checkLength('+' + digits.slice(intl.length));
  if (isNanp(ctx)) {
    // NANP: 1 + 10 digits, or the 10 digits alone; 7-digit local dialling needs an area code
    if (national !== '' && digits.length === 10 + national.length && digits.startsWith(national)) return checkLength('+1' + digits.slice(national.length));
    if (digits.length === 10) return checkLength('+1' + digits);
    if (digits.length === 7) return { ok: false, reason: `'${digits}' is a 7-digit local number: the area code is missing` };
    return checkLength('+1' + digits);
  }
  if (national === '') return checkLength('+' + ctx.countryCode + digits);
  if (digits.startsWith(national)) return checkLength('+' + ctx.countryCode + digits.slice(national.length));
  return { ok: false, reason: `'${digits}' has neither '+', the international prefix '${intl}' nor the national prefix '${national}': the area code is unknown` };
}

export type TrunkNumberStyle = 'e164' | 'national' | 'international-00' | 'digits-only';

export type TrunkFormatResult = { ok: true; number: string } | { ok: false; reason: string };

/**
 * Write an E.164 number the way an outbound trunk wants it:
 *   e164             '+4930123456'
 *   digits-only      '4930123456'
 *   international-00 the context's international prefix ('00', NANP '011') + digits
 *   national         national prefix + national number for numbers of the context's
 *                    country, the international form for the others
 */
export function formatForTrunk(e164: string, style: TrunkNumberStyle, ctx: NumberingContext): TrunkFormatResult {
  if (!/^\+[1-9]\d{1,14}$/.test(e164)) return { ok: false, reason: `'${e164}' is not an E.164 number` };
  const digits = e164.slice(1);
  switch (style) {
    case 'e164':
      return { ok: true, number: e164 };
    case 'digits-only':
      return { ok: true, number: digits };
    case 'international-00':
      return { ok: true, number: internationalPrefixOf(ctx) + digits };
    case 'national':
      if (digits.startsWith(ctx.countryCode)) return { ok: true, number: nationalPrefixOf(ctx) + digits.slice(ctx.countryCode.length) };
      return { ok: true, number: internationalPrefixOf(ctx) + digits };
  }
}
