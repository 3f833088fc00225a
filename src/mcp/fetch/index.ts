/**
 * Fetching for the MCP: the Fetcher contract (types.ts), the HTTP implementation with a shared
 * RFC 9111 cache and per-session RFC 6265 cookies.
 */
export * from './types.js';
export { HttpFetcher, type HttpFetcherOptions } from './http-fetcher.js';
export { FetchCache, type FetchCacheOptions, type CachedResponse, type CacheLookup } from './fetch-cache.js';
export { CookieJar, parseSetCookie, type Cookie, type CookieJarOptions, type ParsedSetCookie } from './cookie-jar.js';
export { parseCacheControl, type CacheDirectives, type RequestLimits } from './cache-policy.js';
export { encodeSubmitBody, encodeMultipart, encodeUrlencoded, type EncodedBody } from './submit-encoding.js';
export { parseMediaType, decodeText, type MediaType } from './response.js';
