/** Building messages from code: responses to a request (RFC 3261 §8.2.6) and requests from parts. */
import { HeaderList } from './header-list.js';
import { SipRequestMessage, SipResponseMessage } from './message.js';
import { reasonPhrase } from './reason-phrases.js';
import { parseUri } from './uri.js';
import { InvalidInputError } from '../../lib/index.js';
import type { SipRequest, SipResponse, SipUri } from './types.js';

export interface CreateResponseOptions {
  /** added to To when the status is above 100 and To has no tag yet (§8.2.6.2) */
  toTag?: string;
  /** extra header fields, appended in order */
  headers?: [string, string][];
  body?: Buffer;
  contentType?: string;
}

/**
 * RFC 3261 §8.2.6.2: copy every Via in order, From, To, Call-ID and CSeq; Timestamp on a 100
 * (§8.2.6.1). Content-Length is written by serializeMessage.
 */
export function createResponse(req: SipRequest, status: number, reason?: string, opts?: CreateResponseOptions): SipResponse {
  const headers = new HeaderList();
  for (const [name, value] of req.headers.entries()) {
    if (name === 'Via' || name === 'From' || name === 'Call-ID' || name === 'CSeq') headers.append(name, value);
    else if (name === 'To') {
      const hasTag = req.toTag !== undefined;
      const tag = opts?.toTag;
      headers.append(name, tag !== undefined && status > 100 && !hasTag ? value + ';tag=' + tag : value);
    } else if (name === 'Timestamp' && status === 100) headers.append(name, value);
  }
  if (opts?.headers !== undefined) for (const [name, value] of opts.headers) headers.append(name, value);
  const body = opts?.body ?? Buffer.alloc(0);
  if (opts?.contentType !== undefined) headers.set('Content-Type', opts.contentType);
  headers.set('Content-Length', String(body.length));
  return new SipResponseMessage({ status, reason: reason ?? reasonPhrase(status), headers, body });
}

export interface CreateRequestOptions {
  method: string;
  uri: SipUri | string;
  headers?: Iterable<readonly [string, string]>;
  body?: Buffer;
}

/** A request from parts; throws InvalidInputError on a URI that does not parse (caller error). */
export function createRequest(opts: CreateRequestOptions): SipRequest {
  const uri = typeof opts.uri === 'string' ? parseUri(opts.uri) : opts.uri;
  if (uri === undefined) throw new InvalidInputError(`not a SIP URI: ${String(opts.uri)}`);
  const headers = new HeaderList(opts.headers);
  const body = opts.body ?? Buffer.alloc(0);
  headers.set('Content-Length', String(body.length));
  return new SipRequestMessage({ method: opts.method, uri, headers, body });
}
