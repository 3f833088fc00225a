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

t.test('a write keeps the stored object of each binding it leaves unchanged; read() still hands out copies', async (t) => {
  const scheduler = new FakeScheduler();
  const store = new MemoryLocationStore({ scheduler, sweepIntervalMs: 0 });
  const aor = 'sip:a@example.com';
  const stored: Array<readonly { contact: string }[]> = [];
  store.onChange((c) => stored.push(c.bindings));
  const exp = scheduler.wallNow() + 60_000;
  store.replaceNow(aor, [binding(aor, 'sip:a@phone', exp, { path: ['<sip:edge;lr>'] }), binding(aor, 'sip:a@desk', exp)], {});
  // the registrar's way: read, change one binding, write the set back
  const read = store.readNow(aor);
  const refreshed = binding(aor, 'sip:a@desk', exp + 1000, { cseq: 2 });
  store.replaceNow(aor, [read.bindings[0]!, refreshed], { expectVersion: read.version });
  t.equal(stored.length, 2);
  t.equal(stored[1]![0], stored[0]![0], 'the unchanged binding is the object stored before');
  t.not(stored[1]![1], stored[0]![1], 'the refreshed one is new');
  t.not(stored[1]![1], refreshed, 'and a copy of what was passed in');
  // any field that differs makes it a new binding
  const again = store.readNow(aor);
  store.replaceNow(aor, [{ ...again.bindings[0]!, source: { ...again.bindings[0]!.source, port: 5070 } }, again.bindings[1]!], { expectVersion: again.version });
  t.not(stored[2]![0], stored[1]![0], 'a binding whose source port changed is stored anew');
  t.equal(stored[2]![1], stored[1]![1]);
  // what read() returns is still the caller's to change
  const mine = store.readNow(aor).bindings;
  mine[0]!.contact = 'sip:changed@x';
  mine[0]!.path.push('<sip:other;lr>');
  const after = store.readNow(aor).bindings;
  t.equal(after[0]!.contact, 'sip:a@phone');
  t.same(after[0]!.path, ['<sip:edge;lr>']);
  await store.close();
});
