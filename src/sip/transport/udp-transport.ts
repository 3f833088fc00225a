/**
 * SIP over UDP (RFC 3261 §18): one datagram is one message. This is the hot path of the server,
 * so the receive handler does no work beyond building the packet record: no timers, no copies
 * (the datagram buffer the socket hands us is ours to keep), and the `local` address object is
 * shared by every packet. The socket is the platform's UdpSocket: the native engine reads
 * datagrams in batches (recvmmsg) and sends what one event-loop turn produced in one sendmmsg.
 */
import { lookup as dnsLookup } from 'node:dns';
import net from 'node:net';
import {
  ClosedError,
  InvalidInputError,
  TypedEmitter,
  describeError,
  silentLogger,
  type Logger,
} from '../../lib/index.js';
import { openUdpSocket, type UdpEngine, type UdpSocket } from '../../platform/index.js';
import type { InboundPacket, OutboundTarget, SipTransport, SipTransportEventMap, TransportAddress } from './types.js';

export interface UdpTransportOptions {
  address: string;
  port: number;
  /** datagrams larger than this are dropped (default 65535) */
  maxMessageSize?: number | undefined;
  /**
   * kernel socket buffers; large ones absorb bursts at tens of thousands of packets per second
   * (default 4 MiB). Past net.core.rmem_max / wmem_max only where the process has CAP_NET_ADMIN.
   */
  recvBufferSize?: number | undefined;
  sendBufferSize?: number | undefined;
  /** the socket engine (default 'auto': native when its addon is built) */
  engine?: UdpEngine | 'auto' | undefined;
  /** SO_REUSEPORT with datagrams spread at random over this many sockets (SIP workers) */
  spreadOver?: number | undefined;
  /** native engine: recvmmsg/sendmmsg on the socket's own thread (OpenUdpSocketOptions.ioThread) */
  ioThread?: boolean | undefined;
  logger?: Logger | undefined;
}

const FOUR_MIB = 4 * 1024 * 1024;

/** a datagram made only of CR/LF/space: a keepalive some clients send over UDP (RFC 5626 §3.5.1 uses STUN here; CRLF is tolerated) */
function isWhitespaceOnly(msg: Buffer): boolean {
  for (let i = 0; i < msg.length; i++) {
    const b = msg[i];
    if (b !== 0x0d && b !== 0x0a && b !== 0x20 && b !== 0x09) return false;
  }
  return true;
}

export class UdpTransport extends TypedEmitter<SipTransportEventMap> implements SipTransport {
  readonly protocol = 'udp' as const;
  readonly connectionCount = 0;
  private localAddress: TransportAddress;
  private socket!: UdpSocket;
  private readonly family: 4 | 6;
  private readonly maxMessageSize: number;
  private readonly logger: Logger;
  private closePromise: Promise<void> | undefined;
  /** datagrams dropped because they were oversize or empty keepalives */
  droppedDatagrams = 0;

  private constructor(private readonly options: UdpTransportOptions) {
    super((err, event) => this.logger.error({ err, event }, 'transport listener threw'));
    this.logger = (options.logger ?? silentLogger).child({ transport: 'udp' });
    this.family = net.isIPv6(options.address) ? 6 : 4;
    this.maxMessageSize = options.maxMessageSize ?? 65_535;
    this.localAddress = { protocol: 'udp', address: options.address, port: options.port };
  }

  static async listen(options: UdpTransportOptions): Promise<UdpTransport> {
    const t = new UdpTransport(options);
    await t.bind();
    return t;
  }

  get local(): TransportAddress {
    return this.localAddress;
  }

  /** which socket engine carries this listener */
  get engine(): UdpEngine {
    return this.socket.engine;
  }

