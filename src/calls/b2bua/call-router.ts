import { createHmac } from 'node:crypto';
import type { Scheduler } from '../../lib/index.js';
import { auth, message, proxy, transport, type LocationStore, type SubscriberDirectory } from '../../sip/index.js';
import { evaluate, resumeAfterFailure, type DialPlan, type DialRequest, type Target } from '../dialplan/index.js';
import { formatForTrunk, normalizeE164 } from '../numbering/index.js';
import { cidrContains, parseCidr, type Cidr } from '../trunks/acl.js';
import { gatewayOrder, type Gateway } from '../trunks/gateway-selection.js';
import type { CallDirectory, TrunkInfo } from './ports.js';

type SipRequest = message.SipRequest;
type OutboundTarget = transport.OutboundTarget;

/** Who is calling, once the request is vetted. */
export type Caller =
  | { kind: 'trunk'; trunk: TrunkInfo; tenant: string; number: string }
  | { kind: 'user'; user: string; domain: string; tenant: string; number: string }
  | { kind: 'foreign'; tenant: string; number: string };

/** Header that marks a call leg placed by our own Media Control Platform, and its signature. */
export const INTERNAL_LEG_HEADER = 'X-Opencx-Internal';

export function internalLegSignature(secret: string | Buffer, callId: string): string {
  return createHmac('sha256', secret).update(`internal-leg:${callId}`).digest('hex').slice(0, 32);
}

/** One INVITE to send: where, to whom, with what credentials. */
export interface Branch {
  requestUri: string;
  to: string;
  target?: OutboundTarget;
  routes: string[];
  credentials?: { username: string; password: string };
  /** for CDRs and limits */
  trunk?: TrunkInfo;
  gateway?: Gateway;
  /** give up on a next hop that sends no response at all in this many ms (a dead gateway) */
  responseTimeoutMs?: number;
  label: string;
}

/** Branches in one group ring together; groups are tried in order (sequential hunting, failover). */
export interface BranchGroup {
  branches: Branch[];
  /** ring-no-answer for this group */
  timeoutMs?: number;
  /** a gateway group: go on to the next group only on 408/5xx/no answer (RFC 3263 §4.3 spirit) */
  failover: boolean;
}

export type RouteDecision =
  | { kind: 'connect'; groups: BranchGroup[]; direction: 'inbound' | 'outbound' | 'internal'; tenant: string; to: string; rule?: string; inboundTrunk?: TrunkInfo; callerUser?: string; resume?: () => Promise<RouteDecision | undefined> }
  | { kind: 'reject'; status: number; reason: string }
  | { kind: 'challenge'; headers: [string, string][] }
  /** a VoiceXML application answers the call (the MCP): a URL, or an application hosted for the tenant */
  | { kind: 'application'; tenant: string; to: string; url?: string; app?: string; direction: 'inbound' | 'outbound' | 'internal'; rule?: string };

export interface CallRouterOptions {
  directory: CallDirectory;
  subscribers: SubscriberDirectory;
  location: LocationStore;
  scheduler: Scheduler;
  authSecret: string | Buffer;
  authAlgorithms?: ('MD5' | 'SHA-256')[];
  defaultTenant: string;
  /** country code for numbers from phones (E.164 normalisation); default '1' */
  countryCode?: string;
  /** the node id of this SIP node (flows held here) */
  nodeId: () => string | undefined;
  /** is this host:port one of ours (skip our own Path entries) */
  isOwnHost: (host: string, port: number | undefined) => boolean;
  resolver?: proxy.HostResolver;
}

/**
 * Decides who a call is from and where it goes: inbound trunks by source ACL, local users by
 * digest (RFC 3261 §22.3 with 407), everyone else only to our own users (never an open relay).
 * Targets come from DIDs, the tenant's dial plan, or the Request-URI naming a local user; each
 * target becomes groups of branches (contacts of users, gateways of trunks).
 */
