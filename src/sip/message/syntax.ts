/**
 * Character classes and small scanners shared by the header grammars (RFC 3261 §25.1).
 * Tables are indexed by char code; anything >= 128 is outside every class except where a
 * grammar allows UTF-8 (quoted strings, reason phrases, unknown header values).
 */

function table(chars: string, alnum: boolean): Uint8Array {
  const t = new Uint8Array(128);
  if (alnum) {
    for (let c = 48; c <= 57; c++) t[c] = 1;
    for (let c = 65; c <= 90; c++) t[c] = 1;
    for (let c = 97; c <= 122; c++) t[c] = 1;
  }
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = table("-.!%*_+`'~", true);
const MARK = "-_.!~*'()";
/** user = 1*( unreserved / escaped / user-unreserved ), user-unreserved = & = + $ , ; ? / */
export const USER = table(MARK + '&=+$,;?/%', true);
/** password = *( unreserved / escaped / & = + $ , ) */
export const PASSWORD = table(MARK + '&=+$,%', true);
/** paramchar = param-unreserved / unreserved / escaped; param-unreserved = [ ] / : & + $ */
export const PARAMCHAR = table(MARK + '[]/:&+$%', true);
/** hname / hvalue characters: hnv-unreserved = [ ] / ? : + $ */
export const HCHAR = table(MARK + '[]/?:+$%', true);
/** hostname characters (underscore tolerated: it is common in real deployments) */
export const HOSTCHAR = table('-._', true);
/** generic-param value: token / host (which adds [ ] : for IPv6 references) */
export const GENVALUE = table("-.!%*_+`'~[]:", true);

export function isIn(t: Uint8Array, code: number): boolean {
  return code < 128 && t[code] === 1;
}

/** true when every char of s[from, to) is in the table (and the range is not empty) */
export function allIn(t: Uint8Array, s: string, from = 0, to = s.length): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || t[c] !== 1) return false;
  }
  return true;
}

/** % must introduce two hex digits (RFC 3261 §25.1 escaped = "%" HEXDIG HEXDIG) */
export function escapesValid(s: string): boolean {
  let i = s.indexOf('%');
  while (i !== -1) {
    if (!isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) return false;
    i = s.indexOf('%', i + 3);
  }
  return true;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

export function skipWs(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9) break;
    i++;
  }
  return i;
}

export function scanToken(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] !== 1) break;
    i++;
  }
  return i;
}

/**
 * s[i] is the opening quote. Returns the index just past the closing quote, or -1 when the
 * string is unterminated (RFC 3261 §25.1 quoted-string, quoted-pair may escape any octet but CR/LF).
 */
export function scanQuoted(s: string, i: number): number {
  i++;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 34) return i + 1;
    if (c === 92) {
      if (i + 1 >= s.length) return -1;
      i += 2;
      continue;
    }
    i++;
  }
  return -1;
}

/** The content of a quoted string (with its quotes) with quoted-pairs resolved. */
export function unquote(q: string): string {
  const inner = q.length >= 2 && q.charCodeAt(0) === 34 && q.charCodeAt(q.length - 1) === 34 ? q.slice(1, -1) : q;
  if (inner.indexOf('\\') === -1) return inner;
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i] as string;
    if (ch === '\\' && i + 1 < inner.length) {
      out += inner[i + 1];
      i++;
    } else out += ch;
  }
  return out;
}

/** Quote a string, escaping the two characters that need it. */
export function quote(s: string): string {
  return '"' + s.replace(/["\\]/g, (m) => '\\' + m) + '"';
}

/** Parse a non-negative decimal integer of at most `max`; undefined on anything else. */
export function parseUint(s: string, max: number): number | undefined {
  if (s.length === 0) return undefined;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    n = n * 10 + c;
    if (n > max) return undefined;
  }
  return n;
}

/**
 * Split a list header value on top-level commas: commas inside quoted strings or inside <...>
 * do not separate elements (RFC 3261 §7.3.1, §20.10). Empty elements are dropped.
 */
export function splitList(value: string): string[] {
  if (value.indexOf(',') === -1) {
    const v = value.trim();
    return v === '' ? [] : [v];
  }
  const out: string[] = [];
  let start = 0;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 34) {
      const end = scanQuoted(value, i);
      if (end === -1) break;
      i = end - 1;
    } else if (c === 60) angle = true;
    else if (c === 62) angle = false;
    else if (c === 44 && !angle) {
      const part = value.slice(start, i).trim();
      if (part !== '') out.push(part);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last !== '') out.push(last);
  return out;
}
