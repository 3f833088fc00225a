/**
 * parseMessage: bytes of one SIP message (a datagram, or one framed message from a stream) to a
 * SipMessage, or a SipParseError saying what to answer (RFC 3261 §7, §18.3, §25; RFC 4475).
 *
 * One pass over the header lines collects raw values (folding collapsed, RFC 3261 §7.3.1);
 * only the headers every transaction needs are parsed here (Via, From, To, Call-ID, CSeq,
 * Max-Forwards, Content-Length, Contact), and their typed values seed the message's caches.
 */
import { HeaderList, headerField, type HeaderField } from './header-list.js';
import { SipRequestMessage, SipResponseMessage, type HeaderViews } from './message.js';
import { parseContactList, parseNameAddr } from './name-addr.js';
import { parseCSeq, parseDeltaSeconds, parseMaxForwards } from './scalars.js';
import { TOKEN, allIn, parseUint } from './syntax.js';
import { parseUri, uriScheme } from './uri.js';
import { parseViaList } from './via.js';
import type { Contact, SipParseError, SipParseResult, Via } from './types.js';

export interface ParseOptions {
  /** refuse anything larger (513 Message Too Large, RFC 3261 §21.5.11); default 65,535 */
  maxSize?: number;
}

export const DEFAULT_MAX_MESSAGE_SIZE = 65535;

/** Methods this stack knows; a CSeq mismatch on any other method earns 501 (RFC 4475 §3.1.2.18). */
const KNOWN_METHODS = new Set([
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY',
  'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE',
]);

type Partial = SipParseError['partial'];

function fail(status: number, reason: string, partial: Partial): SipParseResult {
  return { ok: false, error: { kind: 'parse-error', reason, status, partial } };
}

/** Never throws: bad input yields `{ ok: false }` with a status and a short reason. */
export function parseMessage(data: Buffer, options?: ParseOptions): SipParseResult {
  try {
    return parse(data, options?.maxSize ?? DEFAULT_MAX_MESSAGE_SIZE);
  } catch {
    // unreachable by design; a last guard so a parser bug cannot take the server down
    return fail(400, 'Malformed message', undefined);
  }
}

/** The parser without its last-resort guard: the fuzzer uses it to see real exceptions. */
export function parseMessageUnguarded(data: Buffer, options?: ParseOptions): SipParseResult {
  return parse(data, options?.maxSize ?? DEFAULT_MAX_MESSAGE_SIZE);
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const LFLF = Buffer.from('\n\n', 'latin1');
const LFCRLF = Buffer.from('\n\r\n', 'latin1');

/** where the header block ends and the body begins */
function findHeaderEnd(data: Buffer, start: number): { headerEnd: number; bodyStart: number } {
  const crlf = data.indexOf(CRLFCRLF, start);
  const firstLf = data.indexOf(10, start);
  // the usual case: CRLF line ends (checked on the start-line), blank line found
  if (crlf !== -1 && firstLf > start && data[firstLf - 1] === 13) return { headerEnd: crlf, bodyStart: crlf + 4 };
  // tolerate bare-LF line ends: the blank line is then "\n\n" (or "\n\r\n")
  let best = crlf === -1 ? { headerEnd: data.length, bodyStart: data.length } : { headerEnd: crlf, bodyStart: crlf + 4 };
  const lf = data.indexOf(LFLF, start);
  if (lf !== -1 && lf < best.headerEnd) best = { headerEnd: lf, bodyStart: lf + 2 };
  const mixed = data.indexOf(LFCRLF, start);
  if (mixed !== -1 && mixed < best.headerEnd) best = { headerEnd: mixed, bodyStart: mixed + 3 };
  return best;
}

function parse(data: Buffer, maxSize: number): SipParseResult {
  if (data.length > maxSize) return fail(513, 'Message Too Large', undefined);
  let start = 0;
  // RFC 3261 §7.5: ignore CRLFs before the start-line (keep-alives on streams)
  while (start < data.length && (data[start] === 13 || data[start] === 10)) start++;
  if (start >= data.length) return fail(400, 'Empty message', undefined);
  const { headerEnd, bodyStart } = findHeaderEnd(data, start);
  const text = data.toString('utf8', start, headerEnd);

  let nl = text.indexOf('\n');
  if (nl === -1) nl = text.length;
  const firstLine = text.charCodeAt(nl - 1) === 13 ? text.slice(0, nl - 1) : text.slice(0, nl);

  const fields: HeaderField[] = [];
  const headerError = collectHeaders(text, nl + 1, fields);
  const isResponse = firstLine.startsWith('SIP/') || firstLine.startsWith('sip/');
  const lineParts = firstLine.split(' ');
  const method = isResponse ? undefined : lineParts[0];
  const headers = HeaderList.adopt(fields);
  const partial: Partial = method === undefined ? { isRequest: !isResponse, headers } : { isRequest: true, method, headers };
  if (headerError !== undefined) return fail(400, headerError, partial);
  return isResponse ? parseResponse(firstLine, headers, data, bodyStart, partial) : parseRequest(lineParts, headers, data, bodyStart, partial);
}

/** Split header lines, unfold continuation lines (RFC 3261 §7.3.1). Returns an error reason or undefined. */
function collectHeaders(text: string, pos: number, fields: HeaderField[]): string | undefined {
  let last: HeaderField | undefined;
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl === -1) nl = text.length;
    const end = text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    const first = text.charCodeAt(pos);
    if (first === 32 || first === 9) {
      if (last === undefined) return 'Malformed header line';
      const more = text.slice(pos, end).trim();
      if (more !== '') last.value = last.value === '' ? more : last.value + ' ' + more;
    } else if (end > pos) {
      const colon = text.indexOf(':', pos);
      if (colon === -1 || colon >= end) return 'Malformed header line';
      let nameEnd = colon;
      while (nameEnd > pos && (text.charCodeAt(nameEnd - 1) === 32 || text.charCodeAt(nameEnd - 1) === 9)) nameEnd--;
      if (!allIn(TOKEN, text, pos, nameEnd)) return 'Malformed header name';
      last = headerField(text.slice(pos, nameEnd), text.slice(colon + 1, end).trim());
      fields.push(last);
    }
    pos = nl + 1;
  }
  return undefined;
}

