import { unescapeUriPart, type SipUri } from '../message/index.js';

/**
 * The address of record from a To URI (RFC 3261 §10.3 step 5): `sip:user@host`, the user part
 * %-unescaped (§19.1.4 compares users decoded), the host lower-cased, no port, parameters or
 * headers, and `sips:` folded into `sip:` so one AOR has one binding set whatever the scheme.
 * Undefined for a URI that cannot be an AOR (tel:, no user part).
 */
export function aorOf(uri: SipUri): string | undefined {
  if (uri.scheme === 'tel' || uri.user === undefined || uri.user === '') return undefined;
  return `sip:${unescapeUriPart(uri.user)}@${uri.host.toLowerCase()}`;
}

/** user and domain of a normalised AOR */
export function splitAor(aor: string): { user: string; domain: string } {
  const at = aor.lastIndexOf('@');
  return { user: aor.slice(4, at), domain: aor.slice(at + 1) };
}
