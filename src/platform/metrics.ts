import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics, type PrometheusContentType } from 'prom-client';

/**
 * Prometheus metrics. Each process owns one Registry (never prom-client's global one), so two
 * servers in one test process do not share counters and a re-created server does not fail on
 * "metric already registered".
 */

export type SipDirection = 'in' | 'out';

/** Methods with their own label value; anything else is counted as OTHER (see normalizeMethod). */
const KNOWN_METHODS = [
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'PRACK', 'UPDATE', 'REFER',
  'SUBSCRIBE', 'NOTIFY', 'MESSAGE', 'INFO', 'PUBLISH',
] as const;
const KNOWN_METHOD_SET: ReadonlySet<string> = new Set(KNOWN_METHODS);
const KNOWN_TRANSPORTS: ReadonlySet<string> = new Set(['udp', 'tcp', 'tls', 'ws', 'wss']);

/** Indexed by Math.floor(status / 100): no string building on the hot path. */
const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx', '6xx'] as const;

interface Incrementable {
  inc(value?: number): void;
}

/**
 * A labelled counter's increments, held as a plain number until a scrape reads the counter:
 * prom-client hashes a child's label set on every inc(), which at tens of thousands of SIP
 * messages per second was ~5 % of the SIP process's CPU.
 */
class Tally implements Incrementable {
  private pending = 0;

  constructor(private readonly child: Incrementable) {}

  inc(value = 1): void {
    this.pending += value;
  }

  /** hand what was counted since the last scrape to prom-client */
  flush(): void {
    if (this.pending === 0) return;
    this.child.inc(this.pending);
    this.pending = 0;
  }
}

/**
 * Label values come from the wire, so an attacker could otherwise create one time series per
 * invented method name; unknown methods and transports collapse into a single "OTHER" series.
 */
function normalizeMethod(method: string): string {
  return KNOWN_METHOD_SET.has(method) ? method : 'OTHER';
}

function normalizeTransport(transport: string): string {
  return KNOWN_TRANSPORTS.has(transport) ? transport : 'other';
}

/**
 * The SIP layer's view of metrics, called for every message (20k+/s): labelled children are
 * resolved once and cached in nested Maps keyed by the raw label values, so a call costs a few
 * Map lookups and no allocation.
 */
export class SipMetrics {
  private readonly requests: Counter<'method' | 'transport' | 'direction'>;
  private readonly responses: Counter<'status_class' | 'method' | 'transport' | 'direction'>;
  private readonly parseErrors: Counter<'transport'>;
  private readonly requestCache = new Map<SipDirection, Map<string, Map<string, Incrementable>>>();
  private readonly responseCache = new Map<SipDirection, Map<string, Map<string, (Incrementable | undefined)[]>>>();
  private readonly parseErrorCache = new Map<string, Incrementable>();
  /** every Tally made, flushed when a scrape collects the counters */
  private readonly tallies: Tally[] = [];
  private activeTransactions: () => number = () => 0;

  constructor(registry: Registry) {
    const flush = () => {
      for (const tally of this.tallies) tally.flush();
    };
    this.requests = new Counter({
      name: 'sip_requests_total',
      help: 'SIP requests received (in) or sent (out)',
      labelNames: ['method', 'transport', 'direction'],
      registers: [registry],
      collect: flush,
    });
    this.responses = new Counter({
      name: 'sip_responses_total',
      help: 'SIP responses received (in) or sent (out), by status class',
      labelNames: ['status_class', 'method', 'transport', 'direction'],
      registers: [registry],
      collect: flush,
    });
    this.parseErrors = new Counter({
      name: 'sip_parse_errors_total',
      help: 'Messages dropped or rejected because they could not be parsed',
      labelNames: ['transport'],
      registers: [registry],
      collect: flush,
    });
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    new Gauge({
      name: 'sip_transactions_active',
      help: 'SIP transactions currently alive',
      registers: [registry],
      collect() {
        this.set(self.safeActiveTransactions());
      },
    });
  }

  /** a request crossed the wire */
  request(method: string, transport: string, direction: SipDirection): void {
    let byTransport = this.requestCache.get(direction);
    if (byTransport === undefined) {
      byTransport = new Map();
      this.requestCache.set(direction, byTransport);
    }
    const tr = normalizeTransport(transport);
    let byMethod = byTransport.get(tr);
    if (byMethod === undefined) {
      byMethod = new Map();
      byTransport.set(tr, byMethod);
    }
    // unknown names share the OTHER entry, so the cache stays bounded
    const key = normalizeMethod(method);
    let child = byMethod.get(key);
    if (child === undefined) {
      child = this.tally(this.requests.labels(key, tr, direction));
      byMethod.set(key, child);
    }
    child.inc();
  }

