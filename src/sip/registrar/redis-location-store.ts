/**
 * The Redis LocationStore: several SIP nodes share one registration set (DESIGN.md: a node can
 * die without losing registrations).
 *
 * Layout under `keyPrefix` (default `opencx:loc:`):
 *   aor:<aor>  JSON {"version":N,"bindings":[...]}, PX = latest expiry + expiredGraceMs
 *   aors       sorted set, score = latest expiry of the AOR (count(), aors())
 *   due        sorted set, score = earliest expiry of the AOR (what the sweep looks at)
 *   version    counter: versions never repeat, so a stale read can never match again (no ABA)
 * replace() with expectVersion is one Lua script (EVALSHA, EVAL on NOSCRIPT), so the compare and
 * the write are atomic. The key outlives its last binding by a grace period so the sweep can still
 * report what expired; reads filter expired bindings meanwhile. Keys are built inside the scripts:
 * not Redis-Cluster safe (one primary, or a hash-tagged prefix, is assumed).
 *
 * Outages: no offline queue, no retries: while Redis is down every call fails at once with
 * UnavailableError (the registrar answers 503), ioredis reconnects in the background.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  ClosedError,
  ConflictError,
  TypedEmitter,
  UnavailableError,
  describeError,
  silentLogger,
  type Logger,
  type Scheduler,
  type TimerHandle,
} from '../../lib/index.js';
import type { Binding, ExpiredBindings, ExpiringLocationStore } from './location-store.js';

export interface RedisLocationStoreOptions {
  url: string;
  scheduler: Scheduler;
  logger?: Logger;
  keyPrefix?: string;
  /** how long a key outlives its last binding so the sweep can report it; default 60 s */
  expiredGraceMs?: number;
  /** periodic sweep of expired bindings; default 5 s, 0 = never */
  sweepIntervalMs?: number;
  /** AORs looked at per sweep round; default 500 */
  sweepBatch?: number;
  connectTimeoutMs?: number;
  maxReconnectDelayMs?: number;
}

// KEYS: aorKey, aors, due, version  ARGV: aor, bindingsJson, expectVersion|'', pxMs, latest, earliest
const REPLACE_LUA = `
local cur = redis.call('GET', KEYS[1])
if ARGV[3] ~= '' then
  local v = '0'
  if cur then v = string.match(cur, '^{"version":(%d+),') or '0' end
  if v ~= ARGV[3] then return -1 end
end
if ARGV[2] == '[]' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  return 0
end
local nv = redis.call('INCR', KEYS[4])
redis.call('SET', KEYS[1], '{"version":' .. nv .. ',"bindings":' .. ARGV[2] .. '}', 'PX', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])
return nv
`;

// KEYS: due, aors  ARGV: now, limit, aorKeyPrefix -> flat [aor, json, aor, json, ...]
const DUE_LUA = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, aor in ipairs(due) do
  local cur = redis.call('GET', ARGV[3] .. aor)
  if cur then
    table.insert(out, aor)
    table.insert(out, cur)
  else
    redis.call('ZREM', KEYS[1], aor)
    redis.call('ZREM', KEYS[2], aor)
  end
