/**
 * SIP message objects with typed, lazily parsed and cached views of the headers a router needs
 * (RFC 3261 §7). The cache is keyed by the header list and its edit counter, so editing headers
 * through `headers` (or replacing `headers`) makes the views recompute on next access.
 */
import { parseAuthHeader } from './auth-header.js';
import { HeaderList } from './header-list.js';
import { parseContactList, parseNameAddr, parseNameAddrList } from './name-addr.js';
import { parseCSeq, parseDeltaSeconds, parseMaxForwards, parseTokenList } from './scalars.js';
import { formatVia, parseViaList } from './via.js';
import type { AuthHeader, CSeq, Contact, NameAddr, SipHeaderList, SipRequest, SipResponse, SipUri, Via } from './types.js';

/** The typed views, as computed from the headers. */
export interface HeaderViews {
  vias: Via[];
  callId: string | undefined;
  cseq: CSeq | undefined;
  from: NameAddr | undefined;
  to: NameAddr | undefined;
  maxForwards: number | undefined;
  contacts: Contact[];
  routes: NameAddr[];
  recordRoutes: NameAddr[];
  contentLength: number | undefined;
  contentType: string | undefined;
  expires: number | undefined;
  require: string[];
  supported: string[];
  proxyRequire: string[];
}

type ViewName = keyof HeaderViews;

const COMPUTE: { [K in ViewName]: (h: SipHeaderList) => HeaderViews[K] } = {
  vias: (h) => flatList(h.getAll('Via'), parseViaList),
  callId: (h) => h.get('Call-ID'),
  cseq: (h) => optional(h.get('CSeq'), parseCSeq),
  from: (h) => optional(h.get('From'), parseNameAddr),
  to: (h) => optional(h.get('To'), parseNameAddr),
  maxForwards: (h) => optional(h.get('Max-Forwards'), parseMaxForwards),
  contacts: (h) => flatList(h.getAll('Contact'), parseContactList),
  routes: (h) => flatList(h.getAll('Route'), parseNameAddrList),
  recordRoutes: (h) => flatList(h.getAll('Record-Route'), parseNameAddrList),
  contentLength: (h) => optional(h.get('Content-Length'), parseDeltaSeconds),
  contentType: (h) => h.get('Content-Type'),
  expires: (h) => optional(h.get('Expires'), parseDeltaSeconds),
  require: (h) => parseTokenList(h.getAll('Require')),
  supported: (h) => parseTokenList(h.getAll('Supported')),
  proxyRequire: (h) => parseTokenList(h.getAll('Proxy-Require')),
};

function optional<T>(v: string | undefined, parse: (s: string) => T | undefined): T | undefined {
  return v === undefined ? undefined : parse(v);
}

/** malformed elements are skipped: the accessor reports what it can understand */
function flatList<T>(values: string[], parse: (s: string) => T[] | undefined): T[] {
  const out: T[] = [];
  for (const v of values) {
    const parsed = parse(v);
    if (parsed !== undefined) for (const p of parsed) out.push(p);
  }
  return out;
}

abstract class SipMessageObject {
  headers: SipHeaderList;
  body: Buffer;
  version: string;
  #views: Partial<HeaderViews> = {};
  #viewsOf: SipHeaderList | undefined;
  #viewsVersion = -1;

  constructor(headers: SipHeaderList | undefined, body: Buffer | undefined, version: string | undefined) {
    this.headers = headers ?? new HeaderList();
    this.body = body ?? Buffer.alloc(0);
    this.version = version ?? 'SIP/2.0';
  }