  /** a response crossed the wire; method is the CSeq method */
  response(status: number, method: string, transport: string, direction: SipDirection): void {
    let byTransport = this.responseCache.get(direction);
    if (byTransport === undefined) {
      byTransport = new Map();
      this.responseCache.set(direction, byTransport);
    }
    const tr = normalizeTransport(transport);
    let byMethod = byTransport.get(tr);
    if (byMethod === undefined) {
      byMethod = new Map();
      byTransport.set(tr, byMethod);
    }
    const key = normalizeMethod(method);
    let classes = byMethod.get(key);
    if (classes === undefined) {
      classes = [];
      byMethod.set(key, classes);
    }
    const raw = Math.floor(status / 100);
    const idx = raw >= 1 && raw <= 6 ? raw : 0;
    let child = classes[idx];
    if (child === undefined) {
      child = this.tally(this.responses.labels(STATUS_CLASSES[idx] as string, key, tr, direction));
      classes[idx] = child;
    }
    child.inc();
  }

  /** a message could not be parsed */
  parseError(transport: string): void {
    const key = normalizeTransport(transport);
    let child = this.parseErrorCache.get(key);
    if (child === undefined) {
      child = this.tally(this.parseErrors.labels(key));
      this.parseErrorCache.set(key, child);
    }
    child.inc();
  }

  private tally(child: Incrementable): Tally {
    const tally = new Tally(child);
    this.tallies.push(tally);
    return tally;
  }

  /** where sip_transactions_active reads its value at scrape time (the transaction layer's count) */
  setActiveTransactionsSource(source: () => number): void {
    this.activeTransactions = source;
  }

  private safeActiveTransactions(): number {
    try {
      const n = this.activeTransactions();
      return Number.isFinite(n) ? n : 0;
    } catch {
      // a failing source must not break the whole scrape
      return 0;
    }
  }
}

export interface MetricsOptions {
  /** process metrics (CPU, memory, event loop, GC); default true */
  defaultMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  readonly sip: SipMetrics;

  constructor(options: MetricsOptions = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.sip = new SipMetrics(this.registry);
  }

  /** Prometheus text exposition format */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  return new Metrics(options);
}

/** Anything /metrics can serve: one process's registry, or the sum over cluster workers. */
export interface MetricsSource {
  text(): Promise<string>;
  readonly contentType: string;
}

/**
 * A cluster worker's side of metrics aggregation: its registry answers the primary's requests
 * (prom-client's cluster protocol over the IPC channel).
 */
export function shareMetricsWithPrimary(metrics: Metrics): void {
  // constructing an aggregator is what installs prom-client's IPC listener in a worker
  workerAggregator ??= new AggregatorRegistry();
  AggregatorRegistry.setRegistries([metrics.registry]);
}

let workerAggregator: AggregatorRegistry<PrometheusContentType> | undefined;

/**
 * The primary's /metrics when the SIP role runs as several worker processes: each series is
 * summed over the workers by prom-client's aggregator (the primary itself only supervises).
 */
export class ClusterMetrics implements MetricsSource {
  private readonly aggregator = new AggregatorRegistry();

  get contentType(): string {
    return this.aggregator.contentType;
  }

  async text(): Promise<string> {
    const registry = await this.aggregator.clusterMetrics();
    return registry;
  }
}

/** What the media engine reports for /metrics (filled by the media role; platform knows no media types). */
export interface MediaMetricsSnapshot {
  endpoints: number;
  portsInUse: number;
  bridges: number;
  transcoding: number;
  conferences: number;
  recordings: number;
  plays: number;
  packetsIn: number;
  packetsOut: number;
  packetsLost: number;
  maxJitterMs: number;
  skippedFrames: number;
  lateFrames: number;
  /** prompt packets the native pacer sent 20 ms or more late, and the latest (ms) */
  pacedLate: number;
  pacedMaxLateMs: number;
}

/**
 * Media gauges read on each scrape from the engine's own counters, so the 20 ms media path never
 * touches prom-client. Packet totals are gauges of the live endpoints' counters (they fall when
 * endpoints close): rate() over them is per-call traffic, not a lifetime counter.
 */
