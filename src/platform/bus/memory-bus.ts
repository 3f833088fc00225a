import {
  ClosedError,
  InvalidInputError,
  NotFoundError,
  SystemScheduler,
  TypedEmitter,
  silentLogger,
  type Listener,
  type Logger,
  type Scheduler,
  type TimerHandle,
} from '../../lib/index.js';
import {
  compareStreamIds,
  type AppendOptions,
  type Bus,
  type BusEvents,
  type ClaimOptions,
  type GroupStart,
  type MessageHandler,
  type ReadGroupOptions,
  type SetOptions,
  type StreamEntry,
  type Subscription,
} from './bus.js';

/**
 * The in-process bus for the one-machine setup and unit tests. It mirrors Redis semantics
 * (ids "<ms>-<seq>", pending entries per group, idle time since last delivery, INCR keeping
 * the TTL) so code tested here behaves the same against Redis. All time comes from the
 * injected Scheduler: TTLs, idle times, blocking-read deadlines.
 */
export interface MemoryBusOptions {
  scheduler?: Scheduler;
  logger?: Logger;
}

interface Entry {
  id: string;
  ms: number;
  seq: number;
  fields: Record<string, string>;
}

interface Pending {
  consumer: string;
  deliveredAt: number;
}

interface Group {
  lastDelivered: string;
  pending: Map<string, Pending>;
}

interface Stream {
  entries: Entry[];
  lastMs: number;
  lastSeq: number;
  groups: Map<string, Group>;
  waiters: Set<() => void>;
}

interface KvItem {
  value: string;
  timer: TimerHandle | undefined;
}

