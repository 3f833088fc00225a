/**
 * Encoding a VoiceXML <submit> body (VoiceXML 2.0 §5.3.8): application/x-www-form-urlencoded
 * (UTF-8, WHATWG URL §5.2 serializer) and multipart/form-data (RFC 7578), which is how
 * recordings are submitted.
 */
import { randomBytes } from 'node:crypto';
import type { SubmitBody } from './types.js';

export interface EncodedBody {
  contentType: string;
  bytes: Uint8Array;
}

export function encodeUrlencoded(fields: ReadonlyArray<readonly [string, string]>): string {
  return new URLSearchParams(fields.map(([name, value]): [string, string] => [name, value])).toString();
}

/** RFC 7578 §4.2 and the HTML form-data rules: quote, CR and LF in names are percent-escaped. */
function escapeDispositionValue(value: string): string {
  return value.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** a header value must not carry line breaks (they would inject headers) */
function singleLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}

export function encodeMultipart(parts: Extract<SubmitBody, { kind: 'multipart' }>['parts'], boundary?: string): EncodedBody {
  // RFC 2046 §5.1.1: 1-70 characters; random so it cannot collide with a recording's bytes
  const chosen = boundary ?? `----opencx-${randomBytes(16).toString('hex')}`;
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    let head = `--${chosen}\r\nContent-Disposition: form-data; name="${escapeDispositionValue(part.name)}"`;
    if ('data' in part) {
      head += `; filename="${escapeDispositionValue(part.filename)}"\r\nContent-Type: ${singleLine(part.contentType)}\r\n\r\n`;
      chunks.push(encoder.encode(head), part.data, encoder.encode('\r\n'));
    } else {
      head += '\r\n\r\n';
      chunks.push(encoder.encode(head), encoder.encode(part.value), encoder.encode('\r\n'));
    }
  }
  chunks.push(encoder.encode(`--${chosen}--\r\n`));
  return { contentType: `multipart/form-data; boundary=${chosen}`, bytes: concat(chunks) };
}

export function encodeSubmitBody(body: SubmitBody): EncodedBody {
  if (body.kind === 'urlencoded') {
    return { contentType: 'application/x-www-form-urlencoded', bytes: new TextEncoder().encode(encodeUrlencoded(body.fields)) };
  }
  return encodeMultipart(body.parts);
}

/**
 * method=get: the fields go into the query string (VoiceXML 2.0 §5.3.8). A multipart body's
 * file parts cannot travel in a URL and are left out; its text parts are kept.
 */
export function withQueryFields(url: URL, body: SubmitBody): URL {
  const fields: Array<[string, string]> =
    body.kind === 'urlencoded'
      ? body.fields.map(([n, v]) => [n, v])
      : body.parts.flatMap((p): Array<[string, string]> => ('value' in p ? [[p.name, p.value]] : []));
  const out = new URL(url.href);
  for (const [name, value] of fields) out.searchParams.append(name, value);
  return out;
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const c of chunks) length += c.byteLength;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
