/**
 * Authorization, Proxy-Authorization, WWW-Authenticate, Proxy-Authenticate
 * (RFC 3261 §20.7, §20.27, §20.28, §20.44, §25.1; RFC 7616/8760 for SHA-256):
 *   scheme LWS auth-param *(COMMA auth-param), auth-param = token EQUAL ( token / quoted-string )
 */
import { GENVALUE, isIn, quote, scanQuoted, scanToken, skipWs, unquote } from './syntax.js';
import type { AuthHeader } from './types.js';

/** Parse one credentials/challenge value; undefined when malformed. Never throws. */
export function parseAuthHeader(value: string): AuthHeader | undefined {
  let i = skipWs(value, 0);
  const schemeEnd = scanToken(value, i);
  if (schemeEnd === i) return undefined;
  const scheme = value.slice(i, schemeEnd);
  const params = new Map<string, string>();
  i = skipWs(value, schemeEnd);
  if (i >= value.length) return { scheme, params };
  if (i === schemeEnd) return undefined;
  for (;;) {
    const nameEnd = scanToken(value, i);
    if (nameEnd === i) return undefined;
    const name = value.slice(i, nameEnd).toLowerCase();
    i = skipWs(value, nameEnd);
    if (value.charCodeAt(i) !== 61) return undefined;
    i = skipWs(value, i + 1);
    let v: string;
    if (value.charCodeAt(i) === 34) {
      const end = scanQuoted(value, i);
      if (end === -1) return undefined;
      v = unquote(value.slice(i, end));
      i = end;
    } else {
      let end = i;
      // token, plus '/' so that a bare `uri=sip:x/y` from a sloppy client still parses
      while (end < value.length && (isIn(GENVALUE, value.charCodeAt(end)) || value.charCodeAt(end) === 47)) end++;
      if (end === i) return undefined;
      v = value.slice(i, end);
      i = end;
    }
    params.set(name, v);
    i = skipWs(value, i);
    if (i >= value.length) return { scheme, params };
    if (value.charCodeAt(i) !== 44) return undefined;
    i = skipWs(value, i + 1);
  }
}

/**
 * Parameters whose grammar is a token, never quoted (RFC 3261 §25.1, RFC 7616 §3.4): algorithm,
 * stale, nc; and qop in credentials (in a challenge qop-options is a quoted list).
 */
const TOKEN_PARAMS = new Set(['algorithm', 'stale', 'nc']);

export function formatAuthHeader(h: AuthHeader, kind: 'credentials' | 'challenge' = 'credentials'): string {
  const parts: string[] = [];
  for (const [name, value] of h.params) {
    const bare = TOKEN_PARAMS.has(name) || (name === 'qop' && kind === 'credentials');
    parts.push(name + '=' + (bare ? value : quote(value)));
  }
  return parts.length === 0 ? h.scheme : h.scheme + ' ' + parts.join(', ');
}
