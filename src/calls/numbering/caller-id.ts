/**
 * Caller-ID presentation towards a next hop, and its reading from an inbound request:
 *   - RFC 3325: P-Asserted-Identity (PAI) between nodes of a trust domain, P-Preferred-Identity
 *     (PPI) as a user agent's wish;
 *   - RFC 3323: the Privacy header (id, header, user, session, none, critical) and the
 *     anonymous From of §4.1.1.3;
 *   - Remote-Party-ID (draft-ietf-sip-privacy-04), still what many carriers speak:
 *     `<uri>;party=calling;screen=yes;privacy=off|name|uri|full`.
 * Plain strings in (numbers, header values), plain data out; no SIP objects.
 */
import { message } from '../../sip/index.js';

/** What the caller asked for: show everything, hide the identity, or hide all it can. */
export type PrivacyWish = 'none' | 'id' | 'full';
export type IdentityStyle = 'pai' | 'rpid' | 'both';

export interface CallerIdRequest {
  /** the caller's number (E.164 '+…' preferred) or user name */
  number: string;
  displayName?: string;
  privacy: PrivacyWish;
  /** is the next hop inside our trust domain (RFC 3325 §2.3, Spec(T))? */
  trusted: boolean;
  style: IdentityStyle;
  /** host part of the identity URI, e.g. the tenant's SIP domain */
  domain: string;
}

export interface CallerIdPresentation {
  /** the From header value to send (without tag) */
  from: string;
  /** headers to add, in order, as [name, value] */
  headers: Array<[string, string]>;
}

/** RFC 3323 §4.1.1.3: the From of a call whose identity is withheld. */
export const ANONYMOUS_URI = 'sip:anonymous@anonymous.invalid';
export const ANONYMOUS_FROM = `"Anonymous" <${ANONYMOUS_URI}>`;

/** Privacy header values per wish (RFC 3323 §4.2; 'id' from RFC 3325 §9.3). */
const PRIVACY_HEADER: Record<Exclude<PrivacyWish, 'none'>, string> = {
  id: 'id',
  // user-level (From, Call-Info...) and header-level (Via, Contact...) privacy plus the identity
  full: 'user;header;id',
};

/** Escape what an RFC 3261 §25.1 user part cannot hold as is ('#' notably). */
function escapeUser(user: string): string {
  return user.replace(/[^A-Za-z0-9\-_.!~*'()&=+$,;?/]/g, (ch) =>
    [...Buffer.from(ch, 'utf8')].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''),
  );
}

/** The identity URI of a number: a global number is marked user=phone (RFC 3261 §19.1.1). */
export function identityUri(number: string, domain: string): string {
  return `sip:${escapeUser(number)}@${domain}${number.startsWith('+') ? ';user=phone' : ''}`;
}

function nameAddr(displayName: string | undefined, uri: string): string {
  return (displayName === undefined || displayName === '' ? '' : message.quote(displayName) + ' ') + `<${uri}>`;
}

/**
 * The From and identity headers for an outgoing request.
 *
 * - privacy 'none': the real identity in From; PAI and/or RPID (privacy=off) carry it too.
 * - privacy 'id'/'full': From is anonymous (RFC 3323 §4.1.1.3) and a Privacy header asks the
 *   rest of the path to keep it so. The true identity goes only to a trusted next hop: PAI
 *   plus Privacy (RFC 3325 §5 — a trust domain removes PAI before an untrusted hop when
 *   Privacy: id is set), and RPID with privacy=full (draft §5.1, which likewise must not leave
 *   the trust domain). An untrusted hop gets neither.
 */
export function presentCallerId(req: CallerIdRequest): CallerIdPresentation {
  const uri = identityUri(req.number, req.domain);
  const identity = nameAddr(req.displayName, uri);
  const pai = req.style === 'pai' || req.style === 'both';
  const rpid = req.style === 'rpid' || req.style === 'both';
  const headers: Array<[string, string]> = [];
  if (req.privacy === 'none') {
    if (pai) headers.push(['P-Asserted-Identity', identity]);
    if (rpid) headers.push(['Remote-Party-ID', `${identity};party=calling;screen=yes;privacy=off`]);
    return { from: identity, headers };
  }
  if (req.trusted) {
    if (pai) headers.push(['P-Asserted-Identity', identity]);
    if (rpid) headers.push(['Remote-Party-ID', `${identity};party=calling;screen=yes;privacy=full`]);
  }
  headers.push(['Privacy', PRIVACY_HEADER[req.privacy]]);
  return { from: ANONYMOUS_FROM, headers };
}

/** Identity header values of an inbound request, each list holding one entry per header line. */
export interface InboundIdentityHeaders {
  from?: string;
  pAssertedIdentity?: readonly string[];
  pPreferredIdentity?: readonly string[];
  remotePartyId?: readonly string[];
  privacy?: readonly string[];
}

export type IdentitySource = 'pai' | 'rpid' | 'from' | 'none';

export interface CallerIdentity {
  /** the caller's number or user; undefined when anonymous or unreadable */
  number: string | undefined;
  displayName: string | undefined;
  privacy: PrivacyWish;
  /** the Privacy tokens as received, lower-cased */
  privacyTokens: string[];
  source: IdentitySource;
  /** asserted by a trusted peer (PAI, or RPID with screen=yes), not just claimed */
  verified: boolean;
  /** the number of a P-Preferred-Identity, if any (trust it only after authenticating the sender) */
  preferred: string | undefined;
}

