import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describeError, SystemScheduler, type Logger } from '../lib/index.js';
import {
  createHttpServer,
  createLogger,
  createMemoryBus,
  createMetrics,
  createRedisBus,
  HealthRegistry,
  type Bus,
  type Config,
  type HttpServer,
  type Role,
} from '../platform/index.js';
import { SipServer, transport } from '../sip/index.js';
import { tlsMaterial } from './tls-material.js';

type ListenerConfig = transport.ListenerConfig;

export interface RunningServer {
  /** the ports actually bound, as logged in the start line */
  ports: Record<string, number>;
  /** graceful stop: idempotent */
  stop(reason: string): Promise<void>;
}

/** Roles that have services in this build; the others are accepted and reported as idle. */
const ROLES_WITH_SERVICES: readonly Role[] = ['sip'];

function sipListeners(config: Config, tls: transport.TlsSettings | undefined): ListenerConfig[] {
  const sip = config.sip;
  const addresses = [sip.bind];
  if (sip.ipv6 && !sip.bind.includes(':')) addresses.push('::');
  const out: ListenerConfig[] = [];
  for (const address of addresses) {
    for (const protocol of sip.transports) {
      const port = { udp: sip.udpPort, tcp: sip.tcpPort, tls: sip.tlsPort, ws: sip.wsPort, wss: sip.wssPort }[protocol];
      const secure = protocol === 'tls' || protocol === 'wss';
      out.push({ protocol, address, port, ...(secure ? { tls } : {}) });
    }
  }
  return out;
}

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
    const health = new HealthRegistry({ scheduler });

    const bus: Bus =
      config.bus.kind === 'redis' && config.bus.url !== undefined
        ? createRedisBus({ url: config.bus.url, logger: logger.child({ component: 'bus' }), scheduler })
        : createMemoryBus({ scheduler, logger: logger.child({ component: 'bus' }) });
    closers.push({ name: 'bus', close: () => bus.close() });
    health.register('bus', () => bus.connected);

    if (config.roles.includes('sip')) {
      const secure = config.sip.transports.some((t) => t === 'tls' || t === 'wss');
      const hostnames = [config.sip.bind, config.sip.advertisedHost ?? ''].filter((h) => h !== '' && h !== '0.0.0.0' && h !== '::');
      const tls = secure
        ? await tlsMaterial({ ...config.sip.tls, dataDir: path.resolve(config.dataDir), hostnames: ['127.0.0.1', '::1', ...hostnames] }, logger)
        : undefined;
      const sip = new SipServer({
        listeners: sipListeners(config, tls === undefined ? undefined : { cert: tls.cert, key: tls.key, ...(tls.ca !== undefined ? { ca: tls.ca } : {}) }),
        scheduler,
        logger: logger.child({ component: 'sip' }),
        metrics: config.metrics.enabled ? metrics.sip : undefined,
        timers: config.sip.timers,
        maxMessageSize: config.sip.maxMessageSize,
        idleTimeoutMs: config.sip.idleTimeoutMs,
        maxConnectionsPerSource: config.sip.maxConnectionsPerSource,
        userAgent: `opencx/${version}`,
      });
      closers.push({ name: 'sip', close: () => sip.shutdown(config.sip.shutdownGraceMs) });
      const bound = await sip.start();
      for (const l of bound) {
        const key = l.address.includes(':') && config.sip.ipv6 && !config.sip.bind.includes(':') ? `${l.protocol}6` : l.protocol;
        ports[key] = l.port;
      }
      health.register('sip-listeners', () => sip.listeners().length === bound.length);
    }

    const http: HttpServer = await createHttpServer({ bind: config.http.bind, port: config.http.port, logger, metrics, health });
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

export { createLogger };
