/**
 * The fetch contract of the MCP: how the VoiceXML interpreter gets documents, grammars, scripts,
 * audio and <data>, and submits. VoiceXML 2.0 §6.1 (fetching, caching, maxage/maxstale) and
 * 2.1's error.badfetch.http.<status>.
 */

export type SubmitBody =
  | { kind: 'urlencoded'; fields: Array<[string, string]> }
  | {
      kind: 'multipart';
      parts: Array<{ name: string; value: string } | { name: string; filename: string; contentType: string; data: Uint8Array }>;
    };

export interface FetchRequest {
  /** absolute URL: http:, https:, file: (when the fetcher allows it) */
  url: string;
  method?: 'GET' | 'POST';
  body?: SubmitBody;
  /** fetchtimeout in ms */
  timeoutMs?: number;
  /** maxage / maxstale in seconds (VoiceXML 2.0 §6.1.2); undefined: what the HTTP headers say */
  maxageS?: number;
  maxstaleS?: number;
  /** Accept header */
  accept?: string;
  /** aborts the fetch (the session ended) */
  signal?: AbortSignal;
}

export interface FetchResponse {
  /** the final URL after redirects: relative URLs in the body resolve against it */
  url: string;
  status: number;
  /** media type without parameters, lower-case (text/xml, application/voicexml+xml, audio/x-wav...) */
  contentType: string;
  body: Uint8Array;
  /** the body as UTF-8 (or the charset the response named) */
  text(): string;
  /** served from the cache without going to the network */
  fromCache: boolean;
}

/** Why a fetch failed; the interpreter throws error.badfetch (plus .http.<status> for HTTP statuses). */
export class FetchError extends Error {
  override readonly name = 'FetchError';
  constructor(
    readonly url: string,
    readonly reason: 'timeout' | 'http' | 'network' | 'bad-url' | 'too-large' | 'aborted',
    message: string,
    /** the HTTP status when reason is 'http' */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What the interpreter fetches through; one per session (cookies live in it), caches may be shared. */
export interface Fetcher {
  fetch(request: FetchRequest): Promise<FetchResponse>;
}
