import type { Logger, Scheduler } from '../lib/index.js';
import { describeError, firstExternalAddress } from '../lib/index.js';
import { B2bua, CallRouter, type ApplicationHost, TrunkMonitor, compileDialPlan, type CallDirectory, type CdrRecord, type CdrSink, type DialPlan, type TrunkInfo } from '../calls/index.js';
import { TELEPHONY_CHANGED_TOPIC, createTelephonyStores, type TelephonyStores } from '../control/index.js';
import type { MediaEngineApi } from '../media/index.js';
import { registerCallMetrics, registerTrunkMetrics, type Bus, type Config, type Metrics } from '../platform/index.js';
import { ua, type LocationStore, type SipService, type SubscriberDirectory } from '../sip/index.js';
import type { Provisioning } from './subscriber-services.js';

export interface CallsRole {
  b2bua: B2bua;
  /** goes into the SIP server's service chain ahead of the proxy */
  service: SipService;
  stores: TelephonyStores;
  monitor: TrunkMonitor;
  close(): Promise<void>;
}

/**
 * The `calls` role: a UserAgentService in the SIP chain owns every new INVITE and hands it to the
 * B2BUA, which routes it (trunks, DIDs, dial plan, users) and anchors its media. The provisioning
 * stores of src/control are adapted here to the ports of src/calls (DESIGN.md: calls does not
 * import control).
 */
export function startCallsRole(options: {
  config: Config;
  provisioning: Provisioning;
  media: MediaEngineApi;
  location: LocationStore;
  directory: SubscriberDirectory;
  secret: string;
  bus: Bus;
  scheduler: Scheduler;
  logger: Logger;
  nodeId: string;
  localHost: () => string;
  isOwnHost: (host: string, port: number | undefined) => boolean;
  metrics?: Metrics;
  /** the MCP, when it runs here: dial-plan VoiceXML targets go to it */
  applications?: ApplicationHost;
}): CallsRole {
  const log = options.logger.child({ component: 'calls' });
  const stores = createTelephonyStores({ db: options.provisioning.db, bus: options.bus, logger: log, validateDialPlan: validateDialPlan });
  const callDirectory = new StoreCallDirectory(stores, options.provisioning, options.scheduler);
  const router = new CallRouter({
    directory: callDirectory,
    subscribers: options.directory,
    location: options.location,
    scheduler: options.scheduler,
    authSecret: options.secret,
    authAlgorithms: options.config.sip.authAlgorithms,
    defaultTenant: 'default',
    nodeId: () => options.nodeId,
    isOwnHost: options.isOwnHost,
  });
  const service = new ua.UserAgentService({
    // a new INVITE (no To tag) is a call for the B2BUA; in-dialog requests find their dialogs
    accepts: (req) => req.method === 'INVITE' && req.toTag === undefined,
    claims: (req) => req.method === 'INVITE' && req.toTag === undefined,
    logger: log.child({ component: 'ua' }),
  });
  // OPTIONS pinging of outbound gateways: a gateway that stops answering is skipped by the router
  const monitor = new TrunkMonitor({
    ua: service,
    trunks: () => callDirectory.trunks(),
    resolve: (host) => router.resolveHost(host),
    scheduler: options.scheduler,
    logger: log,
    localHost: options.localHost,
  });
  router.gatewayUp = (trunk, gateway) => monitor.isUp(trunk, gateway);
  monitor.start();
  const b2bua = new B2bua({
    ua: service,
    media: options.media,
    router,
    cdrs: new StoreCdrSink(stores, callDirectory, log),
    bus: options.bus,
    scheduler: options.scheduler,
    logger: log,
    localHost: options.localHost,
    maxCallDurationMs: options.config.calls.maxDurationSeconds * 1000,
    ...(options.applications !== undefined ? { applications: options.applications } : {}),
  });
  if (options.metrics !== undefined) {
    registerCallMetrics(options.metrics, () => ({ activeCalls: b2bua.activeCalls, dialogs: service.dialogCount, pendingInvites: service.pendingInviteCount }));
    registerTrunkMetrics(options.metrics, () => monitor.gateways());
  }
  // provisioning changes (a trunk, a DID, a dial plan) take effect on the next call
  const changes = options.bus.subscribe(TELEPHONY_CHANGED_TOPIC, () => {
    callDirectory.invalidate();
  });
  changes.catch((err: unknown) => log.warn({ err: describeError(err) }, 'telephony change notices unavailable; caches refresh every few seconds'));
  return {
    b2bua,
    service,
    stores,
    monitor,
    close: async () => {
      monitor.close();
      await changes.then((s) => s.unsubscribe()).catch(() => undefined);
      await b2bua.close();
      router.close();
    },
  };
}

