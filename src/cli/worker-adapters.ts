import type { Binding, LocationStore, SubscriberDirectory } from '../sip/index.js';
import type { RpcHandlers } from './ipc-rpc.js';

type Call = (op: string, ...args: unknown[]) => Promise<unknown>;

/**
 * With several SIP workers on the embedded defaults, the single-process parts (the PGlite
 * database behind the directory, the in-memory location store) stay in the primary and the
 * workers reach them over the cluster IPC channel. With Redis and PostgreSQL configured the
 * location store is shared in Redis and workers use it directly.
 */
export function primaryHandlers(directory: SubscriberDirectory, location: LocationStore | undefined): RpcHandlers {
  const handlers: RpcHandlers = {
    'dir.isLocalDomain': (host: string) => directory.isLocalDomain(host),
    'dir.ha1': (user: string, domain: string, hash: 'MD5' | 'SHA-256') => directory.ha1(user, domain, hash),
    'dir.userExists': (user: string, domain: string) => directory.userExists(user, domain),
  };
  if (location !== undefined) {
    Object.assign(handlers, {
      'loc.bindings': (aor: string) => location.bindings(aor),
      'loc.read': (aor: string) => location.read(aor),
      'loc.replace': (aor: string, bindings: Binding[], expectVersion: number | null) =>
        expectVersion === null ? location.replace(aor, bindings) : location.replace(aor, bindings, expectVersion),
      'loc.count': () => location.count(),
      'loc.aors': (options: { prefix?: string; limit?: number } | null) => location.aors(options ?? {}),
    } satisfies RpcHandlers);
  }
  return handlers;
}

/**
 * The primary's directory seen from a worker, behind a cache: every REGISTER asks whether its
 * domain is ours and the second leg asks for an HA1, and a round trip over IPC for each cost
 * more CPU than the digest check itself. The primary tells every worker when provisioning
 * changes (`invalidate()`), so the cache is dropped at once, not after a TTL; the TTL only
 * bounds the damage of a lost notice. An answer to a call made before the last invalidation is
 * used but not kept (it may predate the change).
 */
export class RpcDirectory implements SubscriberDirectory {
  private readonly cache = new Map<string, { value: unknown; until: number }>();
  private generation = 0;

  constructor(
    private readonly call: Call,
    private readonly options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
  ) {}

  /** provisioning changed somewhere: forget every answer */
  invalidate(): void {
    this.generation++;
    this.cache.clear();
  }

  async isLocalDomain(host: string): Promise<boolean> {
    return (await this.cached(`d|${host}`, 'dir.isLocalDomain', host)) === true;
  }

  realmFor(domain: string): string {
    const d = domain.startsWith('[') && domain.endsWith(']') ? domain.slice(1, -1) : domain;
    return d.toLowerCase();
  }

  async ha1(user: string, domain: string, hash: 'MD5' | 'SHA-256'): Promise<string | undefined> {
    const v = await this.cached(`${hash === 'MD5' ? 'm' : 's'}|${user}@${domain}`, 'dir.ha1', user, domain, hash);
    return typeof v === 'string' ? v : undefined;
  }

  async userExists(user: string, domain: string): Promise<boolean> {
    return (await this.cached(`u|${user}@${domain}`, 'dir.userExists', user, domain)) === true;
  }

  private async cached(key: string, op: string, ...args: unknown[]): Promise<unknown> {
    const now = (this.options.now ?? Date.now)();
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.until > now) return hit.value;
    const generation = this.generation;
    const value = await this.call(op, ...args);
    if (generation === this.generation) {
      if (this.cache.size >= (this.options.maxEntries ?? 200_000)) this.cache.clear();
      this.cache.set(key, { value, until: now + (this.options.ttlMs ?? 60_000) });
    }
    return value;
  }
}

export class RpcLocationStore implements LocationStore {
  constructor(private readonly call: Call) {}

  async bindings(aor: string): Promise<Binding[]> {
    return (await this.call('loc.bindings', aor)) as Binding[];
  }

  async read(aor: string): Promise<{ bindings: Binding[]; version: number }> {
    return (await this.call('loc.read', aor)) as { bindings: Binding[]; version: number };
  }

  async replace(aor: string, bindings: Binding[], expectVersion?: number): Promise<void> {
    await this.call('loc.replace', aor, bindings, expectVersion ?? null);
  }

  async count(): Promise<number> {
    return (await this.call('loc.count')) as number;
  }

  async aors(options?: { prefix?: string; limit?: number }): Promise<string[]> {
    return (await this.call('loc.aors', options ?? null)) as string[];
  }

  async close(): Promise<void> {}
}
