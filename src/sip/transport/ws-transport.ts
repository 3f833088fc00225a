/**
 * SIP over WebSocket and secure WebSocket (RFC 7118). Each WebSocket message carries exactly one
 * SIP message (§5.1), text or binary, so no stream framing is needed. The handshake must
 * negotiate the `sip` subprotocol (§4.1): a client that does not offer it is refused with 400.
 * Outbound sends open a client WebSocket when no connection to the target exists.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
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
import { listenServer } from './listen-server.js';
import { ConnectionTable, stripIpv4Mapped, type TableConnection } from './connection-table.js';
import { isWildcard } from './stream-transport.js';
import {
  DEFAULT_CONNECTION_LIMITS,
  messageBytes,
  type ConnectionLimits,
  type OutboundTarget,
  type SipTransport,
  type SipTransportEventMap,
  type TlsSettings,
  type TransportAddress,
} from './types.js';

export interface WsTransportOptions {
  protocol: 'ws' | 'wss';
  address: string;
  port: number;
  /** required for 'wss' */
  tls?: TlsSettings | undefined;
  limits?: Partial<ConnectionLimits> | undefined;
  scheduler?: Scheduler | undefined;
  logger?: Logger | undefined;
}

export const SIP_SUBPROTOCOL = 'sip';
const PING = '\r\n\r\n';

class WsConnection implements TableConnection {
  lastActivity: number;
  closed = false;
  onClosed: ((reason: string) => void) | undefined;

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    readonly remote: TransportAddress,
    readonly local: TransportAddress,
    now: number,
  ) {
    this.lastActivity = now;
  }

  destroy(reason: string): void {
    if (this.closed) return;
    this.ws.terminate();
    this.onClosed?.(reason);
  }

  write(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed || this.ws.readyState !== WebSocket.OPEN) {
        reject(new ClosedError(`connection ${this.id} is closed`));
        return;
      }
      // text frames: what browser SIP stacks expect (RFC 7118 §5.1 allows either)
      this.ws.send(data, { binary: false }, (err) => {
        if (err) reject(new UnavailableError(`write on ${this.id} failed: ${describeError(err)}`, { cause: err }));
        else resolve();
      });
    });
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function offersSip(header: string | undefined): boolean {
  if (header === undefined) return false;
  return header.split(',').some((p) => p.trim().toLowerCase() === SIP_SUBPROTOCOL);
}

export class WsTransport extends TypedEmitter<SipTransportEventMap> implements SipTransport {
  readonly protocol: 'ws' | 'wss';
  private localAddress: TransportAddress;
  private readonly limits: ConnectionLimits;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private readonly table: ConnectionTable<WsConnection>;
  private readonly httpServer: http.Server | https.Server;
  private readonly wss: WebSocketServer;
  private readonly dialing = new Map<string, Promise<WsConnection>>();
  private listening = false;
  private closePromise: Promise<void> | undefined;
  /** handshakes refused for lack of the sip subprotocol */
  rejectedHandshakes = 0;

  private constructor(private readonly options: WsTransportOptions) {
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
    if (options.protocol === 'wss') {
      const t = options.tls;
      if (t === undefined) throw new UnavailableError('a WSS listener needs tls.cert and tls.key');
      this.httpServer = https.createServer({ cert: t.cert, key: t.key, ca: t.ca, requestCert: t.requestCert ?? false, rejectUnauthorized: false });
      this.httpServer.on('tlsClientError', (err) => this.logger.debug({ err: describeError(err) }, 'TLS handshake failed'));
    } else {
      this.httpServer = http.createServer();
    }
    this.httpServer.on('request', (_req, res: http.ServerResponse) => {
      res.writeHead(426, { Upgrade: 'websocket', Connection: 'close' }).end();
    });
    this.httpServer.prependListener('connection', (socket: net.Socket) => this.table.admitSocket(socket, this.logger));
    this.httpServer.on('error', (err) => this.emit('error', err));
    this.wss = new WebSocketServer({
      server: this.httpServer,
      maxPayload: this.limits.maxMessageSize,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (protocols) => (protocols.has(SIP_SUBPROTOCOL) ? SIP_SUBPROTOCOL : false),
      verifyClient: (info, done) => {
        const header = info.req.headers['sec-websocket-protocol'];
        if (offersSip(Array.isArray(header) ? header.join(',') : header)) {
          done(true);
          return;
        }
        this.rejectedHandshakes++;
        // RFC 7118 §4.1: without the sip subprotocol the server must not accept the connection
        done(false, 400, 'WebSocket subprotocol "sip" required');
      },
    });
    this.wss.on('connection', (ws, req) => this.accept(ws, req.socket));
    this.wss.on('error', (err) => this.emit('error', err));
  }

  static async listen(options: WsTransportOptions): Promise<WsTransport> {
    const t = new WsTransport(options);
    await t.bind();
    return t;
  }

  get local(): TransportAddress {
    return this.localAddress;
  }

  get connectionCount(): number {
    return this.table.size;
  }

  get rejectedConnections(): number {
    return this.table.rejectedConnections;
  }

  ownsConnection(id: string): boolean {
    return this.table.owns(id);
  }

