/**
 * Starts the configured listeners, funnels every inbound packet to one handler, and picks the
 * transport for each outbound message by protocol and address family. UDP and TCP listeners
 * given port 0 on the same address are bound to the same port number, since a SIP URI names one
 * port for both (RFC 3261 §18.1.1 lets a UDP request switch to TCP on the same port).
 */
import net from 'node:net';
import {
  ClosedError,
  SystemScheduler,
  TypedEmitter,
  UnavailableError,
  describeError,
  silentLogger,
  type Logger,
  type Scheduler,
} from '../../lib/index.js';
import { StreamTransport } from './stream-transport.js';
import {
  type ConnectionLimits,
  type InboundPacket,
  type OutboundTarget,
  type SipTransport,
  type SipTransportEventMap,
  type SipTransportEvents,
  type TlsSettings,
  type TransportAddress,
  type TransportProtocol,
} from './types.js';
import { UdpTransport } from './udp-transport.js';
import { WsTransport } from './ws-transport.js';

export interface ListenerConfig {
  protocol: TransportProtocol;
  address: string;
  /** 0 picks an ephemeral port */
  port: number;
  /** TLS and WSS: certificate and key */
  tls?: TlsSettings | undefined;
  /** UDP: the socket engine (default 'auto') */
  udpEngine?: 'auto' | 'native' | 'dgram' | undefined;
  /** UDP: SO_REUSEPORT, datagrams spread at random over this many sockets of the port (SIP workers) */
  spreadOver?: number | undefined;
  /** UDP: the kernel receive buffer in bytes (UdpTransportOptions.recvBufferSize) */
  recvBufferSize?: number | undefined;
  /** UDP, native engine: the socket's own I/O thread (UdpTransportOptions.ioThread) */
  ioThread?: boolean | undefined;
}

export interface TransportManagerOptions {
  listeners: ListenerConfig[];
  /** receives every inbound packet of every listener (also emitted as 'message') */
  onPacket?: ((packet: InboundPacket) => void) | undefined;
  limits?: Partial<ConnectionLimits> | undefined;
  scheduler?: Scheduler | undefined;
  logger?: Logger | undefined;
  /** how many times to retry binding a UDP+TCP pair when the TCP port is taken (default 5) */
  samePortRetries?: number | undefined;
}

/** RFC 3261 §18.1.1: unknown path MTU is taken as 1500, so requests over 1300 bytes go reliable. */
export const DEFAULT_PATH_MTU = 1500;

/**
 * RFC 3261 §18.1.1: a request within 200 bytes of the path MTU (over 1300 bytes when the MTU is
 * unknown) must be sent over a congestion-controlled transport such as TCP instead of UDP.
 */
export function shouldUseReliable(messageSize: number, protocol: TransportProtocol, pathMtu = DEFAULT_PATH_MTU): boolean {
  return protocol === 'udp' && messageSize > pathMtu - 200;
}

function familyOf(address: string): 4 | 6 | 0 {
  const f = net.isIP(address);
  return f === 4 || f === 6 ? f : 0;
}

type ManagedTransport = UdpTransport | StreamTransport | WsTransport;

export class TransportManager {
  private readonly events: TypedEmitter<SipTransportEventMap>;
  private readonly transports: ManagedTransport[] = [];
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private closePromise: Promise<void> | undefined;

  private constructor(private readonly options: TransportManagerOptions) {
    this.events = new TypedEmitter<SipTransportEventMap>((err, event) => this.logger.error({ err, event }, 'transport manager listener threw'));
    this.scheduler = options.scheduler ?? new SystemScheduler();
    this.logger = options.logger ?? silentLogger;
  }

  /** binds every listener; on any failure closes those already bound and rejects */
  static async start(options: TransportManagerOptions): Promise<TransportManager> {
    const m = new TransportManager(options);
    try {
      await m.startAll();
    } catch (err) {
      await m.close();
      throw err;
    }
    return m;
  }

  private async startAll(): Promise<void> {
    const list = this.options.listeners;
    const paired = new Set<number>();
    for (let i = 0; i < list.length; i++) {
      if (paired.has(i)) continue;
      const cfg = list[i];
      if (cfg === undefined) continue;
      const partner = cfg.protocol === 'udp' && cfg.port === 0 ? list.findIndex((o, j) => j !== i && !paired.has(j) && o.protocol === 'tcp' && o.port === 0 && o.address === cfg.address) : -1;
      const tcpCfg = partner >= 0 ? list[partner] : undefined;
      if (tcpCfg !== undefined) {
        paired.add(partner);
        await this.startPair(cfg, tcpCfg);
      } else {
        this.adopt(await this.open(cfg));
      }
    }
  }

