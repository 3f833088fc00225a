/**
 * SIP over UDP (RFC 3261 §18): one datagram is one message. This is the hot path of the server,
 * so the receive handler does no work beyond building the packet record: no timers, no copies
 * (the datagram buffer Node hands us is ours to keep), and the `local` address object is shared
 * by every packet.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import {
  ClosedError,
  InvalidInputError,
  TypedEmitter,
  UnavailableError,
  describeError,
  silentLogger,
  type Logger,
  immediateIpLookup,
} from '../../lib/index.js';
import type { InboundPacket, OutboundTarget, SipTransport, SipTransportEventMap, TransportAddress } from './types.js';

export interface UdpTransportOptions {
  address: string;
  port: number;
  /** datagrams larger than this are dropped (default 65535) */
  maxMessageSize?: number | undefined;
  /** kernel socket buffers; large ones absorb bursts at tens of thousands of packets per second (default 4 MiB) */
  recvBufferSize?: number | undefined;
  sendBufferSize?: number | undefined;
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
  private readonly socket: dgram.Socket;
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
    this.socket = dgram.createSocket({
      type: this.family === 6 ? 'udp6' : 'udp4',
      recvBufferSize: options.recvBufferSize ?? FOUR_MIB,
      sendBufferSize: options.sendBufferSize ?? FOUR_MIB,
      // IP literals are sent at once instead of after a dns.lookup tick (see immediateIpLookup)
      lookup: immediateIpLookup,
    });
    this.socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
  }

  static async listen(options: UdpTransportOptions): Promise<UdpTransport> {
    const t = new UdpTransport(options);
    await t.bind();
    return t;
  }

  get local(): TransportAddress {
    return this.localAddress;
  }

  private bind(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.socket.close();
        reject(new UnavailableError(`cannot bind udp ${this.options.address}:${this.options.port}: ${describeError(err)}`, { cause: err }));
      };
      this.socket.once('error', onError);
      this.socket.bind({ address: this.options.address, port: this.options.port }, () => {
        this.socket.off('error', onError);
        // errors after binding (ICMP-driven ECONNREFUSED and the like) never crash the process
        this.socket.on('error', (err) => this.emit('error', err));
        this.localAddress = { protocol: 'udp', address: this.options.address, port: this.socket.address().port };
        resolve();
      });
    });
  }

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
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
      source: { protocol: 'udp', address: rinfo.address, port: rinfo.port },
      local: this.localAddress,
      connectionId: undefined,
      framingError: undefined,
    };
    this.emit('message', packet);
  }

  send(target: OutboundTarget, data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closePromise !== undefined) {
        reject(new ClosedError('udp transport is closed'));
        return;
      }
      const fam = net.isIP(target.address);
      if (fam !== 0 && fam !== this.family) {
        reject(new InvalidInputError(`IPv${fam} target ${target.address} on an IPv${this.family} UDP socket`));
        return;
      }
      if (data.length > this.maxMessageSize) {
        reject(new InvalidInputError(`datagram of ${data.length} bytes over ${this.maxMessageSize}`));
        return;
      }
      try {
        // No completion callback: with one, libuv queues every datagram and reports it from the
        // event loop; without, Node tries a synchronous sendto first, which halved the CPU spent
        // sending at load. UDP has no delivery report anyway; a failing send surfaces as the
        // socket's 'error' event.
        this.socket.send(data, target.port, target.address);
        resolve();
      } catch (err) {
        // invalid port numbers and the like are thrown synchronously by dgram
        reject(new InvalidInputError(`udp send to ${target.address}:${target.port} refused: ${describeError(err)}`, 400, 400, { cause: err }));
      }
    });
  }

  stopAccepting(): Promise<void> {
    // a UDP socket both receives requests and carries responses: nothing to stop separately
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closePromise ??= new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
    return this.closePromise;
  }
}
