import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describeError, randomToken, SystemScheduler, type Logger } from '../lib/index.js';
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
import { startCallsRole, localSipHost, isOwnSipHost, validateDialPlan, type CallsRole } from './calls-role.js';
import { registerCallRoutes } from '../calls/index.js';
import { mediaEngineFor, recoverRecordings, startMediaRole, type MediaRole } from './media-role.js';
import { createSipServer, portsOf } from './sip-role.js';
import { startMcpRole, type McpRole } from './mcp-role.js';
import { installSamples } from './mcp-samples.js';
import { writeServerFile } from './user-commands.js';
import { primaryHandlers } from './worker-adapters.js';
import { MemoryLocationStore } from '../sip/index.js';
import { authSecret, createDirectory, createLocationStore, openProvisioning, registrationsPort, subscriberServices, type Provisioning } from './subscriber-services.js';
import { PROVISIONING_CHANGED_TOPIC, createTelephonyStores, registerProvisioningRoutes, registerTelephonyRoutes, registerVxmlAppRoutes, registerVxmlServingRoutes, hostedAppUrl, type RegistrationsPort } from '../control/index.js';
import type { FastifyInstance } from 'fastify';

export interface RunningServer {
  /** the ports actually bound, as logged in the start line */
  ports: Record<string, number>;
  /** graceful stop: idempotent */
  stop(reason: string): Promise<void>;
}

