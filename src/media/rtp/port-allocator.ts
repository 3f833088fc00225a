/**
 * UDP ports for RTP/RTCP from a configured range. RTP gets an even port and RTCP the next odd one
 * (RFC 3550 §11; RFC 3605 lets SDP say otherwise, but peers still assume +1); with rtcp-mux
 * (RFC 5761) only the even port is bound. Ports other programs hold are skipped, not fatal: the
 * allocator binds and moves on at EADDRINUSE. It starts at a random slot so that restarts and
 * parallel processes do not all fight over the bottom of the range.
 */
import { InvalidInputError, UnavailableError, describeError } from '../../lib/index.js';
import { openUdpSocket, type UdpEngine, type UdpSocket } from '../../platform/index.js';

/** Every port of the range is taken (by us or by others). */
export class MediaPortsExhaustedError extends UnavailableError {
  constructor(
    readonly minPort: number,
    readonly maxPort: number,
    readonly bindAddress: string,
  ) {
    super(`no free RTP port pair in ${minPort}-${maxPort} on ${bindAddress}`);
  }
}

export type AddressFamily = 'IPv4' | 'IPv6';

/** Binds one UDP socket; replaced in unit tests. Rejects with an error whose `code` (or its cause's) is read. */
export type UdpBinder = (family: AddressFamily, address: string, port: number) => Promise<UdpSocket>;

export interface PortAllocatorOptions {
  /** lowest port, default 20000 */
  minPort?: number;
  /** highest port, default 45000 */
  maxPort?: number;
  /** random source in [0, 1) for the starting slot, default Math.random */
  random?: () => number;
  bind?: UdpBinder;
  /** kernel receive/send buffers for sockets the default binder creates (default 1 MiB) */
  socketBufferSize?: number;
  /** the default binder's socket engine (default 'auto': native when its addon is built) */
  engine?: UdpEngine | 'auto';
}

export interface AllocateRequest {
  family: AddressFamily;
  /** address to bind, default the wildcard of the family */
  address?: string;
  /** RFC 5761: one port for RTP and RTCP */
  rtcpMux?: boolean;
}

/** Ports handed out; release() closes the sockets (idempotent) and returns the ports. */
export interface PortLease {
  readonly family: AddressFamily;
  readonly address: string;
  readonly rtpPort: number;
  readonly rtcpPort: number | undefined;
  readonly rtpSocket: UdpSocket;
  readonly rtcpSocket: UdpSocket | undefined;
  release(): void;
}

/** errors that mean "this port, not the address": try the next one */
const PORT_TAKEN = new Set(['EADDRINUSE', 'EACCES']);

function errorCode(err: unknown): string | undefined {
  // the platform wraps the system error: its code is on the cause
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if ('code' in e && typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return e.code;
  }
  return undefined;
}

function defaultBinder(bufferSize: number, engine: UdpEngine | 'auto'): UdpBinder {
  // a media port is never shared (no SO_REUSEPORT): a cluster worker must not share one with another
  return (_family, address, port) => openUdpSocket({ address, port, recvBufferSize: bufferSize, sendBufferSize: bufferSize, engine });
}

function closeQuietly(socket: UdpSocket | undefined): void {
  socket?.close().catch(() => undefined);
}

export class PortAllocator {
  readonly minPort: number;
  readonly maxPort: number;
  private readonly random: () => number;
  private readonly bind: UdpBinder;
  /** ports held by live leases (and by allocations in flight, so two never race for one) */
  private readonly held = new Set<number>();

  constructor(options: PortAllocatorOptions = {}) {
    this.minPort = options.minPort ?? 20000;
    this.maxPort = options.maxPort ?? 45000;
    if (!Number.isInteger(this.minPort) || !Number.isInteger(this.maxPort) || this.minPort < 1 || this.maxPort > 65535 || this.maxPort <= this.minPort) {
      throw new InvalidInputError(`RTP port range ${this.minPort}-${this.maxPort} is not a range of at least two ports within 1-65535`);
    }
    this.random = options.random ?? Math.random;
    this.bind = options.bind ?? defaultBinder(options.socketBufferSize ?? 1024 * 1024, options.engine ?? 'auto');
  }

  /** number of ports (RTP and RTCP each count) held by live leases */
  inUse(): number {
    return this.held.size;
  }

  /** even ports p with p+1 still in range: the slots a pair can take */
  private get slotCount(): number {
    const firstEven = this.minPort + (this.minPort % 2);
    return firstEven + 1 > this.maxPort ? 0 : Math.floor((this.maxPort - 1 - firstEven) / 2) + 1;
  }

  async allocate(request: AllocateRequest): Promise<PortLease> {
    const address = request.address ?? (request.family === 'IPv6' ? '::' : '0.0.0.0');
    const mux = request.rtcpMux === true;
    const slots = this.slotCount;
    const firstEven = this.minPort + (this.minPort % 2);
    const start = Math.floor(this.random() * slots) % Math.max(1, slots);
    for (let i = 0; i < slots; i++) {
      const rtpPort = firstEven + ((start + i) % slots) * 2;
      const rtcpPort = mux ? undefined : rtpPort + 1;
      if (this.held.has(rtpPort) || (rtcpPort !== undefined && this.held.has(rtcpPort))) continue;
      this.held.add(rtpPort);
      if (rtcpPort !== undefined) this.held.add(rtcpPort);
      const sockets = await this.tryBind(request.family, address, rtpPort, rtcpPort);
      if (sockets === undefined) {
        this.held.delete(rtpPort);
        if (rtcpPort !== undefined) this.held.delete(rtcpPort);
        continue;
      }
      return this.lease(request.family, address, rtpPort, rtcpPort, sockets.rtp, sockets.rtcp);
    }
    throw new MediaPortsExhaustedError(this.minPort, this.maxPort, address);
  }

  /** both sockets, or undefined when one port is taken; other bind errors (bad address) reject */
  private async tryBind(
    family: AddressFamily,
    address: string,
    rtpPort: number,
    rtcpPort: number | undefined,
  ): Promise<{ rtp: UdpSocket; rtcp: UdpSocket | undefined } | undefined> {
    let rtp: UdpSocket | undefined;
    try {
      rtp = await this.bind(family, address, rtpPort);
      const rtcp = rtcpPort === undefined ? undefined : await this.bind(family, address, rtcpPort);
      return { rtp, rtcp };
    } catch (err) {
      closeQuietly(rtp);
      if (PORT_TAKEN.has(errorCode(err) ?? '')) return undefined;
      this.held.delete(rtpPort);
      if (rtcpPort !== undefined) this.held.delete(rtcpPort);
      throw new UnavailableError(`cannot bind RTP socket on ${address}:${rtpPort}: ${describeError(err)}`, { cause: err });
    }
  }

  private lease(
    family: AddressFamily,
    address: string,
    rtpPort: number,
    rtcpPort: number | undefined,
    rtpSocket: UdpSocket,
    rtcpSocket: UdpSocket | undefined,
  ): PortLease {
    let released = false;
    return {
      family,
      address,
      rtpPort,
      rtcpPort,
      rtpSocket,
      rtcpSocket,
      release: () => {
        if (released) return;
        released = true;
        closeQuietly(rtpSocket);
        closeQuietly(rtcpSocket);
        this.held.delete(rtpPort);
        if (rtcpPort !== undefined) this.held.delete(rtcpPort);
      },
    };
  }
}
