/**
 * file: URLs for the terminal runner (only when the fetcher allows them). Never cached. The
 * media type comes from the file extension; a missing file is reported as HTTP 404 so the
 * interpreter raises the same error.badfetch.http.404 a web server would give.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeResponse } from './response.js';
import { FetchError, type FetchResponse } from './types.js';

const MEDIA_TYPES: Record<string, string> = {
  '.vxml': 'application/voicexml+xml',
  '.xml': 'application/xml',
  '.grxml': 'application/srgs+xml',
  '.gram': 'application/srgs',
  '.ssml': 'application/ssml+xml',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.txt': 'text/plain',
  '.html': 'text/html',
  '.wav': 'audio/x-wav',
  '.au': 'audio/basic',
  '.ulaw': 'audio/basic',
  '.mp3': 'audio/mpeg',
};

const ERRNO_STATUS: Record<string, number> = { ENOENT: 404, ENOTDIR: 404, EACCES: 403, EPERM: 403, EISDIR: 403 };

export async function readFileUrl(url: URL, maxBytes: number, signal: AbortSignal): Promise<FetchResponse> {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (err) {
    throw new FetchError(url.href, 'bad-url', `not a local file URL: ${url.href}`, undefined, { cause: err });
  }
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error(`${path} is a directory`), { code: 'EISDIR' });
    if (info.size > maxBytes) throw new FetchError(url.href, 'too-large', `${path} is ${info.size} bytes, more than ${maxBytes}`);
    const data = await readFile(path, { signal });
    const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const contentType = MEDIA_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
    return makeResponse(url.href, 200, contentType, body, false);
  } catch (err) {
    if (err instanceof FetchError) throw err;
    const code = (err as { code?: unknown }).code;
    const status = typeof code === 'string' ? ERRNO_STATUS[code] : undefined;
    if (status !== undefined) throw new FetchError(url.href, 'http', `cannot read ${path} (${String(code)})`, status, { cause: err });
    throw err; // abort and timeout are told apart by the caller
  }
}
