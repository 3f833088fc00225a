/**
 * A cookie store for one VoiceXML session (RFC 6265): Set-Cookie parsing (§5.2), storage
 * (§5.3), and the Cookie header of later requests (§5.4). Expiry uses the injected clock.
 * Not implemented: the public suffix list (a Domain attribute naming a bare TLD is refused,
 * nothing finer) and SameSite (no browsing context here).
 */
import { SystemScheduler, type Clock } from '../../lib/index.js';

export interface Cookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  /** wall-clock ms; undefined: a session cookie, kept until the jar goes away */
  expiresAt: number | undefined;
  hostOnly: boolean;
  secure: boolean;
  httpOnly: boolean;
  creationTime: number;
}

export interface CookieJarOptions {
  scheduler?: Clock;
  /** cap on stored cookies; the oldest go first (RFC 6265 §6.1 suggests at least 3000) */
  maxCookies?: number;
}

const MAX_COOKIE_BYTES = 4096;

export class CookieJar {
  private readonly clock: Clock;
  private readonly maxCookies: number;
  private cookies: Cookie[] = [];
  private creationCounter = 0;

  constructor(options: CookieJarOptions = {}) {
    this.clock = options.scheduler ?? new SystemScheduler();
    this.maxCookies = options.maxCookies ?? 3000;
  }

  /** Store the cookies of a response's Set-Cookie headers received for requestUrl; bad ones are ignored. */
  setCookies(requestUrl: string | URL, setCookieHeaders: readonly string[]): void {
    const url = typeof requestUrl === 'string' ? safeUrl(requestUrl) : requestUrl;
    if (url === undefined) return;
    for (const header of setCookieHeaders) this.setCookie(url, header);
  }

