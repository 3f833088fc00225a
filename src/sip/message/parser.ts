/**
 * parseMessage: bytes of one SIP message (a datagram, or one framed message from a stream) to a
 * SipMessage, or a SipParseError saying what to answer (RFC 3261 §7, §18.3, §25; RFC 4475).
 *
 * One pass over the header lines collects raw values (folding collapsed, RFC 3261 §7.3.1);
 * only the headers every transaction needs are parsed here (Via, From, To, Call-ID, CSeq,
 * Max-Forwards, Content-Length, Contact; of a response, From, To and Contact are parsed when
 * read), and their typed values seed the message's caches.
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
  const headers = HeaderList.adopt(fields);
  // what a failure reports (Partial) is only built when something fails
  if (isResponse) {
    if (headerError !== undefined) return fail(400, headerError, { isRequest: false, headers });
    return parseResponse(firstLine, headers, data, bodyStart);
  }
  const lineParts = firstLine.split(' ');
  if (headerError !== undefined) return fail(400, headerError, requestPartial(lineParts, headers));
  return parseRequest(lineParts, headers, data, bodyStart);
}

function requestPartial(parts: string[], headers: HeaderList): Partial {
  return { isRequest: true, method: parts[0] as string, headers };
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

function parseRequest(parts: string[], headers: HeaderList, data: Buffer, bodyStart: number): SipParseResult {
  // Request-Line = Method SP Request-URI SP SIP-Version: exactly one SP each (RFC 4475 §3.1.2.9-10)
  if (parts.length !== 3) return fail(400, 'Malformed Request-Line', requestPartial(parts, headers));
  const [method, uriText, version] = parts as [string, string, string];
  if (!allIn(TOKEN, method)) return fail(400, 'Malformed method', requestPartial(parts, headers));
  if (version !== 'SIP/2.0') {
    if (!/^SIP\/\d+\.\d+$/i.test(version)) return fail(400, 'Malformed SIP-Version', requestPartial(parts, headers));
    if (version.toUpperCase() !== 'SIP/2.0') return fail(505, 'Version Not Supported', requestPartial(parts, headers));
  }
  const uri = parseUri(uriText);
  if (uri === undefined) {
    const scheme = uriScheme(uriText);
    const known = scheme === 'sip' || scheme === 'sips' || scheme === 'tel';
    // RFC 3261 §8.2.2.1: a well-formed URI of a scheme we do not serve gets 416
    if (scheme !== undefined && !known && /^[^\s<>"]+$/.test(uriText)) return fail(416, 'Unsupported URI Scheme', requestPartial(parts, headers));
    return fail(400, 'Malformed Request-URI', requestPartial(parts, headers));
  }
  // RFC 3261 §19.1.1: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11)
  if (uri.headers.size > 0) return fail(400, 'Headers in Request-URI', requestPartial(parts, headers));
  const views = validateHeaders(headers, false);
  if (typeof views === 'string') return fail(400, views, requestPartial(parts, headers));
  const cseq = views.cseq;
  if (cseq !== undefined && cseq.method !== method) {
    // RFC 4475 §3.1.2.17-18
    return fail(KNOWN_METHODS.has(method) ? 400 : 501, 'CSeq method does not match', requestPartial(parts, headers));
  }
  const body = bodyOf(data, bodyStart, views.contentLength);
  if (body === undefined) return fail(400, 'Content-Length larger than message', requestPartial(parts, headers));
  const message = new SipRequestMessage({ method, uri, headers, body });
  message.primeViews(views);
  return { ok: true, message };
}

function parseResponse(line: string, headers: HeaderList, data: Buffer, bodyStart: number): SipParseResult {
  // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase; the reason may be empty (RFC 4475 §3.1.1.13)
  const sp1 = line.indexOf(' ');
  if (sp1 === -1) return fail(400, 'Malformed Status-Line', { isRequest: false, headers });
  const version = line.slice(0, sp1);
  if (!/^SIP\/\d+\.\d+$/i.test(version)) return fail(400, 'Malformed SIP-Version', { isRequest: false, headers });
  if (version.toUpperCase() !== 'SIP/2.0') return fail(505, 'Version Not Supported', { isRequest: false, headers });
  let sp2 = line.indexOf(' ', sp1 + 1);
  if (sp2 === -1) sp2 = line.length;
  const codeText = line.slice(sp1 + 1, sp2);
  const status = codeText.length === 3 ? parseUint(codeText, 699) : undefined;
  // RFC 4475 §3.1.2.19: a code outside 100-699 is dropped
  if (status === undefined || status < 100) return fail(400, 'Malformed status code', { isRequest: false, headers });
  const reason = line.slice(sp2 + 1);
  const views = validateHeaders(headers, true);
  if (typeof views === 'string') return fail(400, views, { isRequest: false, headers });
  const body = bodyOf(data, bodyStart, views.contentLength);
  if (body === undefined) return fail(400, 'Content-Length larger than message', { isRequest: false, headers });
  const message = new SipResponseMessage({ status, reason, headers, body });
  message.primeViews(views);
  return { ok: true, message };
}

/**
 * Datagram semantics (RFC 3261 §18.3): the body is exactly Content-Length bytes and trailing
 * octets are ignored (RFC 4475 §3.1.1.8); without Content-Length the body runs to the end; a
 * Content-Length beyond the data is an error (RFC 4475 §3.1.2.2).
 */
