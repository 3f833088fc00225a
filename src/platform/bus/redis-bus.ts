import { Redis } from 'ioredis';
import {
  ClosedError,
  InvalidInputError,
  NotFoundError,
  SystemScheduler,
  TimeoutError,
  TypedEmitter,
  UnavailableError,
  describeError,
  silentLogger,
  type Listener,
  type Logger,
  type Scheduler,
} from '../../lib/index.js';
import type {
  AppendOptions,
  Bus,
  BusEvents,
  ClaimOptions,
  GroupStart,
  MessageHandler,
  ReadGroupOptions,
  SetOptions,
  StreamEntry,
  Subscription,
} from './bus.js';

/**
 * The Redis bus for many-machine setups: streams (XADD/XREADGROUP/XACK/XAUTOCLAIM), pub/sub and
 * plain keys (SET PX, INCR, SCAN).
 *
 * Three kinds of connection, because each would starve the others: one for ordinary commands,
 * one in subscriber mode, and one per blocking consumer (XREADGROUP BLOCK holds its socket).
 *
 * Outages: the offline queue is off and in-flight commands are not retried, so while Redis is
 * down every call rejects at once with UnavailableError instead of piling up or hanging. ioredis
 * keeps reconnecting in the background; when the command and subscriber connections are both
 * back (and topics re-subscribed) the bus emits 'connected' again.
 */
export interface RedisBusOptions {
  /** redis:// or rediss:// URL */
  url: string;
  logger?: Logger;
  scheduler?: Scheduler;
  /** TCP connect timeout per attempt; default 2000 ms */
  connectTimeoutMs?: number;
  /** ceiling of the reconnect back-off; default 1000 ms */
  maxReconnectDelayMs?: number;
}

type Conn = Redis;

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable redis url)';
  }
}

function asString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return String(v);
}

/** [[id, [f, v, f, v]], ...] -> entries; nil entries (deleted while pending) are skipped */
function parseEntries(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw)) return [];
  const out: StreamEntry[] = [];
  for (const item of raw as unknown[]) {
    if (!Array.isArray(item) || item.length < 2 || !Array.isArray(item[1])) continue;
    const flat = item[1] as unknown[];
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[asString(flat[i])] = asString(flat[i + 1]);
    out.push({ id: asString(item[0]), fields });
  }
  return out;
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => '\\' + c);
}

export class RedisBus implements Bus {
  readonly kind = 'redis' as const;
  private readonly log: Logger;
  private readonly scheduler: Scheduler;
  private readonly events: TypedEmitter<BusEvents>;
  private readonly safeUrl: string;
  private readonly cmd: Conn;
  private readonly sub: Conn;
  private readonly blocking = new Map<string, Conn>();
  private readonly handlers = new Map<string, Set<MessageHandler>>();
  private cmdReady = false;
  private subReady = false;
  private isConnected = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private lastError: string | undefined;

  constructor(private readonly opts: RedisBusOptions) {
    this.log = (opts.logger ?? silentLogger).child({ component: 'redis-bus' });
    this.scheduler = opts.scheduler ?? new SystemScheduler();
    this.events = new TypedEmitter<BusEvents>((err, event) => this.log.error({ err, event }, 'bus listener threw'));
    this.safeUrl = redact(opts.url);
    this.cmd = this.open('command');
    this.sub = this.open('subscriber');
    this.cmd.on('ready', () => {
      this.cmdReady = true;
      this.update();
    });
    this.cmd.on('close', () => {
      this.cmdReady = false;
      this.update();
    });
    this.sub.on('ready', () => this.resubscribe());
    this.sub.on('close', () => {
      this.subReady = false;
      this.update();
    });
    this.sub.on('message', (channel: string, message: string) => this.dispatch(channel, message));
    // the first attempt may fail; retryStrategy keeps trying, so the rejection is only logged
    this.cmd.connect().catch(() => {});
    this.sub.connect().catch(() => {});
  }

  get connected(): boolean {
    return this.isConnected;
  }

