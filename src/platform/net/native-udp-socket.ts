/**
 * The native engine behind the UdpSocket interface. The C side reads up to a batch of datagrams
 * per syscall and calls `onBatch` once per batch with their lengths, ports and addresses in a
 * Uint32Array shared by the thread (META_WORDS words each: offset, length, port, family,
 * address words); this class turns that into one handler call per datagram.
 */
import { getSystemErrorName } from 'node:util';
import { describeError, type Logger } from '../../lib/index.js';
import { PeerAddressCache } from './address-cache.js';
import type { NativeUdpAddon, NativeUdpHandle } from './native-addon.js';
import type { OpenUdpSocketOptions, UdpMessageHandler, UdpSocket, UdpStats } from './types.js';

const noHandler: UdpMessageHandler = () => {};

/** What the addon shares with every socket of this thread, fetched once. */
interface SharedArea {
  scratch: Buffer;
  meta: Uint32Array;
  metaWords: number;
  addresses: PeerAddressCache;
}
let shared: SharedArea | undefined;

function sharedArea(addon: NativeUdpAddon): SharedArea {
  if (shared === undefined) {
    const b = addon.buffers();
    shared = { scratch: Buffer.from(b.scratch), meta: b.meta, metaWords: addon.constants.metaWords, addresses: new PeerAddressCache() };
  }
  return shared;
}

export interface UdpSendError extends Error {
  code: string;
  errno?: number;
  syscall: string;
  address?: string;
  port?: number;
}

export function udpError(code: string, message: string, syscall: string, address?: string, port?: number, errno?: number): UdpSendError {
  const err = new Error(message) as UdpSendError;
  err.code = code;
  err.syscall = syscall;
  if (address !== undefined && address !== '') err.address = address;
  if (port !== undefined && port !== 0) err.port = port;
  if (errno !== undefined) err.errno = errno;
  return err;
}

/** Hands a socket error to its handler, or logs it when there is none; a throwing handler is logged, never rethrown. */
export function deliverUdpError(handler: ((err: Error) => void) | undefined, err: Error, logger: Logger, local: UdpSocket['local']): void {
  if (handler === undefined) {
    logger.warn({ err, local }, 'udp socket error');
    return;
  }
  try {
    handler(err);
  } catch (thrown) {
    logger.error({ err: thrown, local }, 'udp error handler threw');
  }
}

export class NativeUdpSocket implements UdpSocket {
  readonly engine = 'native' as const;
  /** sendAt() datagrams leave from the addon's pacer thread (native/udp/pacer.c) */
  readonly schedulesOffThread = true;
  private handler: UdpMessageHandler = noHandler;
  private errorHandler: ((err: Error) => void) | undefined;
  private handle!: NativeUdpHandle;
  private closed = false;
  /** send errors caught before the C queue (bad address, bad port) */
  private refusedSends = 0;
  readonly local: { address: string; port: number; family: 4 | 6 };

  private constructor(
    private readonly shared: SharedArea,
    private readonly logger: Logger,
    family: 4 | 6,
  ) {
    this.local = { address: '', port: 0, family };
  }

  /** Binds at once (synchronously); throws what the kernel said (EADDRINUSE...). */
  static open(addon: NativeUdpAddon, options: OpenUdpSocketOptions, family: 4 | 6, logger: Logger): NativeUdpSocket {
    const socket = new NativeUdpSocket(sharedArea(addon), logger, family);
    socket.handle = addon.open({
      family,
      address: options.address,
      port: options.port,
      recvBufferSize: options.recvBufferSize,
      sendBufferSize: options.sendBufferSize,
      reusePort: options.reusePort,
      spreadOver: options.spreadOver,
      queueLimit: options.sendQueueLimit,
      scheduleLimit: options.scheduleLimit,
      batchBuffers: (options.receiveBuffers ?? 'batch') === 'batch',
      ioThread: options.ioThread === true,
      onBatch: (batch, count) => socket.deliver(batch, count),
      onError: (errno, syscall, address, port) => socket.kernelError(errno, syscall, address, port),
    });
    const local = socket.handle.local();
    socket.local.address = local.address;
    socket.local.port = local.port;
    return socket;
  }

  onMessage(handler: UdpMessageHandler): void {
    this.handler = handler;
  }

  onError(handler: (err: Error) => void): void {
    this.errorHandler = handler;
  }

  send(data: Uint8Array | string, port: number, address: string): void {
    try {
      this.handle.send(data, port, address);
    } catch (err) {
      // bad arguments are the caller's bug, but they must not take the process down (STYLE.md §8)
      this.refuse(err, 'send', address, port);
    }
  }

  sendAt(data: Uint8Array, port: number, address: string, delayMs: number): void {
    try {
      this.handle.sendAt(data, port, address, delayMs);
    } catch (err) {
      this.refuse(err, 'sendAt', address, port);
    }
  }

  cancelScheduled(): number {
    return this.handle.cancelScheduled();
  }

  flush(): void {
    this.handle.flush();
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.handle.close();
    }
    return Promise.resolve();
  }

  bufferSizes(): { recv: number; send: number } {
    return this.handle.bufferSizes();
  }

  stats(): UdpStats {
    const s = this.handle.stats();
    return { received: s.received, sent: s.sent, sendErrors: s.sendErrors + this.refusedSends, dropped: s.dropped, scheduled: s.scheduled };
  }

  private refuse(err: unknown, syscall: string, address: unknown, port: unknown): void {
    this.refusedSends++;
    const code = (err as { code?: unknown }).code;
    this.reportLater(udpError(typeof code === 'string' ? code : 'EINVAL', `udp ${syscall} to ${String(address)}:${String(port)} refused: ${describeError(err)}`, syscall, String(address), Number(port)));
  }

  private deliver(batch: Buffer | undefined, count: number): void {
    const { meta, metaWords, addresses, scratch } = this.shared;
    for (let i = 0; i < count && !this.closed; i++) {
      const m = i * metaWords;
      const off = meta[m]!;
      const len = meta[m + 1]!;
      let data: Buffer;
      if (batch !== undefined) {
        data = batch.subarray(off, off + len);
      } else {
        data = Buffer.allocUnsafe(len);
        scratch.copy(data, 0, off, off + len);
      }
      const address = meta[m + 3] === 4 ? addresses.ipv4(meta[m + 4]!) : addresses.ipv6(meta[m + 4]!, meta[m + 5]!, meta[m + 6]!, meta[m + 7]!);
      try {
        this.handler(data, address, meta[m + 2]!);
      } catch (err) {
        this.report(err instanceof Error ? err : new Error(describeError(err)));
      }
    }
  }

  private kernelError(errno: number, syscall: string, address: string, port: number): void {
    let code = `E${errno}`;
    try {
      code = getSystemErrorName(-errno);
    } catch {}
    const where = address !== '' ? ` ${address}:${port}` : '';
    this.report(udpError(code, `udp ${syscall}${where}: ${code}`, syscall, address, port, -errno));
  }

  private reportLater(err: Error): void {
    process.nextTick(() => this.report(err));
  }

  private report(err: Error): void {
    deliverUdpError(this.errorHandler, err, this.logger, this.local);
  }
}
