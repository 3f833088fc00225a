import type { Bus, Queryable } from '../platform/index.js';
import type { ProvisioningStore } from '../control/index.js';
import { PROVISIONING_CHANGED_TOPIC } from '../control/index.js';
import type { HeldSubscribers, SubscriberDirectory } from '../sip/index.js';
import type { Logger, Scheduler } from '../lib/index.js';
import { describeError } from '../lib/index.js';
import { CredentialTable, type CredentialTableExport } from './credential-table.js';

/**
 * The whole directory as data for a SIP worker process (which has no database of its own): the
 * worker answers from it without asking the primary, until the next change.
 */
export interface DirectorySnapshot {
  own: string[];
  domains: string[];
  users: CredentialTableExport;
}

/**
 * The whole directory held in memory, answering as the database would: the primary's preloaded
 * copy and a SIP worker's copy of it (HeldDirectory.fromSnapshot) are the same thing.
 */
export class HeldDirectory implements HeldSubscribers {
  constructor(
    private readonly own: ReadonlySet<string>,
    private readonly domains: ReadonlySet<string>,
    private readonly users: CredentialTable,
  ) {}

  /** the copy another process sent; throws on data of the wrong shape */
  static fromSnapshot(snapshot: DirectorySnapshot): HeldDirectory {
    return new HeldDirectory(new Set(snapshot.own), new Set(snapshot.domains), CredentialTable.fromExport(snapshot.users));
  }

  get userCount(): number {
    return this.users.size;
  }

  isLocalDomain(host: string): boolean {
    const h = bareHost(host).toLowerCase();
    return this.own.has(h) || this.domains.has(h);
  }

  ha1(user: string, domain: string, hash: 'MD5' | 'SHA-256'): string | undefined {
    return this.users.ha1(userKey(user, domain), hash);
  }

  userExists(user: string, domain: string): boolean {
    return this.users.has(userKey(user, domain));
  }

  snapshot(): DirectorySnapshot {
    return { own: [...this.own], domains: [...this.domains], users: this.users.export() };
  }
}

interface Cached<T> {
  value: T;
  until: number;
}

type Credentials = { ha1Md5: string; ha1Sha256: string; enabled: boolean };

/**
 * Rows per preload query. One SELECT of every user made PGlite's WASM heap (which never shrinks)
 * and the result set grow by ~75 MB for 100,000 users; pages of 5,000 keep both small.
 */
const PRELOAD_PAGE = 5000;

/** the largest directory sent whole to SIP workers (see snapshot()) */
const SNAPSHOT_MAX_USERS = 500_000;

/**
 * The SIP services' view of provisioning (SubscriberDirectory), adapted from the control plane's
 * store. A registration storm must not become a database storm, so up to `preloadLimit` users
 * (2,000,000 by default: ~300 bytes each) are held in memory in full, the way Kamailio operators
 * load subscribers into an htable; lookups then never touch the database and an unknown user is
 * known to be unknown. Beyond the limit, lookups go to the database behind a short-lived cache.
 * Any `provisioning.changed` event on the bus reloads (debounced) or empties the cache, so a
 * changed password or a removed user takes effect on every node that hears it.
 */
export class ProvisionedDirectory implements SubscriberDirectory {
  private readonly own: Set<string>;
  private readonly domains = new Map<string, Cached<boolean>>();
  private readonly users = new Map<string, Cached<Credentials | undefined>>();
  private unsubscribe: (() => Promise<void>) | undefined;
  /** the whole directory, when it fits under preloadLimit */
  private full: HeldDirectory | undefined;
  private reloadTimer: ReturnType<Scheduler['setTimeout']> | undefined;
  private closed = false;
  /** bumped by every change: the in-memory copy is trusted only when no change came after its load */
  private changes = 0;
  private loadedAt = -1;
  private readonly reloadListeners = new Set<() => void>();

  constructor(
    private readonly options: {
      store: ProvisioningStore;
      /** for the bulk preload; without it every lookup goes through the store */
      db?: Queryable;
      preloadLimit?: number;
      ownHosts: readonly string[];
      scheduler: Scheduler;
      ttlMs?: number;
      logger: Logger;
    },
  ) {
    this.own = new Set(options.ownHosts.map((h) => bareHost(h).toLowerCase()));
  }

  /** load every user and domain into memory when they fit; returns how many users were loaded */
  async preload(): Promise<number> {
    const db = this.options.db;
    if (db === undefined) return 0;
    const seq = this.changes;
    const limit = this.options.preloadLimit ?? 2_000_000;
    const count = await db.query<{ n: number | string }>('SELECT count(*) AS n FROM users');
    if (Number(count.rows[0]?.n ?? 0) > limit) {
      this.full = undefined;
      return 0;
    }
    const users = new CredentialTable(Number(count.rows[0]?.n ?? 0));
    // keyset pages in primary-key order: each query is cheap and a page is garbage once copied
    let after = '';
    for (;;) {
      const page = await db.query<{ id: string; username: string; domain: string; ha1_md5: string; ha1_sha256: string; enabled: boolean }>(
        'SELECT id, username, domain, ha1_md5, ha1_sha256, enabled FROM users WHERE id > $1 ORDER BY id LIMIT $2',
        [after, PRELOAD_PAGE],
      );
      for (const r of page.rows) users.add(`${r.username}@${r.domain}`, r.ha1_md5, r.ha1_sha256, r.enabled);
      const last = page.rows[page.rows.length - 1];
      if (last === undefined || page.rows.length < PRELOAD_PAGE) break;
      after = last.id;
    }
    const domains = await db.query<{ name: string }>('SELECT name FROM domains');
    this.full = new HeldDirectory(this.own, new Set(domains.rows.map((d) => d.name.toLowerCase())), users);
    this.loadedAt = seq;
    if (this.fresh() !== undefined) for (const listener of this.reloadListeners) listener();
    return users.size;
  }

