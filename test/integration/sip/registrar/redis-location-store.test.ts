import t from 'tap';
import { SystemScheduler, UnavailableError } from '../../../../src/lib/index.js';
import { RedisLocationStore } from '../../../../src/sip/registrar/index.js';
import { binding, locationStoreContract } from '../../../helpers/contract/location-store-contract.js';
import { startRedisServer } from '../../../helpers/redis-server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const scheduler = new SystemScheduler();
const server = await startRedisServer();
t.teardown(() => server.stop());

t.test('location store contract (redis)', async (t) => {
  let n = 0;
  locationStoreContract(t, {
    make: async () => {
      const store = new RedisLocationStore({ url: server.url, scheduler, sweepIntervalMs: 0, keyPrefix: `t${n++}:` });
      await store.whenReady(5000);
      return store;
    },
    wallNow: () => scheduler.wallNow(),
    elapse: sleep,
  });
});

t.test('Redis down: fails fast with UnavailableError, recovers when Redis is back', async (t) => {
  const store = new RedisLocationStore({ url: server.url, scheduler, sweepIntervalMs: 0, keyPrefix: 'down:', maxReconnectDelayMs: 100 });
  t.teardown(() => store.close());
  await store.whenReady(5000);
  const aor = 'sip:down@example.com';
  await store.replace(aor, [binding(aor, 'sip:x@y', scheduler.wallNow() + 60_000)]);
  await server.stop({ hard: true });
  const started = Date.now();
  await t.rejects(store.read(aor), UnavailableError);
  await t.rejects(store.replace(aor, []), UnavailableError);
  t.ok(Date.now() - started < 1000, 'no waiting for a reconnect');
  await server.restart();
  await store.whenReady(5000);
  t.same(await store.bindings(aor), [], 'a fresh (non-persistent) Redis is empty');
});
