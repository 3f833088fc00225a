/**
 * node:dgram behind the UdpSocket interface: the engine used when the native addon is not
 * built, and the baseline the benchmark compares it with. Sends go out at once (no batching;
 * `flush` has nothing to do). A send has no completion callback: with one, libuv queues every
 * datagram and reports it from the loop, which doubles the CPU spent sending; the price is
 * that a datagram the kernel refuses is not seen here.
 *
 * sendAt() keeps a small queue sorted by due time and one timer for its earliest entry, on the
 * JS thread: a stalled thread delays these datagrams too (the native engine's do not).
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { describeError, immediateIpLookup, UnavailableError, type Logger } from '../../lib/index.js';
import { deliverUdpError, udpError } from './native-udp-socket.js';
import type { OpenUdpSocketOptions, UdpMessageHandler, UdpSocket, UdpStats } from './types.js';

/** setTimeout's longest delay; the native engine refuses longer ones too */
const MAX_DELAY_MS = 2_147_483_647;
const DEFAULT_SCHEDULE_LIMIT = 4096;

interface ScheduledDatagram {
  /** performance.now() time at which it may leave */
  due: number;
  data: Buffer;
  port: number;
  address: string;
}

export class DgramUdpSocket implements UdpSocket {
  readonly engine = 'dgram' as const;
  readonly schedulesOffThread = false;
  private handler: UdpMessageHandler = () => {};
  private errorHandler: ((err: Error) => void) | undefined;
  private closePromise: Promise<void> | undefined;
  private readonly counts: UdpStats = { received: 0, sent: 0, sendErrors: 0, dropped: 0, scheduled: 0 };
  readonly local: { address: string; port: number; family: 4 | 6 };
  /** sendAt() datagrams in (due, call) order; the live ones are schedule[scheduleHead..] */
  private schedule: ScheduledDatagram[] = [];
  private scheduleHead = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly logger: Logger,
    family: 4 | 6,
    address: string,
    private readonly scheduleLimit: number,
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
    const s = new DgramUdpSocket(socket, logger, family, options.address, options.scheduleLimit ?? DEFAULT_SCHEDULE_LIMIT);
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

  send(data: Uint8Array | string, port: number, address: string): void {
    if (this.closePromise !== undefined) {
      this.counts.dropped++;
      return;
    }
    if (!this.validDestination(address, port, 'send')) return;
    this.sendNow(data, port, address);
  }

  flush(): void {}

  sendAt(data: Uint8Array, port: number, address: string, delayMs: number): void {
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs > MAX_DELAY_MS) {
      this.refuse('ERR_OUT_OF_RANGE', `delayMs must be a finite number of milliseconds, at most ${MAX_DELAY_MS}`, address, port, 'sendAt');
      return;
    }
    if (!(data instanceof Uint8Array)) {
      this.refuse('ERR_INVALID_ARG_TYPE', 'data must be a Uint8Array or Buffer', address, port, 'sendAt');
      return;
    }
    if (!this.validDestination(address, port, 'sendAt')) return;
    if (this.closePromise !== undefined || this.schedule.length - this.scheduleHead >= this.scheduleLimit) {
      this.counts.dropped++;
      return;
    }
    const item: ScheduledDatagram = { due: performance.now() + Math.max(0, delayMs), data: Buffer.from(data), port, address };
    // after every entry due at the same time or earlier: ties leave in call order
    let lo = this.scheduleHead;
    let hi = this.schedule.length;
    if (hi > lo && this.schedule[hi - 1]!.due <= item.due) lo = hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.schedule[mid]!.due <= item.due) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.schedule.length) this.schedule.push(item);
    else this.schedule.splice(lo, 0, item);
    this.armTimer();
  }

  cancelScheduled(): number {
    const n = this.schedule.length - this.scheduleHead;
    this.clearSchedule();
    return n;
  }

  close(): Promise<void> {
    if (this.closePromise === undefined) {
      this.counts.dropped += this.schedule.length - this.scheduleHead;
      this.clearSchedule();
    }
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
    return { ...this.counts, scheduled: this.schedule.length - this.scheduleHead };
  }

  /** the same checks as the native engine, so both refuse the same sends the same way */
  private validDestination(address: unknown, port: unknown, syscall: string): boolean {
    if (typeof address !== 'string' || isIP(address) !== this.local.family) {
      this.refuse('ERR_INVALID_ADDRESS', `not an IPv${this.local.family} address literal: ${String(address).slice(0, 64)}`, address, port, syscall);
      return false;
    }
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      this.refuse('ERR_SOCKET_BAD_PORT', 'port must be a whole number from 1 to 65535', address, port, syscall);
      return false;
    }
    return true;
  }

  private sendNow(data: Uint8Array | string, port: number, address: string): void {
    try {
      this.socket.send(data, port, address);
      this.counts.sent++;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      this.refuse(typeof code === 'string' ? code : 'EINVAL', describeError(err), address, port, 'send');
    }
  }

  /** one timer, for the earliest entry; an open socket keeps the loop alive, the timer need not */
  private armTimer(): void {
    const first = this.schedule[this.scheduleHead];
    if (first === undefined || first.due >= this.timerDue) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerDue = first.due;
    this.timer = setTimeout(this.onTimer, Math.max(0, Math.ceil(first.due - performance.now())));
    this.timer.unref();
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerDue = Infinity;
    // a timer may fire a little before its time (libuv's clock is read once per loop turn): check each entry
    const now = performance.now();
    while (this.scheduleHead < this.schedule.length && this.schedule[this.scheduleHead]!.due <= now) {
      const item = this.schedule[this.scheduleHead++]!;
      this.sendNow(item.data, item.port, item.address);
    }
    if (this.scheduleHead === this.schedule.length) {
      this.schedule = [];
      this.scheduleHead = 0;
    } else if (this.scheduleHead > 64 && this.scheduleHead * 2 > this.schedule.length) {
      this.schedule = this.schedule.slice(this.scheduleHead);
      this.scheduleHead = 0;
    }
    this.armTimer();
  };

  private clearSchedule(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
    this.schedule = [];
    this.scheduleHead = 0;
  }

  private refuse(code: string, reason: string, address: unknown, port: unknown, syscall: string): void {
    this.counts.sendErrors++;
    const err = udpError(code, `udp ${syscall} to ${String(address)}:${String(port)} refused: ${reason}`, syscall, String(address), Number(port));
    process.nextTick(() => this.report(err));
  }

  private report(err: Error): void {
    deliverUdpError(this.errorHandler, err, this.logger, this.local);
  }
}
