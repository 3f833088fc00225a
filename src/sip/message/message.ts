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
import type { AuthHeader, CSeq, Contact, NameAddr, SipHeaderList, SipMessage, SipRequest, SipResponse, SipUri, Via } from './types.js';

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

/** marks a view not computed yet (undefined is a valid computed value: a missing header) */
const UNSET: unique symbol = Symbol('unset');
type Slot<T> = T | typeof UNSET;

/**
 * The computed views of one header-list version. A class with every slot present from the start
 * keeps one object shape, so each accessor is a plain property load (a Partial object filled in
 * whatever order the accessors ran made those loads polymorphic).
 */
class ViewCache {
  vias: Slot<Via[]> = UNSET;
  callId: Slot<string | undefined> = UNSET;
  cseq: Slot<CSeq | undefined> = UNSET;
  from: Slot<NameAddr | undefined> = UNSET;
  to: Slot<NameAddr | undefined> = UNSET;
  maxForwards: Slot<number | undefined> = UNSET;
  contacts: Slot<Contact[]> = UNSET;
  routes: Slot<NameAddr[]> = UNSET;
  recordRoutes: Slot<NameAddr[]> = UNSET;
  contentLength: Slot<number | undefined> = UNSET;
  contentType: Slot<string | undefined> = UNSET;
  expires: Slot<number | undefined> = UNSET;
  require: Slot<string[]> = UNSET;
  supported: Slot<string[]> = UNSET;
  proxyRequire: Slot<string[]> = UNSET;
}

abstract class SipMessageObject {
  headers: SipHeaderList;
  body: Buffer;
  version: string;
  #cache: ViewCache | undefined;
  #viewsOf: SipHeaderList | undefined;
  #viewsVersion = -1;

  constructor(headers: SipHeaderList | undefined, body: Buffer | undefined, version: string | undefined) {
    this.headers = headers ?? new HeaderList();
    this.body = body ?? Buffer.alloc(0);
    this.version = version ?? 'SIP/2.0';
  }

