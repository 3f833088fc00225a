/** Building messages from code: responses to a request (RFC 3261 §8.2.6) and requests from parts. */
import { HeaderList, cleanValue, headerField, type HeaderField } from './header-list.js';
import { SipRequestMessage, SipResponseMessage } from './message.js';
import { reasonPhrase } from './reason-phrases.js';
import { parseUri } from './uri.js';
import { InvalidInputError } from '../../lib/index.js';
import type { SipRequest, SipResponse, SipUri } from './types.js';

/** the body of every response made without one: zero bytes, so nothing can write into it */
const NO_BODY = Buffer.alloc(0);

export interface CreateResponseOptions {
  /** added to To when the status is above 100 and To has no tag yet (§8.2.6.2) */
  toTag?: string;
  /** extra header fields, appended in order */
  headers?: [string, string][];
  body?: Buffer;
  contentType?: string;
}

/** §8.2.6.2: the To of a response, with our tag added when the request had none */
function toValue(req: SipRequest, value: string, status: number, opts: CreateResponseOptions | undefined): string {
  const tag = opts?.toTag;
  return tag !== undefined && status > 100 && req.toTag === undefined ? value + ';tag=' + tag : value;
}

/**
 * RFC 3261 §8.2.6.2: copy every Via in order, From, To, Call-ID and CSeq; Timestamp on a 100
 * (§8.2.6.1). Content-Length is written by serializeMessage.
 */
export function createResponse(req: SipRequest, status: number, reason?: string, opts?: CreateResponseOptions): SipResponse {
  const source = req.headers;
  const copied: HeaderField[] = [];
  // our own HeaderList: its fields are already canonical, keyed and clean (the parser splits lines
  // and every edit cleans), so they are copied as they are; only a To given our tag is cleaned
  if (source instanceof HeaderList) {
    for (const f of source.fields()) {
      const name = f.name;
      if (name === 'Via' || name === 'From' || name === 'Call-ID' || name === 'CSeq') copied.push({ name, key: f.key, value: f.value });
      else if (name === 'To') {
        const value = toValue(req, f.value, status, opts);
        copied.push({ name, key: f.key, value: value === f.value ? value : cleanValue(value) });
      } else if (name === 'Timestamp' && status === 100) copied.push({ name, key: f.key, value: f.value });
    }
  } else {
    for (const [name, value] of source.entries()) {
      if (name === 'Via' || name === 'From' || name === 'Call-ID' || name === 'CSeq') copied.push(headerField(name, cleanValue(value)));
      else if (name === 'To') copied.push(headerField(name, cleanValue(toValue(req, value, status, opts))));
      else if (name === 'Timestamp' && status === 100) copied.push(headerField(name, cleanValue(value)));
    }
  }
  const headers = HeaderList.adopt(copied);
  if (opts?.headers !== undefined) for (const [name, value] of opts.headers) headers.append(name, value);
  const body = opts?.body ?? NO_BODY;
  if (opts?.contentType !== undefined) headers.set('Content-Type', opts.contentType);
  headers.set('Content-Length', String(body.length));
  const response = new SipResponseMessage({ status, reason: reason ?? reasonPhrase(status), headers, body });
  // Call-ID and CSeq were copied as they are: their parsed form is the request's (a copy of it,
  // so neither message can change the other's), and sending (metrics, matching) needs no parse
  const cseq = req.cseq;
  if (cseq !== undefined && headers.has('CSeq')) response.primeViews({ callId: req.callId, cseq: { seq: cseq.seq, method: cseq.method } });
  return response;
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
