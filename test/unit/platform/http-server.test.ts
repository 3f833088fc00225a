import t from 'tap';
import { recordingLogger } from '../../../src/lib/index.js';
import { HealthRegistry, Metrics, createHttpServer } from '../../../src/platform/index.js';

t.test('GET /healthz, /readyz, /metrics on a real port 0', async (t) => {
  const metrics = new Metrics({ defaultMetrics: false });
  const health = new HealthRegistry();
  let ready = false;
  health.register('bus', () => ready);
  health.register('db', () => true);
  const logger = recordingLogger();
  const server = await createHttpServer({
    bind: '127.0.0.1',
    port: 0,
    logger,
    metrics,
    health,
    routes: (app) => {
      app.get('/api/ping', async () => ({ pong: true }));
      app.get('/api/boom', async () => {
        throw new Error('kaboom');
      });
    },
  });
  t.teardown(() => server.close());
  t.ok(server.port > 0, 'actual port reported');
  const base = `http://127.0.0.1:${server.port}`;

  const live = await fetch(`${base}/healthz`);
  t.equal(live.status, 200);
  t.same(await live.json(), { status: 'ok' });

  const notReady = await fetch(`${base}/readyz`);
  t.equal(notReady.status, 503);
  const body = (await notReady.json()) as { failed: string[] };
  t.same(body.failed, ['bus'], 'lists which checks failed');

  ready = true;
  const isReady = await fetch(`${base}/readyz`);
  t.equal(isReady.status, 200);
  t.same(await isReady.json(), { status: 'ready', checks: ['bus', 'db'] });

  metrics.sip.request('REGISTER', 'udp', 'in');
  const m = await fetch(`${base}/metrics`);
  t.equal(m.status, 200);
  t.match(m.headers.get('content-type') ?? '', /text\/plain/);
  t.match(await m.text(), /sip_requests_total\{method="REGISTER",transport="udp",direction="in"\} 1/);

  const ping = await fetch(`${base}/api/ping`);
  t.same(await ping.json(), { pong: true }, 'routes added by other layers');
  const boom = await fetch(`${base}/api/boom`);
  t.equal(boom.status, 500);
  t.same(await boom.json(), { error: 'kaboom' });
  t.ok(logger.records.some((r) => r.level === 'error' && r.msg === 'request failed'), 'errors go to our logger');
  const missing = await fetch(`${base}/nope`);
  t.equal(missing.status, 404);

  // a keep-alive connection left open must not hold close() up
  await fetch(`${base}/healthz`, { keepalive: true });
  await Promise.all([server.close(), server.close()]);
  await server.close();
  await t.rejects(fetch(`${base}/healthz`), 'closed');
});

t.test('inject works without metrics', async (t) => {
  const server = await createHttpServer({ bind: '127.0.0.1', port: 0, logger: recordingLogger(), health: new HealthRegistry() });
  t.teardown(() => server.close());
  const res = await server.app.inject({ method: 'GET', url: '/metrics' });
  t.equal(res.statusCode, 404);
  const ready = await server.app.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 200);
});

t.test('a port in use is reported, not thrown past the caller unhandled', async (t) => {
  const first = await createHttpServer({ bind: '127.0.0.1', port: 0, logger: recordingLogger(), health: new HealthRegistry() });
  t.teardown(() => first.close());
  await t.rejects(createHttpServer({ bind: '127.0.0.1', port: first.port, logger: recordingLogger(), health: new HealthRegistry() }), { code: 'EADDRINUSE' });
});