export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly scheduler: Scheduler;
  private readonly log: Logger;
  private readonly events: TypedEmitter<BusEvents>;
  private readonly topics = new Map<string, Set<MessageHandler>>();
  private readonly streams = new Map<string, Stream>();
  private readonly kv = new Map<string, KvItem>();
  private readonly blocked = new Set<() => void>();
  private closed = false;

  constructor(options: MemoryBusOptions = {}) {
    this.scheduler = options.scheduler ?? new SystemScheduler();
    this.log = (options.logger ?? silentLogger).child({ component: 'memory-bus' });
    this.events = new TypedEmitter<BusEvents>((err, event) => this.log.error({ err, event }, 'bus listener threw'));
  }

  get connected(): boolean {
    return !this.closed;
  }

  on<K extends keyof BusEvents>(event: K, listener: Listener<BusEvents[K]>): () => void {
    return this.events.on(event, listener);
  }

  async whenConnected(): Promise<void> {
    this.assertOpen();
  }

  // --- pub/sub

  async publish(topic: string, message: string): Promise<void> {
    this.assertOpen();
    const handlers = this.topics.get(topic);
    if (handlers === undefined) return;
    // delivered on a later tick, like Redis: a handler never runs inside publish()
    for (const handler of [...handlers]) {
      queueMicrotask(() => {
        if (this.closed || !handlers.has(handler)) return;
        try {
          handler(message, topic);
        } catch (err) {
          this.log.error({ err, topic }, 'subscriber threw');
        }
      });
    }
  }

  /** every subscriber of the in-process bus is in this map, so the answer is exact */
  hasSubscribers(topic: string): boolean {
    return this.topics.has(topic);
  }

  async subscribe(topic: string, handler: MessageHandler): Promise<Subscription> {
    this.assertOpen();
    let set = this.topics.get(topic);
    if (set === undefined) {
      set = new Set();
      this.topics.set(topic, set);
    }
    // the same function may subscribe twice: wrap so each subscription is removable on its own
    const own: MessageHandler = (m, t) => handler(m, t);
    set.add(own);
    return {
      topic,
      unsubscribe: async () => {
        const s = this.topics.get(topic);
        s?.delete(own);
        if (s?.size === 0) this.topics.delete(topic);
      },
    };
  }

  // --- streams

  async append(stream: string, fields: Record<string, string>, options: AppendOptions = {}): Promise<string> {
    this.assertOpen();
    const s = this.streamFor(stream);
    const now = Math.floor(this.scheduler.wallNow());
    // ids never go backwards, even if the wall clock does
    if (now > s.lastMs) {
      s.lastMs = now;
      s.lastSeq = 0;
    } else {
      s.lastSeq++;
    }
    const entry: Entry = { id: `${s.lastMs}-${s.lastSeq}`, ms: s.lastMs, seq: s.lastSeq, fields: { ...fields } };
    s.entries.push(entry);
    if (options.maxLen !== undefined) this.trimStream(s, options.maxLen);
    for (const wake of [...s.waiters]) wake();
    return entry.id;
  }

  async createGroup(stream: string, group: string, startAt: GroupStart): Promise<void> {
    this.assertOpen();
    const s = this.streamFor(stream);
    if (s.groups.has(group)) return;
    const last = s.entries[s.entries.length - 1];
    const lastDelivered = startAt === '$' ? (last?.id ?? '0-0') : startAt === '0' ? '0-0' : startAt;
    s.groups.set(group, { lastDelivered, pending: new Map() });
  }

  async readGroup(stream: string, group: string, consumer: string, options: ReadGroupOptions = {}): Promise<StreamEntry[]> {
    this.assertOpen();
    const count = Math.max(1, options.count ?? 10);
    const first = this.deliver(stream, group, consumer, count);
    const blockMs = options.blockMs ?? 0;
    if (first.length > 0 || blockMs <= 0) return first;
    const s = this.streams.get(stream) as Stream;
    return new Promise<StreamEntry[]>((resolve, reject) => {
      const finish = (): void => {
        timer.cancel();
        s.waiters.delete(wake);
        this.blocked.delete(abort);
      };
      const wake = (): void => {
        let got: StreamEntry[];
        try {
          got = this.deliver(stream, group, consumer, count);
        } catch (err) {
          finish();
          reject(err as Error);
          return;
        }
        if (got.length === 0) return;
        finish();
        resolve(got);
      };
      const abort = (): void => {
        finish();
        reject(new ClosedError('bus closed during a blocking read'));
      };
      const timer = this.scheduler.setTimeout(() => {
        finish();
        resolve([]);
      }, blockMs);
      s.waiters.add(wake);
      this.blocked.add(abort);
    });
  }

  async ack(stream: string, group: string, ids: readonly string[]): Promise<number> {
    this.assertOpen();
    const g = this.streams.get(stream)?.groups.get(group);
    if (g === undefined) return 0;
    let n = 0;
    for (const id of ids) if (g.pending.delete(id)) n++;
    return n;
  }

  async claimIdle(stream: string, group: string, consumer: string, options: ClaimOptions): Promise<StreamEntry[]> {
    this.assertOpen();
    const s = this.streams.get(stream);
    const g = s?.groups.get(group);
    if (s === undefined || g === undefined) throw new NotFoundError(`no consumer group "${group}" on stream "${stream}"`);
    const count = Math.max(1, options.count ?? 10);
    const now = this.scheduler.now();
    const byId = new Map(s.entries.map((e) => [e.id, e]));
    const out: StreamEntry[] = [];
    const ids = [...g.pending.keys()].sort(compareStreamIds);
    for (const id of ids) {
      if (out.length >= count) break;
      const p = g.pending.get(id) as Pending;
      if (now - p.deliveredAt < options.minIdleMs) continue;
      const entry = byId.get(id);
      if (entry === undefined) {
        // trimmed away while pending: Redis 7 drops it from the PEL the same way
        g.pending.delete(id);
        continue;
      }
      g.pending.set(id, { consumer, deliveredAt: now });
      out.push({ id, fields: { ...entry.fields } });
    }
    return out;
  }

  async trim(stream: string, maxLen: number): Promise<number> {
    this.assertOpen();
    const s = this.streams.get(stream);
    return s === undefined ? 0 : this.trimStream(s, maxLen);
  }

  async streamLength(stream: string): Promise<number> {
    this.assertOpen();
    return this.streams.get(stream)?.entries.length ?? 0;
  }

  // --- key/value

  async get(key: string): Promise<string | undefined> {
    this.assertOpen();
    return this.kv.get(key)?.value;
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<void> {
    this.assertOpen();
    const timer = this.expiry(key, options.ttlMs);
    this.kv.get(key)?.timer?.cancel();
    this.kv.set(key, { value, timer });
  }

  async delete(key: string): Promise<boolean> {
    this.assertOpen();
    const item = this.kv.get(key);
    if (item === undefined) return false;
    item.timer?.cancel();
    this.kv.delete(key);
    return true;
  }

  async scan(prefix: string): Promise<string[]> {
    this.assertOpen();
    return [...this.kv.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  async incr(key: string, by = 1): Promise<number> {
    this.assertOpen();
    if (!Number.isInteger(by)) throw new InvalidInputError(`incr by ${by}: not an integer`);
    const item = this.kv.get(key);
    const current = item === undefined ? 0 : Number(item.value);
    if (item !== undefined && !/^-?\d+$/.test(item.value)) {
      throw new InvalidInputError(`value of "${key}" is not an integer`);
    }
    const next = current + by;
    if (item === undefined) this.kv.set(key, { value: String(next), timer: undefined });
    else item.value = String(next);
    return next;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const abort of [...this.blocked]) abort();
    for (const item of this.kv.values()) item.timer?.cancel();
    this.kv.clear();
    this.topics.clear();
    this.streams.clear();
    this.events.emit('disconnected', 'closed');
    this.events.removeAllListeners();
  }

  // --- internals

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('bus is closed');
  }

  private streamFor(name: string): Stream {
    let s = this.streams.get(name);
    if (s === undefined) {
      s = { entries: [], lastMs: 0, lastSeq: 0, groups: new Map(), waiters: new Set() };
      this.streams.set(name, s);
    }
    return s;
  }

  private deliver(stream: string, group: string, consumer: string, count: number): StreamEntry[] {
    const s = this.streams.get(stream);
    const g = s?.groups.get(group);
    if (s === undefined || g === undefined) throw new NotFoundError(`no consumer group "${group}" on stream "${stream}"`);
    const out: StreamEntry[] = [];
    const now = this.scheduler.now();
    for (const e of s.entries) {
      if (out.length >= count) break;
      if (compareStreamIds(e.id, g.lastDelivered) <= 0) continue;
      g.lastDelivered = e.id;
      g.pending.set(e.id, { consumer, deliveredAt: now });
      out.push({ id: e.id, fields: { ...e.fields } });
    }
    return out;
  }

  private trimStream(s: Stream, maxLen: number): number {
    const excess = s.entries.length - Math.max(0, maxLen);
    if (excess <= 0) return 0;
    s.entries.splice(0, excess);
    return excess;
  }

  private expiry(key: string, ttlMs: number | undefined): TimerHandle | undefined {
    if (ttlMs === undefined) return undefined;
    if (!(ttlMs > 0)) throw new InvalidInputError(`ttlMs must be positive, got ${ttlMs}`);
    const timer = this.scheduler.setTimeout(() => {
      if (this.kv.get(key)?.timer === timer) this.kv.delete(key);
    }, ttlMs);
    return timer;
  }
}

export function createMemoryBus(options: MemoryBusOptions = {}): MemoryBus {
  return new MemoryBus(options);
}
