/**
 * Which gateway of an outbound trunk to try, and in what order after a failure (RFC 3263 §4.3's
 * spirit: try the next one on 408, 5xx or a transport timeout; a 4xx/6xx from a gateway is an
 * answer about the call, not about the gateway, and stops the search).
 */
export interface Gateway {
  host: string;
  port?: number;
  transport?: 'udp' | 'tcp' | 'tls';
  /** higher first within failover; default 0 */
  priority?: number;
  /** share for weighted balancing; default 1 */
  weight?: number;
  /** seconds to wait for any response to an INVITE (even 100 Trying) before failing over; default Timer B (32 s) */
  responseTimeoutSeconds?: number;
}

export type Balancing = 'failover' | 'round-robin' | 'weighted';

/** true when the next gateway should be tried after this final status (0 = no answer / transport error) */
export function shouldFailover(status: number): boolean {
  return status === 0 || status === 408 || (status >= 500 && status < 600);
}

/**
 * The order to try gateways in, skipping those known down (unless all are down: then try them
 * anyway, a pinger can be wrong). Stateful only through `turn` (round-robin position) and
 * `random` (weighted draw), both injected.
 */
export function gatewayOrder(gateways: readonly Gateway[], balancing: Balancing, isUp: (g: Gateway) => boolean, turn: number, random: () => number): Gateway[] {
  const up = gateways.filter(isUp);
  const pool = up.length > 0 ? up : [...gateways];
  if (pool.length <= 1) return pool;
  if (balancing === 'failover') {
    return [...pool].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
  }
  if (balancing === 'round-robin') {
    const start = ((turn % pool.length) + pool.length) % pool.length;
    return [...pool.slice(start), ...pool.slice(0, start)];
  }
  // weighted: draw without replacement in proportion to weight
  const left = [...pool];
  const out: Gateway[] = [];
  while (left.length > 0) {
    const total = left.reduce((n, g) => n + Math.max(0, g.weight ?? 1), 0);
    let pick = 0;
    if (total > 0) {
      let r = random() * total;
      for (let i = 0; i < left.length; i++) {
        r -= Math.max(0, (left[i] as Gateway).weight ?? 1);
        if (r < 0) {
          pick = i;
          break;
        }
      }
    }
    out.push(left.splice(pick, 1)[0] as Gateway);
  }
  return out;
}

/**
 * Up/down state of one gateway from OPTIONS pings (like Kamailio's dispatcher probing): down
 * after `failuresToDown` unanswered or 5xx pings in a row, up again after `successesToUp` answers.
 * Any answer below 500 means the gateway is alive (a 404 or 405 to OPTIONS still proves it runs).
 */
export class GatewayHealth {
  private failures = 0;
  private successes = 0;
  private upState = true;

  constructor(
    private readonly failuresToDown = 2,
    private readonly successesToUp = 1,
  ) {}

  get up(): boolean {
    return this.upState;
  }

  /** record a ping result (status 0 = no answer); returns true when the state changed */
  record(status: number): boolean {
    const alive = status > 0 && status < 500;
    if (alive) {
      this.failures = 0;
      this.successes++;
      if (!this.upState && this.successes >= this.successesToUp) {
        this.upState = true;
        return true;
      }
    } else {
      this.successes = 0;
      this.failures++;
      if (this.upState && this.failures >= this.failuresToDown) {
        this.upState = false;
        return true;
      }
    }
    return false;
  }

  /** a call attempt timed out or got 503: counts like a failed ping */
  callFailed(): boolean {
    return this.record(0);
  }
}