export class CallRouter {
  private readonly authenticators = new Map<string, auth.DigestAuthenticator>();
  private readonly resolver: proxy.CachingResolver;
  private trunkCache: { source: TrunkInfo[]; trunks: { trunk: TrunkInfo; acl: Cidr[] }[] } | undefined;
  private turn = 0;

  constructor(private readonly options: CallRouterOptions) {
    this.resolver = new proxy.CachingResolver(options.resolver ?? proxy.systemResolver, options.scheduler);
  }

  /** The directory's trunks with their ACLs parsed once per list the directory hands out (it caches and refreshes them). */
  async trunks(): Promise<{ trunk: TrunkInfo; acl: Cidr[] }[]> {
    const trunks = await this.options.directory.trunks();
    if (this.trunkCache?.source !== trunks) {
      this.trunkCache = { source: trunks, trunks: trunks.map((trunk) => ({ trunk, acl: trunk.acl.flatMap((c) => parseCidr(c) ?? []) })) };
    }
    return this.trunkCache.trunks;
  }

  /** A gateway's address, through the router's cache (the OPTIONS pinger resolves the same hosts). */
  resolveHost(host: string): Promise<string> {
    return this.resolver.resolve(host);
  }

  async route(req: SipRequest, sourceAddress: string): Promise<RouteDecision> {
    const caller = await this.identify(req, sourceAddress);
    if ('kind' in caller && (caller.kind === 'challenge' || caller.kind === 'reject')) return caller;
    const who = caller as Caller;
    const decision = await this.routeFrom(who, message.unescapeUriPart(req.uri.user ?? ''), req.uri.host);
    if (decision.kind !== 'connect') return decision;
    if (who.kind === 'trunk') return { ...decision, inboundTrunk: who.trunk };
    if (who.kind === 'user') return { ...decision, callerUser: `${who.user}@${who.domain}` };
    return decision;
  }

  /**
   * Where a call placed on behalf of a local user goes (click-to-dial's second leg): as if the
   * user dialled `dest` from a phone — dial plan first, then a local user of that domain.
   */
  async routeAs(user: string, domain: string, dest: string): Promise<RouteDecision> {
    const tenant = (await this.options.directory.tenantOfDomain(domain)) ?? this.options.defaultTenant;
    const at = dest.indexOf('@');
    return this.routeFrom({ kind: 'user', user, domain, tenant, number: user }, at < 0 ? dest : dest.slice(0, at), at < 0 ? domain : dest.slice(at + 1));
  }

  /** The branches that ring a local user's registered phones (click-to-dial's first leg). */
  async ringUser(user: string, domain: string): Promise<RouteDecision> {
    const tenant = (await this.options.directory.tenantOfDomain(domain)) ?? this.options.defaultTenant;
    return this.userTarget(user, domain, tenant, 'internal');
  }

  private async routeFrom(who: Caller, dest: string, destHost: string): Promise<RouteDecision> {
    const at = this.options.scheduler.wallNow();

    // 1. inbound trunk: the dialled number is a DID, else the tenant's dial plan
    if (who.kind === 'trunk') {
      const cc = who.trunk.countryCode ?? this.options.countryCode ?? '1';
      const e164 = normalizeE164(dest, { countryCode: cc });
      const did = e164.ok ? await this.options.directory.did(who.tenant, e164.e164) : undefined;
      if (did !== undefined && (did.trunkId === undefined || did.trunkId === who.trunk.id)) {
        const decision = await this.toTarget(did.target, did.tenant, e164.ok ? e164.e164 : dest, 'inbound', who);
        // the CDR names the number the carrier dialled, not the phone it rang
        return decision.kind === 'connect' ? { ...decision, to: e164.ok ? e164.e164 : dest } : decision;
      }
      const planned = await this.fromPlan(who.tenant, { number: e164.ok ? e164.e164 : dest, caller: who.number, source: 'trunk', trunk: who.trunk.name, at }, 'inbound', who);
      if (planned !== undefined) return planned;
      if (await this.options.subscribers.userExists(dest, destHost)) return this.userTarget(dest, destHost, who.tenant, 'inbound');
      return { kind: 'reject', status: 404, reason: 'No Such Number' };
    }

    // 2. a local user or someone else calling one of our users by name
    const local = (await this.options.subscribers.isLocalDomain(destHost)) && (await this.options.subscribers.userExists(dest, destHost));
    if (who.kind === 'user') {
      const planned = await this.fromPlan(who.tenant, { number: dest, caller: who.number, source: 'internal', at }, 'outbound', who);
      if (planned !== undefined) return planned;
      if (local) return this.userTarget(dest, destHost, who.tenant, 'internal');
      return { kind: 'reject', status: 404, reason: 'Not Found' };
    }
    // 3. not a trunk, not authenticated: our own users only (fraud control: no numbers, no trunks)
    if (local) return this.userTarget(dest, destHost, who.tenant, 'inbound');
    return { kind: 'reject', status: 403, reason: 'Forbidden' };
  }

