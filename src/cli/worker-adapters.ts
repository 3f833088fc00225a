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

export class RpcDirectory implements SubscriberDirectory {
  constructor(private readonly call: Call) {}

  async isLocalDomain(host: string): Promise<boolean> {
    return (await this.call('dir.isLocalDomain', host)) === true;
  }

  realmFor(domain: string): string {
    const d = domain.startsWith('[') && domain.endsWith(']') ? domain.slice(1, -1) : domain;
    return d.toLowerCase();
  }

  async ha1(user: string, domain: string, hash: 'MD5' | 'SHA-256'): Promise<string | undefined> {
    const v = await this.call('dir.ha1', user, domain, hash);
    return typeof v === 'string' ? v : undefined;
  }

  async userExists(user: string, domain: string): Promise<boolean> {
    return (await this.call('dir.userExists', user, domain)) === true;
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
