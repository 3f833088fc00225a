/**
 * The MCP's Fetcher over Node's fetch (undici): one per VoiceXML session (its CookieJar is the
 * session's cookies), optionally sharing a process-wide FetchCache. VoiceXML 2.0 §6.1
 * (fetchtimeout, maxage/maxstale) and §5.3.8 (<submit> encodings); redirects are followed here,
 * hop by hop, so every hop sees the cookie jar and the cache.
 */
import { SystemScheduler, describeError, type Scheduler, type TimerHandle } from '../../lib/index.js';
import { CookieJar } from './cookie-jar.js';
import { FetchCache, type CachedResponse } from './fetch-cache.js';
import { KEPT_HEADERS, type StoredHeaders } from './cache-policy.js';
import { readFileUrl } from './file-url.js';
import { makeResponse } from './response.js';
import { concat, encodeSubmitBody, withQueryFields } from './submit-encoding.js';
import { FetchError, type FetchRequest, type FetchResponse, type Fetcher } from './types.js';

export interface HttpFetcherOptions {
  /** shared cache for GET responses; none: every fetch goes to the network */
  cache?: FetchCache;
  /** the session's cookies; default a new jar per fetcher */
  cookies?: CookieJar;
  /** allow file: URLs (the terminal runner); default false */
  allowFile?: boolean;
  /** default fetchtimeout when a request names none; default 30 s */
  timeoutMs?: number;
  /** largest body accepted; default 8 MiB */
  maxBytes?: number;
  userAgent?: string;
  scheduler?: Scheduler;
}

const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

interface Hop {
  url: URL;
  method: 'GET' | 'POST';
  body: { contentType: string; bytes: Uint8Array } | undefined;
}

/** Why the shared AbortController fired: decides between 'timeout' and 'aborted'. */
interface AbortState {
  controller: AbortController;
  timedOut: boolean;
}

export class HttpFetcher implements Fetcher {
  readonly cookies: CookieJar;
  readonly cache: FetchCache | undefined;
  private readonly allowFile: boolean;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly userAgent: string;
  private readonly scheduler: Scheduler;
  /** the fetches in flight, aborted by close() */
  private readonly inFlight = new Set<AbortController>();
  private closed = false;

  constructor(options: HttpFetcherOptions = {}) {
    this.scheduler = options.scheduler ?? new SystemScheduler();
    this.cookies = options.cookies ?? new CookieJar({ scheduler: this.scheduler });
    this.cache = options.cache;
    this.allowFile = options.allowFile ?? false;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    this.userAgent = options.userAgent ?? 'opencx-mcp/1.0';
  }

  /** The session ended: abort the fetches in flight; later fetches fail with reason 'aborted'. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
  }

  async fetch(request: FetchRequest): Promise<FetchResponse> {
    const url = parseUrl(request.url);
    const method = request.method ?? 'GET';
    const state: AbortState = { controller: new AbortController(), timedOut: false };
    const onAbort = (): void => state.controller.abort();
    if (request.signal?.aborted === true || this.closed) throw new FetchError(request.url, 'aborted', `fetch of ${request.url} aborted`);
    request.signal?.addEventListener('abort', onAbort, { once: true });
    this.inFlight.add(state.controller);
    const timer: TimerHandle = this.scheduler.setTimeout(() => {
      state.timedOut = true;
      state.controller.abort();
    }, request.timeoutMs ?? this.timeoutMs);
    try {
      if (url.protocol === 'file:') {
        if (!this.allowFile) throw new FetchError(request.url, 'bad-url', `file: URLs are not allowed here: ${request.url}`);
        return await readFileUrl(url, this.maxBytes, state.controller.signal);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new FetchError(request.url, 'bad-url', `unsupported URL scheme ${url.protocol} in ${request.url}`);
      }
      const first: Hop =
        request.body === undefined
          ? { url, method, body: undefined }
          : method === 'GET'
            ? { url: withQueryFields(url, request.body), method, body: undefined }
            : { url, method, body: encodeSubmitBody(request.body) };
      return await this.followRedirects(first, request, state.controller.signal);
    } catch (err) {
      throw this.toFetchError(err, request.url, state, request);
    } finally {
      timer.cancel();
      request.signal?.removeEventListener('abort', onAbort);
      this.inFlight.delete(state.controller);
    }
  }

  private async followRedirects(first: Hop, request: FetchRequest, signal: AbortSignal): Promise<FetchResponse> {
    let hop = first;
    for (let redirects = 0; ; redirects++) {
      const result = await this.oneHop(hop, request, signal, redirects === 0);
      if (result.kind === 'done') return result.response;
      if (redirects >= MAX_REDIRECTS) {
        throw new FetchError(request.url, 'network', `more than ${MAX_REDIRECTS} redirects fetching ${request.url}`);
      }
      hop = result.next;
    }
  }

  private async oneHop(
    hop: Hop,
    request: FetchRequest,
    signal: AbortSignal,
    isFirst: boolean,
  ): Promise<{ kind: 'done'; response: FetchResponse } | { kind: 'redirect'; next: Hop }> {
    const cache = hop.method === 'GET' ? this.cache : undefined;
    const limits = { ...(request.maxageS !== undefined && { maxageS: request.maxageS }), ...(request.maxstaleS !== undefined && { maxstaleS: request.maxstaleS }) };
    const key = cacheKey(hop.url);
    const lookup = cache?.lookup(key, limits) ?? { kind: 'miss' as const };
    if (lookup.kind === 'fresh') return { kind: 'done', response: fromEntry(hop.url, lookup.entry, isFirst) };

    const headers: Record<string, string> = { 'user-agent': this.userAgent, accept: request.accept ?? '*/*' };
    const cookie = this.cookies.cookieHeader(hop.url);
    if (cookie !== undefined) headers['cookie'] = cookie;
    if (lookup.kind === 'revalidate') Object.assign(headers, lookup.conditionalHeaders);
    if (hop.body !== undefined) headers['content-type'] = hop.body.contentType;