  /** called after every load that left the in-memory copy complete and current */
  onLoaded(listener: () => void): () => void {
    this.reloadListeners.add(listener);
    return () => this.reloadListeners.delete(listener);
  }

  /**
   * The in-memory copy as data, when it is complete, no change came after it was loaded and it
   * has at most `maxUsers` users (each costs ~100 bytes of IPC per worker per reload); undefined
   * otherwise (lookups must then go through this directory).
   */
  snapshot(maxUsers = SNAPSHOT_MAX_USERS): DirectorySnapshot | undefined {
    const full = this.fresh();
    if (full === undefined || full.userCount > maxUsers) return undefined;
    return full.snapshot();
  }

  /** follow provisioning changes from anywhere: reload (debounced) or drop caches */
  async watch(bus: Bus): Promise<void> {
    const sub = await bus.subscribe(PROVISIONING_CHANGED_TOPIC, () => this.changed());
    this.unsubscribe = () => sub.unsubscribe();
  }

  clear(): void {
    this.domains.clear();
    this.users.clear();
  }

  /** the preloaded copy, unless a change arrived since it was loaded (then lookups go to the database) */
  private fresh(): HeldDirectory | undefined {
    return this.loadedAt === this.changes ? this.full : undefined;
  }

  private changed(): void {
    this.changes++;
    this.clear();
    if (this.full === undefined || this.closed) return;
    // a bulk import publishes one change per batch: reload once they stop coming
    this.reloadTimer?.cancel();
    this.reloadTimer = this.options.scheduler.setTimeout(() => {
      this.reloadTimer = undefined;
      this.preload().catch((err: unknown) => {
        // keep serving from the cache we have, but stop trusting it to be complete
        this.full = undefined;
        this.options.logger.warn({ err: describeError(err) }, 'could not reload the subscriber directory; falling back to lookups');
      });
    }, 500);
  }

  async isLocalDomain(host: string): Promise<boolean> {
    const h = bareHost(host).toLowerCase();
    if (this.own.has(h)) return true;
    const full = this.fresh();
    if (full !== undefined) return full.isLocalDomain(h);
    const hit = this.domains.get(h);
    const now = this.options.scheduler.now();
    if (hit !== undefined && hit.until > now) return hit.value;
    const value = (await this.options.store.findDomain(h)) !== undefined;
    this.remember(this.domains, h, value);
    return value;
  }

  realmFor(domain: string): string {
    return bareHost(domain).toLowerCase();
  }

  held(): HeldDirectory | undefined {
    return this.fresh();
  }

  async ha1(user: string, domain: string, hash: 'MD5' | 'SHA-256'): Promise<string | undefined> {
    const full = this.fresh();
    if (full !== undefined) return full.ha1(user, domain, hash);
    const creds = await this.credentials(user, domain);
    if (creds === undefined || !creds.enabled) return undefined;
    return hash === 'MD5' ? creds.ha1Md5 : creds.ha1Sha256;
  }

  async userExists(user: string, domain: string): Promise<boolean> {
    const full = this.fresh();
    if (full !== undefined) return full.userExists(user, domain);
    return (await this.credentials(user, domain)) !== undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.reloadTimer?.cancel();
    this.reloadListeners.clear();
    try {
      await this.unsubscribe?.();
    } catch (err) {
      this.options.logger.debug({ err: describeError(err) }, 'unsubscribe failed');
    }
    this.clear();
  }

  /** the database behind a short-lived cache, when the whole directory is not in memory */
  private async credentials(user: string, domain: string): Promise<Credentials | undefined> {
    const d = bareHost(domain).toLowerCase();
    const key = `${user}@${d}`;
    const hit = this.users.get(key);
    const now = this.options.scheduler.now();
    if (hit !== undefined && hit.until > now) return hit.value;
    // a user of one of our own addresses lives in the default tenant under that address
    const value = await this.options.store.userCredentials(user, d);
    this.remember(this.users, key, value);
    return value;
  }

  private remember<T>(map: Map<string, Cached<T>>, key: string, value: T): void {
    if (map.size > 200_000) map.clear();
    map.set(key, { value, until: this.options.scheduler.now() + (this.options.ttlMs ?? 30_000) });
  }
}

/** `user@domain` as the credential table keys it (domain lower-case, without IPv6 brackets) */
function userKey(user: string, domain: string): string {
  return `${user}@${bareHost(domain).toLowerCase()}`;
}

/** a host without the brackets of an IPv6 reference */
export function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
