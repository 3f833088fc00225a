/**
 * name-addr / addr-spec values of From, To, Contact, Route, Record-Route, Reply-To...
 * (RFC 3261 §20.10, §25.1):
 *   ( name-addr / addr-spec ) *( SEMI param )
 *   name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *(token LWS) / quoted-string
 * Without angle brackets the URI cannot carry ';', '?' or ',' (§20.10): parameters after it
 * are header parameters, and a '?' means the sender forgot the brackets (RFC 4475 §3.1.2.13).
 */
import { GENVALUE, TOKEN, isIn, quote, scanQuoted, scanToken, skipWs, unquote } from './syntax.js';
import { NO_PARAMS, formatParams, formatUri, parseUri } from './uri.js';
import type { Contact, NameAddr, SipParams } from './types.js';

/**
 * Parse `SEMI param` repeated from s[i] (whitespace allowed around ';' and '=').
 * Returns the index of the first char that is not part of the parameters, or -1 on error.
 * Quoted values are stored with their quotes so they serialize back unchanged.
 */
export function scanParams(s: string, i: number, params: SipParams): number {
  for (;;) {
    const j = skipWs(s, i);
    if (s.charCodeAt(j) !== 59) return j;
    i = skipWs(s, j + 1);
    const nameEnd = scanToken(s, i);
    if (nameEnd === i) return -1;
    const name = s.slice(i, nameEnd).toLowerCase();
    i = skipWs(s, nameEnd);
    if (s.charCodeAt(i) === 61) {
      i = skipWs(s, i + 1);
      let valueEnd: number;
      if (s.charCodeAt(i) === 34) {
        valueEnd = scanQuoted(s, i);
        if (valueEnd === -1) return -1;
      } else {
        valueEnd = i;
        while (valueEnd < s.length && isIn(GENVALUE, s.charCodeAt(valueEnd))) valueEnd++;
        if (valueEnd === i) return -1;
      }
      params.set(name, s.slice(i, valueEnd));
      i = valueEnd;
    } else {
      params.set(name, null);
    }
  }
}

/**
 * Parse one name-addr starting at s[i]. Returns the value and the index after it (at ',' or the
 * end, after trailing whitespace), or undefined when malformed.
 */
export function scanNameAddr(s: string, i: number): { value: NameAddr; end: number } | undefined {
  i = skipWs(s, i);
  let displayName: string | undefined;
  let uriText: string;
  let bracketed = true;
  const c = s.charCodeAt(i);
  if (c === 34) {
    const end = scanQuoted(s, i);
    if (end === -1) return undefined;
    displayName = unquote(s.slice(i, end));
    i = skipWs(s, end);
    if (s.charCodeAt(i) !== 60) return undefined;
  } else if (c !== 60) {
    const tokenEnd = scanToken(s, i);
    if (tokenEnd === i) return undefined;
    if (s.charCodeAt(tokenEnd) === 58) {
      bracketed = false;
    } else {
      // display-name = *(token LWS): tokens separated by whitespace, then '<'
      const start = i;
      let j = tokenEnd;
      for (;;) {
        const k = skipWs(s, j);
        const ch = s.charCodeAt(k);
        if (ch === 60) {
          displayName = s.slice(start, j);
          i = k;
          break;
        }
        const next = scanToken(s, k);
        if (next === k || k === j) return undefined;
        j = next;
      }
    }
  }
  let end: number;
  if (bracketed) {
    // LAQUOT = SWS "<", and the addr-spec inside has no whitespace (RFC 4475 §3.1.2.14)
    const close = s.indexOf('>', i + 1);
    if (close === -1) return undefined;
    uriText = s.slice(i + 1, close);
    end = close + 1;
  } else {
    let j = i;
    while (j < s.length) {
      const ch = s.charCodeAt(j);
      if (ch === 59 || ch === 44 || ch === 32 || ch === 9) break;
      j++;
    }
    uriText = s.slice(i, j);
    if (uriText.indexOf('?') !== -1) return undefined;
    end = j;
  }
  const uri = parseUri(uriText);
  if (uri === undefined) return undefined;
  let params = NO_PARAMS;
  const semi = skipWs(s, end);
  if (s.charCodeAt(semi) === 59) {
    params = new Map();
    end = scanParams(s, end, params);
    if (end === -1) return undefined;
  } else {
    end = semi;
  }
  if (end < s.length && s.charCodeAt(end) !== 44) return undefined;
  return { value: { displayName, uri, params }, end };
}

/** Parse a whole single name-addr value (From, To...); undefined when malformed. */
export function parseNameAddr(value: string): NameAddr | undefined {
  const r = scanNameAddr(value, 0);
  if (r === undefined || r.end !== value.length) return undefined;
  return r.value;
}

/** Parse a comma-separated list of name-addrs (one field value); undefined if any is malformed. */
export function parseNameAddrList(value: string): NameAddr[] | undefined {
  const out: NameAddr[] = [];
  let i = 0;
  for (;;) {
    const r = scanNameAddr(value, i);
    if (r === undefined) return undefined;
    out.push(r.value);
    if (r.end >= value.length) return out;
    i = r.end + 1; // past ','
  }
}

/** Contact values: `*` (RFC 3261 §10.2.2) or name-addrs. */
export function parseContactList(value: string): Contact[] | undefined {
  if (value === '*') return ['*'];
  return parseNameAddrList(value);
}

function isTokenRun(s: string): boolean {
  if (s === '') return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && !isIn(TOKEN, c)) return false;
  }
  return !s.startsWith(' ') && !s.endsWith(' ');
}

/** Serialize: display names that are token runs stay bare, others are quoted. Always uses <>. */
export function formatNameAddr(na: NameAddr): string {
  let out = '';
  if (na.displayName !== undefined && na.displayName !== '') {
    out += (isTokenRun(na.displayName) ? na.displayName : quote(na.displayName)) + ' ';
  } else if (na.displayName === '') out += '"" ';
  out += '<' + formatUri(na.uri) + '>';
  return out + formatParams(na.params, '');
}
