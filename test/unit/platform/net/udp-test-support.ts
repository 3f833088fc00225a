import { performance } from 'node:perf_hooks';
import { openUdpSocket, type OpenUdpSocketOptions, type UdpSocket } from '../../../../src/platform/index.js';

export type EngineCase = { name: string; options: Partial<OpenUdpSocketOptions> };

/** the engines (and native receive modes) the contract runs on */
export const ENGINE_CASES: EngineCase[] = [
  { name: 'native (batch buffers)', options: { engine: 'native', receiveBuffers: 'batch' } },
  { name: 'native (copy per datagram)', options: { engine: 'native', receiveBuffers: 'copy' } },
  { name: 'native, I/O thread (batch buffers)', options: { engine: 'native', receiveBuffers: 'batch', ioThread: true } },
  { name: 'native, I/O thread (copy per datagram)', options: { engine: 'native', receiveBuffers: 'copy', ioThread: true } },
  { name: 'dgram', options: { engine: 'dgram' } },
];

export interface Received {
  data: Buffer;
  address: string;
  port: number;
  /** performance.now() when the handler got it */
  at: number;
}

/** A socket that keeps what it receives; `until(n)` resolves once n datagrams are in. */
export class Collector {
  readonly got: Received[] = [];
  readonly errors: Error[] = [];
  /**
   * When set, datagrams from other ports are ignored: other engineers' tests on this box send
   * RTP and SIP to loopback ports, some of which are ours for the moment.
   */
  onlyFrom: number | undefined;
  private waiters: { n: number; resolve: () => void }[] = [];
  private errorWaiters: { n: number; resolve: () => void }[] = [];

  constructor(readonly socket: UdpSocket) {
    socket.onMessage((data, address, port) => {
      if (this.onlyFrom !== undefined && port !== this.onlyFrom) return;
      this.got.push({ data, address, port, at: performance.now() });
      this.wake();
    });
    socket.onError((err) => {
      this.errors.push(err);
      this.errorWaiters = this.errorWaiters.filter((w) => (this.errors.length >= w.n ? (w.resolve(), false) : true));
    });
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => (this.got.length >= w.n ? (w.resolve(), false) : true));
  }

  until(n: number): Promise<void> {
    if (this.got.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  untilErrors(n: number): Promise<void> {
    if (this.errors.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.errorWaiters.push({ n, resolve }));
  }
}

export async function open(options: Partial<OpenUdpSocketOptions>, address: string, port = 0, more: Partial<OpenUdpSocketOptions> = {}): Promise<Collector> {
  const socket = await openUdpSocket({ ...options, ...more, address, port });
  return new Collector(socket);
}

/** one turn of the event loop, so queued sends leave and received ones come in */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