end
return out
`;

interface Script {
  lua: string;
  sha: string;
}

function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

const REPLACE = script(REPLACE_LUA);
const DUE = script(DUE_LUA);

type StoreEvents = { expired: [expired: ExpiredBindings] };

interface Stored {
  version: number;
  bindings: Binding[];
}

export class RedisLocationStore implements ExpiringLocationStore {
  private readonly redis: Redis;
  private readonly scheduler: Scheduler;
  private readonly log: Logger;
  private readonly prefix: string;
  private readonly graceMs: number;
  private readonly sweepBatch: number;
  private readonly events = new TypedEmitter<StoreEvents>();
  private readonly sweepTimer: TimerHandle | undefined;
  private sweeping = false;
  private closed = false;
  private lastError: string | undefined;

  constructor(options: RedisLocationStoreOptions) {
    this.scheduler = options.scheduler;
    this.log = options.logger ?? silentLogger;
    this.prefix = options.keyPrefix ?? 'opencx:loc:';
    this.graceMs = options.expiredGraceMs ?? 60_000;
    this.sweepBatch = options.sweepBatch ?? 500;
    const maxDelay = options.maxReconnectDelayMs ?? 1000;
    this.redis = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times: number) => Math.min(50 * times, maxDelay),
      connectTimeout: options.connectTimeoutMs ?? 2000,
      protocol: 2,
    });
    this.redis.on('error', (err: Error) => {
      const msg = describeError(err);
      if (msg !== this.lastError) this.log.warn({ err: msg }, 'location store: redis connection error');
      this.lastError = msg;
    });
    this.redis.on('ready', () => {
      this.lastError = undefined;
    });
    const every = options.sweepIntervalMs ?? 5_000;
    this.sweepTimer = every > 0 ? this.scheduler.setInterval(() => void this.sweepAndReport(), every) : undefined;
  }

  /** true while Redis answers */
  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  /** resolves once connected; rejects with UnavailableError after timeoutMs */
  async whenReady(timeoutMs = 5000): Promise<void> {
    if (this.connected) return;
    await new Promise<void>((resolve, reject) => {
      const timer = this.scheduler.setTimeout(() => {
        this.redis.off('ready', onReady);
        reject(this.unavailable('connect'));
      }, timeoutMs);
      const onReady = (): void => {
        timer.cancel();
        resolve();
      };
      this.redis.once('ready', onReady);
    });
  }

  async bindings(aor: string): Promise<Binding[]> {
    return (await this.read(aor)).bindings;
  }

  async read(aor: string): Promise<{ bindings: Binding[]; version: number }> {
    const raw = await this.call('read', () => this.redis.get(this.aorKey(aor)));
    const stored = parseStored(raw);
    const now = this.scheduler.wallNow();
    return { bindings: stored.bindings.filter((b) => b.expiresAt > now), version: stored.version };
  }

  async replace(aor: string, bindings: Binding[], expectVersion?: number): Promise<void> {
    let latest = 0;
    let earliest = Number.POSITIVE_INFINITY;
    for (const b of bindings) {
      latest = Math.max(latest, b.expiresAt);
      earliest = Math.min(earliest, b.expiresAt);
    }
    const px = Math.max(1, Math.ceil(latest - this.scheduler.wallNow() + this.graceMs));
    const result = await this.evalScript('replace', REPLACE, [this.aorKey(aor), this.key('aors'), this.key('due'), this.key('version')], [
      aor,
      JSON.stringify(bindings),
      expectVersion === undefined ? '' : String(expectVersion),
      String(px),
      String(latest),
      String(Number.isFinite(earliest) ? earliest : latest),
    ]);
    if (result === -1) throw new ConflictError(`bindings of ${aor} changed since version ${String(expectVersion)}`);
  }

  async count(): Promise<number> {
    const now = this.scheduler.wallNow();
    return this.call('count', () => this.redis.zcount(this.key('aors'), `(${now}`, '+inf'));
  }

  async aors(options: { prefix?: string; limit?: number } = {}): Promise<string[]> {
    const now = this.scheduler.wallNow();
    const all = await this.call('aors', () => this.redis.zrangebyscore(this.key('aors'), `(${now}`, '+inf'));
    const prefix = options.prefix ?? '';
    const out = all.filter((a) => a.startsWith(prefix)).sort();
    return options.limit === undefined ? out : out.slice(0, Math.max(0, options.limit));
  }

  async sweepExpired(limit = this.sweepBatch): Promise<ExpiredBindings[]> {
    const now = this.scheduler.wallNow();
    const flat = await this.evalScript('sweep', DUE, [this.key('due'), this.key('aors')], [String(now), String(limit), this.key('aor:')]);
    const out: ExpiredBindings[] = [];
    if (!Array.isArray(flat)) return out;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const aor = String(flat[i]);
      const stored = parseStored(String(flat[i + 1]));
      const expired = stored.bindings.filter((b) => b.expiresAt <= now);
      const live = stored.bindings.filter((b) => b.expiresAt > now);
      try {
        // the version check makes exactly one sweeping node win (and never undoes a new REGISTER)
        await this.replace(aor, live, stored.version);
        if (expired.length > 0) out.push({ aor, bindings: expired });
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    return out;
  }

  onExpired(listener: (expired: ExpiredBindings) => void): () => void {
    return this.events.on('expired', listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sweepTimer?.cancel();
    this.events.removeAllListeners();
    this.redis.disconnect();
  }

  private async sweepAndReport(): Promise<void> {
    if (this.closed || this.sweeping || !this.connected) return;
    this.sweeping = true;
    try {
      for (const expired of await this.sweepExpired()) this.events.emit('expired', expired);
    } catch (err) {
      this.log.debug({ err: describeError(err) }, 'location store sweep failed');
    } finally {
      this.sweeping = false;
    }
  }

  private async evalScript(what: string, s: Script, keys: string[], args: string[]): Promise<unknown> {
    return this.call(what, async () => {
      try {
        return await this.redis.evalsha(s.sha, keys.length, ...keys, ...args);
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return this.redis.eval(s.lua, keys.length, ...keys, ...args);
        throw err;
      }
    });
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new ClosedError('location store is closed');
    if (this.redis.status !== 'ready') throw this.unavailable(what);
    try {
      return await fn();
    } catch (err) {
      if (this.closed) throw new ClosedError('location store is closed', { cause: err });
      if (err instanceof Error && err.name === 'ReplyError') throw new UnavailableError(`location store ${what}: ${err.message}`, { cause: err });
      throw this.unavailable(what, err);
    }
  }

  private unavailable(what: string, cause?: unknown): UnavailableError {
    const why = cause !== undefined ? describeError(cause) : (this.lastError ?? 'not connected');
    return new UnavailableError(`location store (redis) unavailable (${what}): ${why}`, { cause });
  }

  private key(name: string): string {
    return this.prefix + name;
  }

  private aorKey(aor: string): string {
    return this.prefix + 'aor:' + aor;
  }
}

function parseStored(raw: string | null | undefined): Stored {
  if (raw === null || raw === undefined) return { version: 0, bindings: [] };
  try {
    const parsed = JSON.parse(raw) as Partial<Stored>;
    return { version: typeof parsed.version === 'number' ? parsed.version : 0, bindings: Array.isArray(parsed.bindings) ? parsed.bindings : [] };
  } catch {
    return { version: 0, bindings: [] };
  }
}
