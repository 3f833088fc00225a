/**
 * The stateful proxy of RFC 3261 §16 as a SIP service: request validation (§16.3), Route
 * processing (§16.4), authorisation (§22.3; never an open relay), the target set from the
 * location service (§16.5), forwarding with Record-Route, Path and NAT-aware next hops (§16.6,
 * RFC 3327, RFC 5626, RFC 5658), and the response contexts that fork and pick the best
 * response (§16.7-§16.10, response-context.ts). ACKs for 2xx and stray responses are forwarded
 * statelessly (§16.11).
 */
import { isIP } from 'node:net';
import { describeError, newTag, silentLogger, sipStatusFor, type Logger, type Scheduler } from '../../lib/index.js';
import { DigestAuthenticator, type DigestAlgorithm } from '../auth/index.js';
import { createResponse, formatUri, parseNameAddr, parseUri, unescapeUriPart, type SipRequest, type SipResponse, type SipUri } from '../message/index.js';
import type { Binding, LocationStore } from '../registrar/index.js';
import type { Responder, SipCore, SipService, SubscriberDirectory } from '../server/index.js';
import type { ReceiveContext } from '../transaction/index.js';
import { VIA_TRANSPORT, type OutboundTarget, type TransportAddress, type TransportProtocol } from '../transport/index.js';
import { bareHost, CachingResolver, defaultPort, systemResolver, uriTransport, type HostResolver } from './next-hop.js';
import { branchFor, buildForwardedRequest, isLoop, loopHash, recordRouteValue, statelessBranch, withoutTopVia } from './request-forwarding.js';
import { ResponseContext, type BranchPlan, type ContextHost } from './response-context.js';

export interface ProxyAuthSettings {
  /** shared by every node, so any node verifies another's nonce */
  secret: string | Buffer;
  algorithms?: DigestAlgorithm[];
  nonceTtlMs?: number;
}

export interface ProxyOptions {
  store: LocationStore;
  directory: SubscriberDirectory;
  /** digest settings; the realm of each domain comes from directory.realmFor */
  auth: ProxyAuthSettings;
  scheduler: Scheduler;
  /** §16.6 item 11: Timer C, default 180 s */
  timerCMs?: number;
  /** §16.6 item 4: default true */
  recordRoute?: boolean;
  /** A/AAAA lookup; default node:dns lookup */
  resolver?: HostResolver;
  logger?: Logger;
  /** Proxy-Require option tags understood (§16.3 item 5); default none */
  proxyRequireSupported?: readonly string[];
}

/** Out-of-dialog requests from local users that must authenticate. */
const AUTH_METHODS = new Set(['INVITE', 'MESSAGE', 'SUBSCRIBE', 'REFER']);
/** Dialog-creating requests that get a Record-Route (§16.6 item 4; RFC 6665 §4.1.3 for NOTIFY). */
const RR_METHODS = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);
const PROTOCOLS: readonly TransportProtocol[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];
const TRANSPORT_OF_VIA: Readonly<Record<string, TransportProtocol>> = { UDP: 'udp', TCP: 'tcp', TLS: 'tls', WS: 'ws', WSS: 'wss' };

interface RouteDecision {
  /** a To tag and a Route that was ours: routed without authentication */
  inDialog: boolean;
  poppedOurs: boolean;
}

export class Proxy implements SipService {
  readonly name = 'proxy';
  readonly methods = ['INVITE', 'BYE', 'CANCEL', 'MESSAGE', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'INFO', 'UPDATE', 'PRACK', 'OPTIONS'] as const;
  private core: SipCore | undefined;
  private readonly logger: Logger;
  private readonly resolver: CachingResolver;
  private readonly recordRoute: boolean;
  private readonly proxyRequire: Set<string>;
  private readonly authenticators = new Map<string, DigestAuthenticator>();
  private readonly contexts = new Map<Responder, ResponseContext>();
  /** hosts the directory called local: lets the synchronous ACK path recognise them */
  private readonly localHosts = new Set<string>();
  private selfKeys: Set<string> | undefined;
  private host: ContextHost | undefined;
  private closed = false;

  constructor(private readonly options: ProxyOptions) {
    this.logger = options.logger ?? silentLogger;
    this.resolver = new CachingResolver(options.resolver ?? systemResolver, options.scheduler);
    this.recordRoute = options.recordRoute ?? true;
    this.proxyRequire = new Set((options.proxyRequireSupported ?? []).map((t) => t.toLowerCase()));
  }