    const requestTime = cache?.now() ?? 0;
    const response = await fetch(hop.url, {
      method: hop.method,
      headers,
      ...(hop.body !== undefined && { body: hop.body.bytes }),
      redirect: 'manual',
      signal,
    });
    const setCookies = response.headers.getSetCookie();
    this.cookies.setCookies(hop.url, setCookies);
    // RFC 9111 §4.4: an unsafe method that succeeds invalidates what is stored for its URL
    if (hop.method !== 'GET' && response.status < 400) this.cache?.delete(key);

    if (REDIRECT_STATUSES.has(response.status)) {
      await discard(response);
      return { kind: 'redirect', next: redirectHop(hop, response, request.url) };
    }
    if (response.status === 304 && lookup.kind === 'revalidate' && cache !== undefined) {
      await discard(response);
      const refreshed = cache.revalidated(key, keptHeaders(response.headers), requestTime, cache.now()) ?? lookup.entry;
      return { kind: 'done', response: fromEntry(hop.url, refreshed, false) };
    }
    if (response.status < 200 || response.status > 299) {
      await discard(response);
      throw new FetchError(request.url, 'http', `HTTP ${response.status} fetching ${hop.url.href}`, response.status);
    }
    const body = await readLimited(response, this.maxBytes, request.url);
    const stored = keptHeaders(response.headers);
    cache?.store(key, { status: response.status, headers: stored, body, setsCookie: setCookies.length > 0 }, requestTime, cache.now());
    return { kind: 'done', response: makeResponse(hop.url.href, response.status, stored['content-type'], body, false) };
  }

  private toFetchError(err: unknown, url: string, state: AbortState, request: FetchRequest): FetchError {
    if (err instanceof FetchError) return err;
    if (state.timedOut) {
      return new FetchError(url, 'timeout', `fetch of ${url} timed out after ${request.timeoutMs ?? this.timeoutMs} ms`, undefined, { cause: err });
    }
    if (state.controller.signal.aborted) return new FetchError(url, 'aborted', `fetch of ${url} aborted`, undefined, { cause: err });
    const cause = err instanceof Error && err.cause !== undefined ? `: ${describeError(err.cause)}` : '';
    return new FetchError(url, 'network', `fetching ${url} failed: ${describeError(err)}${cause}`, undefined, { cause: err });
  }
}

function parseUrl(value: string): URL {
  try {
    return new URL(value);
  } catch (err) {
    throw new FetchError(value, 'bad-url', `not an absolute URL: ${JSON.stringify(value)}`, undefined, { cause: err });
  }
}

/** RFC 9110 §15.4: 303 (and, as browsers do, 301/302 after POST) become GET; 307/308 keep method and body. */
function redirectHop(hop: Hop, response: Response, originalUrl: string): Hop {
  const location = response.headers.get('location');
  if (location === null) throw new FetchError(originalUrl, 'network', `HTTP ${response.status} without Location from ${hop.url.href}`);
  let next: URL;
  try {
    next = new URL(location, hop.url);
  } catch (err) {
    throw new FetchError(originalUrl, 'bad-url', `bad redirect Location ${JSON.stringify(location)}`, undefined, { cause: err });
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new FetchError(originalUrl, 'bad-url', `redirect to unsupported scheme ${next.protocol}`);
  }
  const toGet = response.status === 303 || ((response.status === 301 || response.status === 302) && hop.method === 'POST');
  return toGet ? { url: next, method: 'GET', body: undefined } : { url: next, method: hop.method, body: hop.body };
}

function keptHeaders(headers: Headers): StoredHeaders {
  const out: StoredHeaders = {};
  for (const name of KEPT_HEADERS) {
    const value = headers.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}

function fromEntry(url: URL, entry: CachedResponse, fromCache: boolean): FetchResponse {
  return makeResponse(url.href, 200, entry.headers['content-type'], entry.body, fromCache);
}

/** the fragment never reaches the server, so it is not part of the cache key (RFC 9111 §2) */
function cacheKey(url: URL): string {
  const key = new URL(url.href);
  key.hash = '';
  return key.href;
}

async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // the connection is going away anyway
  }
}

/** Read the body, refusing more than maxBytes (announced by Content-Length or counted as it streams). */
async function readLimited(response: Response, maxBytes: number, url: string): Promise<Uint8Array> {
  const announced = Number(response.headers.get('content-length') ?? Number.NaN);
  if (announced > maxBytes) {
    await discard(response);
    throw new FetchError(url, 'too-large', `body of ${url} is ${announced} bytes, more than ${maxBytes}`);
  }
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new FetchError(url, 'too-large', `body of ${url} exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return concat(chunks);
}
