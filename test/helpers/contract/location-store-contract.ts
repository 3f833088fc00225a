import type { Test } from 'tap';
import { ConflictError } from '../../../src/lib/index.js';
import type { Binding, ExpiringLocationStore } from '../../../src/sip/registrar/index.js';

/**
 * What every LocationStore adapter must do. The memory store runs it on a FakeScheduler, the
 * Redis store on real time (Redis keeps its own clock for PX), so expiries here are short.
 */
export interface LocationStoreHarness {
  make(): Promise<ExpiringLocationStore>;
  /** the wall clock the store uses (scheduler.wallNow()) */
  wallNow(): number;
  /** let at least ms of store time pass */
  elapse(ms: number): Promise<void>;
}

let counter = 0;
function aorName(user: string): string {
  return `sip:${user}-${process.pid}-${counter++}@example.com`;
}

export function binding(aor: string, contact: string, expiresAt: number, extra: Partial<Binding> = {}): Binding {
  return {
    aor,
    contact,
    q: 1,
    expiresAt,
    callId: 'call-1',
    cseq: 1,
    path: [],
    source: { protocol: 'udp', address: '192.0.2.1', port: 5060, nodeId: 'n1' },
    registeredAt: expiresAt - 3_600_000,
    ...extra,
  };
}

export function locationStoreContract(t: Test, h: LocationStoreHarness): void {
  const withStore = (name: string, fn: (t: Test, store: ExpiringLocationStore) => Promise<void>): void => {
    t.test(name, async (t) => {
      const store = await h.make();
      t.teardown(() => store.close());
      await fn(t, store);
    });
  };

  withStore('replace then read returns the bindings, an unknown AOR is empty with version 0', async (t, store) => {
    const aor = aorName('alice');
    t.same(await store.read(aor), { bindings: [], version: 0 });
    const b = binding(aor, 'sip:alice@192.0.2.1:5060', h.wallNow() + 60_000, {
      path: ['<sip:edge.example.com;lr>'],
      instanceId: '<urn:uuid:00000000-0000-0000-0000-000000000001>',
      regId: 1,
      source: { protocol: 'tcp', address: '192.0.2.1', port: 40000, connectionId: 'c7', nodeId: 'n1' },
      userAgent: 'ua/1',
    });
    await store.replace(aor, [b]);
    const read = await store.read(aor);
    t.same(read.bindings, [b], 'every field survives the round trip');
    t.ok(read.version > 0, 'a written AOR has a version');
    t.same(await store.bindings(aor), [b]);
  });

  withStore('expectVersion: a stale version is refused with ConflictError, versions never repeat', async (t, store) => {
    const aor = aorName('bob');
    const exp = h.wallNow() + 60_000;
    await store.replace(aor, [binding(aor, 'sip:bob@a', exp)], 0);
    const v1 = (await store.read(aor)).version;
    await t.rejects(store.replace(aor, [binding(aor, 'sip:bob@b', exp)], 0), ConflictError, 'version 0 expects an absent AOR');
    await store.replace(aor, [binding(aor, 'sip:bob@b', exp)], v1);
    const v2 = (await store.read(aor)).version;
    t.ok(v2 > v1);
    await t.rejects(store.replace(aor, [], v1), ConflictError, 'the old version is stale');
    await store.replace(aor, [], v2);
    t.same(await store.read(aor), { bindings: [], version: 0 }, 'an empty list removes the AOR');
    await store.replace(aor, [binding(aor, 'sip:bob@c', exp)], 0);
    const v3 = (await store.read(aor)).version;
    t.not(v3, v1, 'a re-created AOR does not reuse an old version');
    t.not(v3, v2);
  });

  withStore('concurrent replace with the same expected version: exactly one wins', async (t, store) => {
    const aor = aorName('race');
    const exp = h.wallNow() + 60_000;
    const results = await Promise.allSettled([1, 2, 3, 4].map((i) => store.replace(aor, [binding(aor, `sip:r@h${i}`, exp)], 0)));
    t.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    t.ok(results.filter((r) => r.status === 'rejected').every((r) => r.reason instanceof ConflictError));
  });

  withStore('expired bindings are filtered on read and reported once by the sweep', async (t, store) => {
    const aor = aorName('carol');
    const now = h.wallNow();
    const short = binding(aor, 'sip:carol@short', now + 100);
    const long = binding(aor, 'sip:carol@long', now + 60_000);
    await store.replace(aor, [short, long]);
    const gone = aorName('dave');
    await store.replace(gone, [binding(gone, 'sip:dave@x', now + 100)]);
    t.equal(await store.count(), 2);
    await h.elapse(300);
    t.same((await store.bindings(aor)).map((b) => b.contact), ['sip:carol@long']);
    t.same(await store.bindings(gone), []);
    t.equal(await store.count(), 1, 'an AOR whose bindings all expired is not counted');
    const swept = (await store.sweepExpired()).filter((e) => e.aor === aor || e.aor === gone);
    t.same(
      swept.map((e) => [e.aor, e.bindings.map((b) => b.contact)]).sort(),
      [
        [aor, ['sip:carol@short']],
        [gone, ['sip:dave@x']],
      ].sort(),
    );
    t.same((await store.sweepExpired()).filter((e) => e.aor === aor || e.aor === gone), [], 'reported once');
    t.same((await store.bindings(aor)).map((b) => b.contact), ['sip:carol@long'], 'live bindings stay');
  });

  withStore('count and aors with prefix and limit', async (t, store) => {
    const exp = h.wallNow() + 60_000;
    const base = `sip:list${process.pid}-${counter++}`;
    for (const u of ['c', 'a', 'b']) {
      const aor = `${base}${u}@example.com`;
      await store.replace(aor, [binding(aor, `sip:${u}@x`, exp)]);
    }
    t.same(await store.aors({ prefix: base }), [`${base}a@example.com`, `${base}b@example.com`, `${base}c@example.com`]);
    t.same(await store.aors({ prefix: base, limit: 2 }), [`${base}a@example.com`, `${base}b@example.com`]);
    t.ok((await store.count()) >= 3);
    await store.replace(`${base}b@example.com`, []);
    t.same(await store.aors({ prefix: base }), [`${base}a@example.com`, `${base}c@example.com`]);
  });

  withStore('read returns copies: editing them does not change the store', async (t, store) => {
    const aor = aorName('copy');
    await store.replace(aor, [binding(aor, 'sip:x@y', h.wallNow() + 60_000, { path: ['<sip:p;lr>'] })]);
    const first = await store.bindings(aor);
    first[0]!.path.push('<sip:evil>');
    first[0]!.q = 0;
    const again = await store.bindings(aor);
    t.same(again[0]!.path, ['<sip:p;lr>']);
    t.equal(again[0]!.q, 1);
  });

  t.test('close is idempotent', async (t) => {
    const store = await h.make();
    await store.close();
    await store.close();
    t.pass();
  });
}