  attach(core: SipCore): void {
    this.core = core;
    this.host = {
      core,
      timerCMs: this.options.timerCMs ?? 180_000,
      logger: this.logger,
      contextDone: (ctx) => {
        if (this.contexts.get(ctx.server) === ctx) this.contexts.delete(ctx.server);
      },
    };
  }

  /** live INVITE response contexts (metrics, tests) */
  get activeContexts(): number {
    return this.contexts.size;
  }

  /** everything but REGISTER and OPTIONS for the server itself passes through us as a proxy */
  forwards(req: SipRequest): boolean {
    if (req.method === 'REGISTER' || req.method === 'ACK') return false;
    if (req.method === 'OPTIONS' && (req.uri.user === undefined || req.maxForwards === 0)) return false;
    return !this.closed;
  }

  handleRequest(req: SipRequest, responder: Responder, ctx: ReceiveContext): boolean {
    const core = this.core;
    const host = this.host;
    if (core === undefined || host === undefined || this.closed || req.method === 'ACK') return false;
    if (req.method === 'CANCEL') {
      // reached only when the server core did not route the CANCEL through handleCancel
      if (!this.handleCancel(req, responder, core.transactions.findCancelTarget(req))) {
        responder.respond(createResponse(req, 481, undefined, { toTag: newTag() }));
      }
      return true;
    }
    // §16.3 item 3: Max-Forwards 0 -> 483, except OPTIONS, which we answer ourselves (§11)
    if (req.maxForwards === 0) {
      if (req.method === 'OPTIONS') return false;
      responder.respond(createResponse(req, 483, undefined, { toTag: newTag() }));
      return true;
    }
    // OPTIONS addressed to the server itself belongs to the OPTIONS service
    if (req.method === 'OPTIONS' && req.uri.user === undefined) return false;
    // §16.3 item 2: a scheme we cannot route -> 416
    if (req.uri.scheme !== 'sip' && req.uri.scheme !== 'sips') {
      responder.respond(createResponse(req, 416, undefined, { toTag: newTag() }));
      return true;
    }
    // §16.3 item 5: Proxy-Require with options we do not know -> 420 listing them
    const unknown = req.proxyRequire.filter((t) => !this.proxyRequire.has(t.toLowerCase()));
    if (unknown.length > 0) {
      responder.respond(createResponse(req, 420, undefined, { toTag: newTag(), headers: [['Unsupported', unknown.join(', ')]] }));
      return true;
    }
    const context = new ResponseContext(req, responder, host);
    if (req.method === 'INVITE') this.contexts.set(responder, context);
    this.process(req, context, ctx).catch((err: unknown) => {
      this.logger.warn({ err: describeError(err), method: req.method }, 'proxy: request failed');
      context.reject(sipStatusFor(err));
    });
    return true;
  }

  /**
   * §16.10: a CANCEL matching a pending INVITE gets 200 and every pending branch is cancelled;
   * otherwise 481. This is the hook the server core should call instead of its own onCancel.
   */
  handleCancel(cancel: SipRequest, txn: Responder, invite: Responder | undefined): boolean {
    // a CANCEL for an INVITE we are not relaying is the server core's business
    if (invite === undefined || !this.cancel(invite)) return false;
    txn.respond(createResponse(cancel, 200, undefined, { toTag: cancel.toTag ?? newTag() }));
    return true;
  }

  /** Cancel the response context of an INVITE server transaction; false when we have none. */
  cancel(inviteServerTxn: Responder): boolean {
    const context = this.contexts.get(inviteServerTxn);
    if (context === undefined) return false;
    context.cancel();
    return true;
  }

  /** §16.11 / §13.2.2.4: an ACK for a 2xx follows its Route set, statelessly. */
  handleAck(ack: SipRequest, ctx: ReceiveContext): boolean {
    const core = this.core;
    if (core === undefined || this.closed) return false;
    const decision = this.popOwnRoutesSync(ack);
    if (!decision.poppedOurs) return false; // not routed through us: never relay it
    if (ack.maxForwards === 0) return true;
    const next = ack.routes[0]?.uri ?? ack.uri;
    this.forwardStateless(ack, next, ctx).catch((err: unknown) => {
      this.logger.debug({ err: describeError(err) }, 'proxy: ACK not forwarded');
    });
    return true;
  }

