import { ConflictError } from '../lib/index.js';
import { MemoryLocationStore, registrar, type Binding, type LocationChange, type LocationStore, type SubscriberDirectory } from '../sip/index.js';
import type { RpcHandlers } from './ipc-rpc.js';
import { bareHost, HeldDirectory, type DirectorySnapshot } from './subscriber-directory.js';

type Call = (op: string, ...args: unknown[]) => Promise<unknown>;

/**
 * With several SIP workers on the embedded defaults, the single-process parts (the PGlite
 * database behind the directory, the in-memory location store) stay in the primary and the
 * workers reach them over the cluster IPC channel. With Redis and PostgreSQL configured the
 * location store is shared in Redis and workers use it directly.
 */
export function primaryHandlers(
  directory: SubscriberDirectory & { snapshot?(): DirectorySnapshot | undefined },
  location: LocationStore | undefined,
  /** the worker these handlers answer: its own writes are not sent back to it */
  origin?: string,
): RpcHandlers {
  const handlers: RpcHandlers = {
    'dir.isLocalDomain': (host: string) => directory.isLocalDomain(host),
    'dir.ha1': (user: string, domain: string, hash: 'MD5' | 'SHA-256') => directory.ha1(user, domain, hash),
    'dir.userExists': (user: string, domain: string) => directory.userExists(user, domain),
    // null: the directory is not held in memory in full (too many users, or a change is loading)
    'dir.snapshot': async () => (directory.snapshot?.() ?? null),
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
  if (location instanceof MemoryLocationStore) {
    // for workers that keep a copy (LocationReplica): the write's version, and the whole set
    Object.assign(handlers, {
      'loc.write': async (aor: string, bindings: Binding[], expectVersion: number | null) =>
        location.replaceNow(aor, bindings, { expectVersion: expectVersion ?? undefined, ...(origin !== undefined ? { origin } : {}), handedOver: true }),
      'loc.snapshot': async () => location.changesSoFar(),
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
  /** the primary's whole directory, when it sent one that no change has made stale since */
  private full: HeldDirectory | undefined;

  constructor(
    private readonly call: Call,
    private readonly options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
  ) {}

  /** provisioning changed somewhere: forget every answer */
  invalidate(): void {
    this.generation++;
    this.cache.clear();
    this.full = undefined;
  }

  /**
   * Answer from the primary's whole directory from now on (it sends one after every reload that
   * left its copy current). Bad data is refused with an error and changes nothing.
   */
  useSnapshot(snapshot: DirectorySnapshot): void {
    this.full = HeldDirectory.fromSnapshot(snapshot);
  }

  /** ask the primary for its whole directory; an answer overtaken by a change is dropped */
  async loadSnapshot(): Promise<boolean> {
    const generation = this.generation;
    const snapshot = (await this.call('dir.snapshot')) as DirectorySnapshot | null;
    if (snapshot === null || generation !== this.generation) return false;
    this.useSnapshot(snapshot);
    return true;
  }

  /** whether lookups are answered here, without the primary */
  get local(): boolean {
    return this.full !== undefined;
  }

  held(): HeldDirectory | undefined {
    return this.full;
  }

  async isLocalDomain(host: string): Promise<boolean> {
    if (this.full !== undefined) return this.full.isLocalDomain(host);
    return (await this.cached(`d|${host}`, 'dir.isLocalDomain', host)) === true;
  }

  realmFor(domain: string): string {
    return bareHost(domain).toLowerCase();
  }

  async ha1(user: string, domain: string, hash: 'MD5' | 'SHA-256'): Promise<string | undefined> {
    if (this.full !== undefined) return this.full.ha1(user, domain, hash);
    const v = await this.cached(`${hash === 'MD5' ? 'm' : 's'}|${user}@${domain}`, 'dir.ha1', user, domain, hash);
    return typeof v === 'string' ? v : undefined;
  }

  async userExists(user: string, domain: string): Promise<boolean> {
    if (this.full !== undefined) return this.full.userExists(user, domain);
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

/**
 * A SIP worker's copy of the primary's in-memory location store. Reads (every REGISTER's current
 * bindings, every INVITE's targets) are answered here; writes go to the primary, which checks the
 * version, applies them and sends every change to every worker (`apply`). A copy is at most one
 * IPC hop behind: a write based on a stale read fails at the primary with ConflictError, the
 * registrar reads again, and that read (of an AOR marked suspect) asks the primary. Removed AORs
 * are kept as empty entries for a while, so an older change that arrives late cannot bring them
 * back.
 */
export class LocationReplica implements LocationStore {
  private readonly entries = new Map<string, { version: number; bindings: Binding[]; removedAt?: number }>();
  private readonly suspect = new Set<string>();
  private loaded = false;
  private closed = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly call: Call,
    private readonly wallNow: () => number = Date.now,
    private readonly keepRemovedMs = 60_000,
  ) {
    this.sweeper = setInterval(() => this.forgetRemoved(), Math.max(1000, keepRemovedMs / 2));
    this.sweeper.unref();
  }

  /** fetch the whole set from the primary; until then every read asks the primary */
  async load(): Promise<number> {
    const all = (await this.call('loc.snapshot')) as LocationChange[];
    for (const change of all) this.apply(change);
    this.loaded = true;
    return all.length;
  }

  /**
   * A change the primary made (older or repeated ones are ignored). Changes that came over IPC
   * are fresh objects and are kept as they are; `copy` keeps a copy whose strings do not pin a
   * SIP message (a write of this worker's own).
   */
  apply(change: LocationChange, copy = false): void {
    if (this.closed) return;
    const held = this.entries.get(change.aor);
    if (held !== undefined && held.version >= change.version) return;
    if (change.bindings.length === 0) this.entries.set(change.aor, { version: change.version, bindings: [], removedAt: this.wallNow() });
    else this.entries.set(change.aor, { version: change.version, bindings: copy ? change.bindings.map(registrar.storedBinding) : change.bindings });
  }

  async bindings(aor: string): Promise<Binding[]> {
    return (await this.read(aor)).bindings;
  }

  async read(aor: string): Promise<{ bindings: Binding[]; version: number }> {
    if (!this.loaded || this.suspect.has(aor)) {
      const fresh = (await this.call('loc.read', aor)) as { bindings: Binding[]; version: number };
      this.suspect.delete(aor);
      return fresh;
    }
    const held = this.entries.get(aor);
    // the primary's store knows a removed AOR as version 0
    if (held === undefined || held.bindings.length === 0) return { bindings: [], version: 0 };
    const now = this.wallNow();
    return { bindings: held.bindings.filter((b) => b.expiresAt > now).map(registrar.copyBinding), version: held.version };
  }

  async replace(aor: string, bindings: Binding[], expectVersion?: number): Promise<void> {
    let version: number;
    try {
      version = (await this.call('loc.write', aor, bindings, expectVersion ?? null)) as number;
    } catch (err) {
      if (err instanceof ConflictError) this.suspect.add(aor);
      throw err;
    }
    // the primary does not send this worker its own writes back
    this.apply({ aor, version, bindings }, true);
  }

  async count(): Promise<number> {
    return (await this.call('loc.count')) as number;
  }

  async aors(options?: { prefix?: string; limit?: number }): Promise<string[]> {
    return (await this.call('loc.aors', options ?? null)) as string[];
  }

  /** AORs held, removed ones still remembered included (for tests) */
  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    this.entries.clear();
  }

  /** drop removed AORs remembered longer than keepRemovedMs */
  forgetRemoved(): void {
    const before = this.wallNow() - this.keepRemovedMs;
    for (const [aor, e] of this.entries) if (e.removedAt !== undefined && e.removedAt <= before) this.entries.delete(aor);
  }
}