  /** The Cookie header value for a request to url, or undefined when no cookie applies (§5.4). */
  cookieHeader(requestUrl: string | URL): string | undefined {
    const url = typeof requestUrl === 'string' ? safeUrl(requestUrl) : requestUrl;
    if (url === undefined) return undefined;
    const matching = this.cookiesFor(url);
    if (matching.length === 0) return undefined;
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  /** The unexpired cookies that apply to url, in §5.4 order (longer paths first, then older first). */
  cookiesFor(requestUrl: string | URL): Cookie[] {
    const url = typeof requestUrl === 'string' ? safeUrl(requestUrl) : requestUrl;
    if (url === undefined) return [];
    this.evictExpired();
    const host = canonicalHost(url.hostname);
    const path = url.pathname === '' ? '/' : url.pathname;
    const secureChannel = url.protocol === 'https:';
    return this.cookies
      .filter((c) => (c.hostOnly ? host === c.domain : domainMatches(host, c.domain)))
      .filter((c) => pathMatches(path, c.path))
      .filter((c) => !c.secure || secureChannel)
      .sort((a, b) => b.path.length - a.path.length || a.creationTime - b.creationTime);
  }

  /** every stored, unexpired cookie */
  all(): Cookie[] {
    this.evictExpired();
    return this.cookies.map((c) => ({ ...c }));
  }

  clear(): void {
    this.cookies = [];
  }

  private setCookie(url: URL, header: string): void {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return;
    const parsed = parseSetCookie(header, this.clock.wallNow());
    if (parsed === undefined) return;
    const host = canonicalHost(url.hostname);
    let domain = host;
    let hostOnly = true;
    if (parsed.domain !== undefined && parsed.domain !== '') {
      // §5.3 step 6: the Domain must domain-match the request host, and not be a bare TLD
      if (!domainMatches(host, parsed.domain) || !parsed.domain.includes('.') && parsed.domain !== host) return;
      domain = parsed.domain;
      hostOnly = false;
    }
    const path = parsed.path !== undefined && parsed.path.startsWith('/') ? parsed.path : defaultPath(url.pathname);
    const existing = this.cookies.find((c) => c.name === parsed.name && c.domain === domain && c.path === path);
    this.cookies = this.cookies.filter((c) => c !== existing);
    const now = this.clock.wallNow();
    if (parsed.expiresAt !== undefined && parsed.expiresAt <= now) return; // §5.3 step 11: an expiry in the past deletes
    this.cookies.push({
      name: parsed.name,
      value: parsed.value,
      domain,
      path,
      expiresAt: parsed.expiresAt,
      hostOnly,
      secure: parsed.secure,
      httpOnly: parsed.httpOnly,
      creationTime: existing?.creationTime ?? ++this.creationCounter,
    });
    if (this.cookies.length > this.maxCookies) this.cookies.splice(0, this.cookies.length - this.maxCookies);
  }

  private evictExpired(): void {
    const now = this.clock.wallNow();
    this.cookies = this.cookies.filter((c) => c.expiresAt === undefined || c.expiresAt > now);
  }
}

export interface ParsedSetCookie {
  name: string;
  value: string;
  expiresAt: number | undefined;
  domain: string | undefined;
  path: string | undefined;
  secure: boolean;
  httpOnly: boolean;
}

/** RFC 6265 §5.2: one Set-Cookie header; undefined when it must be ignored. `now` is wall-clock ms. */
export function parseSetCookie(header: string, now: number): ParsedSetCookie | undefined {
  if (header.length > MAX_COOKIE_BYTES) return undefined;
  const [pair = '', ...attributes] = header.split(';');
  const eq = pair.indexOf('=');
  if (eq < 0) return undefined; // §5.2 step 2
  const name = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  if (name === '' || /[\s",;\\]/.test(name) || /[\x00-\x1f\x7f]/.test(value)) return undefined;
  const cookie: ParsedSetCookie = { name, value, expiresAt: undefined, domain: undefined, path: undefined, secure: false, httpOnly: false };
  let maxAgeSeen = false;
  for (const attribute of attributes) {
    const aeq = attribute.indexOf('=');
    const key = (aeq < 0 ? attribute : attribute.slice(0, aeq)).trim().toLowerCase();
    const arg = aeq < 0 ? '' : attribute.slice(aeq + 1).trim();
    switch (key) {
      case 'expires': {
        // §5.2.1; Max-Age wins over Expires whatever their order (§5.3 step 3)
        const at = parseCookieDate(arg);
        if (at !== undefined && !maxAgeSeen) cookie.expiresAt = at;
        break;
      }
      case 'max-age': {
        if (!/^-?\d+$/.test(arg)) break; // §5.2.2: ignore a malformed Max-Age
        const seconds = Number(arg);
        cookie.expiresAt = seconds <= 0 ? Number.NEGATIVE_INFINITY : now + seconds * 1000;
        maxAgeSeen = true;
        break;
      }
      case 'domain':
        // §5.2.3: a leading dot is ignored
        cookie.domain = arg === '' ? undefined : arg.replace(/^\./, '').toLowerCase();
        break;
      case 'path':
        cookie.path = arg === '' ? undefined : arg;
        break;
      case 'secure':
        cookie.secure = true;
        break;
      case 'httponly':
        cookie.httpOnly = true;
        break;
      default:
        break;
    }
  }
  return cookie;
}

/**
 * §5.1.1 cookie dates. V8's Date.parse accepts the forms servers send (RFC 1123, RFC 850 with
 * two-digit years, asctime); a date it cannot read leaves the cookie a session cookie.
 */
export function parseCookieDate(value: string): number | undefined {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** §5.1.3 */
export function domainMatches(host: string, domain: string): boolean {
  if (host === domain) return true;
  return host.endsWith(`.${domain}`) && !isIpAddress(host);
}

/** §5.1.4 */
export function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** §5.1.4: the directory of the request path */
export function defaultPath(requestPath: string): string {
  if (!requestPath.startsWith('/')) return '/';
  const lastSlash = requestPath.lastIndexOf('/');
  return lastSlash <= 0 ? '/' : requestPath.slice(0, lastSlash);
}

function canonicalHost(hostname: string): string {
  return hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

function safeUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