interface Party {
  number: string | undefined;
  displayName: string | undefined;
  params: Map<string, string | null>;
  scheme: string;
}

function isAnonymous(uri: { user: string | undefined; host: string }): boolean {
  return uri.host === 'anonymous.invalid' || (uri.user ?? '').toLowerCase() === 'anonymous';
}

function parseParties(values: readonly string[] | undefined): Party[] {
  const out: Party[] = [];
  for (const v of values ?? []) {
    for (const na of message.parseNameAddrList(v.trim()) ?? []) {
      let number: string | undefined;
      if (na.uri.user !== undefined && na.uri.user !== '' && !isAnonymous(na.uri)) {
        // a sip: user part may carry its own ;params (RFC 3966 §5.1 inside user=phone)
        const user = message.unescapeUriPart(na.uri.user.split(';')[0] ?? '');
        number = na.uri.scheme === 'tel' ? user.replace(/[().-]/g, '') : user;
      }
      const displayName = na.displayName === undefined || na.displayName === '' ? undefined : na.displayName;
      out.push({ number, displayName, params: na.params, scheme: na.uri.scheme });
    }
  }
  return out;
}

function paramValue(p: Party, name: string): string | undefined {
  const v = p.params.get(name);
  return typeof v === 'string' ? message.unquote(v).toLowerCase() : undefined;
}

const RANK: Record<PrivacyWish, number> = { none: 0, id: 1, full: 2 };

function stronger(a: PrivacyWish, b: PrivacyWish): PrivacyWish {
  return RANK[a] >= RANK[b] ? a : b;
}

/** RFC 3323 §4.2 tokens → the wish they express. 'none' wins only alone. */
function privacyFromTokens(tokens: readonly string[]): PrivacyWish {
  if (tokens.some((t) => t === 'header' || t === 'user' || t === 'session')) return 'full';
  if (tokens.includes('id')) return 'id';
  return 'none';
}

/** RPID privacy parameter (draft §6.1): full/uri hide the number, name only the name. */
function privacyFromRpid(p: Party): PrivacyWish {
  const v = paramValue(p, 'privacy');
  if (v === 'full') return 'full';
  if (v === 'uri') return 'id';
  return 'none';
}

/**
 * Who is calling, from an inbound request's headers. PAI and RPID are believed only when the
 * request came from a trusted source (RFC 3325 §5: a PAI from outside the trust domain is
 * discarded; RPID likewise); otherwise From is all there is, unverified. PPI is a wish, never
 * proof (RFC 3325 §9.2): it is returned as `preferred` for a caller that authenticated the
 * sender to assert if it wants. Privacy is honoured from anyone: a caller asking for it gets it,
 * and an anonymous From (RFC 3323 §4.1.1.3) counts as asking for 'id'.
 */
export function parseCallerIdentity(headers: InboundIdentityHeaders, trustedSource: boolean): CallerIdentity {
  const privacyTokens = (headers.privacy ?? []).flatMap((v) => v.split(/[;,]/)).map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
  let privacy = privacyFromTokens(privacyTokens);
  const ppi = parseParties(headers.pPreferredIdentity);
  const preferred = (ppi.find((p) => p.scheme === 'tel' && p.number !== undefined) ?? ppi.find((p) => p.number !== undefined))?.number;
  if (trustedSource) {
    const pai = parseParties(headers.pAssertedIdentity);
    // RFC 3325 §9.1: at most one sip(s) and one tel value; prefer the number of the tel one
    const tel = pai.find((p) => p.scheme === 'tel' && p.number !== undefined);
    const sip = pai.find((p) => p.scheme !== 'tel' && p.number !== undefined);
    const best = tel ?? sip;
    if (best !== undefined) {
      const displayName = pai.find((p) => p.displayName !== undefined)?.displayName;
      return { number: best.number, displayName, privacy, privacyTokens, source: 'pai', verified: true, preferred };
    }
    const rpid = parseParties(headers.remotePartyId).find((p) => (paramValue(p, 'party') ?? 'calling') === 'calling' && p.number !== undefined);
    if (rpid !== undefined) {
      privacy = stronger(privacy, privacyFromRpid(rpid));
      const hideName = paramValue(rpid, 'privacy') === 'name';
      return {
        number: rpid.number,
        displayName: hideName ? undefined : rpid.displayName,
        privacy,
        privacyTokens,
        source: 'rpid',
        verified: paramValue(rpid, 'screen') === 'yes',
        preferred,
      };
    }
  }
  const from = headers.from === undefined ? undefined : parseParties([headers.from])[0];
  if (from === undefined || from.number === undefined) {
    // anonymous or unreadable From: the display name ("Anonymous") says nothing about the caller
    return { number: undefined, displayName: undefined, privacy: from === undefined ? privacy : stronger(privacy, 'id'), privacyTokens, source: 'none', verified: false, preferred };
  }
  return { number: from.number, displayName: from.displayName, privacy, privacyTokens, source: 'from', verified: false, preferred };
}
