/**
 * node:dgram behind the UdpSocket interface: the engine used when the native addon is not
 * built, and the baseline the benchmark compares it with. Sends go out at once (no batching;
 * `flush` has nothing to do). A send has no completion callback: with one, libuv queues every
 * datagram and reports it from the loop, which doubles the CPU spent sending; the price is
 * that a datagram the kernel refuses is not seen here.
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { describeError, immediateIpLookup, UnavailableError, type Logger } from '../../lib/index.js';
import { deliverUdpError, udpError } from './native-udp-socket.js';
import type { OpenUdpSocketOptions, UdpMessageHandler, UdpSocket, UdpStats } from './types.js';

export class DgramUdpSocket implements UdpSocket {
  readonly engine = 'dgram' as const;
  private handler: UdpMessageHandler = () => {};
  private errorHandler: ((err: Error) => void) | undefined;
  private closePromise: Promise<void> | undefined;
  private readonly counts: UdpStats = { received: 0, sent: 0, sendErrors: 0, dropped: 0 };
  readonly local: { address: string; port: number; family: 4 | 6 };

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly logger: Logger,
    family: 4 | 6,
    address: string,
  ) {
    this.local = { address, port: 0, family };
    socket.on('message', (msg, rinfo) => {
      this.counts.received++;
      try {
        this.handler(msg, rinfo.address, rinfo.port);
      } catch (err) {
        this.report(err instanceof Error ? err : new Error(describeError(err)));
      }
    });
  }

  static async open(options: OpenUdpSocketOptions, family: 4 | 6, logger: Logger): Promise<DgramUdpSocket> {
    if (options.reusePort === true) {
      throw new UnavailableError('reusePort needs the native UDP engine: Node 20 dgram cannot set SO_REUSEPORT');
    }
    const socket = dgram.createSocket({
      type: family === 6 ? 'udp6' : 'udp4',
      lookup: immediateIpLookup,
      ...(options.recvBufferSize !== undefined ? { recvBufferSize: options.recvBufferSize } : {}),
      ...(options.sendBufferSize !== undefined ? { sendBufferSize: options.sendBufferSize } : {}),
    });
    const s = new DgramUdpSocket(socket, logger, family, options.address);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close();
        reject(err);
      };
      socket.once('error', onError);
      socket.bind({ address: options.address, port: options.port }, () => {
        socket.off('error', onError);
        // after binding, socket errors go to the error handler, never to the process
        socket.on('error', (err) => {
          s.counts.sendErrors++;
          s.report(err);
        });
        resolve();
      });
    });
    s.local.port = socket.address().port;
    return s;
  }

  onMessage(handler: UdpMessageHandler): void {
    this.handler = handler;
  }

  onError(handler: (err: Error) => void): void {
    this.errorHandler = handler;
  }

  send(data: Uint8Array, port: number, address: string): void {
    if (this.closePromise !== undefined) {
      this.counts.dropped++;
      return;
    }
    // the same checks as the native engine, so both refuse the same sends the same way
    if (typeof address !== 'string' || isIP(address) !== this.local.family) {
      this.refuse('ERR_INVALID_ADDRESS', `not an IPv${this.local.family} address literal: ${String(address).slice(0, 64)}`, address, port);
      return;
    }
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      this.refuse('ERR_SOCKET_BAD_PORT', 'port must be a whole number from 1 to 65535', address, port);
      return;
    }
    try {
      this.socket.send(data, port, address);
      this.counts.sent++;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      this.refuse(typeof code === 'string' ? code : 'EINVAL', describeError(err), address, port);
    }
  }

  flush(): void {}

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

  stats(): UdpStats {
    return { ...this.counts };
  }

  private refuse(code: string, reason: string, address: unknown, port: unknown): void {
    this.counts.sendErrors++;
    const err = udpError(code, `udp send to ${String(address)}:${String(port)} refused: ${reason}`, 'send', String(address), Number(port));
    process.nextTick(() => this.report(err));
  }

  private report(err: Error): void {
    deliverUdpError(this.errorHandler, err, this.logger, this.local);
  }
}
