/**
 * The connection table of a stream transport (TCP, TLS, WS, WSS): ids, lookup by remote address
 * for reuse in either direction (RFC 3261 §18.1.1, §18.2.2), a per-source-IP cap, and the idle
 * sweep. One sweep timer per table rather than a timer reset per message: activity is a field
 * write, and the sweep closes whatever has been quiet for longer than the idle timeout.
 */
import net from 'node:net';
import { randomToken, type Logger, type Scheduler, type TimerHandle } from '../../lib/index.js';
import type { TransportAddress, TransportProtocol } from './types.js';

/** `::ffff:192.0.2.1` as `192.0.2.1`: a dual-stack listener reports IPv4 peers in mapped form */
export function stripIpv4Mapped(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

export interface TableConnection {
  readonly id: string;
  readonly remote: TransportAddress;
  /** scheduler time of the last byte received or sent */
  lastActivity: number;
  destroy(reason: string): void;
}

export interface ConnectionTableOptions {
  protocol: TransportProtocol;
  scheduler: Scheduler;
  idleTimeoutMs: number;
  maxConnectionsPerIp: number;
  /** how often idle connections are looked for; default a tenth of the idle timeout, 50 ms to 30 s */
  sweepIntervalMs?: number | undefined;
}

export function remoteKey(address: string, port: number): string {
  return `${address}|${port}`;
}

export class ConnectionTable<C extends TableConnection> {
  private readonly byId = new Map<string, C>();
  private readonly byRemote = new Map<string, C>();
  private readonly perIp = new Map<string, number>();
  private readonly idPrefix: string;
  private seq = 0;
  private sweeper: TimerHandle | undefined;
  private readonly sweepIntervalMs: number;
  /** inbound connections refused by the per-IP cap */
  rejectedConnections = 0;

  constructor(private readonly options: ConnectionTableOptions) {
    this.idPrefix = `${options.protocol}-${randomToken(4)}-`;
    this.sweepIntervalMs = options.sweepIntervalMs ?? Math.max(50, Math.min(30_000, options.idleTimeoutMs / 10));
  }

  get size(): number {
    return this.byId.size;
  }

  newId(): string {
    return this.idPrefix + (++this.seq).toString(36);
  }

  /** whether a connection id was issued by this table */
  owns(id: string): boolean {
    return id.startsWith(this.idPrefix);
  }

  /** counts an accepted socket against its source IP; false (and counted as rejected) when over the cap */
  admit(ip: string): boolean {
    const n = this.perIp.get(ip) ?? 0;
    if (n >= this.options.maxConnectionsPerIp) {
      this.rejectedConnections++;
      return false;
    }
    this.perIp.set(ip, n + 1);
    return true;
  }

  /**
   * The per-IP cap on an accepted raw socket, checked before any TLS or WebSocket handshake work:
   * over the cap the socket is destroyed at once, else its slot is released when it closes.
   */
  admitSocket(socket: net.Socket, logger: Logger): void {
    const ip = stripIpv4Mapped(socket.remoteAddress ?? '');
    if (!this.admit(ip)) {
      logger.warn({ ip }, 'per-IP connection cap reached, closing');
      socket.destroy();
      return;
    }
    socket.once('close', () => this.release(ip));
  }

  /** undoes admit() when the socket closes */
  release(ip: string): void {
    const n = this.perIp.get(ip) ?? 0;
    if (n <= 1) this.perIp.delete(ip);
    else this.perIp.set(ip, n - 1);
  }

  add(conn: C): void {
    this.byId.set(conn.id, conn);
    // the newest connection to an address wins for reuse
    this.byRemote.set(remoteKey(conn.remote.address, conn.remote.port), conn);
    if (this.sweeper === undefined) {
      this.sweeper = this.options.scheduler.setInterval(() => this.sweep(), this.sweepIntervalMs);
    }
  }

  remove(conn: C): void {
    if (this.byId.get(conn.id) !== conn) return;
    this.byId.delete(conn.id);
    const key = remoteKey(conn.remote.address, conn.remote.port);
    if (this.byRemote.get(key) === conn) {
      this.byRemote.delete(key);
      // another connection to the same peer may still be usable
      for (const other of this.byId.values()) {
        if (other.remote.address === conn.remote.address && other.remote.port === conn.remote.port) {
          this.byRemote.set(key, other);
          break;
        }
      }
    }
    if (this.byId.size === 0) this.stopSweeper();
  }

  get(id: string): C | undefined {
    return this.byId.get(id);
  }

  findByRemote(address: string, port: number): C | undefined {
    return this.byRemote.get(remoteKey(address, port));
  }

  all(): C[] {
    return [...this.byId.values()];
  }

  /** closes connections idle for longer than the timeout (RFC 5626 §4.4.1 keepalives count as traffic) */
  sweep(): void {
    const limit = this.options.scheduler.now() - this.options.idleTimeoutMs;
    for (const conn of this.all()) {
      if (conn.lastActivity <= limit) conn.destroy('idle timeout');
    }
  }

  /** destroys every connection and stops the sweeper */
  destroyAll(reason: string): void {
    for (const conn of this.all()) conn.destroy(reason);
    this.stopSweeper();
  }

  private stopSweeper(): void {
    this.sweeper?.cancel();
    this.sweeper = undefined;
  }
}