  /** §16.7 / §16.11: a response no transaction knows, with our Via on top, goes to the next Via. */
  handleStrayResponse(response: SipResponse, _ctx: ReceiveContext): boolean {
    const core = this.core;
    if (core === undefined || this.closed) return false;
    const [top, next] = response.vias;
    if (top === undefined || !this.isOwnHost(top.host, top.port)) return false;
    if (next === undefined) return true; // it was for us: nothing to forward
    const protocol = TRANSPORT_OF_VIA[next.transport];
    if (protocol === undefined) return true;
    const received = next.params.get('received');
    const rport = next.params.get('rport');
    const address = typeof received === 'string' && received !== '' ? received : next.host;
    const port = typeof rport === 'string' && /^[0-9]{1,5}$/.test(rport) ? Number(rport) : (next.port ?? defaultPort(protocol));
    const upstream = withoutTopVia(response);
    this.resolver
      .resolve(address)
      .then((ip) => core.send(upstream, { protocol, address: ip, port }))
      .catch((err: unknown) => this.logger.debug({ err: describeError(err) }, 'proxy: stray response not forwarded'));
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.contexts.values()) c.dispose();
    this.contexts.clear();
    for (const a of this.authenticators.values()) a.close();
    this.authenticators.clear();
    return Promise.resolve();
  }

  // ---------------------------------------------------------------------------------------

  private async process(req: SipRequest, context: ResponseContext, ctx: ReceiveContext): Promise<void> {
    const receivedUri = formatUri(req.uri);
    const route = await this.processRoutes(req);
    // §16.3 item 4: our own branch for this very request in a Via -> a loop
    const hash = loopHash(req, receivedUri);
    if (isLoop(req, hash, (h, p) => this.isOwnHost(h, p))) return context.reject(482);
    const remainingRoute = req.routes[0];
    let consumedRealm: string | undefined;
    let relay = true;
    if (!route.inDialog) {
      // §16.5: a Request-URI outside our domains (or a pre-loaded Route elsewhere) is relayed
      relay = remainingRoute !== undefined || !(await this.isLocalHost(req.uri.host));
      const fromHost = req.from?.uri.host;
      const fromLocal = fromHost !== undefined && (await this.isLocalHost(fromHost));
      const needsAuth = relay || (fromLocal && AUTH_METHODS.has(req.method));
      if (needsAuth) {
        // never an open relay: a foreign source may only reach our own users
        if (!fromLocal || fromHost === undefined) return context.reject(403, undefined, 'Relaying Forbidden');
        const realm = await this.authenticate(req, fromHost, context);
        if (realm === undefined) return;
        consumedRealm = realm;
      }
    }
    if (relay) {
      // §16.5: the Request-URI is the only target; §16.6 item 7: the next hop is the top Route
      const nextUri = remainingRoute?.uri ?? req.uri;
      let nextHop: OutboundTarget;
      try {
        nextHop = await this.resolver.targetFor(nextUri);
      } catch {
        return context.reject(404, undefined, 'Destination Not Resolvable');
      }
      const plan = this.plan(req, ctx, branchFor(hash, 0), req.uri, [], nextHop, consumedRealm, !route.inDialog);
      context.start(plan === undefined ? [] : [[plan]]);
      return;
    }
    const groups = await this.localTargets(req, context, ctx, hash, consumedRealm);
    if (groups !== undefined) context.start(groups);
  }

  /** §16.5: the bindings of the AOR, grouped by q-value, highest first. */
  private async localTargets(req: SipRequest, context: ResponseContext, ctx: ReceiveContext, hash: string, consumedRealm: string | undefined): Promise<BranchPlan[][] | undefined> {
    const userPart = req.uri.user;
    if (userPart === undefined) {
      context.reject(404);
      return undefined;
    }
    const user = unescapeUriPart(userPart);
    const domain = req.uri.host;
    if (!(await this.options.directory.userExists(user, domain))) {
      context.reject(404);
      return undefined;
    }
    const now = this.options.scheduler.wallNow();
    const bindings = (await this.options.store.bindings(`sip:${user}@${domain}`)).filter((b) => b.expiresAt > now);
    if (bindings.length === 0) {
      context.reject(480);
      return undefined;
    }
    bindings.sort((a, b) => b.q - a.q);
    const hops = await Promise.all(bindings.map((b) => this.bindingHop(b).catch(() => undefined)));
    const groups: BranchPlan[][] = [];
    let lastQ = Number.NaN;
    for (let i = 0; i < bindings.length; i++) {
      const hop = hops[i];
      const binding = bindings[i] as Binding;
      if (hop === undefined) continue;
      const plan = this.plan(req, ctx, branchFor(hash, i), hop.uri, hop.path, hop.nextHop, consumedRealm, true);
      if (plan === undefined) continue;
      if (binding.q !== lastQ) groups.push([]);
      lastQ = binding.q;
      (groups[groups.length - 1] as BranchPlan[]).push(plan);
    }
    return groups;
  }

  /**
   * §16.6 items 6-7 for a registered contact: the Path (RFC 3327 §5.3) leads; otherwise a
   * contact behind NAT or on a connection (RFC 5626 §5.3) is reached where it registered from.
   */
  private async bindingHop(b: Binding): Promise<{ uri: SipUri; path: string[]; nextHop: OutboundTarget } | undefined> {
    const uri = parseUri(b.contact);
    if (uri === undefined) return undefined;
    const path = [...b.path];
    while (path.length > 0) {
      const first = parseNameAddr(path[0] as string);
      if (first === undefined || !this.isOwnHost(first.uri.host, first.uri.port)) break;
      path.shift(); // our own Path entry: we are the edge already
    }
    if (path.length > 0) {
      const first = parseNameAddr(path[0] as string);
      if (first === undefined) return undefined;
      return { uri, path, nextHop: await this.resolver.targetFor(first.uri) };
    }
    const src = b.source;
    const protocol = uriTransport(uri);
    const behindNat =
      src.protocol !== 'udp' || src.protocol !== protocol || bareHost(uri.host) !== src.address || (uri.port ?? defaultPort(protocol)) !== src.port;
    if (behindNat) {
      const nextHop: OutboundTarget = { protocol: src.protocol, address: src.address, port: src.port };
      // RFC 5626 §5.3: down the very connection the REGISTER came on, when this node holds it
      if (src.connectionId !== undefined && src.nodeId === this.core?.nodeId) nextHop.connectionId = src.connectionId;
      return { uri, path, nextHop };
    }
    return { uri, path, nextHop: await this.resolver.targetFor(uri) };
  }

  /** §16.6 items 1-8 for one target. */
  private plan(
    req: SipRequest,
    ctx: ReceiveContext,
    branch: string,
    uri: SipUri,
    path: string[],
    nextHop: OutboundTarget,
    consumedRealm: string | undefined,
    recordRoute: boolean,
  ): BranchPlan | undefined {
    const core = this.core;
    if (core === undefined) return undefined;
    const out = core.localAddress(nextHop.protocol, isIP(nextHop.address) === 6 ? 6 : 4);
    if (out === undefined) {
      this.logger.debug({ protocol: nextHop.protocol }, 'proxy: no listener for the next hop transport');
      return undefined;
    }
    const via = `SIP/2.0/${VIA_TRANSPORT[out.protocol]} ${core.advertisedHost(out)}:${String(out.port)};branch=${branch}${out.protocol === 'udp' ? ';rport' : ''}`;
    const recordRoutes: string[] = [];
    if (recordRoute && this.recordRoute && RR_METHODS.has(req.method)) {
      const inbound = core.localAddress(ctx.source.protocol, isIP(ctx.source.address) === 6 ? 6 : 4);
      if (inbound !== undefined) recordRoutes.push(this.rrFor(core, inbound));
      // RFC 5658 §4: a second Record-Route when the request leaves by another transport or interface
      if (inbound === undefined || inbound.protocol !== out.protocol || inbound.address !== out.address || inbound.port !== out.port) {
        recordRoutes.push(this.rrFor(core, out));
      }
    }
    const request = buildForwardedRequest(req, { uri, routes: path, via, recordRoutes, consumedRealm });
    return { request, target: nextHop };
  }

  private rrFor(core: SipCore, local: TransportAddress): string {
    return recordRouteValue(core.advertisedHost(local), local.port, local.protocol);
  }

  /** §22.3: Proxy-Authorization for the caller's realm, else a 407 challenge. */
  private async authenticate(req: SipRequest, fromHost: string, context: ResponseContext): Promise<string | undefined> {
    const directory = this.options.directory;
    const realm = directory.realmFor(fromHost);
    const authenticator = this.authenticatorFor(realm);
    const credentials = req.authorizations(true).find((c) => c.params.get('realm') === realm);
    const result = await authenticator.verify(req.method, credentials, (user, _realm, hash) => directory.ha1(user, fromHost, hash), req.body);
    if (!result.ok) {
      const challenges = authenticator.challenge({ stale: result.reason === 'stale' });
      context.reject(407, challenges.map((c): [string, string] => ['Proxy-Authenticate', c]));
      return undefined;
    }
    // the credentials must be those of the From identity: no calling as another local user
    if (unescapeUriPart(req.from?.uri.user ?? '') !== result.username) {
      context.reject(403, undefined, 'Identity Mismatch');
      return undefined;
    }
    return realm;
  }

  private authenticatorFor(realm: string): DigestAuthenticator {
    let a = this.authenticators.get(realm);
    if (a === undefined) {
      const auth = this.options.auth;
      a = new DigestAuthenticator({
        realm,
        secret: auth.secret,
        scheduler: this.options.scheduler,
        ...(auth.algorithms !== undefined ? { algorithms: auth.algorithms } : {}),
        ...(auth.nonceTtlMs !== undefined ? { nonceTtlMs: auth.nonceTtlMs } : {}),
      });
      this.authenticators.set(realm, a);
    }
    return a;
  }

  /**
   * §16.4: undo a strict router upstream (the Request-URI is our Record-Route value: the real
   * Request-URI is the last Route), then pop every top Route that is us (two with RFC 5658).
   */
  private async processRoutes(req: SipRequest): Promise<RouteDecision> {
    // a strict router sent it to our Record-Route URI: it was routed through us
    let poppedOurs = this.fixStrictRoute(req);
    for (;;) {
      const top = req.routes[0];
      if (top === undefined || !(await this.isUs(top.uri))) break;
      req.removeTopRoute();
      poppedOurs = true;
    }
    return { inDialog: poppedOurs && req.toTag !== undefined, poppedOurs };
  }

  private popOwnRoutesSync(req: SipRequest): RouteDecision {
    let poppedOurs = this.fixStrictRoute(req);
    for (;;) {
      const top = req.routes[0];
      if (top === undefined || !this.isUsSync(top.uri)) break;
      req.removeTopRoute();
      poppedOurs = true;
    }
    return { inDialog: poppedOurs && req.toTag !== undefined, poppedOurs };
  }

  private fixStrictRoute(req: SipRequest): boolean {
    if (!req.uri.params.has('lr') || req.uri.user !== undefined || !this.isOwnHost(req.uri.host, req.uri.port)) return false;
    const routes = req.headers.getAll('Route');
    const last = routes[routes.length - 1];
    const parsed = last === undefined ? undefined : parseNameAddr(last);
    if (parsed === undefined) return false;
    req.uri = parsed.uri;
    req.headers.remove('Route');
    for (const r of routes.slice(0, -1)) req.headers.append('Route', r);
    return true;
  }

  private isUsSync(uri: SipUri): boolean {
    return this.isOwnHost(uri.host, uri.port) || (uri.user === undefined && this.localHosts.has(uri.host));
  }

  /** a Route URI naming one of our listeners, or (without a user part) a domain we serve */
  private async isUs(uri: SipUri): Promise<boolean> {
    if (this.isUsSync(uri)) return true;
    if (uri.user !== undefined || isIP(bareHost(uri.host)) !== 0) return false;
    return this.isLocalHost(uri.host);
  }

  private async isLocalHost(host: string): Promise<boolean> {
    if (this.localHosts.has(host)) return true;
    const local = await this.options.directory.isLocalDomain(host);
    if (local && this.localHosts.size < 10_000) this.localHosts.add(host);
    return local;
  }

  /** host:port of one of our listeners (advertised or bound); no port means the default */
  isOwnHost(host: string, port: number | undefined): boolean {
    const keys = this.ownKeys();
    return keys.has(host.toLowerCase() + ':' + (port === undefined ? '' : String(port)));
  }

  private ownKeys(): Set<string> {
    if (this.selfKeys !== undefined) return this.selfKeys;
    const keys = new Set<string>();
    const core = this.core;
    if (core === undefined) return keys;
    for (const protocol of PROTOCOLS) {
      for (const family of [4, 6] as const) {
        const l = core.localAddress(protocol, family);
        if (l === undefined) continue;
        for (const host of [core.advertisedHost(l), l.address, family === 6 ? `[${l.address}]` : l.address]) {
          const h = host.toLowerCase();
          keys.add(h + ':' + String(l.port));
          if (l.port === defaultPort(protocol)) keys.add(h + ':');
        }
      }
    }
    // listeners bind at start(); cache only once they exist
    if (keys.size > 0) this.selfKeys = keys;
    return keys;
  }

  /** §16.11: forward without state (ACK for 2xx), with a branch stable across retransmissions. */
  private async forwardStateless(req: SipRequest, next: SipUri, ctx: ReceiveContext): Promise<void> {
    const core = this.core;
    if (core === undefined) return;
    const nextHop = await this.resolver.targetFor(next);
    const plan = this.plan(req, ctx, statelessBranch(req), req.uri, [], nextHop, undefined, false);
    if (plan === undefined) return;
    await core.send(plan.request, plan.target);
  }
}
