import t from 'tap';
import { FakeScheduler } from '../../../src/lib/index.js';
import { MemoryBus, jsonField, parseJsonField, compareStreamIds } from '../../../src/platform/index.js';
import { busContract } from '../../helpers/contract/bus-contract.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

t.test('bus contract (memory)', async (t) => {
  const scheduler = new FakeScheduler();
  busContract(t, {
    make: async () => new MemoryBus({ scheduler }),
    elapse: async (ms) => {
      await tick();
      scheduler.advance(ms);
      await tick();
    },
  });
});

t.test('hasSubscribers is exact in process: false before the first and after the last subscription', async (t) => {
  const bus = new MemoryBus({ scheduler: new FakeScheduler() });
  t.teardown(() => bus.close());
  t.equal(bus.hasSubscribers('events'), false, 'nobody yet');
  const a = await bus.subscribe('events', () => {});
  const b = await bus.subscribe('events', () => {});
  t.equal(bus.hasSubscribers('events'), true);
  t.equal(bus.hasSubscribers('other'), false, 'per topic');
  await a.unsubscribe();
  t.equal(bus.hasSubscribers('events'), true, 'one left');
  await b.unsubscribe();
  t.equal(bus.hasSubscribers('events'), false, 'after the last unsubscribe');
});

t.test('stream ids stay monotonic when the wall clock stands still or goes back', async (t) => {
  const scheduler = new FakeScheduler({ wallStart: 5000 });
  const bus = new MemoryBus({ scheduler });
  const a = await bus.append('s', { x: '1' });
  const b = await bus.append('s', { x: '2' });
  t.equal(a, '5000-0');
  t.equal(b, '5000-1');
  await bus.close();
});

t.test('TTL timers are cancelled on delete and close', async (t) => {
  const scheduler = new FakeScheduler();
  const bus = new MemoryBus({ scheduler });
  await bus.set('a', '1', { ttlMs: 1000 });
  await bus.set('a', '2', { ttlMs: 5000 });
  scheduler.advance(1500);
  t.equal(await bus.get('a'), '2', 'the first TTL was replaced');
  await bus.set('b', '1', { ttlMs: 1000 });
  await bus.delete('b');
  await bus.set('c', '1', { ttlMs: 1000 });
  await bus.close();
  t.equal(scheduler.pending, 0, 'no timers left');
});

t.test('events: disconnected on close', async (t) => {
  const bus = new MemoryBus({ scheduler: new FakeScheduler() });
  const seen: string[] = [];
  bus.on('disconnected', (why) => seen.push(why));
  await bus.whenConnected();
  await bus.close();
  t.same(seen, ['closed']);
  await t.rejects(bus.whenConnected());
});

t.test('json helpers and id comparison', async (t) => {
  t.same(parseJsonField(jsonField({ a: [1, 'x'] })), { a: [1, 'x'] });
  t.equal(parseJsonField('{broken'), undefined);
  t.equal(parseJsonField(undefined), undefined);
  t.equal(compareStreamIds('10-0', '9-5'), 1);
  t.equal(compareStreamIds('9-5', '9-10'), -1);
  t.equal(compareStreamIds('9-5', '9-5'), 0);
});