  private async bind(): Promise<void> {
    const spread = this.options.spreadOver;
    const asked = this.options.recvBufferSize ?? FOUR_MIB;
    this.socket = await openUdpSocket({
      address: this.options.address,
      port: this.options.port,
      recvBufferSize: asked,
      sendBufferSize: this.options.sendBufferSize ?? FOUR_MIB,
      engine: this.options.engine,
      ...(this.options.ioThread === true ? { ioThread: true } : {}),
      ...(spread !== undefined && spread > 1 ? { reusePort: true, spreadOver: spread } : {}),
      logger: this.logger,
    });
    const granted = this.socket.bufferSizes?.().recv;
    if (granted !== undefined && granted < asked) {
      // a smaller buffer drops bursts the asked one would have held: say so once, with the fix
      this.logger.warn(
        { asked, granted, port: this.socket.local.port },
        'SIP UDP receive buffer capped by the kernel (net.core.rmem_max); raise it, or run with CAP_NET_ADMIN, for the size configured',
      );
    }
    this.socket.onMessage((msg, address, port) => this.onDatagram(msg, address, port));
    // errors after binding (ICMP-driven ECONNREFUSED and the like) never crash the process
    this.socket.onError((err) => this.emit('error', err));
    this.localAddress = { protocol: 'udp', address: this.options.address, port: this.socket.local.port };
  }

  private onDatagram(msg: Buffer, address: string, port: number): void {
    if (msg.length > this.maxMessageSize || msg.length === 0) {
      this.droppedDatagrams++;
      return;
    }
    const first = msg[0];
    if ((first === 0x0d || first === 0x0a) && isWhitespaceOnly(msg)) {
      this.droppedDatagrams++;
      return;
    }
    const packet: InboundPacket = {
      data: msg,
      source: { protocol: 'udp', address, port },
      local: this.localAddress,
      connectionId: undefined,
      framingError: undefined,
    };
    this.emit('message', packet);
  }

  send(target: OutboundTarget, data: Buffer | string): Promise<void> {
    try {
      return this.sendNow(target, data);
    } catch (err) {
      // the contract is a rejection, never a throw (a bug below must not reach the caller's stack)
      return Promise.reject(err instanceof Error ? err : new InvalidInputError(describeError(err)));
    }
  }

  private sendNow(target: OutboundTarget, data: Buffer | string): Promise<void> {
    // checked and queued at once; no promise of its own per datagram (a server sends tens of
    // thousands a second): the queue has taken it, which is all UDP can say
    if (this.closePromise !== undefined) return Promise.reject(new ClosedError('udp transport is closed'));
    const fam = net.isIP(target.address);
    if (fam !== 0 && fam !== this.family) return Promise.reject(new InvalidInputError(`IPv${fam} target ${target.address} on an IPv${this.family} UDP socket`));
    const size = byteSize(data, this.maxMessageSize);
    if (size > this.maxMessageSize) return Promise.reject(new InvalidInputError(`datagram of ${size} bytes over ${this.maxMessageSize}`));
    if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
      return Promise.reject(new InvalidInputError(`udp send to ${target.address}:${target.port} refused: bad port`, 400, 400));
    }
    if (fam === 0) {
      // a host name (rare: the resolver hands us addresses): look it up in the socket's family
      return new Promise((resolve, reject) => {
        dnsLookup(target.address, { family: this.family }, (err, address) => {
          if (err !== null) reject(new InvalidInputError(`udp send to ${target.address}:${target.port} refused: ${describeError(err)}`, 400, 400, { cause: err }));
          else if (this.closePromise !== undefined) reject(new ClosedError('udp transport is closed'));
          else {
            this.socket.send(data, target.port, address);
            resolve();
          }
        });
      });
    }
    // queued, and handed to the kernel with whatever else this turn of the event loop sends;
    // UDP has no delivery report: a send the kernel refuses surfaces as the socket's error
    this.socket.send(data, target.port, target.address);
    return SENT;
  }

  stopAccepting(): Promise<void> {
    // a UDP socket both receives requests and carries responses: nothing to stop separately
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closePromise ??= this.socket.close().catch(() => undefined);
    return this.closePromise;
  }
}

const SENT: Promise<void> = Promise.resolve();

/** the UTF-8 size of a message, exact whenever it could be over `limit` */
function byteSize(data: Buffer | string, limit: number): number {
  if (typeof data !== 'string') return data.length;
  // a UTF-16 code unit is at most 3 bytes of UTF-8: only a long text needs counting
  return data.length * 3 <= limit ? data.length : Buffer.byteLength(data, 'utf8');
}