  private async bind(): Promise<void> {
    this.localAddress = await listenServer(this.httpServer, this.protocol, this.options.address, this.options.port);
    this.listening = true;
  }

  private accept(ws: WebSocket, socket: net.Socket): void {
    const remote = { protocol: this.protocol, address: stripIpv4Mapped(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    this.register(ws, remote, this.localAddress);
  }

  private register(ws: WebSocket, remote: TransportAddress, local: TransportAddress): WsConnection {
    const conn = new WsConnection(this.table.newId(), ws, remote, local, this.scheduler.now());
    ws.on('message', (data: RawData) => this.onMessage(conn, toBuffer(data)));
    ws.on('error', (err) => this.logger.debug({ conn: conn.id, err: describeError(err) }, 'websocket error'));
    ws.on('close', (code) => this.closed(conn, code === 1009 ? 'message too big' : 'closed'));
    conn.onClosed = (reason) => this.closed(conn, reason);
    this.table.add(conn);
    return conn;
  }

  private closed(conn: WsConnection, reason: string): void {
    if (conn.closed) return;
    conn.closed = true;
    this.table.remove(conn);
    this.emit('connectionClosed', conn.id, reason);
  }

  private onMessage(conn: WsConnection, data: Buffer): void {
    conn.lastActivity = this.scheduler.now();
    // Some clients send RFC 5626 CRLF keepalives inside WebSocket messages too: answer, never deliver.
    if (data.length <= 4 && (data[0] === 0x0d || data[0] === 0x0a)) {
      if (data.toString('latin1') === PING) conn.ws.send('\r\n');
      return;
    }
    this.emit('message', { data, source: conn.remote, local: conn.local, connectionId: conn.id, framingError: undefined });
  }

  async send(target: OutboundTarget, text: Buffer | string): Promise<void> {
    if (this.closePromise !== undefined) throw new ClosedError(`${this.protocol} transport is closed`);
    const data = messageBytes(text);
    if (data.length > this.limits.maxMessageSize) throw new UnavailableError(`message of ${data.length} bytes over ${this.limits.maxMessageSize}`);
    const conn = await this.connectionFor(target);
    conn.lastActivity = this.scheduler.now();
    await conn.write(data);
  }

  private async connectionFor(target: OutboundTarget): Promise<WsConnection> {
    if (target.connectionId !== undefined) {
      const c = this.table.get(target.connectionId);
      if (c !== undefined && !c.closed) return c;
    }
    const existing = this.table.findByRemote(stripIpv4Mapped(target.address), target.port);
    if (existing !== undefined && !existing.closed) return existing;
    const key = `${target.address}|${target.port}`;
    let pending = this.dialing.get(key);
    if (pending === undefined) {
      pending = this.dial(target).finally(() => this.dialing.delete(key));
      this.dialing.set(key, pending);
    }
    return pending;
  }

  private dial(target: OutboundTarget): Promise<WsConnection> {
    return new Promise((resolve, reject) => {
      const host = net.isIPv6(target.address) ? `[${target.address}]` : target.address;
      const scheme = this.protocol === 'wss' ? 'wss' : 'ws';
      const settings = this.options.tls;
      const bindAddress = isWildcard(this.localAddress.address) ? undefined : this.localAddress.address;
      const ws = new WebSocket(`${scheme}://${host}:${target.port}`, SIP_SUBPROTOCOL, {
        maxPayload: this.limits.maxMessageSize,
        perMessageDeflate: false,
        rejectUnauthorized: settings?.rejectUnauthorized ?? false,
        ...(settings?.ca !== undefined ? { ca: settings.ca } : {}),
        ...(bindAddress !== undefined ? { localAddress: bindAddress } : {}),
      });
      // a late error on a socket being abandoned must never become an unhandled 'error' event
      ws.on('error', () => {});
      const timer = this.scheduler.setTimeout(() => fail(new Error('connect timeout')), this.limits.connectTimeoutMs);
      const fail = (err: Error): void => {
        timer.cancel();
        ws.terminate();
        reject(new UnavailableError(`cannot connect over ${this.protocol} to ${target.address}:${target.port}: ${describeError(err)}`, { cause: err }));
      };
      ws.once('error', fail);
      ws.once('open', () => {
        timer.cancel();
        ws.off('error', fail);
        if (ws.protocol !== SIP_SUBPROTOCOL) {
          fail(new Error('server did not accept the sip subprotocol'));
          return;
        }
        if (this.closePromise !== undefined) {
          ws.terminate();
          reject(new ClosedError(`${this.protocol} transport is closed`));
          return;
        }
        const remote = { protocol: this.protocol, address: stripIpv4Mapped(target.address), port: target.port };
        resolve(this.register(ws, remote, this.localAddress));
      });
    });
  }

  stopAccepting(): Promise<void> {
    if (this.listening) {
      this.listening = false;
      this.httpServer.close();
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closePromise ??= new Promise<void>((resolve) => {
      const wasListening = this.listening;
      this.listening = false;
      this.table.destroyAll('transport closed');
      this.wss.close();
      if (wasListening) {
        this.httpServer.close(() => resolve());
        this.httpServer.closeAllConnections();
      } else {
        this.httpServer.closeAllConnections();
        resolve();
      }
    });
    return this.closePromise;
  }
}
