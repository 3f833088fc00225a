import { GrammarError } from '../grammar-error.js';
import { type BuiltinParameters, type BuiltinRecogniser, type BuiltinVerdict, NOMATCH } from './builtin-types.js';

/**
 * The DTMF builtins of VoiceXML 2.0 Appendix P: keys are matched natively so any length
 * works and prefix/canExtend are exact (a collector waits for more keys only when it can help).
 */

const PREFIX: BuiltinVerdict = { status: 'prefix', canExtend: true };

function isDigits(keys: string): boolean {
  return /^[0-9]*$/.test(keys);
}

export function lengthBounds(params: BuiltinParameters, uri: string): { min: number; max: number } {
  const read = (name: string): number | undefined => {
    const text = params.get(name);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) throw new GrammarError(`${name} must be a whole number, not "${text}"`, { grammarId: uri });
    return value;
  };
  const length = read('length');
  const min = length ?? read('minlength') ?? 1;
  const max = length ?? read('maxlength') ?? Infinity;
  if (length !== undefined && (params.has('minlength') || params.has('maxlength'))) {
    throw new GrammarError('length cannot be combined with minlength or maxlength', { grammarId: uri });
  }
  if (max < min) throw new GrammarError(`maxlength ${max} is below minlength ${min}`, { grammarId: uri });
  return { min, max };
}

function digits(params: BuiltinParameters, uri: string): BuiltinRecogniser {
  const { min, max } = lengthBounds(params, uri);
  return {
    recognise(tokens) {
      const keys = tokens.join('');
      if (!isDigits(keys) || keys.length > max) return NOMATCH;
      if (keys.length < min || keys.length === 0) return PREFIX;
      return { status: 'complete', canExtend: keys.length < max, value: keys };
    },
  };
}

function booleanKeys(params: BuiltinParameters, uri: string): BuiltinRecogniser {
  const yes = params.get('y') ?? '1';
  const no = params.get('n') ?? '2';
  for (const key of [yes, no]) if (!/^[0-9*#]$/.test(key)) throw new GrammarError(`boolean key must be one DTMF key, not "${key}"`, { grammarId: uri });
  if (yes === no) throw new GrammarError('boolean y and n keys must differ', { grammarId: uri });
  return {
    recognise(tokens) {
      const keys = tokens.join('');
      if (keys === '') return PREFIX;
      if (keys === yes) return { status: 'complete', canExtend: false, value: true };
      if (keys === no) return { status: 'complete', canExtend: false, value: false };
      return NOMATCH;
    },
  };
}

/** digits with `*` as the decimal point (number, currency) or the extension mark (phone) */
function starred(convert: (whole: string, fraction: string | undefined) => unknown, maxFraction = Infinity): BuiltinRecogniser {
  return {
    recognise(tokens) {
      const keys = tokens.join('');
      const m = /^([0-9]*)(?:\*([0-9]*))?$/.exec(keys);
      if (m === null) return NOMATCH;
      const whole = m[1]!;
      const fraction = m[2];
      if (fraction !== undefined && fraction.length > maxFraction) return NOMATCH;
      if (whole === '' || fraction === '') return PREFIX;
      const canExtend = fraction === undefined || fraction.length < maxFraction;
      return { status: 'complete', canExtend, value: convert(whole, fraction) };
    },
  };
}

/** Fixed-length digit strings checked field by field: date yyyymmdd, time hhmm. */
function fixedDigits(length: number, valid: (keys: string) => boolean, value: (keys: string) => unknown): BuiltinRecogniser {
  return {
    recognise(tokens) {
      const keys = tokens.join('');
      if (!isDigits(keys) || keys.length > length || !valid(keys)) return NOMATCH;
      if (keys.length < length) return PREFIX;
      return { status: 'complete', canExtend: false, value: value(keys) };
    },
  };
}

/** A partial digit string is valid when some completion of it is in range. */
function fieldOk(part: string, width: number, min: number, max: number): boolean {
  if (part.length === 0) return true;
  const low = Number(part.padEnd(width, '0'));
  const high = Number(part.padEnd(width, '9'));
  return high >= min && low <= max;
}

function validDate(keys: string): boolean {
  return fieldOk(keys.slice(4, 6), 2, 1, 12) && fieldOk(keys.slice(6, 8), 2, 1, 31);
}

function validTime(keys: string): boolean {
  return fieldOk(keys.slice(0, 2), 2, 0, 23) && fieldOk(keys.slice(2, 4), 2, 0, 59);
}

export function dtmfBuiltin(type: string, params: BuiltinParameters, uri: string): BuiltinRecogniser | undefined {
  switch (type) {
    case 'digits':
      return digits(params, uri);
    case 'boolean':
      return booleanKeys(params, uri);
    case 'number':
      return starred((whole, fraction) => (fraction === undefined ? whole : `${whole}.${fraction}`));
    case 'currency':
      // Appendix P: "mm.nn" when the currency is not given (DTMF cannot say it)
      return starred((whole, fraction) => `${whole}.${(fraction ?? '').padEnd(2, '0')}`, 2);
    case 'phone':
      return starred((whole, fraction) => (fraction === undefined ? whole : `${whole}x${fraction}`));
    case 'date':
      return fixedDigits(8, validDate, (keys) => keys);
    case 'time':
      // 24-hour when the hour says so (00, 13-23), else ambiguous (Appendix P suffix h / ?)
      return fixedDigits(4, validTime, (keys) => {
        const hour = Number(keys.slice(0, 2));
        return `${keys}${hour === 0 || hour > 12 ? 'h' : '?'}`;
      });
    default:
      return undefined;
  }
}
