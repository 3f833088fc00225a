/**
 * SIP over TCP and TLS (RFC 3261 §18, §26.2): a listening server plus a table of connections in
 * either direction. Inbound bytes go through StreamFramer; responses and in-dialog requests go
 * back over the connection a request came on (§18.2.2), and an outbound send without a
 * connection id reuses any open connection to that address and port before dialling a new one.
 */
import net from 'node:net';
import tls from 'node:tls';
import {
  ClosedError,
  SystemScheduler,
  TypedEmitter,
  UnavailableError,
  describeError,
  silentLogger,
  type Logger,
  type Scheduler,
  type TimerHandle,
} from '../../lib/index.js';
import { listenServer } from './listen-server.js';
import { ConnectionTable, stripIpv4Mapped, type TableConnection } from './connection-table.js';
import { StreamFramer } from './stream-framer.js';
import {
  DEFAULT_CONNECTION_LIMITS,
  messageBytes,
  type ConnectionLimits,
  type InboundPacket,
  type OutboundTarget,
  type SipTransport,
  type SipTransportEventMap,
  type TlsSettings,
  type TransportAddress,
} from './types.js';

export interface StreamTransportOptions {
  protocol: 'tcp' | 'tls';
  address: string;
  port: number;
  /** required for 'tls' */
  tls?: TlsSettings | undefined;
  limits?: Partial<ConnectionLimits> | undefined;
  scheduler?: Scheduler | undefined;
  logger?: Logger | undefined;
}

const PONG = Buffer.from('\r\n', 'latin1');

export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

class StreamConnection implements TableConnection {
  lastActivity: number;
  readonly framer: StreamFramer;
  /** set after a framing error: the next write ends the connection */
  closing = false;
  closed = false;
  graceTimer: TimerHandle | undefined;

  constructor(
    readonly id: string,
    readonly socket: net.Socket,
    readonly remote: TransportAddress,
    readonly local: TransportAddress,
    readonly inbound: boolean,
    now: number,
    maxMessageSize: number,
  ) {
    this.lastActivity = now;
    this.framer = new StreamFramer({ maxMessageSize, maxHeaderSize: maxMessageSize });
  }

  destroy(reason: string): void {
    if (this.closed) return;
    this.socket.destroy();
    this.onClosed?.(reason);
  }

  onClosed: ((reason: string) => void) | undefined;

  write(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed || this.socket.destroyed) {
        reject(new ClosedError(`connection ${this.id} is closed`));
        return;
      }
      this.socket.write(data, (err) => {
        if (err) reject(new UnavailableError(`write on ${this.id} failed: ${describeError(err)}`, { cause: err }));
        else resolve();
      });
    });
  }
}

export class StreamTransport extends TypedEmitter<SipTransportEventMap> implements SipTransport {
  readonly protocol: 'tcp' | 'tls';
  private localAddress: TransportAddress;
  private readonly limits: ConnectionLimits;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private readonly table: ConnectionTable<StreamConnection>;
  private readonly server: net.Server;
  private readonly dialing = new Map<string, Promise<StreamConnection>>();
  private listening = false;
  private closePromise: Promise<void> | undefined;