  private async identify(req: SipRequest, sourceAddress: string): Promise<Caller | { kind: 'challenge'; headers: [string, string][] } | { kind: 'reject'; status: number; reason: string }> {
    const fromUser = message.unescapeUriPart(req.from?.uri.user ?? '');
    // a leg our own MCP places (a VoiceXML <transfer>): signed with the node secret, routed like a local user's call
    const internal = req.headers.get(INTERNAL_LEG_HEADER);
    if (internal !== undefined && req.callId !== undefined && internal === internalLegSignature(this.options.authSecret, req.callId)) {
      const tenant = (await this.options.directory.tenantOfDomain(req.uri.host)) ?? this.options.defaultTenant;
      return { kind: 'user', user: fromUser === '' ? 'ivr' : fromUser, domain: req.uri.host, tenant, number: fromUser };
    }
    for (const { trunk, acl } of await this.trunks()) {
      if (!trunk.enabled || trunk.direction === 'outbound') continue;
      if (acl.some((c) => cidrContains(c, sourceAddress))) return { kind: 'trunk', trunk, tenant: trunk.tenant, number: fromUser };
    }
    const fromHost = req.from?.uri.host ?? '';
    if (fromHost !== '' && (await this.options.subscribers.isLocalDomain(fromHost))) {
      const subscribers = this.options.subscribers;
      const realm = subscribers.realmFor(fromHost);
      const authenticator = this.authenticatorFor(realm);
      const credentials = req.authorizations(true).find((c) => c.params.get('realm') === realm);
      const result = await authenticator.verify(req.method, credentials, (user, _realm, hash) => subscribers.ha1(user, fromHost, hash), req.body);
      if (!result.ok) {
        return { kind: 'challenge', headers: authenticator.challenge({ stale: result.reason === 'stale' }).map((c): [string, string] => ['Proxy-Authenticate', c]) };
      }
      if (result.username !== fromUser) return { kind: 'reject', status: 403, reason: 'Identity Mismatch' };
      const tenant = (await this.options.directory.tenantOfDomain(fromHost)) ?? this.options.defaultTenant;
      return { kind: 'user', user: fromUser, domain: fromHost, tenant, number: fromUser };
    }
    const tenant = (await this.options.directory.tenantOfDomain(req.uri.host)) ?? this.options.defaultTenant;
    return { kind: 'foreign', tenant, number: fromUser };
  }

  private async fromPlan(
    tenant: string,
    request: DialRequest,
    direction: 'inbound' | 'outbound',
    who: Caller,
  ): Promise<RouteDecision | undefined> {
    const plan = await this.options.directory.dialPlan(tenant);
    if (plan === undefined) return undefined;
    return this.planDecision(plan, tenant, request, direction, who);
  }

  /** Evaluate the plan; a matched rule with continueOnFailure carries `resume`: the next rule's decision (forwarding on busy/no answer). */
  private async planDecision(plan: DialPlan, tenant: string, request: DialRequest, direction: 'inbound' | 'outbound', who: Caller): Promise<RouteDecision | undefined> {
    const result = evaluate(plan, request);
    if (result.error !== undefined) return { kind: 'reject', status: 482, reason: 'Dial Plan Loop' };
    const matched = result.matched;
    if (matched === undefined) return undefined;
    const decision = await this.toTarget(matched.target, tenant, matched.number, direction, who);
    if (decision.kind !== 'connect') return decision;
    return {
      ...decision,
      rule: matched.rule,
      ...(matched.continueOnFailure ? { resume: () => this.planDecision(plan, tenant, resumeAfterFailure(request, matched), direction, who) } : {}),
    };
  }