function parseRequest(parts: string[], headers: HeaderList, data: Buffer, bodyStart: number, partial: Partial): SipParseResult {
  // Request-Line = Method SP Request-URI SP SIP-Version: exactly one SP each (RFC 4475 §3.1.2.9-10)
  if (parts.length !== 3) return fail(400, 'Malformed Request-Line', partial);
  const [method, uriText, version] = parts as [string, string, string];
  if (!allIn(TOKEN, method)) return fail(400, 'Malformed method', partial);
  if (version !== 'SIP/2.0') {
    if (!/^SIP\/\d+\.\d+$/i.test(version)) return fail(400, 'Malformed SIP-Version', partial);
    if (version.toUpperCase() !== 'SIP/2.0') return fail(505, 'Version Not Supported', partial);
  }
  const uri = parseUri(uriText);
  if (uri === undefined) {
    const scheme = uriScheme(uriText);
    const known = scheme === 'sip' || scheme === 'sips' || scheme === 'tel';
    // RFC 3261 §8.2.2.1: a well-formed URI of a scheme we do not serve gets 416
    if (scheme !== undefined && !known && /^[^\s<>"]+$/.test(uriText)) return fail(416, 'Unsupported URI Scheme', partial);
    return fail(400, 'Malformed Request-URI', partial);
  }
  // RFC 3261 §19.1.1: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11)
  if (uri.headers.size > 0) return fail(400, 'Headers in Request-URI', partial);
  const views = validateHeaders(headers, partial);
  if (!views.ok) return views.result;
  const cseq = views.views.cseq;
  if (cseq !== undefined && cseq.method !== method) {
    // RFC 4475 §3.1.2.17-18
    return fail(KNOWN_METHODS.has(method) ? 400 : 501, 'CSeq method does not match', partial);
  }
  const body = bodyOf(data, bodyStart, views.views.contentLength);
  if (body === undefined) return fail(400, 'Content-Length larger than message', partial);
  const message = new SipRequestMessage({ method, uri, headers, body });
  message.primeViews(views.views);
  return { ok: true, message };
}

function parseResponse(line: string, headers: HeaderList, data: Buffer, bodyStart: number, partial: Partial): SipParseResult {
  // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase; the reason may be empty (RFC 4475 §3.1.1.13)
  const sp1 = line.indexOf(' ');
  if (sp1 === -1) return fail(400, 'Malformed Status-Line', partial);
  const version = line.slice(0, sp1);
  if (!/^SIP\/\d+\.\d+$/i.test(version)) return fail(400, 'Malformed SIP-Version', partial);
  if (version.toUpperCase() !== 'SIP/2.0') return fail(505, 'Version Not Supported', partial);
  let sp2 = line.indexOf(' ', sp1 + 1);
  if (sp2 === -1) sp2 = line.length;
  const codeText = line.slice(sp1 + 1, sp2);
  const status = codeText.length === 3 ? parseUint(codeText, 699) : undefined;
  // RFC 4475 §3.1.2.19: a code outside 100-699 is dropped
  if (status === undefined || status < 100) return fail(400, 'Malformed status code', partial);
  const reason = line.slice(sp2 + 1);
  const views = validateHeaders(headers, partial);
  if (!views.ok) return views.result;
  const body = bodyOf(data, bodyStart, views.views.contentLength);
  if (body === undefined) return fail(400, 'Content-Length larger than message', partial);
  const message = new SipResponseMessage({ status, reason, headers, body });
  message.primeViews(views.views);
  return { ok: true, message };
}

/**
 * Datagram semantics (RFC 3261 §18.3): the body is exactly Content-Length bytes and trailing
 * octets are ignored (RFC 4475 §3.1.1.8); without Content-Length the body runs to the end; a
 * Content-Length beyond the data is an error (RFC 4475 §3.1.2.2).
 */
function bodyOf(data: Buffer, bodyStart: number, contentLength: number | undefined): Buffer | undefined {
  const available = data.length - bodyStart;
  if (contentLength === undefined) return data.subarray(bodyStart);
  if (contentLength > available) return undefined;
  return data.subarray(bodyStart, bodyStart + contentLength);
}

type Validation = { ok: true; views: Partial_<HeaderViews> } | { ok: false; result: SipParseResult };
type Partial_<T> = { [K in keyof T]?: T[K] };

/** The mandatory headers of RFC 3261 §8.1.1 and the scalars of §20, checked and parsed once. */
function validateHeaders(headers: HeaderList, partial: Partial): Validation {
  const bad = (reason: string): Validation => ({ ok: false, result: fail(400, reason, partial) });
  const vias: Via[] = [];
  const contacts: Contact[] = [];
  let fromText: string | undefined;
  let toText: string | undefined;
  let callId: string | undefined;
  let cseqText: string | undefined;
  let mfText: string | undefined;
  let contentLength: number | undefined;
  // one pass over the fields; singletons must appear once (RFC 3261 §7.3.1)
  for (const f of headers.fields()) {
    switch (f.key) {
      case 'via': {
        const list = parseViaList(f.value);
        if (list === undefined) return bad('Malformed Via');
        for (const v of list) vias.push(v);
        break;
      }
      case 'from':
        if (fromText !== undefined) return bad('Multiple From');
        fromText = f.value;
        break;
      case 'to':
        if (toText !== undefined) return bad('Multiple To');
        toText = f.value;
        break;
      case 'call-id':
        if (callId !== undefined) return bad('Multiple Call-ID');
        callId = f.value;
        break;
      case 'cseq':
        if (cseqText !== undefined) return bad('Multiple CSeq');
        cseqText = f.value;
        break;
      case 'max-forwards':
        if (mfText !== undefined) return bad('Multiple Max-Forwards');
        mfText = f.value;
        break;
      case 'content-length': {
        const n = parseDeltaSeconds(f.value);
        if (n === undefined) return bad('Malformed Content-Length');
        if (contentLength !== undefined && contentLength !== n) return bad('Conflicting Content-Length');
        contentLength = n;
        break;
      }
      case 'contact': {
        const list = parseContactList(f.value);
        if (list === undefined) return bad('Malformed Contact');
        for (const c of list) contacts.push(c);
        break;
      }
      default:
        break;
    }
  }
  if (vias.length === 0) return bad('Missing Via');
  if (fromText === undefined) return bad('Missing From');
  const from = parseNameAddr(fromText);
  if (from === undefined) return bad('Malformed From');
  if (toText === undefined) return bad('Missing To');
  const to = parseNameAddr(toText);
  if (to === undefined) return bad('Malformed To');
  if (callId === undefined) return bad('Missing Call-ID');
  if (callId === '' || hasWhitespace(callId)) return bad('Malformed Call-ID');
  if (cseqText === undefined) return bad('Missing CSeq');
  const cseq = parseCSeq(cseqText);
  if (cseq === undefined) return bad('Malformed CSeq');
  let maxForwards: number | undefined;
  if (mfText !== undefined) {
    maxForwards = parseMaxForwards(mfText);
    if (maxForwards === undefined) return bad('Malformed Max-Forwards');
  }
  return { ok: true, views: { vias, from, to, callId, cseq, maxForwards, contentLength, contacts } };
}

function hasWhitespace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13 || c === 10) return true;
  }
  return false;
}
