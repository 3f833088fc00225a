/**
 * sip:, sips: (RFC 3261 §19.1, §25.1) and tel: (RFC 3966) URIs, with IPv6 references kept in
 * brackets (RFC 5118). The user part stays %-escaped as on the wire (§19.1.2: escapes are
 * compared decoded, but forwarding must not change them).
 */
import { HCHAR, HOSTCHAR, PARAMCHAR, PASSWORD, USER, allIn, escapesValid, parseUint } from './syntax.js';
import type { SipParams, SipUri, UriScheme } from './types.js';

/**
 * The headers of every URI that has none (nearly all of them), and the parameters of every URI or
 * name-addr that has none (most Request-URIs, From and To URIs, Route entries, a To without a
 * tag): one shared map each that refuses changes, instead of an empty Map per value parsed (four
 * or more per message). Nothing edits the headers or parameters of a parsed value; code that
 * builds or changes one makes a Map of its own.
 */
class ReadOnlyEmptyMap<V> extends Map<string, V> {
  override set(): this {
    throw new TypeError('the headers and parameters of a parsed URI without any are read-only: make a new Map');
  }

  override delete(): boolean {
    return false;
  }

  override clear(): void {}
}
const NO_HEADERS: Map<string, string> = new ReadOnlyEmptyMap<string>();
/** the parameters of a parsed URI or name-addr that has none: shared and read-only */
export const NO_PARAMS: SipParams = new ReadOnlyEmptyMap<string | null>();

/** RFC 3966 phonedigit-hex and visual separators, plus the `+` of global numbers */
const TEL_CHARS = /^\+?[0-9A-Fa-f*#().\-pPwW]+$/;

/** Parse a URI; undefined when it is not a well-formed sip/sips/tel URI. Never throws. */
export function parseUri(text: string): SipUri | undefined {
  // nearly every URI starts with "sip:" as written: no slice and no lower-casing for those
  if (text.charCodeAt(3) === 58 && text.startsWith('sip')) return parseSipUri('sip', text, 4);
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  const scheme = text.slice(0, colon).toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(scheme, text, colon + 1);
  if (scheme === 'tel') return parseTelUri(text.slice(colon + 1));
  return undefined;
}

/** The scheme of a URI-looking string, lower-cased, or undefined. */
export function uriScheme(text: string): string | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text);
  return m?.[1]?.toLowerCase();
}

function parseSipUri(scheme: UriScheme, s: string, start: number): SipUri | undefined {
  let user: string | undefined;
  let password: string | undefined;
  let i = start;
  // The user part may hold ; ? / , (user-unreserved), so find '@' before looking for params.
  const at = s.indexOf('@', start);
  if (at !== -1) {
    const userinfo = s.slice(start, at);
    const pw = userinfo.indexOf(':');
    user = pw === -1 ? userinfo : userinfo.slice(0, pw);
    if (!allIn(USER, user) || !escapesValid(user)) return undefined;
    if (pw !== -1) {
      password = userinfo.slice(pw + 1);
      if (password !== '' && (!allIn(PASSWORD, password) || !escapesValid(password))) return undefined;
    }
    i = at + 1;
  }
  // hostport
  let host: string;
  let port: number | undefined;
  let end = i;
  if (s.charCodeAt(i) === 91) {
    const close = s.indexOf(']', i);
    if (close === -1) return undefined;
    host = s.slice(i, close + 1).toLowerCase();
    if (!/^\[[0-9a-f:.]+\]$/.test(host) || host.indexOf(':') === -1) return undefined;
    end = close + 1;
  } else {
    while (end < s.length) {
      const c = s.charCodeAt(end);
      if (c === 58 || c === 59 || c === 63) break;
      end++;
    }
    host = s.slice(i, end).toLowerCase();
    if (!allIn(HOSTCHAR, host)) return undefined;
  }
  if (s.charCodeAt(end) === 58) {
    let p = end + 1;
    while (p < s.length && s.charCodeAt(p) >= 48 && s.charCodeAt(p) <= 57) p++;
    port = parseUint(s.slice(end + 1, p), 65535);
    if (port === undefined) return undefined;
    end = p;
  }
  let params = NO_PARAMS;
  let headers = NO_HEADERS;
  if (end < s.length) {
    const c = s.charCodeAt(end);
    if (c !== 59 && c !== 63) return undefined;
    const q = s.indexOf('?', end);
    const paramText = s.slice(end, q === -1 ? s.length : q);
    if (paramText !== '') {
      params = new Map();
      if (!parseUriParams(paramText, params)) return undefined;
    }
    if (q !== -1) {
      headers = new Map<string, string>();
      if (!parseUriHeaders(s.slice(q + 1), headers)) return undefined;
    }
  }
  return { scheme, user, password, host, port, params, headers };
}

/** `;name[=value]` repeated; paramText starts with ';' */
function parseUriParams(paramText: string, params: SipParams): boolean {
  const parts = paramText.split(';');
  for (let k = 1; k < parts.length; k++) {
    const part = parts[k] as string;
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    if (!allIn(PARAMCHAR, name) || !escapesValid(name)) return false;
    if (eq === -1) params.set(name.toLowerCase(), null);
    else {
      const value = part.slice(eq + 1);
      if (!allIn(PARAMCHAR, value) || !escapesValid(value)) return false;
      params.set(name.toLowerCase(), value);
    }
  }
  return true;
}

function parseUriHeaders(text: string, headers: Map<string, string>): boolean {
  for (const part of text.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return false;
    const name = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (!allIn(HCHAR, name) || (value !== '' && !allIn(HCHAR, value)) || !escapesValid(part)) return false;
    headers.set(name, value);
  }
  return true;
}

function parseTelUri(rest: string): SipUri | undefined {
  const semi = rest.indexOf(';');
  const number = semi === -1 ? rest : rest.slice(0, semi);
  if (!TEL_CHARS.test(number)) return undefined;
  let params = NO_PARAMS;
  if (semi !== -1) {
    params = new Map();
    if (!parseUriParams(rest.slice(semi), params)) return undefined;
  }
  return { scheme: 'tel', user: number, password: undefined, host: '', port: undefined, params, headers: NO_HEADERS };
}

/** Serialize a URI (parameter names come back lower-cased; values and escapes untouched). */
export function formatUri(uri: SipUri): string {
  let out = uri.scheme + ':';
  if (uri.scheme === 'tel') out += uri.user ?? '';
  else {
    if (uri.user !== undefined) {
      out += uri.user;
      if (uri.password !== undefined) out += ':' + uri.password;
      out += '@';
    }
    out += uri.host;
    if (uri.port !== undefined) out += ':' + String(uri.port);
  }
  out += formatParams(uri.params, '');
  if (uri.headers.size > 0) {
    let sep = '?';
    for (const [k, v] of uri.headers) {
      out += sep + k + '=' + v;
      sep = '&';
    }
  }
  return out;
}

/** `;name[=value]` for each parameter; `space` goes before each ';' (Via style uses none). */
export function formatParams(params: SipParams, space: string): string {
  let out = '';
  for (const [k, v] of params) out += space + ';' + k + (v === null ? '' : '=' + v);
  return out;
}

/** Decode %HH escapes (RFC 3261 §19.1.4 compares URIs decoded). Invalid escapes stay as they are. */
export function unescapeUriPart(s: string): string {
  if (s.indexOf('%') === -1) return s;
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i] as number;
    if (b === 37 && i + 2 < raw.length) {
      const hex = String.fromCharCode(raw[i + 1] as number, raw[i + 2] as number);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
        continue;
      }
    }
    bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}
