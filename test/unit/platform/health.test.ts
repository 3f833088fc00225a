import t from 'tap';
import { FakeScheduler } from '../../../src/lib/index.js';
import { HealthRegistry } from '../../../src/platform/index.js';

t.test('ready only when every check passes; throwing, rejecting and hanging checks fail', async (t) => {
  const scheduler = new FakeScheduler();
  const health = new HealthRegistry({ scheduler, timeoutMs: 1000 });
  t.same(await health.evaluate(), { ready: true, checks: [] }, 'no checks: ready');
  let busUp = true;
  health.register('bus', () => busUp);
  health.register('db', async () => true);
  t.same(await health.evaluate(), { ready: true, checks: [{ name: 'bus', ok: true }, { name: 'db', ok: true }] });
  busUp = false;
  const r = await health.evaluate();
  t.equal(r.ready, false);
  t.same(r.checks.filter((c) => !c.ok).map((c) => c.name), ['bus']);
  busUp = true;

  const off = health.register('throws', () => {
    throw new Error('nope');
  });
  health.register('rejects', () => Promise.reject(new Error('down')));
  health.register('hangs', () => new Promise<boolean>(() => {}));
  const pending = health.evaluate();
  await new Promise((r) => setImmediate(r));
  scheduler.advance(1000);
  const bad = await pending;
  t.equal(bad.ready, false);
  t.same(
    bad.checks.filter((c) => !c.ok),
    [
      { name: 'throws', ok: false, error: 'nope' },
      { name: 'rejects', ok: false, error: 'down' },
      { name: 'hangs', ok: false, error: 'timed out after 1000 ms' },
    ],
  );
  off();
  t.same(health.names(), ['bus', 'db', 'rejects', 'hangs']);
  t.equal(scheduler.pending, 0, 'deadline timers are cancelled');
});
