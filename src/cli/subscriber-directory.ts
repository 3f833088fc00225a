import type { Bus, } from '../platform/index.js';
import type { ProvisioningStore } from '../control/index.js';
import { PROVISIONING_CHANGED_TOPIC } from '../control/index.js';
import type { SubscriberDirectory } from '../sip/index.js';
import type { Logger, Scheduler } from '../lib/index.js';
import { describeError } from '../lib/index.js';

interface Cached<T> {
  value: T;
  until: number;
}

/**
 * The SIP services' view of provisioning (SubscriberDirectory), adapted from the control plane's
 * store with a short-lived cache in front: a registration storm must not become a database
 * storm. Any `provisioning.changed` event on the bus empties the cache, so a changed password
 * or a removed user takes effect at once on every node that hears it; the TTL bounds staleness
 * when the bus is down.
 */
export class ProvisionedDirectory implements SubscriberDirectory {
  private readonly own: Set<string>;
  private readonly domains = new Map<string, Cached<boolean>>();
  private readonly users = new Map<string, Cached<{ ha1Md5: string; ha1Sha256: string; enabled: boolean } | undefined>>();
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly options: { store: ProvisioningStore; ownHosts: readonly string[]; scheduler: Scheduler; ttlMs?: number; logger: Logger },
  ) {
    this.own = new Set(options.ownHosts.map((h) => bare(h).toLowerCase()));
  }

  /** drop caches whenever provisioning changes anywhere */
  async watch(bus: Bus): Promise<void> {
    const sub = await bus.subscribe(PROVISIONING_CHANGED_TOPIC, () => this.clear());
    this.unsubscribe = () => sub.unsubscribe();
  }

  clear(): void {
    this.domains.clear();
    this.users.clear();
  }

  async isLocalDomain(host: string): Promise<boolean> {
    const h = bare(host).toLowerCase();
    if (this.own.has(h)) return true;
    const hit = this.domains.get(h);
    const now = this.options.scheduler.now();
    if (hit !== undefined && hit.until > now) return hit.value;
    const value = (await this.options.store.findDomain(h)) !== undefined;
    this.remember(this.domains, h, value);
    return value;
  }

  realmFor(domain: string): string {
    return bare(domain).toLowerCase();
  }

  async ha1(user: string, domain: string, hash: 'MD5' | 'SHA-256'): Promise<string | undefined> {
    const creds = await this.credentials(user, domain);
    if (creds === undefined || !creds.enabled) return undefined;
    return hash === 'MD5' ? creds.ha1Md5 : creds.ha1Sha256;
  }

  async userExists(user: string, domain: string): Promise<boolean> {
    return (await this.credentials(user, domain)) !== undefined;
  }

  async close(): Promise<void> {
    try {
      await this.unsubscribe?.();
    } catch (err) {
      this.options.logger.debug({ err: describeError(err) }, 'unsubscribe failed');
    }
    this.clear();
  }

  private async credentials(user: string, domain: string): Promise<{ ha1Md5: string; ha1Sha256: string; enabled: boolean } | undefined> {
    const d = bare(domain).toLowerCase();
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

function bare(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