function bodyOf(data: Buffer, bodyStart: number, contentLength: number | undefined): Buffer | undefined {
  const available = data.length - bodyStart;
  if (contentLength !== undefined && contentLength > available) return undefined;
  const length = contentLength ?? Math.max(0, available);
  // no body (most requests and responses): one shared empty buffer rather than a view that
  // would keep the whole receive batch alive for as long as the message lives
  if (length === 0) return EMPTY_BODY;
  return data.subarray(bodyStart, bodyStart + length);
}

const EMPTY_BODY = Buffer.alloc(0);

type Partial_<T> = { [K in keyof T]?: T[K] };

/**
 * The mandatory headers of RFC 3261 §8.1.1 and the scalars of §20, checked and parsed once: the
 * views, or the reason for a 400.
 *
 * A response's From, To and Contact are only checked to be there: they are parsed when something
 * reads them (a malformed one then reads as missing). Matching a response to its transaction
 * needs only the top Via and CSeq (§17.1.3), and a proxy relays most responses without reading
 * the others (§16.7), as Kamailio parses on demand: at 2,000 proxied calls/s, parsing them up
 * front was ~2 % of the CPU. A request's are parsed here: every UAS and proxy reads its tags.
 */
function validateHeaders(headers: HeaderList, response: boolean): Partial_<HeaderViews> | string {
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
        if (list === undefined) return 'Malformed Via';
        for (const v of list) vias.push(v);
        break;
      }
      case 'from':
        if (fromText !== undefined) return 'Multiple From';
        fromText = f.value;
        break;
      case 'to':
        if (toText !== undefined) return 'Multiple To';
        toText = f.value;
        break;
      case 'call-id':
        if (callId !== undefined) return 'Multiple Call-ID';
        callId = f.value;
        break;
      case 'cseq':
        if (cseqText !== undefined) return 'Multiple CSeq';
        cseqText = f.value;
        break;
      case 'max-forwards':
        if (mfText !== undefined) return 'Multiple Max-Forwards';
        mfText = f.value;
        break;
      case 'content-length': {
        const n = parseDeltaSeconds(f.value);
        if (n === undefined) return 'Malformed Content-Length';
        if (contentLength !== undefined && contentLength !== n) return 'Conflicting Content-Length';
        contentLength = n;
        break;
      }
      case 'contact': {
        if (response) break;
        const list = parseContactList(f.value);
        if (list === undefined) return 'Malformed Contact';
        for (const c of list) contacts.push(c);
        break;
      }
      default:
        break;
    }
  }
  if (vias.length === 0) return 'Missing Via';
  if (fromText === undefined) return 'Missing From';
  if (toText === undefined) return 'Missing To';
  if (callId === undefined) return 'Missing Call-ID';
  if (callId === '' || hasWhitespace(callId)) return 'Malformed Call-ID';
  if (cseqText === undefined) return 'Missing CSeq';
  const cseq = parseCSeq(cseqText);
  if (cseq === undefined) return 'Malformed CSeq';
  let maxForwards: number | undefined;
  if (mfText !== undefined) {
    maxForwards = parseMaxForwards(mfText);
    if (maxForwards === undefined) return 'Malformed Max-Forwards';
  }
  // the views left out are parsed on first read (SipMessage's accessors)
  if (response) return { vias, callId, cseq, maxForwards, contentLength };
  const from = parseNameAddr(fromText);
  if (from === undefined) return 'Malformed From';
  const to = parseNameAddr(toText);
  if (to === undefined) return 'Malformed To';
  return { vias, from, to, callId, cseq, maxForwards, contentLength, contacts };
}

function hasWhitespace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13 || c === 10) return true;
  }
  return false;
}
