import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureFirstApiKey, controlMigrations, ProvisioningStore, type RegistrationsPort } from '../control/index.js';
import { ConfigError, type Logger, type Scheduler } from '../lib/index.js';
import { openDatabase, runMigrations, type Bus, type Config, type Database } from '../platform/index.js';
import { MemoryLocationStore, Proxy, RedisLocationStore, Registrar, registrationsView, type LocationStore } from '../sip/index.js';
import type { SipService, SubscriberDirectory } from '../sip/index.js';
import { ProvisionedDirectory } from './subscriber-directory.js';

/** The server's own names and addresses: the default tenant answers for all of them. */
export function ownHosts(config: Config): string[] {
  const hosts = new Set<string>(['localhost', '127.0.0.1', '::1', os.hostname()]);
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) hosts.add(a.address);
  }
  for (const h of [config.sip.bind, config.sip.advertisedHost ?? '', config.http.bind, ...config.sip.domains]) {
    if (h !== '' && h !== '0.0.0.0' && h !== '::') hosts.add(h);
  }
  return [...hosts];
}

/**
 * The digest nonce secret: configured (shared by every node), else made once and kept in the
 * data directory. Several processes may ask at once on a first start (the SIP workers): the
 * secret is written whole to a file of its own and linked into place, which fails if another
 * got there first, so every process ends up with the one that was linked, never a half-written
 * or a second secret (a worker with another secret would refuse the nonces of the others).
 */
export async function authSecret(config: Config): Promise<string> {
  if (config.sip.authSecret !== undefined) return config.sip.authSecret;
  const file = path.join(config.dataDir, 'auth-secret');
  const stored = async (): Promise<string> => {
    const secret = (await readFile(file, 'utf8')).trim();
    if (secret === '') throw new ConfigError(`${file} is empty: remove it and opencx makes a new secret (clients then register again)`, 'sip.authSecret');
    return secret;
  };
  if (existsSync(file)) return stored();
  const secret = randomBytes(32).toString('base64url');
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(draft, secret, { mode: 0o600 });
  try {
    await link(draft, file);
    return secret;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return stored();
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw err;
    // a file system without hard links: moved into place whole (the primary makes it before the
    // workers start, so nobody races it there), and read back
    if (!existsSync(file)) await rename(draft, file);
    return stored();
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}

export interface Provisioning {
  db: Database;
  store: ProvisioningStore;
  /** where the first operator API key was written (control role) */
  apiKeyFile: string | undefined;
  close(): Promise<void>;
}

/** Database, migrations, the provisioning store, the default tenant and the first API key. */
export async function openProvisioning(config: Config, bus: Bus, logger: Logger, withApiKey: boolean): Promise<Provisioning> {
  const db = await openDatabase({ ...(config.database.url !== undefined ? { url: config.database.url } : {}), dataDir: config.dataDir, logger: logger.child({ component: 'db' }) });
  try {
    await runMigrations(db, controlMigrations, { logger });
    const store = new ProvisioningStore({ db, bus, logger: logger.child({ component: 'provisioning' }) });
    await store.ensureDefaultTenant(ownHosts(config));
    const apiKeyFile = withApiKey ? await ensureFirstApiKey(store, config.dataDir, logger) : undefined;
    return { db, store, apiKeyFile, close: () => db.close() };
  } catch (err) {
    await db.close();
    throw err;
  }
}

/** The subscriber directory, preloaded into memory when the users fit (see ProvisionedDirectory). */
export async function createDirectory(provisioning: Provisioning, config: Config, scheduler: Scheduler, logger: Logger): Promise<ProvisionedDirectory> {
  const directory = new ProvisionedDirectory({ store: provisioning.store, db: provisioning.db, ownHosts: ownHosts(config), scheduler, logger });
  const loaded = await directory.preload();
  logger.info({ users: loaded }, loaded > 0 ? 'subscriber directory loaded into memory' : 'subscriber directory: lookups go to the database');
  return directory;
}

/** The location service: Redis when the bus is Redis (several SIP nodes share it), else in memory. */
export function createLocationStore(config: Config, scheduler: Scheduler, logger: Logger): LocationStore & { close(): Promise<void> } {
  if (config.bus.kind === 'redis' && config.bus.url !== undefined) {
    return new RedisLocationStore({ url: config.bus.url, scheduler, logger: logger.child({ component: 'location' }) });
  }
  return new MemoryLocationStore({ scheduler });
}

/** Registrar and proxy, in the order the server offers them requests. */
export function subscriberServices(options: {
  location: LocationStore;
  directory: SubscriberDirectory;
  secret: string;
  algorithms: ('MD5' | 'SHA-256')[];
  registrar: Config['sip']['registrar'];
  scheduler: Scheduler;
  nodeId: string;
  bus: Bus | undefined;
  logger: Logger;
}): SipService[] {
  const registrar = new Registrar({
    store: options.location,
    directory: options.directory,
    scheduler: options.scheduler,
    nodeId: options.nodeId,
    authSecret: options.secret,
    algorithms: options.algorithms,
    minExpires: options.registrar.minExpires,
    maxExpires: options.registrar.maxExpires,
    defaultExpires: options.registrar.defaultExpires,
    maxBindingsPerAor: options.registrar.maxBindingsPerAor,
    pike: options.registrar.ratePerSource === 0 ? false : { ratePerSecond: options.registrar.ratePerSource, burst: options.registrar.burstPerSource },
    failuresPerSource: { maxFailures: options.registrar.authFailuresPerSource, windowMs: 60_000 },
    failuresPerAorSource: { maxFailures: options.registrar.authFailuresPerUser, windowMs: 60_000 },
    lockoutMs: options.registrar.lockoutMs,
    ...(options.bus !== undefined ? { bus: options.bus } : {}),
    logger: options.logger.child({ component: 'registrar' }),
  });
  const proxy = new Proxy({
    store: options.location,
    directory: options.directory,
    auth: { secret: options.secret, algorithms: options.algorithms },
    scheduler: options.scheduler,
    logger: options.logger.child({ component: 'proxy' }),
  });
  return [registrar, proxy];
}

/** The REST API's view of registrations, over the location store. */
export function registrationsPort(location: LocationStore, scheduler: Scheduler, nodeId: string, bus: Bus | undefined, logger: Logger): RegistrationsPort {
  const view = registrationsView({ store: location, scheduler, nodeId, ...(bus !== undefined ? { bus } : {}), logger });
  return {
    async list(aor?: string) {
      const aors = aor !== undefined ? [aor] : await view.aors({ limit: 10_000 });
      const out = [];
      for (const a of aors) {
        for (const b of await view.bindings(a)) {
          out.push({
            aor: b.aor,
            contact: b.contact,
            expiresAt: new Date(b.expiresAt).toISOString(),
            ...(b.userAgent !== undefined ? { userAgent: b.userAgent } : {}),
            received: `${b.source.protocol}:${b.source.address}:${b.source.port}`,
            ...(b.instanceId !== undefined ? { instanceId: b.instanceId } : {}),
          });
        }
      }
      return out;
    },
    remove: (aor: string) => view.remove(aor),
    count: () => location.count(),
  };
}