  /** UDP on an ephemeral port first, then TCP on the same number; retried when TCP finds it taken */
  private async startPair(udpCfg: ListenerConfig, tcpCfg: ListenerConfig): Promise<void> {
    const attempts = (this.options.samePortRetries ?? 5) + 1;
    let lastErr: unknown;
    for (let i = 0; i < attempts; i++) {
      const udp = await this.open(udpCfg);
      try {
        const tcp = await this.open({ ...tcpCfg, port: udp.local.port });
        this.adopt(udp);
        this.adopt(tcp);
        return;
      } catch (err) {
        lastErr = err;
        await udp.close();
      }
    }
    throw new UnavailableError(`no common UDP/TCP port on ${udpCfg.address}: ${describeError(lastErr)}`, { cause: lastErr });
  }

  private open(cfg: ListenerConfig): Promise<ManagedTransport> {
    const common = { address: cfg.address, port: cfg.port, logger: this.logger };
    switch (cfg.protocol) {
      case 'udp':
        return UdpTransport.listen({ ...common, maxMessageSize: this.options.limits?.maxMessageSize, engine: cfg.udpEngine, spreadOver: cfg.spreadOver, recvBufferSize: cfg.recvBufferSize, ioThread: cfg.ioThread });
      case 'tcp':
      case 'tls':
        return StreamTransport.listen({ ...common, protocol: cfg.protocol, tls: cfg.tls, limits: this.options.limits, scheduler: this.scheduler });
      case 'ws':
      case 'wss':
        return WsTransport.listen({ ...common, protocol: cfg.protocol, tls: cfg.tls, limits: this.options.limits, scheduler: this.scheduler });
    }
  }

  private adopt(t: ManagedTransport): void {
    this.transports.push(t);
    const onPacket = this.options.onPacket;
    t.on('message', (packet) => {
      if (onPacket !== undefined) {
        try {
          onPacket(packet);
        } catch (err) {
          this.logger.error({ err: describeError(err) }, 'packet handler threw');
        }
      }
      this.events.emit('message', packet);
    });
    t.on('connectionClosed', (id, reason) => this.events.emit('connectionClosed', id, reason));
    t.on('error', (err) => this.events.emit('error', err));
  }

  on<K extends keyof SipTransportEvents>(event: K, listener: (...args: SipTransportEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  off<K extends keyof SipTransportEvents>(event: K, listener: (...args: SipTransportEvents[K]) => void): void {
    this.events.off(event, listener);
  }

  /** the actual bound addresses, in configuration order (a UDP/TCP pair stays adjacent) */
  listeners(): TransportAddress[] {
    return this.transports.map((t) => t.local);
  }

  get connectionCount(): number {
    let n = 0;
    for (const t of this.transports) n += t.connectionCount;
    return n;
  }

  /** the transport that would carry a message to this target, if any */
  transportFor(target: OutboundTarget): SipTransport | undefined {
    if (target.connectionId !== undefined) {
      const id = target.connectionId;
      const owner = this.transports.find((t) => !(t instanceof UdpTransport) && t.protocol === target.protocol && t.ownsConnection(id));
      if (owner !== undefined) return owner;
    }
    const family = familyOf(target.address);
    // a hostname (family 0) goes to the first listener of the protocol; the socket resolves it
    return this.transports.find((t) => t.protocol === target.protocol && (family === 0 || familyOf(t.local.address) === family));
  }

  send(target: OutboundTarget, data: Buffer | string): Promise<void> {
    if (this.closePromise !== undefined) return Promise.reject(new ClosedError('transport manager is closed'));
    const t = this.transportFor(target);
    if (t === undefined) {
      return Promise.reject(new UnavailableError(`no ${target.protocol} listener for ${target.address} (IPv${familyOf(target.address) || '?'})`));
    }
    return t.send(target, data);
  }

  /** graceful shutdown, step one: stream listeners stop accepting; existing connections and UDP stay */
  async stopAccepting(): Promise<void> {
    await Promise.all(this.transports.map((t) => t.stopAccepting()));
  }

  close(): Promise<void> {
    this.closePromise ??= Promise.all(this.transports.map((t) => t.close())).then(() => undefined);
    return this.closePromise;
  }
}
