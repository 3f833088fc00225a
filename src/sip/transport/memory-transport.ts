/**
 * In-memory transports for unit tests of the layers above (STYLE.md §5): a hub delivers what one
 * endpoint sends to the endpoint bound at the target address, asynchronously (a microtask, never a
 * timer), with connection ids for the reliable protocols so "respond over the same connection"
 * logic can be exercised without sockets.
 */
import { ClosedError, TypedEmitter, UnavailableError } from '../../lib/index.js';
import {
  isReliable,
  messageBytes,
  type InboundPacket,
  type OutboundTarget,
  type SipTransport,
  type SipTransportEventMap,
  type TransportAddress,
  type TransportProtocol,
} from './types.js';

function key(a: { protocol: TransportProtocol; address: string; port: number }): string {
  return `${a.protocol}|${a.address}|${a.port}`;
}

interface MemoryConnection {
  id: string;
  ends: [MemoryTransport, MemoryTransport];
}

/** A sent message as seen by the hub, for assertions. */
export interface MemorySend {
  from: TransportAddress;
  target: OutboundTarget;
  data: Buffer;
  delivered: boolean;
}

export class MemoryHub {
  private readonly endpoints = new Map<string, MemoryTransport>();
  private readonly connections = new Map<string, MemoryConnection>();
  private readonly connectionByPair = new Map<string, MemoryConnection>();
  private seq = 0;
  private nextPort = 40_000;
  /** every send, in order */
  readonly log: MemorySend[] = [];
  /** return true to drop a message (loss, partitions) */
  dropFilter: ((from: TransportAddress, target: OutboundTarget, data: Buffer) => boolean) | undefined;

  /** binds a transport at an address; port 0 picks a free one */
  transport(local: { protocol: TransportProtocol; address?: string; port?: number }): MemoryTransport {
    const address = { protocol: local.protocol, address: local.address ?? '127.0.0.1', port: local.port || this.nextPort++ };
    if (this.endpoints.has(key(address))) throw new UnavailableError(`address in use: ${key(address)}`);
    const t = new MemoryTransport(this, address);
    this.endpoints.set(key(address), t);
    return t;
  }

  /** @internal */
  deliver(from: MemoryTransport, target: OutboundTarget, data: Buffer): void {
    const entry: MemorySend = { from: from.local, target, data, delivered: false };
    this.log.push(entry);
    let conn: MemoryConnection | undefined;
    let peer: MemoryTransport | undefined;
    if (target.connectionId !== undefined) {
      conn = this.connections.get(target.connectionId);
      if (conn !== undefined) peer = conn.ends[0] === from ? conn.ends[1] : conn.ends[0];
    }
    if (peer === undefined) peer = this.endpoints.get(key(target));
    if (peer === undefined || peer.isClosed) throw new UnavailableError(`nothing listens at ${key(target)}`);
    if (isReliable(from.protocol) && conn === undefined) conn = this.connectionBetween(from, peer);
    if (this.dropFilter?.(from.local, target, data) === true) return;
    entry.delivered = true;
    const packet: InboundPacket = { data, source: from.local, local: peer.local, connectionId: conn?.id, framingError: undefined };
    const receiver = peer;
    queueMicrotask(() => receiver.receive(packet));
  }

  /** closes a connection: both ends see connectionClosed */
  closeConnection(id: string, reason = 'closed'): void {
    const conn = this.connections.get(id);
    if (conn === undefined) return;
    this.connections.delete(id);
    this.connectionByPair.delete(this.pairKey(conn.ends[0], conn.ends[1]));
    for (const end of conn.ends) end.emit('connectionClosed', id, reason);
  }

  /** @internal */
  connectionCountOf(t: MemoryTransport): number {
    let n = 0;
    for (const c of this.connections.values()) if (c.ends.includes(t)) n++;
    return n;
  }

  /** @internal */
  unbind(t: MemoryTransport): void {
    for (const c of [...this.connections.values()]) if (c.ends.includes(t)) this.closeConnection(c.id, 'transport closed');
    this.endpoints.delete(key(t.local));
  }

  private pairKey(a: MemoryTransport, b: MemoryTransport): string {
    const [x, y] = [key(a.local), key(b.local)].sort();
    return `${x}<>${y}`;
  }

  private connectionBetween(a: MemoryTransport, b: MemoryTransport): MemoryConnection {
    const pk = this.pairKey(a, b);
    let conn = this.connectionByPair.get(pk);
    if (conn === undefined) {
      conn = { id: `mem-${a.protocol}-${++this.seq}`, ends: [a, b] };
      this.connections.set(conn.id, conn);
      this.connectionByPair.set(pk, conn);
    }
    return conn;
  }
}

export class MemoryTransport extends TypedEmitter<SipTransportEventMap> implements SipTransport {
  readonly protocol: TransportProtocol;
  private closed = false;

  constructor(
    private readonly hub: MemoryHub,
    readonly local: TransportAddress,
  ) {
    super();
    this.protocol = local.protocol;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get connectionCount(): number {
    return this.hub.connectionCountOf(this);
  }

  send(target: OutboundTarget, data: Buffer | string): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('memory transport is closed'));
    try {
      this.hub.deliver(this, target, messageBytes(data));
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new UnavailableError(String(err)));
    }
  }

  /** @internal called by the hub */
  receive(packet: InboundPacket): void {
    if (!this.closed) this.emit('message', packet);
  }

  stopAccepting(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.hub.unbind(this);
    }
    return Promise.resolve();
  }
}

/** two transports of one protocol on a fresh hub, at 127.0.0.1:5060 and 127.0.0.2:5060 */
export function createMemoryPair(protocol: TransportProtocol = 'udp'): { hub: MemoryHub; a: MemoryTransport; b: MemoryTransport } {
  const hub = new MemoryHub();
  return { hub, a: hub.transport({ protocol, address: '127.0.0.1', port: 5060 }), b: hub.transport({ protocol, address: '127.0.0.2', port: 5060 }) };
}