export function registerMediaMetrics(metrics: Metrics, snapshot: () => MediaMetricsSnapshot): void {
  const gauges: SnapshotGauge<MediaMetricsSnapshot>[] = [
    ['endpoints', 'opencx_media_endpoints', 'media endpoints open'],
    ['portsInUse', 'opencx_media_ports_in_use', 'RTP/RTCP ports held from the port range'],
    ['bridges', 'opencx_media_bridges', 'bridged endpoint pairs'],
    ['transcoding', 'opencx_media_transcoding_sessions', 'bridges that decode and re-encode'],
    ['conferences', 'opencx_media_conferences', 'conference mixers running'],
    ['recordings', 'opencx_media_recordings', 'recordings in progress'],
    ['plays', 'opencx_media_plays', 'prompts/tones playing'],
    ['packetsIn', 'opencx_media_packets_received', 'RTP packets received by open endpoints'],
    ['packetsOut', 'opencx_media_packets_sent', 'RTP packets sent by open endpoints'],
    ['packetsLost', 'opencx_media_packets_lost', 'RTP packets lost towards open endpoints (RFC 3550 A.3)'],
    ['maxJitterMs', 'opencx_media_jitter_max_ms', 'highest interarrival jitter among open endpoints (RFC 3550 A.8), ms', 'max'],
    ['skippedFrames', 'opencx_media_tick_skipped_frames', '20 ms frames the media tick skipped because the process stalled (gaps in every stream), since start'],
    ['lateFrames', 'opencx_media_tick_late_frames', '20 ms frames the media tick sent one frame or more late, since start'],
    ['pacedLate', 'opencx_media_paced_late_packets', 'prompt packets queued ahead that the native sending thread sent 20 ms or more after their time, since start'],
    ['pacedMaxLateMs', 'opencx_media_paced_max_late_ms', 'the latest prompt packet the native sending thread sent, ms after its time, since start', 'max'],
  ];
  registerSnapshotGauges(metrics, gauges, snapshot);
}

/** What the calls role reports for /metrics. */
export interface CallMetricsSnapshot {
  activeCalls: number;
  dialogs: number;
  pendingInvites: number;
}

export function registerCallMetrics(metrics: Metrics, snapshot: () => CallMetricsSnapshot): void {
  registerSnapshotGauges(
    metrics,
    [
      ['activeCalls', 'opencx_calls_active', 'calls the B2BUA is handling'],
      ['dialogs', 'opencx_sip_ua_dialogs', 'SIP dialogs held by the user-agent layer (both legs of every call)'],
      ['pendingInvites', 'opencx_sip_ua_pending_invites', 'INVITEs sent or received and not yet answered'],
    ],
    snapshot,
  );
}

/** One outbound trunk gateway's OPTIONS state, as the calls role reports it. */
export interface TrunkGatewaySnapshot {
  trunk: string;
  /** host:port */
  gateway: string;
  up: boolean;
}

/**
 * `opencx_trunk_gateway_up{trunk,gateway}`: 1 while a pinged gateway answers OPTIONS, 0 once it
 * is marked down (the router then skips it). Only gateways of trunks with OPTIONS pinging appear.
 */
export function registerTrunkMetrics(metrics: Metrics, snapshot: () => TrunkGatewaySnapshot[]): void {
  new Gauge({
    name: 'opencx_trunk_gateway_up',
    help: 'outbound trunk gateway state from OPTIONS pings: 1 up, 0 marked down',
    labelNames: ['trunk', 'gateway'],
    registers: [metrics.registry],
    collect() {
      this.reset();
      for (const g of snapshot()) this.labels(g.trunk, g.gateway).set(g.up ? 1 : 0);
    },
  });
}

/**
 * Gauges read on each scrape from a snapshot function (cached for 100 ms so one scrape reads it
 * once): the hot paths never touch prom-client.
 */
/** [field, name, help, how a cluster's workers combine: summed unless 'max'] */
type SnapshotGauge<T> = [keyof T, string, string] | [keyof T, string, string, 'max'];

function registerSnapshotGauges<T extends object>(metrics: Metrics, gauges: SnapshotGauge<T>[], snapshot: () => T): void {
  let cached: { at: number; value: T } | undefined;
  const read = (): T => {
    const now = Date.now();
    if (cached === undefined || now - cached.at > 100) cached = { at: now, value: snapshot() };
    return cached.value;
  };
  for (const [field, name, help, combine] of gauges) {
    new Gauge({
      name,
      help,
      ...(combine === 'max' ? { aggregator: 'max' as const } : {}),
      registers: [metrics.registry],
      collect() {
        this.set(Number(read()[field]));
      },
    });
  }
}
