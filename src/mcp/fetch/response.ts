/**
 * Building FetchResponse values: the media type without parameters (RFC 9110 §8.3.1) and text()
 * decoded with the charset the response named, UTF-8 otherwise.
 */
import type { FetchResponse } from './types.js';

export interface MediaType {
  /** type/subtype, lower-case */
  type: string;
  /** the charset parameter, lower-case, when present */
  charset: string | undefined;
}

export function parseMediaType(header: string | undefined): MediaType {
  if (header === undefined) return { type: '', charset: undefined };
  const [type = '', ...params] = header.split(';');
  let charset: string | undefined;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    if (param.slice(0, eq).trim().toLowerCase() === 'charset') {
      charset = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    }
  }
  return { type: type.trim().toLowerCase(), charset };
}

/** Decode with the named charset (WHATWG Encoding labels: latin1, iso-8859-1, utf-16le...); unknown labels fall back to UTF-8. */
export function decodeText(body: Uint8Array, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body);
  }
}

export function makeResponse(
  url: string,
  status: number,
  contentTypeHeader: string | undefined,
  body: Uint8Array,
  fromCache: boolean,
): FetchResponse {
  const mediaType = parseMediaType(contentTypeHeader);
  let decoded: string | undefined;
  return {
    url,
    status,
    contentType: mediaType.type,
    body,
    fromCache,
    text: () => (decoded ??= decodeText(body, mediaType.charset)),
  };
}
