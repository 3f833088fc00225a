/**
 * Header field names: canonical long forms, compact forms (RFC 3261 §7.3.3 and the IANA SIP
 * header registry) and which headers have a comma-separated list grammar (RFC 3261 §7.3.1).
 */

const CANONICAL_NAMES = [
  'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow',
  'Allow-Events', 'Authentication-Info', 'Authorization', 'Call-ID', 'Call-Info', 'Contact',
  'Content-Disposition', 'Content-Encoding', 'Content-ID', 'Content-Language', 'Content-Length',
  'Content-Type', 'CSeq', 'Date', 'Error-Info', 'Event', 'Expires', 'Flow-Timer', 'From',
  'Identity', 'Identity-Info', 'In-Reply-To', 'Join', 'Max-Forwards', 'MIME-Version',
  'Min-Expires', 'Min-SE', 'Organization', 'P-Asserted-Identity', 'P-Preferred-Identity', 'Path',
  'Priority', 'Privacy', 'Proxy-Authenticate', 'Proxy-Authorization', 'Proxy-Require', 'RAck',
  'Reason', 'Record-Route', 'Refer-To', 'Referred-By', 'Reject-Contact', 'Replaces', 'Reply-To',
  'Request-Disposition', 'Require', 'Retry-After', 'Route', 'RSeq', 'Security-Client',
  'Security-Server', 'Security-Verify', 'Server', 'Service-Route', 'Session-Expires', 'SIP-ETag',
  'SIP-If-Match', 'Subject', 'Subscription-State', 'Supported', 'Target-Dialog', 'Timestamp', 'To',
  'Unsupported', 'User-Agent', 'Via', 'Warning', 'WWW-Authenticate',
];

/** IANA compact forms (RFC 3261 §7.3.3, RFC 3265, 3515, 3892, 4028, 3841, 4474). */
const COMPACT: Record<string, string> = {
  a: 'Accept-Contact', b: 'Referred-By', c: 'Content-Type', d: 'Request-Disposition',
  e: 'Content-Encoding', f: 'From', i: 'Call-ID', j: 'Reject-Contact', k: 'Supported',
  l: 'Content-Length', m: 'Contact', n: 'Identity-Info', o: 'Event', r: 'Refer-To', s: 'Subject',
  t: 'To', u: 'Allow-Events', v: 'Via', x: 'Session-Expires', y: 'Identity',
};

/**
 * Headers whose grammar is `1#element` / `#element`, so several values may share one field,
 * separated by commas (RFC 3261 §7.3.1). Authorization-style headers, Date, Retry-After and
 * the name-addr singletons (To, From) are NOT here: their values contain commas.
 */
const LIST_HEADERS = new Set([
  'accept', 'accept-contact', 'accept-encoding', 'accept-language', 'alert-info', 'allow',
  'allow-events', 'call-info', 'contact', 'content-encoding', 'content-language', 'error-info',
  'in-reply-to', 'p-asserted-identity', 'p-preferred-identity', 'path', 'proxy-require', 'reason',
  'record-route', 'reject-contact', 'request-disposition', 'require', 'route', 'security-client',
  'security-server', 'security-verify', 'service-route', 'supported', 'unsupported', 'via',
  'warning',
]);

/** lower-case name (long or compact) -> canonical long name */
const CANONICAL = new Map<string, string>();
for (const name of CANONICAL_NAMES) CANONICAL.set(name.toLowerCase(), name);
for (const [short, long] of Object.entries(COMPACT)) CANONICAL.set(short, long);

export interface HeaderNameInfo {
  name: string;
  key: string;
}

const INFO = new Map<string, HeaderNameInfo>();
for (const [lower, name] of CANONICAL) INFO.set(lower, { name, key: name.toLowerCase() });

/**
 * Spellings already looked up, as written (code asks for 'Via', 'CSeq'... on every message), so
 * the usual lookup costs no toLowerCase. Only known headers are kept, and at most
 * EXACT_CACHE_LIMIT spellings, so odd casings from the network cannot grow it without bound.
 */
const EXACT = new Map<string, HeaderNameInfo>();
const EXACT_CACHE_LIMIT = 2048;

/** canonical name and comparison key in one lookup (the parser's hot path) */
export function headerNameInfo(name: string): HeaderNameInfo {
  const exact = EXACT.get(name);
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  const known = INFO.get(lower);
  if (known === undefined) return { name, key: lower };
  // the key is kept, so not as a slice of the message it came in (see detachedString)
  if (EXACT.size < EXACT_CACHE_LIMIT) EXACT.set(name === known.name ? known.name : Buffer.from(name, 'utf8').toString('utf8'), known);
  return known;
}

/** The name to store and serialize: the canonical long form, or the name as received when unknown. */
export function canonicalHeaderName(name: string): string {
  return headerNameInfo(name).name;
}

/** The case-insensitive comparison key of a header name (compact forms folded to the long form). */
export function headerKey(name: string): string {
  return headerNameInfo(name).key;
}

export function isListHeader(key: string): boolean {
  return LIST_HEADERS.has(key);
}
