import t from 'tap';
import { UnavailableError } from '../../../src/lib/index.js';
import { RedisBus, type Bus } from '../../../src/platform/index.js';
import { busContract } from '../../helpers/contract/bus-contract.js';
import { startRedisServer } from '../../helpers/redis-server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const server = await startRedisServer();
t.teardown(() => server.stop());

t.test('bus contract (redis)', async (t) => {
  busContract(t, {
    make: async () => {
      const bus = new RedisBus({ url: server.url });
      await bus.whenConnected(10_000);
      return bus;
    },
    elapse: sleep,
  });
});

t.test('Redis down: calls fail fast with UnavailableError; Redis back: the bus recovers', async (t) => {
  const bus = new RedisBus({ url: server.url, maxReconnectDelayMs: 200 });
  t.teardown(() => bus.close());
  await bus.whenConnected(10_000);
  const events: string[] = [];
  bus.on('connected', () => events.push('connected'));
  bus.on('disconnected', () => events.push('disconnected'));

  const received: string[] = [];
  await bus.subscribe('live', (m) => received.push(m));
  await bus.createGroup('jobs', 'g', '$');
  // settled into a value at once: the rejection may land while we are still awaiting stop()
  const blocked = bus.readGroup('jobs', 'g', 'c', { blockMs: 30_000 }).then(
    () => 'resolved',
    (err: unknown) => err,
  );
  await sleep(50);

  await server.stop({ hard: true });
  t.type(await blocked, UnavailableError, 'a read blocked at the outage rejects, it does not hang');
  await waitFor('disconnected', () => !bus.connected);

  const down = await Promise.allSettled([
    bus.get('k'),
    bus.set('k', 'v'),
    bus.publish('live', 'x'),
    bus.append('jobs', { a: '1' }),
    bus.readGroup('jobs', 'g', 'c', { blockMs: 1000 }),
    bus.subscribe('other', () => {}),
    bus.incr('n'),
  ]);
  for (const r of down) {
    t.equal(r.status, 'rejected');
    if (r.status === 'rejected') {
      t.type(r.reason, UnavailableError);
      t.match((r.reason as Error).message, /unavailable/);
    }
  }

  await server.restart();
  await bus.whenConnected(15_000);
  t.ok(bus.connected);
  await bus.set('k', 'back');
  t.equal(await bus.get('k'), 'back');

  // the subscription made before the outage is live again
  await bus.publish('live', 'after');
  await waitFor('message after reconnect', () => received.includes('after'));
  t.same(received, ['after']);

  // the blocking connection recovers too (the restarted Redis lost the group: no persistence)
  await bus.createGroup('jobs', 'g', '$');
  const next = bus.readGroup('jobs', 'g', 'c', { blockMs: 10_000 });
  await sleep(50);
  await bus.append('jobs', { again: '1' });
  t.same((await next).map((e) => e.fields), [{ again: '1' }]);
  t.same(events, ['disconnected', 'connected']);
});

t.test('never connected: whenConnected times out, calls are UnavailableError', async (t) => {
  // a port nobody listens on: the server's port while it is briefly stopped would race, so use 1
  const bus: Bus = new RedisBus({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 200, maxReconnectDelayMs: 200 });
  t.teardown(() => bus.close());
  await t.rejects(bus.whenConnected(300), { name: 'TimeoutError' });
  await t.rejects(bus.get('x'), UnavailableError);
  t.equal(bus.connected, false);
});