  private async toTarget(target: Target, tenant: string, number: string, direction: 'inbound' | 'outbound' | 'internal', who: Caller): Promise<RouteDecision> {
    switch (target.type) {
      case 'user': {
        const [user = '', domain = ''] = target.user.split('@');
        return this.userTarget(user, domain, tenant, direction === 'outbound' ? 'internal' : direction);
      }
      case 'ring-group': {
        const groups: BranchGroup[] = [];
        const all: Branch[] = [];
        for (const member of target.members) {
          const [user = '', domain = ''] = member.split('@');
          const branches = await this.userBranches(user, domain);
          if (target.strategy === 'sequential') {
            if (branches.length > 0) groups.push({ branches, timeoutMs: (target.ringSeconds ?? 20) * 1000, failover: false });
          } else all.push(...branches);
        }
        if (target.strategy === 'simultaneous' && all.length > 0) groups.push({ branches: all, ...(target.ringSeconds !== undefined ? { timeoutMs: target.ringSeconds * 1000 } : {}), failover: false });
        if (groups.length === 0) return { kind: 'reject', status: 480, reason: 'Temporarily Unavailable' };
        return { kind: 'connect', groups, direction: direction === 'outbound' ? 'internal' : direction, tenant, to: number };
      }
      case 'trunk': {
        if (who.kind === 'foreign') return { kind: 'reject', status: 403, reason: 'Forbidden' };
        const names = [target.trunk, ...(target.fallbackTrunks ?? [])];
        const groups: BranchGroup[] = [];
        for (const name of names) {
          const trunk = (await this.trunks()).find((t) => t.trunk.name === name && t.trunk.tenant === tenant)?.trunk;
          if (trunk === undefined || !trunk.enabled || trunk.direction === 'inbound') continue;
          groups.push(...(await this.trunkGroups(trunk, number)));
        }
        if (groups.length === 0) return { kind: 'reject', status: 503, reason: 'No Trunk Available' };
        return { kind: 'connect', groups, direction: 'outbound', tenant, to: number };
      }
      case 'reject':
        return { kind: 'reject', status: target.status, reason: target.reason ?? 'Rejected' };
      case 'vxml':
        return {
          kind: 'application',
          tenant,
          to: number,
          direction: direction === 'outbound' ? 'internal' : direction,
          ...(target.url !== undefined ? { url: target.url } : {}),
          ...(target.app !== undefined ? { app: target.app } : {}),
        };
      case 'voicemail':
        // voicemail is not part of this build yet
        return { kind: 'reject', status: 480, reason: 'Voicemail Not Available' };
      case 'number': {
        // a DID pointing at another number: that number goes through the tenant's dial plan
        const plan = await this.options.directory.dialPlan(tenant);
        const result = plan === undefined ? undefined : evaluate(plan, { number: target.number, caller: who.number, source: who.kind === 'trunk' ? 'trunk' : 'internal', at: this.options.scheduler.wallNow() });
        if (result?.matched === undefined) return { kind: 'reject', status: 404, reason: 'No Such Number' };
        return this.toTarget(result.matched.target, tenant, result.matched.number, direction, who);
      }
    }
  }

  private async userTarget(user: string, domain: string, tenant: string, direction: 'inbound' | 'internal'): Promise<RouteDecision> {
    if (!(await this.options.subscribers.userExists(user, domain))) return { kind: 'reject', status: 404, reason: 'Not Found' };
    const branches = await this.userBranches(user, domain);
    if (branches.length === 0) return { kind: 'reject', status: 480, reason: 'Temporarily Unavailable' };
    return { kind: 'connect', groups: [{ branches, failover: false }], direction, tenant, to: `${user}@${domain}` };
  }