/** Roles that have services in this build; the others are accepted and reported as idle. */
const ROLES_WITH_SERVICES: readonly Role[] = ['sip', 'control', 'media', 'calls', 'mcp'];

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

    // provisioning (users, domains) lives in the database: the control role serves it over REST,
    // the SIP role reads credentials from it
    let provisioning: Provisioning | undefined;
    let registrations: RegistrationsPort | undefined;
    if (config.roles.includes('control') || config.roles.includes('sip')) {
      provisioning = await openProvisioning(config, bus, logger, config.roles.includes('control'));
      const opened = provisioning;
      closers.push({ name: 'database', close: () => opened.close() });
      health.register('database', async () => {
        await opened.db.query('SELECT 1');
        return true;
      });
    }

    let callsRole: CallsRole | undefined;
    // media first: the calls role anchors its calls there
    let mediaRole: MediaRole | undefined;
    // with several SIP workers the MCP runs in each of them, each with a media engine on its own
    // slice of the port range (mcp-worker.ts): the primary keeps no engine of its own then
    const mcpInWorkers = config.sip.workers > 1 && config.roles.includes('sip') && config.roles.includes('mcp');
    if (mcpInWorkers) await recoverRecordings(config, logger);
    if (config.roles.includes('media') && !mcpInWorkers) {
      const media = await startMediaRole(config, bus, config.metrics.enabled ? metrics : undefined, scheduler, logger);
      mediaRole = media;
      closers.push({ name: 'media', close: () => media.close() });
      health.register('media', () => bus.connected);
    }

    if (config.roles.includes('sip')) {
      if (provisioning === undefined) throw new Error('provisioning is opened for the sip role');
      // who may register, and where they are: held here; SIP workers reach them over IPC
      const directory = await createDirectory(provisioning, config, scheduler, logger);
      await directory.watch(bus);
      closers.push({ name: 'directory', close: () => directory.close() });
      const location = createLocationStore(config, scheduler, logger);
      closers.push({ name: 'location store', close: () => location.close() });
      const nodeId = randomToken(6);
      registrations = registrationsPort(location, scheduler, nodeId, bus, logger);

      if (config.sip.workers > 1) {
        if (config.roles.includes('calls')) logger.warn({}, 'the calls role runs only with sip.workers: 1; calls are proxied, not anchored, on this node');
        if (mcpInWorkers) logger.info({ workers: config.sip.workers }, 'the MCP runs in every SIP worker, each with its own media engine');
        // the SIP role runs in worker processes sharing the ports (see cluster.ts); with Redis
        // they share the location store directly
        const shared = config.bus.kind === 'redis';
        // the nonce secret exists before the workers start, so they all read the same one
        await authSecret(config);
        const workers = await startSipWorkers(config, logger, (index) => primaryHandlers(directory, shared ? undefined : location, String(index)), {
          ...(!shared && location instanceof MemoryLocationStore ? { location } : {}),
          directory,
        });
        closers.push({ name: 'sip workers', close: () => workers.stop() });
        // workers cache the directory's answers (RpcDirectory): any provisioning change drops them
        const changes = await bus.subscribe(PROVISIONING_CHANGED_TOPIC, () => workers.directoryChanged());
        closers.push({ name: 'directory change notices', close: () => changes.unsubscribe() });
        Object.assign(ports, workers.ports);
        health.register('sip-workers', () => workers.allReady());
        metricsSource = new ClusterMetrics();
      } else {
        const secret = await authSecret(config);
        const services = subscriberServices({ location, directory, secret, algorithms: config.sip.authAlgorithms, registrar: config.sip.registrar, scheduler, nodeId, bus, logger });
        let mcpRole: McpRole | undefined;
        if (config.roles.includes('mcp')) {
          // the Media Control Platform: dialog@/annc@ INVITEs, and the B2BUA's VoiceXML targets
          const apps = createTelephonyStores({ db: provisioning.db, bus, logger, validateDialPlan }).vxmlApps;
          const loopback = (bind: string): string => (bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind.includes(':') ? `[${bind}]` : bind);
          const mcp = await startMcpRole({
            config,
            engine: mediaEngineFor(config, mediaRole, bus, scheduler, logger),
            ...(mediaRole !== undefined ? { blobs: mediaRole.blobs } : {}),
            scheduler,
            logger,
            secret,
            sipListener: () => (ports.udp !== undefined ? { protocol: 'udp', address: loopback(config.sip.bind).replace(/^\[|\]$/g, ''), port: ports.udp } : undefined),
            localHost: () => localSipHost(config),
            hostedAppUrl: async (tenantId, name) => {
              const app = await apps.find(tenantId, name);
              if (app === undefined || ports.http === undefined) return undefined;
              return hostedAppUrl(`http://${loopback(config.http.bind)}:${ports.http}`, app.tenantName, app.name, app.entry);
            },
          });
          closers.push({ name: 'mcp', close: () => mcp.close() });
          mcpRole = mcp;
        }
        if (config.roles.includes('calls')) {
          // the B2BUA's user agent goes ahead of the proxy: it owns every new INVITE (anchored calls)
          const calls = startCallsRole({
            config,
            provisioning,
            media: mediaEngineFor(config, mediaRole, bus, scheduler, logger),
            location,
            directory,
            secret,
            bus,
            scheduler,
            logger,
            nodeId,
            localHost: () => localSipHost(config),
            isOwnHost: (host, port) => isOwnSipHost(config, ports, host, port),
            ...(config.metrics.enabled ? { metrics } : {}),
            ...(mcpRole !== undefined ? { applications: mcpRole.applications } : {}),
          });
          closers.push({ name: 'calls', close: () => calls.close() });
          callsRole = calls;
          services.splice(1, 0, calls.service);
        }
        // ahead of the B2BUA's user agent: it claims only dialog@ and annc@
        if (mcpRole !== undefined) services.splice(1, 0, mcpRole.service);
        const sip = await createSipServer(config, logger, config.metrics.enabled ? metrics.sip : undefined, version, { services, scheduler, nodeId });
        closers.push({ name: 'sip', close: () => sip.shutdown(config.sip.shutdownGraceMs) });
        const bound = await sip.start();
        Object.assign(ports, portsOf(bound, config));
        health.register('sip-listeners', () => sip.listeners().length === bound.length);
      }
    }

    const store = provisioning?.store;
    const telephony = provisioning !== undefined ? createTelephonyStores({ db: provisioning.db, bus, logger, validateDialPlan }) : undefined;
    const http: HttpServer = await createHttpServer({
      bind: config.http.bind,
      port: config.http.port,
      logger,
      metrics: metricsSource,
      health,
      ...(config.roles.includes('control') && store !== undefined
        ? {
            routes: async (app: FastifyInstance) => {
              await registerProvisioningRoutes(app, { store, ...(registrations !== undefined ? { registrations } : {}), logger });
              // after the provisioning routes, whose @fastify/swagger documents these too
              if (telephony !== undefined) await registerTelephonyRoutes(app, { provisioning: store, ...telephony, logger });
              if (telephony !== undefined) {
                // hosted VoiceXML applications: /api/v1/apps (API key) and /vxml/{tenant}/{app}/{path} (open, for IVR platforms)
                await registerVxmlAppRoutes(app, { provisioning: store, vxmlApps: telephony.vxmlApps, logger });
                await registerVxmlServingRoutes(app, { provisioning: store, vxmlApps: telephony.vxmlApps, logger });
              }
              if (callsRole !== undefined) {
                await registerCallRoutes(app, { b2bua: callsRole.b2bua, verifyApiKey: async (token) => store.verifyApiKey(token), logger });
              }
            },
          }
        : {}),
    });
    closers.push({ name: 'http', close: () => http.close() });
    ports.http = http.port;
    await writeServerFile(config, http.port);
    if (config.mcp.samples && config.roles.includes('mcp') && config.roles.includes('control') && telephony !== undefined && store !== undefined) {
      await installSamples(telephony, store, logger);
    }

    const idle = config.roles.filter((r) => !ROLES_WITH_SERVICES.includes(r));
    if (idle.length > 0) logger.info({ roles: idle }, 'these roles have no services in this build yet; they start idle');
    logger.info({ version, roles: config.roles, bind: config.sip.bind, ports, dataDir: path.resolve(config.dataDir) }, 'opencx started');
    return { ports, stop };
  } catch (err) {
    await stop(`start failed: ${describeError(err)}`);
    throw err;
  }
}