/** REST and CLI refuse a dial plan the engine would refuse, with the rule named (control cannot import calls). */
export function validateDialPlan(document: unknown): { ok: true } | { ok: false; errors: { rule: string; path: string; message: string }[] } {
  const result = compileDialPlan(document);
  return result.ok ? { ok: true } : { ok: false, errors: result.errors };
}

class StoreCallDirectory implements CallDirectory {
  private plans = new Map<string, { version: number; plan: DialPlan | undefined; at: number }>();
  private tenantIds = new Map<string, string>();
  private trunkCache: { at: number; trunks: TrunkInfo[] } | undefined;

  constructor(
    private readonly stores: TelephonyStores,
    private readonly provisioning: Provisioning,
    private readonly scheduler: Scheduler,
  ) {}

  invalidate(): void {
    this.trunkCache = undefined;
    this.plans.clear();
  }

  async trunks(): Promise<TrunkInfo[]> {
    const now = this.scheduler.now();
    if (this.trunkCache !== undefined && now - this.trunkCache.at < 2000) return this.trunkCache.trunks;
    const out: TrunkInfo[] = [];
    for (const t of await this.stores.trunks.list()) {
      const creds = t.outboundAuth !== null ? await this.stores.trunks.outboundCredentials(t.id) : undefined;
      out.push({
        id: t.id,
        tenant: t.tenantId,
        name: t.name,
        direction: t.direction,
        acl: t.acl,
        gateways: t.gateways.map((g) => ({
          host: g.host,
          port: g.port,
          transport: g.transport,
          weight: g.weight,
          priority: -g.priority,
          ...(g.responseTimeoutSeconds !== undefined ? { responseTimeoutSeconds: g.responseTimeoutSeconds } : {}),
        })),
        balancing: t.balancing,
        ...(creds !== undefined ? { outboundAuth: { username: creds.username, password: creds.password, ...(creds.realm !== null ? { realm: creds.realm } : {}) } } : {}),
        callerIdStyle: t.callerIdStyle,
        numberFormat: t.numberFormat,
        ...(t.countryCode !== null ? { countryCode: t.countryCode } : {}),
        optionsPingSeconds: t.optionsPingSeconds,
        ...(t.maxConcurrentCalls !== null ? { maxConcurrentCalls: t.maxConcurrentCalls } : {}),
        ...(t.callsPerSecond !== null ? { callsPerSecond: t.callsPerSecond } : {}),
        enabled: t.enabled,
      });
    }
    this.trunkCache = { at: now, trunks: out };
    return out;
  }

  async did(tenant: string, e164: string): Promise<{ tenant: string; target: import('../calls/index.js').Target; trunkId?: string } | undefined> {
    const did = await this.stores.dids.findByNumber(tenant, e164);
    if (did === undefined) return undefined;
    return { tenant: did.tenantId, target: did.target as unknown as import('../calls/index.js').Target, ...(did.trunkId !== null && did.trunkId !== undefined ? { trunkId: did.trunkId } : {}) };
  }

