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

/**
 * OPTIONS pinging of outbound gateways (like Kamailio's dispatcher probing): each gateway of a
 * trunk with `optionsPingSeconds` > 0 is asked every that many seconds; two pings without an
 * answer (or answered 5xx) mark it down and the router skips it, one answer brings it back.
 */
export class TrunkMonitor {
  private readonly health = new Map<string, GatewayHealth>();
  private readonly dueAt = new Map<string, number>();
  private readonly inFlight = new Set<string>();
  private timer: TimerHandle | undefined;
  private closed = false;

  constructor(private readonly options: TrunkMonitorOptions) {}

  start(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = this.options.scheduler.setInterval(() => void this.tick(), 1000);
  }

  isUp(trunk: TrunkInfo, gateway: Gateway): boolean {
    return this.health.get(keyOf(trunk, gateway))?.up ?? true;
  }

  /** a snapshot for the API and tests: key → up */
  states(): Record<string, boolean> {
    const out: Record<string, boolean> = {};
    for (const [k, h] of this.health) out[k] = h.up;
    return out;
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
    for (const trunk of trunks) {
      if (!trunk.enabled || trunk.optionsPingSeconds <= 0 || trunk.direction === 'inbound') continue;
      for (const gw of trunk.gateways) {
        const key = keyOf(trunk, gw);
        if (this.inFlight.has(key) || (this.dueAt.get(key) ?? 0) > now) continue;
        this.dueAt.set(key, now + trunk.optionsPingSeconds * 1000);
        this.inFlight.add(key);
        void this.ping(trunk, gw, key).finally(() => this.inFlight.delete(key));
      }
    }
  }

  private async ping(trunk: TrunkInfo, gw: TrunkInfo['gateways'][number], key: string): Promise<void> {
    let address: string;
    try {
      address = await this.options.resolve(gw.host);
    } catch {
      return this.record(trunk, key, 0);
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
      this.options.ua.sendRequest(request, { onFinal: (res, local) => resolve(local !== undefined ? 0 : res.status) }, { target: { protocol: gw.transport, address, port: gw.port } });
    });
    this.record(trunk, key, status);
  }

  private record(trunk: TrunkInfo, key: string, status: number): void {
    let h = this.health.get(key);
    if (h === undefined) {
      h = new GatewayHealth();
      this.health.set(key, h);
    }
    if (h.record(status)) {
      this.options.logger.warn({ trunk: trunk.name, gateway: key.split('|')[1], up: h.up, status }, h.up ? 'trunk gateway is up again' : 'trunk gateway is down (OPTIONS)');
    }
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
  }
}

function keyOf(trunk: TrunkInfo, gateway: Gateway): string {
  return `${trunk.id}|${gateway.host}:${gateway.port ?? 5060}`;
}
