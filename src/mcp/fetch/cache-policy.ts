/**
 * The pure part of HTTP caching (RFC 9111): Cache-Control parsing, storability, age and
 * freshness, and the VoiceXML 2.0 §6.1.2 maxage/maxstale acceptance rule. No I/O, no clock:
 * every function takes the times it needs in epoch milliseconds.
 */

/** The response headers the cache keeps (lower-case names). */
export type StoredHeaders = Record<string, string>;

export interface CacheDirectives {
  maxAge?: number;
  sMaxAge?: number;
  noCache: boolean;
  noStore: boolean;
  mustRevalidate: boolean;
  isPrivate: boolean;
}

/** RFC 9111 §5.2: comma-separated directives, names case-insensitive, optional (quoted) arguments. */
export function parseCacheControl(value: string | undefined): CacheDirectives {
  const directives: CacheDirectives = { noCache: false, noStore: false, mustRevalidate: false, isPrivate: false };
  if (value === undefined) return directives;
  for (const raw of value.split(',')) {
    const eq = raw.indexOf('=');
    const name = (eq < 0 ? raw : raw.slice(0, eq)).trim().toLowerCase();
    const arg = eq < 0 ? undefined : raw.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    switch (name) {
      case 'max-age':
        directives.maxAge = deltaSeconds(arg) ?? 0; // §4.2.1: an invalid max-age makes the response stale
        break;
      case 's-maxage':
        directives.sMaxAge = deltaSeconds(arg) ?? 0;
        break;
      case 'no-cache':
        directives.noCache = true;
        break;
      case 'no-store':
        directives.noStore = true;
        break;
      case 'must-revalidate':
      case 'proxy-revalidate':
        directives.mustRevalidate = true;
        break;
      case 'private':
        directives.isPrivate = true;
        break;
      default:
        break;
    }
  }
  return directives;
}

function deltaSeconds(arg: string | undefined): number | undefined {
  if (arg === undefined || !/^\d+$/.test(arg)) return undefined;
  return Math.min(Number(arg), 2_147_483_648); // §1.2.2: cap at 2^31
}

/** An HTTP-date in epoch ms, or undefined when it does not parse (RFC 9110 §5.6.7). */
export function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * RFC 9111 §3: may this response be stored? This cache is shared by every session of the
 * process, so it behaves as a shared cache: `private` is not stored, s-maxage counts. Responses
 * that set cookies are not stored either: serving them to another session would leak the cookie
 * (and skip setting it on this one). Without explicit freshness and without a validator a
 * stored copy could never be reused (no heuristic freshness here), so it is not stored.
 */
export function isStorable(status: number, headers: StoredHeaders, setsCookie: boolean): boolean {
  if (status !== 200) return false;
  if (setsCookie) return false;
  const cc = parseCacheControl(headers['cache-control']);
  if (cc.noStore || cc.isPrivate) return false;
  if ((headers['vary'] ?? '').split(',').some((v) => v.trim() === '*')) return false;
  const explicit = cc.maxAge !== undefined || cc.sMaxAge !== undefined || headers['expires'] !== undefined;
  return explicit || hasValidator(headers);
}

export function hasValidator(headers: StoredHeaders): boolean {
  return headers['etag'] !== undefined || headers['last-modified'] !== undefined;
}

/** RFC 9111 §4.2.1: s-maxage, then max-age, then Expires minus Date; no heuristics (0). */
export function freshnessLifetimeMs(headers: StoredHeaders, responseTime: number): number {
  const cc = parseCacheControl(headers['cache-control']);
  if (cc.sMaxAge !== undefined) return cc.sMaxAge * 1000;
  if (cc.maxAge !== undefined) return cc.maxAge * 1000;
  if (headers['expires'] !== undefined) {
    const expires = parseHttpDate(headers['expires']);
    if (expires === undefined) return 0; // §5.3: an invalid Expires means "already expired"
    const date = parseHttpDate(headers['date']) ?? responseTime;
    return Math.max(0, expires - date);
  }
  return 0;
}

/** RFC 9111 §4.2.3, in milliseconds. */
export function currentAgeMs(headers: StoredHeaders, requestTime: number, responseTime: number, now: number): number {
  const date = parseHttpDate(headers['date']) ?? responseTime;
  const ageValue = deltaSeconds(headers['age']?.trim()) ?? 0;
  const apparentAge = Math.max(0, responseTime - date);
  const responseDelay = Math.max(0, responseTime - requestTime);
  const correctedAgeValue = ageValue * 1000 + responseDelay;
  const correctedInitialAge = Math.max(apparentAge, correctedAgeValue);
  const residentTime = Math.max(0, now - responseTime);
  return correctedInitialAge + residentTime;
}

export interface RequestLimits {
  /** VoiceXML maxage in seconds: the oldest entry the request accepts; 0 forces revalidation */
  maxageS?: number;
  /** VoiceXML maxstale in seconds: how far past expiry an entry is still acceptable */
  maxstaleS?: number;
}

/**
 * May a stored response be served without contacting the origin? Fresh entries are, unless the
 * request's maxage is exceeded (maxage=0 always revalidates, §6.1.2). Stale entries only within
 * the request's maxstale, and never when the response said no-cache or must-revalidate
 * (RFC 9111 §4.2.4, §5.2.2.2).
 */
export function canServeWithoutValidation(
  headers: StoredHeaders,
  requestTime: number,
  responseTime: number,
  now: number,
  limits: RequestLimits,
): boolean {
  const cc = parseCacheControl(headers['cache-control']);
  if (cc.noCache) return false;
  const age = currentAgeMs(headers, requestTime, responseTime, now);
  if (limits.maxageS !== undefined && (limits.maxageS <= 0 || age > limits.maxageS * 1000)) return false;
  const lifetime = freshnessLifetimeMs(headers, responseTime);
  if (lifetime > age) return true;
  if (cc.mustRevalidate || limits.maxstaleS === undefined) return false;
  return age - lifetime <= limits.maxstaleS * 1000;
}

/** Headers for a conditional request (RFC 9110 §13.1): If-None-Match and If-Modified-Since. */
export function conditionalHeaders(headers: StoredHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  const etag = headers['etag'];
  const lastModified = headers['last-modified'];
  if (etag !== undefined) out['if-none-match'] = etag;
  if (lastModified !== undefined) out['if-modified-since'] = lastModified;
  return out;
}

/** The header names kept with a stored response and refreshed by a 304 (RFC 9111 §3.2, §4.3.4). */
export const KEPT_HEADERS = ['content-type', 'cache-control', 'expires', 'date', 'age', 'etag', 'last-modified', 'vary'] as const;

/** §4.3.4: a 304 updates the stored headers it carries (Content-Type excepted: the body did not change). */
export function mergeRevalidatedHeaders(stored: StoredHeaders, fromNotModified: StoredHeaders): StoredHeaders {
  const merged: StoredHeaders = { ...stored };
  for (const name of KEPT_HEADERS) {
    if (name === 'content-type') continue;
    const value = fromNotModified[name];
    if (value !== undefined) merged[name] = value;
  }
  // an Age from an earlier response no longer applies to the refreshed one
  if (fromNotModified['age'] === undefined) delete merged['age'];
  return merged;
}
