import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describeError, SystemScheduler, type Logger } from '../lib/index.js';
import {
  ClusterMetrics,
  createHttpServer,
  createMemoryBus,
  createMetrics,
  createRedisBus,
  HealthRegistry,
  type Bus,
  type Config,
  type HttpServer,
  type MetricsSource,
  type Role,
} from '../platform/index.js';
import { startSipWorkers } from './cluster.js';
import { createSipServer, portsOf } from './sip-role.js';

export interface RunningServer {
  /** the ports actually bound, as logged in the start line */
  ports: Record<string, number>;
  /** graceful stop: idempotent */
  stop(reason: string): Promise<void>;
}

/** Roles that have services in this build; the others are accepted and reported as idle. */
const ROLES_WITH_SERVICES: readonly Role[] = ['sip'];

/**
 * The composition root of `opencx start`: picks the adapters the configuration names and wires
 * the roles together. Everything it opens is closed by stop(), in reverse order.
 */
export async function startServer(config: Config, logger: Logger, version: string): Promise<RunningServer> {
  const scheduler = new SystemScheduler();
  const closers: { name: string; close: () => Promise<void> }[] = [];
  const ports: Record<string, number> = {};
  let stopping: Promise<void> | undefined;

  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      logger.info({ reason }, 'opencx stopping');
      for (const c of [...closers].reverse()) {
        try {
          await c.close();
        } catch (err) {
          logger.warn({ component: c.name, err: describeError(err) }, 'error while closing');
        }
      }
      logger.info({}, 'opencx stopped');
    })();
    return stopping;
  };

  try {
    await mkdir(config.dataDir, { recursive: true });
    const metrics = createMetrics({ defaultMetrics: config.metrics.enabled });
    let metricsSource: MetricsSource = metrics;
    const health = new HealthRegistry({ scheduler });

    const bus: Bus =
      config.bus.kind === 'redis' && config.bus.url !== undefined
        ? createRedisBus({ url: config.bus.url, logger: logger.child({ component: 'bus' }), scheduler })
        : createMemoryBus({ scheduler, logger: logger.child({ component: 'bus' }) });
    closers.push({ name: 'bus', close: () => bus.close() });
    health.register('bus', () => bus.connected);

    if (config.roles.includes('sip') && config.sip.workers > 1) {
      // the SIP role runs in worker processes sharing the ports (see cluster.ts)
      const workers = await startSipWorkers(config, logger);
      closers.push({ name: 'sip workers', close: () => workers.stop() });
      Object.assign(ports, workers.ports);
      health.register('sip-workers', () => workers.allReady());
      metricsSource = new ClusterMetrics();
    } else if (config.roles.includes('sip')) {
      const sip = await createSipServer(config, logger, config.metrics.enabled ? metrics.sip : undefined, version);
      closers.push({ name: 'sip', close: () => sip.shutdown(config.sip.shutdownGraceMs) });
      const bound = await sip.start();
      Object.assign(ports, portsOf(bound, config));
      health.register('sip-listeners', () => sip.listeners().length === bound.length);
    }

    const http: HttpServer = await createHttpServer({ bind: config.http.bind, port: config.http.port, logger, metrics: metricsSource, health });
    closers.push({ name: 'http', close: () => http.close() });
    ports.http = http.port;

    const idle = config.roles.filter((r) => !ROLES_WITH_SERVICES.includes(r));
    if (idle.length > 0) logger.info({ roles: idle }, 'these roles have no services in this build yet; they start idle');
    logger.info({ version, roles: config.roles, bind: config.sip.bind, ports, dataDir: path.resolve(config.dataDir) }, 'opencx started');
    return { ports, stop };
  } catch (err) {
    await stop(`start failed: ${describeError(err)}`);
    throw err;
  }
}