  /** the views of the current headers: a fresh cache when the list was replaced or edited */
  #current(): ViewCache {
    const h = this.headers;
    const version = h instanceof HeaderList ? h.version : -2;
    let c = this.#cache;
    if (c === undefined || this.#viewsOf !== h || this.#viewsVersion !== version || version === -2) {
      c = new ViewCache();
      this.#cache = c;
      this.#viewsOf = h;
      this.#viewsVersion = version;
    }
    return c;
  }

  /** Seed views already computed while validating (the parser), so accessors cost nothing. */
  primeViews(views: Partial<HeaderViews>): void {
    const h = this.headers;
    const c = new ViewCache();
    // slot by slot: no array of keys and plain stores (this runs for every message parsed or built);
    // `in`, because a view computed as undefined (no such header) is a value too
    if ('vias' in views) c.vias = views.vias as Via[];
    if ('callId' in views) c.callId = views.callId;
    if ('cseq' in views) c.cseq = views.cseq;
    if ('from' in views) c.from = views.from;
    if ('to' in views) c.to = views.to;
    if ('maxForwards' in views) c.maxForwards = views.maxForwards;
    if ('contacts' in views) c.contacts = views.contacts as Contact[];
    if ('routes' in views) c.routes = views.routes as NameAddr[];
    if ('recordRoutes' in views) c.recordRoutes = views.recordRoutes as NameAddr[];
    if ('contentLength' in views) c.contentLength = views.contentLength;
    if ('contentType' in views) c.contentType = views.contentType;
    if ('expires' in views) c.expires = views.expires;
    if ('require' in views) c.require = views.require as string[];
    if ('supported' in views) c.supported = views.supported as string[];
    if ('proxyRequire' in views) c.proxyRequire = views.proxyRequire as string[];
    this.#cache = c;
    this.#viewsOf = h;
    this.#viewsVersion = h instanceof HeaderList ? h.version : -2;
  }

  /** the cache when it still describes the current headers, without creating one */
  #valid(): ViewCache | undefined {
    const h = this.headers;
    const c = this.#cache;
    if (c === undefined || this.#viewsOf !== h || !(h instanceof HeaderList) || this.#viewsVersion !== h.version) return undefined;
    return c;
  }

  /** the views of `source` that stay true for a copy whose edits leave these headers alone */
  #adoptUnedited(source: SipMessage): ViewCache | undefined {
    const from = source instanceof SipMessageObject ? source.#valid() : undefined;
    if (from === undefined) return undefined;
    const c = new ViewCache();
    c.callId = from.callId;
    c.cseq = from.cseq;
    c.from = from.from;
    c.to = from.to;
    c.contacts = from.contacts;
    c.contentLength = from.contentLength;
    c.contentType = from.contentType;
    c.expires = from.expires;
    c.require = from.require;
    c.supported = from.supported;
    c.proxyRequire = from.proxyRequire;
    return c;
  }

  #adopt(c: ViewCache): void {
    const h = this.headers;
    this.#cache = c;
    this.#viewsOf = h;
    this.#viewsVersion = h instanceof HeaderList ? h.version : -2;
  }

  /**
   * A request copy being forwarded (RFC 3261 §16.6) keeps the views its source already computed:
   * Call-ID, CSeq, From, To, Contact and the rest are the same text. Only what forwarding edits
   * differs: our Via on top of the source's Vias, the new Max-Forwards, and the Route and
   * Record-Route sets (parsed again on demand). Parsed values are shared with the source.
   */
  inheritForwardedViews(source: SipMessage, topVia: Via | undefined, maxForwards: number): void {
    const c = this.#adoptUnedited(source);
    if (c === undefined) return;
    const vias = source instanceof SipMessageObject ? source.#valid()?.vias : undefined;
    if (topVia !== undefined && vias !== undefined && vias !== UNSET) c.vias = [topVia, ...vias];
    c.maxForwards = maxForwards;
    this.#adopt(c);
  }

  /** A response copy without the top Via (a proxy sending it upstream, §16.7 item 3) keeps the other views. */
  inheritViewsWithoutTopVia(source: SipMessage): void {
    const c = this.#adoptUnedited(source);
    if (c === undefined) return;
    const from = source instanceof SipMessageObject ? source.#valid() : undefined;
    if (from !== undefined) {
      if (from.vias !== UNSET) c.vias = from.vias.slice(1);
      c.maxForwards = from.maxForwards;
      c.routes = from.routes;
      c.recordRoutes = from.recordRoutes;
    }
    this.#adopt(c);
  }

  /**
   * Remove the top Route value (a proxy popping its own entry, RFC 3261 §16.4) while keeping every
   * other typed view; the Route view is parsed again on demand.
   */
  removeTopRoute(): void {
    const kept = this.#current();
    this.headers.removeFirst('Route');
    kept.routes = UNSET;
    this.#adopt(kept);
  }

  invalidate(): void {
    this.#cache = undefined;
    this.#viewsOf = undefined;
  }

  compact(): void {
    this.#cache = undefined;
    this.#viewsOf = undefined;
    const h = this.headers;
    if (h instanceof HeaderList) h.pack();
    // a body cut from a receive batch pins the whole batch: keep a copy of its own bytes
    const body = this.body;
    if (body.length > 0 && body.buffer.byteLength !== body.length) this.body = Buffer.from(body);
  }

  /**
   * Replace the top Via (a server stamping received/rport, RFC 3261 §18.2.1) while keeping every
   * other typed view: only Via changed, so nothing else needs parsing again.
   */
  replaceTopVia(via: Via): void {
    const vias = this.vias;
    // the cache belongs to this message alone: it is updated in place
    const kept = this.#current();
    const h = this.headers;
    const value = formatVia(via);
    if (!(h instanceof HeaderList && h.replaceFirstSingle('Via', value))) {
      h.removeFirst('Via');
      h.prepend('Via', value);
    }
    const updated = vias.slice();
    updated[0] = via;
    kept.vias = updated;
    this.#cache = kept;
    this.#viewsOf = h;
    this.#viewsVersion = h instanceof HeaderList ? h.version : -2;
  }

  get vias(): Via[] {
    const c = this.#current();
    return c.vias !== UNSET ? c.vias : (c.vias = COMPUTE.vias(this.headers));
  }
  get callId(): string | undefined {
    const c = this.#current();
    return c.callId !== UNSET ? c.callId : (c.callId = COMPUTE.callId(this.headers));
  }
  get cseq(): CSeq | undefined {
    const c = this.#current();
    return c.cseq !== UNSET ? c.cseq : (c.cseq = COMPUTE.cseq(this.headers));
  }
  get from(): NameAddr | undefined {
    const c = this.#current();
    return c.from !== UNSET ? c.from : (c.from = COMPUTE.from(this.headers));
  }
  get to(): NameAddr | undefined {
    const c = this.#current();
    return c.to !== UNSET ? c.to : (c.to = COMPUTE.to(this.headers));
  }
  get maxForwards(): number | undefined {
    const c = this.#current();
    return c.maxForwards !== UNSET ? c.maxForwards : (c.maxForwards = COMPUTE.maxForwards(this.headers));
  }
  get contacts(): Contact[] {
    const c = this.#current();
    return c.contacts !== UNSET ? c.contacts : (c.contacts = COMPUTE.contacts(this.headers));
  }
  get routes(): NameAddr[] {
    const c = this.#current();
    return c.routes !== UNSET ? c.routes : (c.routes = COMPUTE.routes(this.headers));
  }
  get recordRoutes(): NameAddr[] {
    const c = this.#current();
    return c.recordRoutes !== UNSET ? c.recordRoutes : (c.recordRoutes = COMPUTE.recordRoutes(this.headers));
  }
  get contentLength(): number | undefined {
    const c = this.#current();
    return c.contentLength !== UNSET ? c.contentLength : (c.contentLength = COMPUTE.contentLength(this.headers));
  }
  get contentType(): string | undefined {
    const c = this.#current();
    return c.contentType !== UNSET ? c.contentType : (c.contentType = COMPUTE.contentType(this.headers));
  }
  get expires(): number | undefined {
    const c = this.#current();
    return c.expires !== UNSET ? c.expires : (c.expires = COMPUTE.expires(this.headers));
  }
  get require(): string[] {
    const c = this.#current();
    return c.require !== UNSET ? c.require : (c.require = COMPUTE.require(this.headers));
  }
  get supported(): string[] {
    const c = this.#current();
    return c.supported !== UNSET ? c.supported : (c.supported = COMPUTE.supported(this.headers));
  }
  get proxyRequire(): string[] {
    const c = this.#current();
    return c.proxyRequire !== UNSET ? c.proxyRequire : (c.proxyRequire = COMPUTE.proxyRequire(this.headers));
  }
  get topVia(): Via | undefined {
    return this.vias[0];
  }
  get fromTag(): string | undefined {
    return tagOf(this.from);
  }
  get toTag(): string | undefined {
    return tagOf(this.to);
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
