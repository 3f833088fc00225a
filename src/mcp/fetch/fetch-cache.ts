/**
 * The process-wide HTTP cache of the MCP: one instance shared by every session's fetcher. An
 * LRU bounded in bytes over GET responses, keyed by absolute URL; the caching rules live in
 * cache-policy.ts. Time comes from the injected clock (wallNow), so unit tests use FakeScheduler.
 */
import { SystemScheduler, type Clock } from '../../lib/index.js';
import {
  canServeWithoutValidation,
  conditionalHeaders,
  hasValidator,
  isStorable,
  mergeRevalidatedHeaders,
  type RequestLimits,
  type StoredHeaders,
} from './cache-policy.js';

export interface CachedResponse {
  url: string;
  headers: StoredHeaders;
  body: Uint8Array;
  /** wall-clock ms when the request that produced (or last revalidated) this entry was sent */
  requestTime: number;
  /** wall-clock ms when its response arrived */
  responseTime: number;
}

export type CacheLookup =
  | { kind: 'miss' }
  | { kind: 'fresh'; entry: CachedResponse }
  /** stored but must be revalidated: send these conditional headers */
  | { kind: 'revalidate'; entry: CachedResponse; conditionalHeaders: Record<string, string> };

export interface FetchCacheOptions {
  /** upper bound on the bytes held (bodies plus headers); default 64 MiB */
  maxBytes?: number;
  /** the clock for ages (only wallNow is used); default the system clock */
  scheduler?: Clock;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

export class FetchCache {
  readonly maxBytes: number;
  private readonly clock: Clock;
  /** Map iteration order is the LRU order: the first entry is the least recently used */
  private readonly entries = new Map<string, CachedResponse>();
  private bytesHeld = 0;

  constructor(options: FetchCacheOptions = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.clock = options.scheduler ?? new SystemScheduler();
  }

  /** wall-clock ms, the time base of every entry */
  now(): number {
    return this.clock.wallNow();
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.bytesHeld;
  }

  lookup(url: string, limits: RequestLimits = {}): CacheLookup {
    const entry = this.entries.get(url);
    if (entry === undefined) return { kind: 'miss' };
    this.touch(url, entry);
    if (canServeWithoutValidation(entry.headers, entry.requestTime, entry.responseTime, this.now(), limits)) {
      return { kind: 'fresh', entry };
    }
    if (!hasValidator(entry.headers)) {
      // nothing to validate with: the next response replaces it
      return { kind: 'miss' };
    }
    return { kind: 'revalidate', entry, conditionalHeaders: conditionalHeaders(entry.headers) };
  }

  /**
   * Offer a network response; stores it when RFC 9111 allows, replaces (or, when it may not be
   * stored, drops) an older entry for the URL. Returns whether it was stored.
   */
  store(
    url: string,
    response: { status: number; headers: StoredHeaders; body: Uint8Array; setsCookie?: boolean },
    requestTime: number,
    responseTime: number,
  ): boolean {
    this.delete(url);
    if (!isStorable(response.status, response.headers, response.setsCookie ?? false)) return false;
    const entry: CachedResponse = { url, headers: { ...response.headers }, body: response.body, requestTime, responseTime };
    if (sizeOf(entry) > this.maxBytes) return false;
    this.insert(url, entry);
    return true;
  }

  /** A 304 answered a conditional request: refresh the stored entry and return it (RFC 9111 §4.3.4). */
  revalidated(url: string, notModifiedHeaders: StoredHeaders, requestTime: number, responseTime: number): CachedResponse | undefined {
    const entry = this.entries.get(url);
    if (entry === undefined) return undefined;
    const refreshed: CachedResponse = {
      url,
      headers: mergeRevalidatedHeaders(entry.headers, notModifiedHeaders),
      body: entry.body,
      requestTime,
      responseTime,
    };
    this.delete(url);
    if (isStorable(200, refreshed.headers, false)) this.insert(url, refreshed);
    return refreshed;
  }

  delete(url: string): void {
    const entry = this.entries.get(url);
    if (entry === undefined) return;
    this.entries.delete(url);
    this.bytesHeld -= sizeOf(entry);
  }

  clear(): void {
    this.entries.clear();
    this.bytesHeld = 0;
  }

  private touch(url: string, entry: CachedResponse): void {
    this.entries.delete(url);
    this.entries.set(url, entry);
  }

  private insert(url: string, entry: CachedResponse): void {
    this.entries.set(url, entry);
    this.bytesHeld += sizeOf(entry);
    for (const [oldUrl] of this.entries) {
      if (this.bytesHeld <= this.maxBytes) break;
      this.delete(oldUrl);
    }
  }
}

function sizeOf(entry: CachedResponse): number {
  let size = entry.body.byteLength + entry.url.length + 64;
  for (const [name, value] of Object.entries(entry.headers)) size += name.length + value.length;
  return size;
}