  private constructor(private readonly options: StreamTransportOptions) {
    super((err, event) => this.logger.error({ err, event }, 'transport listener threw'));
    this.protocol = options.protocol;
    this.limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.limits };
    this.scheduler = options.scheduler ?? new SystemScheduler();
    this.logger = (options.logger ?? silentLogger).child({ transport: options.protocol });
    this.localAddress = { protocol: options.protocol, address: options.address, port: options.port };
    this.table = new ConnectionTable({
      protocol: options.protocol,
      scheduler: this.scheduler,
      idleTimeoutMs: this.limits.idleTimeoutMs,
      maxConnectionsPerIp: this.limits.maxConnectionsPerIp,
    });
    if (options.protocol === 'tls') {
      const t = options.tls;
      if (t === undefined) throw new UnavailableError('a TLS listener needs tls.cert and tls.key');
      this.server = tls.createServer({ cert: t.cert, key: t.key, ca: t.ca, requestCert: t.requestCert ?? false, rejectUnauthorized: false });
      this.server.on('secureConnection', (socket: tls.TLSSocket) => this.accept(socket));
      this.server.on('tlsClientError', (err) => this.logger.debug({ err: describeError(err) }, 'TLS handshake failed'));
    } else {
      this.server = net.createServer();
      this.server.on('connection', (socket) => this.accept(socket));
    }
    // The per-IP cap is checked on the raw socket, before any TLS handshake work (§26.2 aside, a
    // cheap defence against one host opening thousands of connections).
    this.server.prependListener('connection', (socket: net.Socket) => this.table.admitSocket(socket, this.logger));
    this.server.on('error', (err) => this.emit('error', err));
  }

  /** creates the transport and binds its listening socket */
  static async listen(options: StreamTransportOptions): Promise<StreamTransport> {
    const t = new StreamTransport(options);
    await t.bind();
    return t;
  }

  get local(): TransportAddress {
    return this.localAddress;
  }

  get connectionCount(): number {
    return this.table.size;
  }

  /** inbound connections refused by the per-IP cap */
  get rejectedConnections(): number {
    return this.table.rejectedConnections;
  }

  /** whether a connection id belongs to this transport */
  ownsConnection(id: string): boolean {
    return this.table.owns(id);
  }

  private async bind(): Promise<void> {
    this.localAddress = await listenServer(this.server, this.protocol, this.options.address, this.options.port);
    this.listening = true;
  }

  private accept(socket: net.Socket): void {
    if (socket.destroyed) return;
    this.register(socket, true);
  }

  private register(socket: net.Socket, inbound: boolean): StreamConnection {
    const remote: TransportAddress = {
      protocol: this.protocol,
      address: stripIpv4Mapped(socket.remoteAddress ?? ''),
      port: socket.remotePort ?? 0,
    };
    const local: TransportAddress = inbound ? this.localAddress : { protocol: this.protocol, address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
    const conn = new StreamConnection(this.table.newId(), socket, remote, local, inbound, this.scheduler.now(), this.limits.maxMessageSize);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('error', (err) => this.logger.debug({ conn: conn.id, err: describeError(err) }, 'connection error'));
    socket.on('close', () => this.closed(conn, 'closed'));
    conn.onClosed = (reason) => this.closed(conn, reason);
    this.table.add(conn);
    return conn;
  }

  private closed(conn: StreamConnection, reason: string): void {
    if (conn.closed) return;
    conn.closed = true;
    conn.graceTimer?.cancel();
    this.table.remove(conn);
    this.emit('connectionClosed', conn.id, reason);
  }

  private onData(conn: StreamConnection, chunk: Buffer): void {
    if (conn.closing || conn.closed) return;
    conn.lastActivity = this.scheduler.now();
    conn.framer.push(chunk);
    for (let ev = conn.framer.next(); ev !== undefined; ev = conn.framer.next()) {
      if (ev.kind === 'ping') {
        // RFC 5626 §4.4.1: answer a double-CRLF ping with a single CRLF pong
        conn.socket.write(PONG);
      } else {
        this.emit('message', this.packet(conn, ev.data, ev.kind === 'error' ? ev.reason : undefined));
        if (ev.kind === 'error') {
          this.startGrace(conn, ev.reason);
          return;
        }
      }
      if (conn.closed) return;
    }
  }

  /** RFC 4475 §3.1.2.3: the receiver may answer 400 first, then the connection goes */
  private startGrace(conn: StreamConnection, reason: string): void {
    if (conn.closing) return;
    conn.closing = true;
    this.logger.debug({ conn: conn.id, reason }, 'framing error, closing connection');
    conn.graceTimer = this.scheduler.setTimeout(() => conn.destroy(`framing error: ${reason}`), this.limits.framingErrorGraceMs);
  }

  private packet(conn: StreamConnection, data: Buffer, framingError: string | undefined): InboundPacket {
    return { data, source: conn.remote, local: conn.local, connectionId: conn.id, framingError };
  }

  async send(target: OutboundTarget, text: Buffer | string): Promise<void> {
    if (this.closePromise !== undefined) throw new ClosedError(`${this.protocol} transport is closed`);
    const data = messageBytes(text);
    if (data.length > this.limits.maxMessageSize) throw new UnavailableError(`message of ${data.length} bytes over ${this.limits.maxMessageSize}`);
    const conn = await this.connectionFor(target);
    conn.lastActivity = this.scheduler.now();
    await conn.write(data);
    if (conn.closing) conn.socket.end();
  }

  private async connectionFor(target: OutboundTarget): Promise<StreamConnection> {
    if (target.connectionId !== undefined) {
      const c = this.table.get(target.connectionId);
      if (c !== undefined && !c.closed) return c;
      // §18.2.2: the connection is gone; fall back to connecting to the address
    }
    const existing = this.table.findByRemote(stripIpv4Mapped(target.address), target.port);
    if (existing !== undefined && !existing.closed && !existing.closing) return existing;
    const key = `${target.address}|${target.port}`;
    let pending = this.dialing.get(key);
    if (pending === undefined) {
      pending = this.dial(target).finally(() => this.dialing.delete(key));
      this.dialing.set(key, pending);
    }
    return pending;
  }

  private dial(target: OutboundTarget): Promise<StreamConnection> {
    return new Promise((resolve, reject) => {
      const bindAddress = isWildcard(this.localAddress.address) ? undefined : this.localAddress.address;
      const base = { host: target.address, port: target.port, ...(bindAddress !== undefined ? { localAddress: bindAddress } : {}) };
      const settings = this.options.tls;
      const readyEvent = this.protocol === 'tls' ? 'secureConnect' : 'connect';
      const socket =
        this.protocol === 'tls'
          ? tls.connect({
              ...base,
              ...(settings !== undefined ? { cert: settings.cert, key: settings.key, ca: settings.ca } : {}),
              rejectUnauthorized: settings?.rejectUnauthorized ?? false,
              ...(net.isIP(target.address) === 0 ? { servername: target.address } : {}),
            })
          : net.connect(base);
      const timer = this.scheduler.setTimeout(() => fail(new Error('connect timeout')), this.limits.connectTimeoutMs);
      const fail = (err: Error): void => {
        timer.cancel();
        socket.destroy();
        reject(new UnavailableError(`cannot connect over ${this.protocol} to ${target.address}:${target.port}: ${describeError(err)}`, { cause: err }));
      };
      socket.once('error', fail);
      socket.once(readyEvent, () => {
        timer.cancel();
        socket.off('error', fail);
        if (this.closePromise !== undefined) {
          socket.destroy();
          reject(new ClosedError(`${this.protocol} transport is closed`));
          return;
        }
        resolve(this.register(socket, false));
      });
    });
  }

  stopAccepting(): Promise<void> {
    if (this.listening) {
      this.listening = false;
      // server.close() stops accepting at once; its callback waits for connections, so not awaited here
      this.server.close();
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closePromise ??= new Promise<void>((resolve) => {
      this.listening = false;
      this.server.close(() => resolve());
      this.table.destroyAll('transport closed');
      // server.close() on a server that already stopped listening only reports ERR_SERVER_NOT_RUNNING
      if (!this.server.listening) resolve();
    });
    return this.closePromise;
  }
}
