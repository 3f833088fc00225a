/**
 * Header values for WWW-Authenticate / Proxy-Authenticate / Authorization / Proxy-Authorization
 * (RFC 3261 §25.1, RFC 7616 §3.3 and §3.4). Which parameters are quoted is fixed by the grammar:
 * `algorithm`, `stale`, `nc` and the qop of a response are tokens; the others are quoted strings.
 */
import type { AuthHeader } from '../message/index.js';

/** parameters whose value is a token, never quoted (RFC 7616 §3.3, §3.4; RFC 3261 §25.1 `message-qop`) */
const TOKEN_PARAMS = new Set(['algorithm', 'stale', 'nc', 'userhash', 'charset']);

function quote(value: string): string {
  // quoted-string (RFC 3261 §25.1): backslash-escape `"` and `\`; strip CR/LF so a value can
  // never break the header line.
  return `"${value.replace(/[\r\n]/g, '').replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * `Digest realm="...", nonce="...", ...`. In credentials `qop` is a token; in a challenge it is a
 * quoted list (RFC 7616 §3.3 vs §3.4), hence the `kind`.
 */
export function formatDigestHeader(header: AuthHeader, kind: 'challenge' | 'credentials'): string {
  const parts: string[] = [];
  for (const [name, value] of header.params) {
    const bare = TOKEN_PARAMS.has(name) || (name === 'qop' && kind === 'credentials');
    parts.push(`${name}=${bare ? value.replace(/[\s,;"]/g, '') : quote(value)}`);
  }
  return parts.length === 0 ? header.scheme : `${header.scheme} ${parts.join(', ')}`;
}
