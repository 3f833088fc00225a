import type { Logger, Scheduler, TimerHandle } from '../../lib/index.js';
import { randomToken } from '../../lib/index.js';
import { message, type ua } from '../../sip/index.js';
import type { TrunkInfo } from '../b2bua/ports.js';
import { GatewayHealth, type Gateway } from './gateway-selection.js';

export interface TrunkMonitorOptions {
  ua: ua.UserAgentService;
  trunks: () => Promise<TrunkInfo[]>;
  /** resolves a gateway host to an address */
  resolve: (host: string) => Promise<string>;
  scheduler: Scheduler;
  logger: Logger;
  /** host put in From of the pings */
  localHost: () => string;
}

/** Timer F (64*T1, RFC 3261 §17.1.2.2): the longest a ping can go unanswered */
const MAX_PING_WAIT_MS = 32_000;

/** One pinged gateway as an operator sees it (the `opencx_trunk_gateway_up` gauge). */
export interface GatewayState {
  trunk: string;
  /** host:port */
  gateway: string;
  up: boolean;
}

/**
 * OPTIONS pinging of outbound gateways (like Kamailio's dispatcher probing): each gateway of a
 * trunk with `optionsPingSeconds` > 0 is asked every that many seconds; two pings without an
 * answer (or answered 5xx) mark it down and the router skips it, one answer brings it back.
 * A ping not answered by the time the next one is due counts as unanswered: waiting for Timer F
 * (32 s) would take a dead gateway a minute to be noticed.
 */
export class TrunkMonitor {
  private readonly health = new Map<string, { trunk: string; gateway: string; health: GatewayHealth }>();
  private readonly dueAt = new Map<string, number>();
  private readonly inFlight = new Set<string>();
  private readonly waits = new Set<TimerHandle>();
  private timer: TimerHandle | undefined;
  private closed = false;

  constructor(private readonly options: TrunkMonitorOptions) {}

  start(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = this.options.scheduler.setInterval(() => void this.tick(), 1000);
  }

  isUp(trunk: TrunkInfo, gateway: Gateway): boolean {
    return this.health.get(keyOf(trunk, gateway))?.health.up ?? true;
  }

  /** a snapshot for the API and tests: key → up */
  states(): Record<string, boolean> {
    const out: Record<string, boolean> = {};
    for (const [k, h] of this.health) out[k] = h.health.up;
    return out;
  }

  /** every gateway pinged so far, by trunk name and host:port (for /metrics) */
  gateways(): GatewayState[] {
    return [...this.health.values()].map((h) => ({ trunk: h.trunk, gateway: h.gateway, up: h.health.up }));
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    let trunks: TrunkInfo[];
    try {
      trunks = await this.options.trunks();
    } catch {
      return;
    }
    const now = this.options.scheduler.now();
    const pinged = new Set<string>();
    for (const trunk of trunks) {
      if (!trunk.enabled || trunk.optionsPingSeconds <= 0 || trunk.direction === 'inbound') continue;
      for (const gw of trunk.gateways) {
        const key = keyOf(trunk, gw);
        pinged.add(key);
        if (this.inFlight.has(key) || (this.dueAt.get(key) ?? 0) > now) continue;
        this.dueAt.set(key, now + trunk.optionsPingSeconds * 1000);
        this.inFlight.add(key);
        void this.ping(trunk, gw, key).finally(() => this.inFlight.delete(key));
      }
    }
    // a removed trunk or gateway, or pinging turned off: forget its state (and its gauge)
    for (const key of [...this.health.keys(), ...this.dueAt.keys()]) {
      if (pinged.has(key)) continue;
      this.health.delete(key);
      this.dueAt.delete(key);
    }
  }

  private async ping(trunk: TrunkInfo, gw: TrunkInfo['gateways'][number], key: string): Promise<void> {
    let address: string;
    try {
      address = await this.options.resolve(gw.host);
    } catch {
      return this.record(trunk, gw, key, 0);
    }
    const host = gw.host.includes(':') ? `[${gw.host}]` : gw.host;
    const local = this.options.localHost();
    const request = message.createRequest({
      method: 'OPTIONS',
      uri: `sip:${host}:${gw.port}${gw.transport === 'udp' ? '' : `;transport=${gw.transport}`}`,
      headers: [
        ['Max-Forwards', '70'],
        ['From', `<sip:ping@${local}>;tag=${randomToken(6)}`],
        ['To', `<sip:${host}:${gw.port}>`],
        ['Call-ID', randomToken(12)],
        ['CSeq', '1 OPTIONS'],
        ['Accept', 'application/sdp'],
      ],
    });
    const status = await new Promise<number>((resolve) => {
      const wait = this.options.scheduler.setTimeout(() => {
        this.waits.delete(wait);
        resolve(0);
      }, Math.min(trunk.optionsPingSeconds * 1000, MAX_PING_WAIT_MS));
      this.waits.add(wait);
      const answered = (status: number): void => {
        wait.cancel();
        this.waits.delete(wait);
        resolve(status);
      };
      this.options.ua.sendRequest(request, { onFinal: (res, local) => answered(local !== undefined ? 0 : res.status) }, { target: { protocol: gw.transport, address, port: gw.port } });
    });
    this.record(trunk, gw, key, status);
  }

  private record(trunk: TrunkInfo, gw: Gateway, key: string, status: number): void {
    if (this.closed) return;
    let h = this.health.get(key);
    if (h === undefined) {
      h = { trunk: trunk.name, gateway: `${gw.host.includes(':') ? `[${gw.host}]` : gw.host}:${gw.port ?? 5060}`, health: new GatewayHealth() };
      this.health.set(key, h);
    }
    if (!h.health.record(status)) return;
    const fields = { trunk: trunk.name, gateway: h.gateway, status };
    if (h.health.up) this.options.logger.info(fields, 'trunk gateway marked up: it answers OPTIONS again');
    else this.options.logger.warn(fields, 'trunk gateway marked down: OPTIONS unanswered or refused with 5xx');
  }

  /** stops pinging; idempotent */
  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    for (const wait of this.waits) wait.cancel();
    this.waits.clear();
  }
}

function keyOf(trunk: TrunkInfo, gateway: Gateway): string {
  return `${trunk.id}|${gateway.host}:${gateway.port ?? 5060}`;
}