  /** Every current contact of a user, as branches (RFC 3261 §16.5: the location service's targets). */
  private async userBranches(user: string, domain: string): Promise<Branch[]> {
    const aor = `sip:${user}@${domain.toLowerCase()}`;
    const bindings = await this.options.location.bindings(aor);
    const out: Branch[] = [];
    for (const b of [...bindings].sort((x, y) => y.q - x.q)) {
      const uri = message.parseUri(b.contact);
      if (uri === undefined) continue;
      const routes = [...b.path];
      while (routes.length > 0) {
        const first = message.parseNameAddr(routes[0] as string);
        if (first === undefined || !this.options.isOwnHost(first.uri.host, first.uri.port)) break;
        routes.shift();
      }
      let target: OutboundTarget;
      if (routes.length > 0) {
        const first = message.parseNameAddr(routes[0] as string);
        if (first === undefined) continue;
        target = await this.resolver.targetFor(first.uri);
      } else {
        // reach the contact where its REGISTER came from (NAT), over the connection it used (RFC 5626)
        const src = b.source;
        target = { protocol: src.protocol, address: src.address, port: src.port };
        if (src.connectionId !== undefined && src.nodeId === this.options.nodeId()) target.connectionId = src.connectionId;
      }
      out.push({ requestUri: b.contact, to: `<sip:${user}@${domain}>`, target, routes: routes.map((r) => r), label: `${user}@${domain} via ${b.contact}` });
    }
    return out;
  }

  private async trunkGroups(trunk: TrunkInfo, e164OrNumber: string): Promise<BranchGroup[]> {
    const cc = trunk.countryCode ?? this.options.countryCode ?? '1';
    const normalized = normalizeE164(e164OrNumber, { countryCode: cc });
    let dialled = e164OrNumber;
    if (normalized.ok) {
      const formatted = formatForTrunk(normalized.e164, trunk.numberFormat, { countryCode: cc });
      if (formatted.ok) dialled = formatted.number;
    }
    const order = gatewayOrder(trunk.gateways, trunk.balancing, (g) => this.gatewayUp(trunk, g), this.turn++, Math.random);
    const groups: BranchGroup[] = [];
    for (const gw of order) {
      const g = gw as TrunkInfo['gateways'][number];
      const host = g.host.includes(':') ? `[${g.host}]` : g.host;
      const requestUri = `sip:${dialled}@${host}:${g.port}${g.transport === 'udp' ? '' : `;transport=${g.transport}`}`;
      let address: string;
      try {
        address = await this.resolver.resolve(g.host);
      } catch {
        continue;
      }
      const creds = trunk.outboundAuth;
      groups.push({
        branches: [
          {
            requestUri,
            to: `<sip:${dialled}@${host}>`,
            target: { protocol: g.transport, address, port: g.port },
            routes: [],
            ...(creds !== undefined ? { credentials: { username: creds.username, password: creds.password } } : {}),
            trunk,
            gateway: g,
            ...(g.responseTimeoutSeconds !== undefined ? { responseTimeoutMs: g.responseTimeoutSeconds * 1000 } : {}),
            label: `trunk ${trunk.name} gateway ${g.host}:${g.port}`,
          },
        ],
        failover: true,
      });
    }
    return groups;
  }

  /** gateway health is kept by the trunk monitor; the router only asks */
  gatewayUp: (trunk: TrunkInfo, gateway: Gateway) => boolean = () => true;

  private authenticatorFor(realm: string): auth.DigestAuthenticator {
    let a = this.authenticators.get(realm);
    if (a === undefined) {
      a = new auth.DigestAuthenticator({
        realm,
        secret: this.options.authSecret,
        scheduler: this.options.scheduler,
        ...(this.options.authAlgorithms !== undefined ? { algorithms: this.options.authAlgorithms } : {}),
      });
      this.authenticators.set(realm, a);
    }
    return a;
  }

  close(): void {
    for (const a of this.authenticators.values()) a.close();
    this.authenticators.clear();
  }
}