  #view<K extends ViewName>(name: K): HeaderViews[K] {
    const h = this.headers;
    const version = h instanceof HeaderList ? h.version : -2;
    if (this.#viewsOf !== h || this.#viewsVersion !== version || version === -2) {
      this.#views = {};
      this.#viewsOf = h;
      this.#viewsVersion = version;
    }
    const views = this.#views;
    if (name in views) return views[name] as HeaderViews[K];
    const value = COMPUTE[name](h);
    views[name] = value;
    return value;
  }

  /** Seed views already computed while validating (the parser), so accessors cost nothing. Takes ownership. */
  primeViews(views: Partial<HeaderViews>): void {
    const h = this.headers;
    this.#views = views;
    this.#viewsOf = h;
    this.#viewsVersion = h instanceof HeaderList ? h.version : -2;
  }

  invalidate(): void {
    this.#views = {};
    this.#viewsOf = undefined;
  }

  /**
   * Replace the top Via (a server stamping received/rport, RFC 3261 §18.2.1) while keeping every
   * other typed view: only Via changed, so nothing else needs parsing again.
   */
  replaceTopVia(via: Via): void {
    const vias = this.#view('vias');
    const kept = this.#views;
    this.headers.removeFirst('Via');
    this.headers.prepend('Via', formatVia(via));
    const h = this.headers;
    this.#views = { ...kept, vias: [via, ...vias.slice(1)] };
    this.#viewsOf = h;
    this.#viewsVersion = h instanceof HeaderList ? h.version : -2;
  }

  get vias(): Via[] {
    return this.#view('vias');
  }
  get topVia(): Via | undefined {
    return this.#view('vias')[0];
  }
  get callId(): string | undefined {
    return this.#view('callId');
  }
  get cseq(): CSeq | undefined {
    return this.#view('cseq');
  }
  get from(): NameAddr | undefined {
    return this.#view('from');
  }
  get to(): NameAddr | undefined {
    return this.#view('to');
  }
  get fromTag(): string | undefined {
    return tagOf(this.#view('from'));
  }
  get toTag(): string | undefined {
    return tagOf(this.#view('to'));
  }
  get maxForwards(): number | undefined {
    return this.#view('maxForwards');
  }
  get contacts(): Contact[] {
    return this.#view('contacts');
  }
  get routes(): NameAddr[] {
    return this.#view('routes');
  }
  get recordRoutes(): NameAddr[] {
    return this.#view('recordRoutes');
  }
  get contentLength(): number | undefined {
    return this.#view('contentLength');
  }
  get contentType(): string | undefined {
    return this.#view('contentType');
  }
  get expires(): number | undefined {
    return this.#view('expires');
  }
  get require(): string[] {
    return this.#view('require');
  }
  get supported(): string[] {
    return this.#view('supported');
  }
  get proxyRequire(): string[] {
    return this.#view('proxyRequire');
  }

  authorizations(proxy = false): AuthHeader[] {
    const out: AuthHeader[] = [];
    for (const v of this.headers.getAll(proxy ? 'Proxy-Authorization' : 'Authorization')) {
      const a = parseAuthHeader(v);
      if (a !== undefined) out.push(a);
    }
    return out;
  }
}

function tagOf(na: NameAddr | undefined): string | undefined {
  const tag = na?.params.get('tag');
  return tag === null ? undefined : tag;
}

export interface SipRequestInit {
  method: string;
  uri: SipUri;
  headers?: SipHeaderList;
  body?: Buffer;
  version?: string;
}

export class SipRequestMessage extends SipMessageObject implements SipRequest {
  readonly kind = 'request' as const;
  method: string;
  uri: SipUri;

  constructor(init: SipRequestInit) {
    super(init.headers, init.body, init.version);
    this.method = init.method;
    this.uri = init.uri;
  }
}

export interface SipResponseInit {
  status: number;
  reason: string;
  headers?: SipHeaderList;
  body?: Buffer;
  version?: string;
}

export class SipResponseMessage extends SipMessageObject implements SipResponse {
  readonly kind = 'response' as const;
  status: number;
  reason: string;

  constructor(init: SipResponseInit) {
    super(init.headers, init.body, init.version);
    this.status = init.status;
    this.reason = init.reason;
  }
}
