import Fastify, { type FastifyInstance } from 'fastify';
import { describeError, httpStatusFor, type Logger } from '../lib/index.js';
import type { HealthRegistry } from './health.js';
import type { MetricsSource } from './metrics.js';

/**
 * The HTTP server every role runs: /metrics, /healthz, /readyz, plus the routes of other layers.
 * Fastify accepts routes only until it is listening, so layers add theirs in the `routes` hook,
 * which runs before listen; `app` stays exposed for inject() in tests and for hooks.
 */
export interface HttpServerOptions {
  bind: string;
  /** 0 picks a free port; the real one is on the returned server */
  port: number;
  logger: Logger;
  metrics?: MetricsSource;
  health: HealthRegistry;
  /** called before listen, to add routes of other layers */
  routes?: (app: FastifyInstance) => void | Promise<void>;
}

export interface HttpServer {
  readonly app: FastifyInstance;
  readonly port: number;
  readonly address: string;
  close(): Promise<void>;
}

export async function createHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const log = options.logger.child({ component: 'http' });
  // fastify's own logger stays off: everything goes through our Logger. forceCloseConnections
  // drops idle keep-alive sockets on close, so shutdown does not wait for clients to hang up.
  const app = Fastify({ logger: false, forceCloseConnections: true });

  app.setErrorHandler((err, request, reply) => {
    const status = typeof (err as { statusCode?: unknown }).statusCode === 'number' ? (err as { statusCode: number }).statusCode : httpStatusFor(err);
    if (status >= 500) log.error({ err, url: request.url, method: request.method }, 'request failed');
    void reply.status(status).send({ error: describeError(err) });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const report = await options.health.evaluate();
    const failed = report.checks.filter((c) => !c.ok);
    if (report.ready) return { status: 'ready', checks: report.checks.map((c) => c.name) };
    return reply.status(503).send({ status: 'not ready', failed: failed.map((c) => c.name), checks: report.checks });
  });

  const metrics = options.metrics;
  if (metrics !== undefined) {
    app.get('/metrics', async (_request, reply) => {
      const body = await metrics.text();
      return reply.type(metrics.contentType).send(body);
    });
  }

  if (options.routes !== undefined) await options.routes(app);

  try {
    await app.listen({ host: options.bind, port: options.port });
  } catch (err) {
    // e.g. EADDRINUSE: release what fastify set up, then let the caller report it
    await app.close().catch(() => {});
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : options.port;
  const address = typeof addr === 'object' && addr !== null ? addr.address : options.bind;
  log.info({ address, port }, 'http server listening');

  let closing: Promise<void> | undefined;
  return {
    app,
    port,
    address,
    close(): Promise<void> {
      closing ??= app.close().then(
        () => undefined,
        (err: unknown) => log.warn({ err }, 'error while closing http server'),
      );
      return closing;
    },
  };
}
