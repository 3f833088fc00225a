/**
 * The pure parts of request forwarding (RFC 3261 §16.6) and of the CANCEL a proxy sends
 * (§9.1, §16.10): copying the request, the loop-detection hash of the branch (§16.6 item 8,
 * §16.3 item 4), Record-Route values (§16.6 item 4, RFC 5658 double record-routing).
 */
import { BRANCH_MAGIC_COOKIE, stableToken } from '../../lib/index.js';
import { createRequest, formatUri, parseAuthHeader, parseVia, SipRequestMessage, SipResponseMessage, type SipRequest, type SipResponse, type SipUri } from '../message/index.js';
import type { TransportProtocol } from '../transport/index.js';


/**
 * §16.6 item 8: the part of the branch that lets a proxy recognise its own request coming back
 * (§16.3 item 4). It covers the To tag, From tag, Call-ID, CSeq number, the Request-URI as
 * received and Proxy-Require; it leaves out the top Via (it differs on every hop, so a loop
 * would never match — RFC 5393 §3 discusses the flaw) and Proxy-Authorization (we consume our
 * own credentials, so a looped copy would no longer carry them). A spiral (the Request-URI was
 * changed on the way) hashes differently and is allowed through.
 */
export function loopHash(req: SipRequest, receivedUri: string): string {
  const key =
    receivedUri + '\u0001' + (req.callId ?? '') + '\u0001' + (req.fromTag ?? '') + '\u0001' + (req.toTag ?? '') + '\u0001' +
    String(req.cseq?.seq ?? '') + '\u0001' + req.headers.getAll('Proxy-Require').join(',');
  return stableToken(key);
}

/** The branch of fork `index` (§16.6 item 8): magic cookie, loop hash, then a per-fork suffix. */
export function branchFor(hash: string, index: number): string {
  return BRANCH_MAGIC_COOKIE + hash + '.' + String(index);
}

/** §16.3 item 4: does any Via carry a branch this proxy computed for exactly this request? */
export function isLoop(req: SipRequest, hash: string, isOwnHost: (host: string, port: number | undefined) => boolean): boolean {
  const prefix = BRANCH_MAGIC_COOKIE + hash + '.';
  for (const via of req.vias) {
    if (via.branch !== undefined && via.branch.startsWith(prefix) && isOwnHost(via.host, via.port)) return true;
  }
  return false;
}

/** §16.6 item 4: `<sip:host:port;transport=x;lr>` (lr: we are a loose router, §19.1.1). */
export function recordRouteValue(host: string, port: number, protocol: TransportProtocol): string {
  const scheme = protocol === 'tls' || protocol === 'wss' ? 'sips' : 'sip';
  return `<${scheme}:${host}:${String(port)};transport=${protocol};lr>`;
}

export interface ForwardOptions {
  /** §16.6 item 2: the new Request-URI */
  uri: SipUri;
  /** §16.6 item 6 / RFC 3327 §5.3: values to place before any existing Route, in order */
  routes: readonly string[];
  /** our Via value (§16.6 item 8) */
  via: string;
  /** Record-Route values to add, bottom first (the last one ends up on top) */
  recordRoutes: readonly string[];
  /** realm whose Proxy-Authorization we consumed (§22.3): removed from the copy */
  consumedRealm?: string | undefined;
}

/** §16.6 items 1-8: copy the request and apply the per-target changes. */
export function buildForwardedRequest(req: SipRequest, opts: ForwardOptions): SipRequest {
  const headers = req.headers.clone();
  // §16.6 item 3: decrement Max-Forwards, or add it with 70 when absent
  const mf = req.maxForwards;
  const maxForwards = mf === undefined ? 70 : Math.max(0, mf - 1);
  headers.set('Max-Forwards', String(maxForwards));
  for (const rr of opts.recordRoutes) headers.prepend('Record-Route', rr);
  for (let i = opts.routes.length - 1; i >= 0; i--) headers.prepend('Route', opts.routes[i] as string);
  headers.prepend('Via', opts.via);
  if (opts.consumedRealm !== undefined && headers.has('Proxy-Authorization')) {
    const kept = headers.getAll('Proxy-Authorization').filter((v) => parseAuthHeader(v)?.params.get('realm') !== opts.consumedRealm);
    headers.remove('Proxy-Authorization');
    for (const v of kept) headers.append('Proxy-Authorization', v);
  }
  const forwarded = new SipRequestMessage({ method: req.method, uri: opts.uri, headers, body: req.body, version: req.version });
  // the copy reuses what was parsed on the way in: the client transaction reads its top Via at once
  forwarded.inheritForwardedViews(req, parseVia(opts.via), maxForwards);
  return forwarded;
}

/**
 * §9.1 / §16.10: the CANCEL for a forwarded INVITE: same Request-URI, Call-ID, From, To and
 * CSeq number, the branch's single top Via, and the branch's Route header fields.
 */
export function buildCancel(invite: SipRequest): SipRequest {
  const headers: [string, string][] = [];
  const via = invite.headers.getAll('Via')[0];
  if (via !== undefined) headers.push(['Via', via]);
  for (const route of invite.headers.getAll('Route')) headers.push(['Route', route]);
  headers.push(['Max-Forwards', '70']);
  for (const name of ['From', 'To', 'Call-ID']) {
    const v = invite.headers.get(name);
    if (v !== undefined) headers.push([name, v]);
  }
  headers.push(['CSeq', `${String(invite.cseq?.seq ?? 0)} CANCEL`]);
  return createRequest({ method: 'CANCEL', uri: invite.uri, headers });
}

/** §16.7 item 3 / §16.11: the response without our Via, ready to go upstream. */
export function withoutTopVia(response: SipResponse): SipResponse {
  const headers = response.headers.clone();
  headers.removeFirst('Via');
  const upstream = new SipResponseMessage({ status: response.status, reason: response.reason, headers, body: response.body, version: response.version });
  upstream.inheritViewsWithoutTopVia(response);
  return upstream;
}

/** §16.6 item 8 for a stateless forward (§16.11): a retransmission must get the same branch. */
export function statelessBranch(req: SipRequest): string {
  const key = (req.topVia?.branch ?? '') + '\u0001' + formatUri(req.uri) + '\u0001' + (req.callId ?? '') + '\u0001' + String(req.cseq?.seq ?? '');
  return BRANCH_MAGIC_COOKIE + 'sl' + stableToken(key);
}