  on<K extends keyof BusEvents>(event: K, listener: Listener<BusEvents[K]>): () => void {
    return this.events.on(event, listener);
  }

  whenConnected(timeoutMs = 5000): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('bus is closed'));
    if (this.isConnected) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const off = this.events.on('connected', () => {
        timer.cancel();
        off();
        resolve();
      });
      const timer = this.scheduler.setTimeout(() => {
        off();
        reject(new TimeoutError(`Redis bus at ${this.safeUrl} not connected after ${timeoutMs} ms${this.lastError === undefined ? '' : `: ${this.lastError}`}`));
      }, timeoutMs);
    });
  }

  // --- pub/sub

  async publish(topic: string, message: string): Promise<void> {
    await this.call('publish', () => this.cmd.call('PUBLISH', [topic, message]));
  }

  /** subscribers on other nodes are invisible without a PUBSUB NUMSUB round trip: assume some */
  hasSubscribers(_topic: string): boolean {
    return true;
  }

  async subscribe(topic: string, handler: MessageHandler): Promise<Subscription> {
    this.assertOpen();
    if (!this.subReady) throw this.unavailable('subscribe');
    const own: MessageHandler = (m, t) => handler(m, t);
    let set = this.handlers.get(topic);
    const first = set === undefined;
    if (set === undefined) {
      set = new Set();
      this.handlers.set(topic, set);
    }
    set.add(own);
    if (first) {
      try {
        await this.sub.subscribe(topic);
      } catch (err) {
        set.delete(own);
        if (set.size === 0) this.handlers.delete(topic);
        throw this.mapError('subscribe', err);
      }
    }
    return {
      topic,
      unsubscribe: async () => {
        const s = this.handlers.get(topic);
        if (s === undefined || !s.delete(own) || s.size > 0) return;
        this.handlers.delete(topic);
        // when the link is down there is nothing to undo: we will not re-subscribe it
        if (this.subReady && !this.closed) await this.sub.unsubscribe(topic).catch(() => {});
      },
    };
  }

  // --- streams

  async append(stream: string, fields: Record<string, string>, options: AppendOptions = {}): Promise<string> {
    const args: (string | number)[] = [stream];
    if (options.maxLen !== undefined) args.push('MAXLEN', Math.max(0, options.maxLen));
    args.push('*');
    for (const [k, v] of Object.entries(fields)) args.push(k, v);
    if (args[args.length - 1] === '*') throw new InvalidInputError('a stream entry needs at least one field');
    return asString(await this.call('append', () => this.cmd.call('XADD', args)));
  }

  async createGroup(stream: string, group: string, startAt: GroupStart): Promise<void> {
    try {
      await this.call('createGroup', () => this.cmd.call('XGROUP', ['CREATE', stream, group, startAt, 'MKSTREAM']));
    } catch (err) {
      // idempotent: an existing group is fine
      if (err instanceof InvalidInputError && /BUSYGROUP/.test(describeError(err))) return;
      throw err;
    }
  }

  async readGroup(stream: string, group: string, consumer: string, options: ReadGroupOptions = {}): Promise<StreamEntry[]> {
    const count = Math.max(1, options.count ?? 10);
    const blockMs = options.blockMs ?? 0;
    const args: (string | number)[] = ['GROUP', group, consumer, 'COUNT', count];
    if (blockMs > 0) args.push('BLOCK', Math.ceil(blockMs));
    args.push('STREAMS', stream, '>');
    if (blockMs <= 0) {
      return this.parseRead(await this.call('readGroup', () => this.cmd.call('XREADGROUP', args)));
    }
    this.assertOpen();
    const conn = await this.blockingConn(`${stream}\n${group}\n${consumer}`);
    return this.parseRead(await this.call('readGroup', () => conn.call('XREADGROUP', args), conn));
  }

  async ack(stream: string, group: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return Number(await this.call('ack', () => this.cmd.call('XACK', [stream, group, ...ids])));
  }

  async claimIdle(stream: string, group: string, consumer: string, options: ClaimOptions): Promise<StreamEntry[]> {
    const count = Math.max(1, options.count ?? 10);
    const minIdle = Math.max(0, Math.floor(options.minIdleMs));
    const reply = await this.call('claimIdle', () => this.cmd.call('XAUTOCLAIM', [stream, group, consumer, minIdle, '0-0', 'COUNT', count]));
    // Redis 7: [next-cursor, entries, deleted-ids]
    return Array.isArray(reply) ? parseEntries(reply[1]) : [];
  }

  async trim(stream: string, maxLen: number): Promise<number> {
    return Number(await this.call('trim', () => this.cmd.call('XTRIM', [stream, 'MAXLEN', Math.max(0, maxLen)])));
  }

  async streamLength(stream: string): Promise<number> {
    return Number(await this.call('streamLength', () => this.cmd.call('XLEN', [stream])));
  }

  // --- key/value

  async get(key: string): Promise<string | undefined> {
    const v = await this.call('get', () => this.cmd.call('GET', [key]));
    return v === null || v === undefined ? undefined : asString(v);
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<void> {
    const args: (string | number)[] = [key, value];
    if (options.ttlMs !== undefined) {
      if (!(options.ttlMs > 0)) throw new InvalidInputError(`ttlMs must be positive, got ${options.ttlMs}`);
      args.push('PX', Math.ceil(options.ttlMs));
    }
    await this.call('set', () => this.cmd.call('SET', args));
  }

  async delete(key: string): Promise<boolean> {
    return Number(await this.call('delete', () => this.cmd.call('DEL', [key]))) > 0;
  }

  async scan(prefix: string): Promise<string[]> {
    const pattern = escapeGlob(prefix) + '*';
    const keys = new Set<string>();
    let cursor = '0';
    do {
      const reply = await this.call('scan', () => this.cmd.call('SCAN', [cursor, 'MATCH', pattern, 'COUNT', 1000]));
      if (!Array.isArray(reply)) break;
      cursor = asString(reply[0]);
      for (const k of (Array.isArray(reply[1]) ? reply[1] : []) as unknown[]) keys.add(asString(k));
    } while (cursor !== '0');
    return [...keys].sort();
  }

  async incr(key: string, by = 1): Promise<number> {
    if (!Number.isInteger(by)) throw new InvalidInputError(`incr by ${by}: not an integer`);
    return Number(await this.call('incr', () => this.cmd.call('INCRBY', [key, by])));
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // --- internals

  private async shutdown(): Promise<void> {
    this.closed = true;
    const conns = [this.cmd, this.sub, ...this.blocking.values()];
    this.blocking.clear();
    this.handlers.clear();
    // disconnect() (not quit) so a blocked XREADGROUP is cut now rather than after its timeout
    for (const c of conns) c.disconnect();
    const wasConnected = this.isConnected;
    this.isConnected = false;
    if (wasConnected) this.events.emit('disconnected', 'closed');
    this.events.removeAllListeners();
  }

  private open(role: string): Conn {
    const maxDelay = this.opts.maxReconnectDelayMs ?? 1000;
    const conn = new Redis(this.opts.url, {
      enableOfflineQueue: false,
      // in-flight commands fail as soon as the socket drops instead of waiting for a reconnect
      maxRetriesPerRequest: 0,
      retryStrategy: (times: number) => Math.min(50 * times, maxDelay),
      connectTimeout: this.opts.connectTimeoutMs ?? 2000,
      // RESP2: plain array replies for X* commands and the classic subscriber mode
      protocol: 2,
      // we re-subscribe ourselves so we know when subscriptions are live again
      autoResubscribe: false,
      lazyConnect: true,
    });
    // without an 'error' listener ioredis would surface every failed reconnect as an
    // unhandled 'error' event; the outage is reported once through 'disconnected'
    conn.on('error', (err: Error) => {
      const msg = describeError(err);
      if (msg !== this.lastError) this.log.debug({ role, err: msg }, 'redis connection error');
      this.lastError = msg;
    });
    return conn;
  }

  private async blockingConn(key: string): Promise<Conn> {
    let conn = this.blocking.get(key);
    if (conn === undefined) {
      // no point opening a socket to a Redis we already know is down
      if (!this.isConnected) throw this.unavailable('readGroup');
      conn = this.open('blocking');
      this.blocking.set(key, conn);
      try {
        await conn.connect();
      } catch (err) {
        this.blocking.delete(key);
        conn.disconnect();
        throw this.mapError('readGroup', err);
      }
      if (this.closed) {
        conn.disconnect();
        throw new ClosedError('bus is closed');
      }
      return conn;
    }
    if (conn.status === 'ready') return conn;
    if (!this.isConnected) throw this.unavailable('readGroup');
    // Redis is back but this connection's own reconnect has not finished yet: wait briefly
    const c = conn;
    await new Promise<void>((resolve, reject) => {
      const onReady = (): void => {
        timer.cancel();
        resolve();
      };
      const timer = this.scheduler.setTimeout(() => {
        c.off('ready', onReady);
        reject(this.unavailable('readGroup'));
      }, this.opts.connectTimeoutMs ?? 2000);
      c.once('ready', onReady);
    });
    return c;
  }

  private async call<T>(what: string, fn: () => Promise<T>, conn: Conn = this.cmd): Promise<T> {
    this.assertOpen();
    if (conn === this.cmd ? !this.cmdReady : conn.status !== 'ready') throw this.unavailable(what);
    try {
      return await fn();
    } catch (err) {
      throw this.mapError(what, err);
    }
  }

  private parseRead(reply: unknown): StreamEntry[] {
    // [[stream, entries]] or null when BLOCK timed out
    if (!Array.isArray(reply) || reply.length === 0) return [];
    const first = reply[0] as unknown;
    return Array.isArray(first) ? parseEntries(first[1]) : [];
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('bus is closed');
  }

  private unavailable(what: string, cause?: unknown): UnavailableError {
    const why = cause !== undefined ? describeError(cause) : (this.lastError ?? 'not connected');
    return new UnavailableError(`Redis bus at ${this.safeUrl} is unavailable (${what}): ${why}; reconnecting in the background`, { cause });
  }

  private mapError(what: string, err: unknown): Error {
    if (this.closed) return new ClosedError('bus is closed', { cause: err });
    if (err instanceof Error && err.name === 'ReplyError') {
      const msg = err.message;
      if (msg.startsWith('NOGROUP')) return new NotFoundError(`${what}: ${msg}`, { cause: err });
      return new InvalidInputError(`${what}: ${msg}`, 400, 400, { cause: err });
    }
    if (err instanceof ClosedError || err instanceof UnavailableError) return err;
    return this.unavailable(what, err);
  }

  private resubscribe(): void {
    const topics = [...this.handlers.keys()];
    const done = (): void => {
      this.subReady = true;
      this.update();
    };
    if (topics.length === 0) {
      done();
      return;
    }
    this.sub.subscribe(...topics).then(done, (err: unknown) => {
      // the connection dropped again while re-subscribing; the next 'ready' retries
      this.log.warn({ err: describeError(err), topics: topics.length }, 're-subscribe failed');
    });
  }

  private dispatch(topic: string, message: string): void {
    const set = this.handlers.get(topic);
    if (set === undefined) return;
    for (const handler of [...set]) {
      try {
        handler(message, topic);
      } catch (err) {
        this.log.error({ err, topic }, 'subscriber threw');
      }
    }
  }

  private update(): void {
    const now = !this.closed && this.cmdReady && this.subReady;
    if (now === this.isConnected) return;
    this.isConnected = now;
    if (now) {
      this.log.info({ url: this.safeUrl }, 'redis bus connected');
      this.lastError = undefined;
      this.events.emit('connected');
    } else {
      const reason = this.lastError ?? 'connection lost';
      this.log.warn({ url: this.safeUrl, reason }, 'redis bus disconnected');
      this.events.emit('disconnected', reason);
    }
  }
}

export function createRedisBus(options: RedisBusOptions): RedisBus {
  return new RedisBus(options);
}
