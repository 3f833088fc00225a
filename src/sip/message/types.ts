/**
 * The SIP message model shared by every SIP layer (RFC 3261 §7, §20, §25).
 *
 * This file is the contract between the parser and its users (transport framing, transactions,
 * dialogs, registrar, proxy). Header values stay raw strings until a typed accessor is asked for
 * them, and the typed value is cached: a proxy that only looks at Via, Route and Max-Forwards
 * never pays for parsing Contact or Authorization (the Kamailio habit of parsing only what a
 * route needs).
 */

/** Parameters of a URI, Via or name-addr. Names are lower-cased; a flag parameter maps to null. */
export type SipParams = Map<string, string | null>;

export type UriScheme = 'sip' | 'sips' | 'tel';

/** A `sip:`, `sips:` (RFC 3261 §19.1) or `tel:` (RFC 3966) URI. */
export interface SipUri {
  scheme: UriScheme;
  /** user part, still %-escaped as on the wire (RFC 3261 §19.1.2); undefined when absent. For tel: the number. */
  user: string | undefined;
  password: string | undefined;
  /** host name or IPv4 literal, or an IPv6 reference WITH its brackets, e.g. `[2001:db8::1]` (RFC 5118). Lower-cased. */
  host: string;
  port: number | undefined;
  params: SipParams;
  /** `?name=value&...` header part, values still escaped. */
  headers: Map<string, string>;
}

/** `"Display" <uri>;params` or a bare addr-spec with params (RFC 3261 §20.10, §25.1). */
export interface NameAddr {
  displayName: string | undefined;
  uri: SipUri;
  params: SipParams;
}

/** One Via value (RFC 3261 §20.42, RFC 3581). */
export interface Via {
  /** e.g. `SIP/2.0` */
  protocol: string;
  /** upper-cased transport token: UDP, TCP, TLS, SCTP, WS, WSS or any other token */
  transport: string;
  host: string;
  port: number | undefined;
  params: SipParams;
  /** convenience copy of the branch parameter */
  branch: string | undefined;
}

export interface CSeq {
  seq: number;
  method: string;
}

/** A Contact header value: a name-addr, or `*` (RFC 3261 §10.2.2). */
export type Contact = NameAddr | '*';

/** Authorization / Proxy-Authorization / WWW-Authenticate / Proxy-Authenticate (RFC 3261 §25, RFC 7616). */
export interface AuthHeader {
  scheme: string;
  /** parameter names lower-cased, values unquoted */
  params: Map<string, string>;
}

/** Ordered header fields. Names are stored in canonical long form (`v` -> `Via`), compared case-insensitively. */
export interface SipHeaderList {
  /** the first value of a header, or undefined */
  get(name: string): string | undefined;
  /** every value of a header, with comma-separated lists split for the headers whose grammar is a list */
  getAll(name: string): string[];
  has(name: string): boolean;
  /** replace every field of that name with one field */
  set(name: string, value: string): void;
  append(name: string, value: string): void;
  /** insert before the first field of that name (Via and Record-Route are prepended) */
  prepend(name: string, value: string): void;
  /** remove every field of that name; returns how many were removed */
  remove(name: string): number;
  /** remove only the first value of a (possibly comma-joined) header; used to pop the top Via or Route */
  removeFirst(name: string): string | undefined;
  /** fields in wire order, as [canonical name, raw value] */
  entries(): IterableIterator<[string, string]>;
  clone(): SipHeaderList;
}

interface SipMessageBase {
  headers: SipHeaderList;
  /** body bytes exactly as received (multipart bodies are not split) */
  body: Buffer;
  /** `SIP/2.0` */
  version: string;

  // Typed views of the headers routing needs; each parses lazily and caches until headers change.
  readonly vias: Via[];
  readonly topVia: Via | undefined;
  readonly callId: string | undefined;
  readonly cseq: CSeq | undefined;
  readonly from: NameAddr | undefined;
  readonly to: NameAddr | undefined;
  readonly fromTag: string | undefined;
  readonly toTag: string | undefined;
  readonly maxForwards: number | undefined;
  readonly contacts: Contact[];
  readonly routes: NameAddr[];
  readonly recordRoutes: NameAddr[];
  readonly contentLength: number | undefined;
  readonly contentType: string | undefined;
  readonly expires: number | undefined;
  readonly require: string[];
  readonly supported: string[];
  readonly proxyRequire: string[];
  /** Authorization (or Proxy-Authorization when proxy=true) values */
  authorizations(proxy?: boolean): AuthHeader[];
  /** forget cached typed views (call after editing headers directly) */
  invalidate(): void;
  /**
   * Forget the typed views and keep the headers packed until they are read again, for a message
   * kept only to be resent or matched (a transaction waiting out Timer J, K, L or M).
   */
  compact(): void;
  /** replace the top Via, keeping the other cached views (Via stamping on the hot path) */
  replaceTopVia(via: Via): void;
  /** remove the top Route value, keeping the other cached views (a proxy popping its own Route) */
  removeTopRoute(): void;
}

export interface SipRequest extends SipMessageBase {
  readonly kind: 'request';
  method: string;
  uri: SipUri;
}

export interface SipResponse extends SipMessageBase {
  readonly kind: 'response';
  status: number;
  reason: string;
}

export type SipMessage = SipRequest | SipResponse;

/**
 * Why a message could not be parsed. `reason` is short and safe to use as a 400 reason phrase;
 * `status` is the response a server should send for a request (400, 505, ...), when one is due.
 */
export interface SipParseError {
  readonly kind: 'parse-error';
  reason: string;
  status: number;
  /** what the parser could still recover, enough to address a 400 (Via, Call-ID, CSeq, From, To) */
  partial: { isRequest: boolean; method?: string; headers?: SipHeaderList } | undefined;
}

export type SipParseResult =
  | { ok: true; message: SipMessage }
  | { ok: false; error: SipParseError };