  /** compiled once per version; the store is asked again after 2 s or a change notice, not on every call */
  async dialPlan(tenant: string): Promise<DialPlan | undefined> {
    const now = this.scheduler.now();
    const cached = this.plans.get(tenant);
    if (cached !== undefined && now - cached.at < 2000) return cached.plan;
    const stored = await this.stores.dialPlans.get(tenant);
    if (cached !== undefined && cached.version === stored.version) {
      cached.at = now;
      return cached.plan;
    }
    let plan: DialPlan | undefined;
    if (stored.version > 0) {
      const compiled = compileDialPlan(stored.document);
      plan = compiled.ok ? compiled.plan : undefined;
    }
    this.plans.set(tenant, { version: stored.version, plan, at: now });
    return plan;
  }

  async tenantOfDomain(domain: string): Promise<string | undefined> {
    const known = this.tenantIds.get(domain);
    if (known !== undefined) return known;
    const d = await this.provisioning.store.findDomain(domain.toLowerCase());
    const id = d?.tenantId ?? (await this.provisioning.store.findTenantByName('default'))?.id;
    if (id !== undefined) this.tenantIds.set(domain, id);
    return id;
  }

  async trunkIdByName(tenant: string, name: string): Promise<string | undefined> {
    return (await this.trunks()).find((t) => t.tenant === tenant && t.name === name)?.id;
  }
}

class StoreCdrSink implements CdrSink {
  constructor(
    private readonly stores: TelephonyStores,
    private readonly directory: StoreCallDirectory,
    private readonly logger: Logger,
  ) {}

  async write(records: CdrRecord[]): Promise<void> {
    const rows = [];
    for (const r of records) {
      const tenantId = /^[0-9a-f-]{36}$/.test(r.tenant) ? r.tenant : await this.directory.tenantOfDomain(r.tenant);
      if (tenantId === undefined) {
        this.logger.warn({ callId: r.callId, tenant: r.tenant }, 'CDR for an unknown tenant dropped');
        continue;
      }
      const trunkId = r.trunk !== undefined ? await this.directory.trunkIdByName(tenantId, r.trunk) : undefined;
      rows.push({
        tenantId,
        kind: r.legId === undefined ? ('call' as const) : ('leg' as const),
        callId: r.callId,
        legId: r.legId ?? null,
        direction: r.direction,
        fromNumber: r.from,
        toNumber: r.to,
        trunkId: trunkId ?? null,
        setupAt: new Date(r.setupAt),
        answerAt: r.answerAt !== undefined ? new Date(r.answerAt) : null,
        endAt: new Date(r.endAt),
        durationSeconds: r.durationSec,
        billableSeconds: r.billableSec,
        sipStatus: r.status,
        reason: r.reason,
        hangupBy: r.endedBy === 'api' ? ('system' as const) : r.endedBy,
        codec: r.codec ?? null,
        packetsLost: r.packetsLost ?? null,
        jitterMs: r.jitterMs ?? null,
        rttMs: r.rttMs ?? null,
        recordingKey: r.recordingKey ?? null,
      });
    }
    try {
      await this.stores.cdrs.insertAll(rows);
    } catch (err) {
      this.logger.error({ err: describeError(err), records: records.length }, 'CDRs not written');
      throw err;
    }
  }
}

/** The host in From/Contact of calls we originate: the advertised host, else the bound address, else this host's first external IPv4. */
export function localSipHost(config: Config): string {
  if (config.sip.advertisedHost !== undefined) return config.sip.advertisedHost;
  if (config.sip.bind !== '0.0.0.0' && config.sip.bind !== '::') return config.sip.bind;
  return firstExternalAddress('IPv4') ?? '127.0.0.1';
}

/** Is host:port this SIP node (a Path or Route entry naming us)? */
export function isOwnSipHost(config: Config, ports: Record<string, number>, host: string, port: number | undefined): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  const names = new Set([config.sip.bind, config.sip.advertisedHost ?? '', localSipHost(config), '127.0.0.1', '::1', 'localhost'].map((h) => h.toLowerCase()));
  if (!names.has(bare)) return false;
  const ours = Object.entries(ports).filter(([k]) => k !== 'http').map(([, v]) => v);
  return port === undefined ? ours.includes(5060) || ours.includes(5061) : ours.includes(port);
}
