import t from 'tap';
import { FakeScheduler } from '../../../../src/lib/index.js';
import { MemoryLocationStore } from '../../../../src/sip/registrar/index.js';
import { binding, locationStoreContract } from '../../../helpers/contract/location-store-contract.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

t.test('location store contract (memory)', async (t) => {
  const scheduler = new FakeScheduler();
  locationStoreContract(t, {
    make: async () => new MemoryLocationStore({ scheduler, sweepIntervalMs: 0 }),
    wallNow: () => scheduler.wallNow(),
    elapse: async (ms) => {
      scheduler.advance(ms);
      await tick();
    },
  });
});

t.test('the periodic sweep reports expired bindings and close cancels it', async (t) => {
  const scheduler = new FakeScheduler();
  const store = new MemoryLocationStore({ scheduler, sweepIntervalMs: 1000 });
  const seen: string[] = [];
  store.onExpired((e) => seen.push(...e.bindings.map((b) => b.contact)));
  await store.replace('sip:a@example.com', [binding('sip:a@example.com', 'sip:a@h', scheduler.wallNow() + 1500)]);
  scheduler.advance(1000);
  await tick();
  t.same(seen, []);
  scheduler.advance(1000);
  await tick();
  t.same(seen, ['sip:a@h']);
  t.equal(store.size, 0);
  await store.close();
  t.equal(scheduler.pending, 0, 'no timer left');
});
