import { createHash } from 'node:crypto';
import t, { type Test } from 'tap';
import { CredentialTable } from '../../../src/cli/credential-table.js';
import { LocationReplica, primaryHandlers, RpcDirectory } from '../../../src/cli/worker-adapters.js';
import { ConflictError, FakeScheduler } from '../../../src/lib/index.js';
import { MemoryLocationStore, type Binding, type LocationChange, type SubscriberDirectory } from '../../../src/sip/index.js';

function fakePrimary() {
  const calls: string[] = [];
  const users = new Map<string, string>([['alice@example.com', 'ha1-alice']]);
  let hold: (() => void) | undefined;
  const call = async (op: string, ...args: unknown[]): Promise<unknown> => {
    calls.push(op);
    if (hold !== undefined) await new Promise<void>((resolve) => { const h = hold; hold = undefined; h?.(); setImmediate(resolve); });
    if (op === 'dir.isLocalDomain') return args[0] === 'example.com';
    if (op === 'dir.ha1') return users.get(`${String(args[0])}@${String(args[1])}`);
    if (op === 'dir.userExists') return users.has(`${String(args[0])}@${String(args[1])}`);
    throw new Error(op);
  };
  return { call, calls, users, pause: (fn: () => void) => { hold = fn; } };
}

t.test('answers are cached until the primary says provisioning changed', async (t) => {
  const p = fakePrimary();
  const dir = new RpcDirectory(p.call);
  t.equal(await dir.isLocalDomain('example.com'), true);
  t.equal(await dir.isLocalDomain('example.com'), true);
  t.equal(await dir.ha1('alice', 'example.com', 'MD5'), 'ha1-alice');
  t.equal(await dir.ha1('alice', 'example.com', 'MD5'), 'ha1-alice');
  t.equal(await dir.ha1('bob', 'example.com', 'MD5'), undefined);
  t.equal(await dir.ha1('bob', 'example.com', 'MD5'), undefined);
  t.equal(p.calls.length, 3);
  p.users.set('bob@example.com', 'ha1-bob');
  p.users.set('alice@example.com', 'ha1-alice-2');
  dir.invalidate();
  t.equal(await dir.ha1('bob', 'example.com', 'MD5'), 'ha1-bob');
  t.equal(await dir.ha1('alice', 'example.com', 'MD5'), 'ha1-alice-2');
  t.equal(await dir.userExists('bob', 'example.com'), true);
});

t.test('an answer to a call made before an invalidation is used once, not kept', async (t) => {
  const p = fakePrimary();
  const dir = new RpcDirectory(p.call);
  p.pause(() => {
    p.users.set('alice@example.com', 'changed');
    dir.invalidate();
  });
  t.equal(await dir.ha1('alice', 'example.com', 'MD5'), 'changed');
  p.users.set('alice@example.com', 'changed-again');
  t.equal(await dir.ha1('alice', 'example.com', 'MD5'), 'changed-again');
});

t.test('entries expire after the TTL', async (t) => {
  const p = fakePrimary();
  let now = 0;
  const dir = new RpcDirectory(p.call, { ttlMs: 1000, now: () => now });
  await dir.isLocalDomain('example.com');
  now = 999;
  await dir.isLocalDomain('example.com');
  now = 1000;
  await dir.isLocalDomain('example.com');
  t.equal(p.calls.length, 2);
});

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

function snapshotOf(users: [string, string][]) {
  const table = new CredentialTable();
  for (const [key, password] of users) table.add(key, md5(password), sha256(password), true);
  return { own: ['127.0.0.1'], domains: ['example.com'], users: table.export() };
}

t.test('with the primary\'s whole directory, lookups are answered without asking it', async (t) => {
  const p = fakePrimary();
  const dir = new RpcDirectory(async (op, ...args) => (op === 'dir.snapshot' ? JSON.parse(JSON.stringify(snapshotOf([['carol@example.com', 'pw']]))) : p.call(op, ...args)));
  t.equal(dir.local, false);
  t.equal(await dir.loadSnapshot(), true);
  t.equal(dir.local, true);
  t.equal(await dir.ha1('carol', 'EXAMPLE.com', 'MD5'), md5('pw'));
  t.equal(await dir.ha1('carol', 'example.com', 'SHA-256'), sha256('pw'));
  t.equal(await dir.ha1('alice', 'example.com', 'MD5'), undefined, 'a user the snapshot lacks is unknown, not asked for');
  t.equal(await dir.userExists('carol', 'example.com'), true);
  t.equal(await dir.isLocalDomain('example.com'), true);
  t.equal(await dir.isLocalDomain('[127.0.0.1]'), true);
  t.equal(await dir.isLocalDomain('other.org'), false);
  t.same(p.calls, [], 'the primary was not asked');
  // a change drops the copy: lookups go to the primary until the next snapshot
  dir.invalidate();
  t.equal(dir.local, false);
  t.equal(await dir.ha1('alice', 'example.com', 'MD5'), 'ha1-alice');
  t.same(p.calls, ['dir.ha1']);
  dir.useSnapshot(snapshotOf([['alice@example.com', 'new']]));
  t.equal(await dir.ha1('alice', 'example.com', 'MD5'), md5('new'));
});

t.test('a snapshot answer overtaken by a change is not used; a primary without one says null', async (t) => {
  let release!: () => void;
  const dir = new RpcDirectory(async (op) => {
    if (op !== 'dir.snapshot') throw new Error(op);
    await new Promise<void>((resolve) => (release = resolve));
    return snapshotOf([['a@example.com', 'old']]);
  });
  const loading = dir.loadSnapshot();
  await new Promise((r) => setImmediate(r));
  dir.invalidate();
  release();
  t.equal(await loading, false);
  t.equal(dir.local, false);
  const none = new RpcDirectory(async () => null);
  t.equal(await none.loadSnapshot(), false);
  t.throws(() => dir.useSnapshot({ own: [], domains: [], users: { keys: ['x'], ha1s: '', enabled: '', irregular: [] } }), /does not add up/);
  t.equal(dir.local, false, 'bad data changes nothing');
});

function binding(aor: string, contact: string, expiresAt: number): Binding {
  return { aor, contact, q: 1, expiresAt, callId: `c-${contact}`, cseq: 1, path: [], source: { protocol: 'udp', address: '127.0.0.1', port: 5070, nodeId: 'n1' }, registeredAt: 0 };
}

/** a primary with a real in-memory store, its RPC handlers behind JSON (as over IPC), and two worker copies */
function cluster(t: Test) {
  const scheduler = new FakeScheduler();
  const store = new MemoryLocationStore({ scheduler, sweepIntervalMs: 0 });
  const directory = {} as SubscriberDirectory;
  const ops: string[] = [];
  // each worker's calls reach handlers that know who is calling (cluster.ts makes one set per worker)
  const callFor = (origin: string) => {
    const handlers = primaryHandlers(directory, store, origin) as Record<string, (...args: unknown[]) => Promise<unknown>>;
    return async (op: string, ...args: unknown[]): Promise<unknown> => {
      ops.push(op);
      const handler = handlers[op];
      if (handler === undefined) throw new Error(`no ${op}`);
      const value = await handler(...(JSON.parse(JSON.stringify(args)) as unknown[]));
      return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
    };
  };
  const now = () => scheduler.wallNow();
  const a = new LocationReplica(callFor('a'), now, 1000);
  const b = new LocationReplica(callFor('b'), now, 1000);
  // the primary's broadcast, held back so tests choose when (and in which order) copies hear it
  const sent: LocationChange[] = [];
  store.onChange((c) => sent.push(JSON.parse(JSON.stringify(c)) as LocationChange));
  /** what cluster.ts sends: every change, except to the worker that made it */
  const deliver = () => {
    for (const c of sent.splice(0)) {
      if (c.origin !== 'a') a.apply(c);
      if (c.origin !== 'b') b.apply(c);
    }
  };
  t.teardown(async () => {
    await a.close();
    await b.close();
    await store.close();
  });
  return { scheduler, store, a, b, ops, sent, deliver };
}

t.test('worker copies of the location store: reads are local, writes go through the primary', async (t) => {
  const c = cluster(t);
  const later = c.scheduler.wallNow() + 60_000;
  await c.store.replace('sip:old@example.com', [binding('sip:old@example.com', 'sip:old@10.0.0.1', later)]);
  t.equal(await c.a.load(), 1);
  await c.b.load();
  c.sent.length = 0;
  c.ops.length = 0;
  t.same((await c.a.bindings('sip:old@example.com')).map((x) => x.contact), ['sip:old@10.0.0.1'], 'a copy has what was there before it loaded');
  t.same(c.ops, [], 'without asking the primary');

  // a registers alice: the write goes to the primary; a has it at once, b when the change reaches it
  const r0 = await c.a.read('sip:alice@example.com');
  t.same(r0, { bindings: [], version: 0 });
  await c.a.replace('sip:alice@example.com', [binding('sip:alice@example.com', 'sip:alice@10.0.0.2', later)], r0.version);
  t.same(c.ops, ['loc.write']);
  t.equal((await c.store.bindings('sip:alice@example.com')).length, 1, 'the primary holds it');
  t.equal((await c.a.bindings('sip:alice@example.com')).length, 1);
  t.equal((await c.b.bindings('sip:alice@example.com')).length, 0, 'b has not heard yet');
  t.same(c.sent.map((x) => x.origin), ['a'], 'the change names its writer, so it is not sent back to it');
  c.deliver();
  t.equal((await c.b.bindings('sip:alice@example.com')).length, 1, 'b has it once the change arrives');
  // expired bindings are not read
  c.scheduler.advance(61_000);
  t.same(await c.b.bindings('sip:alice@example.com'), []);
});

t.test('a write based on a stale copy fails at the primary, and the next read asks the primary', async (t) => {
  const c = cluster(t);
  await c.a.load();
  await c.b.load();
  const later = c.scheduler.wallNow() + 60_000;
  const aor = 'sip:bob@example.com';
  const ra = await c.a.read(aor);
  await c.a.replace(aor, [binding(aor, 'sip:bob@phone1', later)], ra.version);
  // b has not heard of a's write: its read is stale, its write is refused
  const rb = await c.b.read(aor);
  t.equal(rb.version, 0);
  await t.rejects(c.b.replace(aor, [binding(aor, 'sip:bob@phone2', later)], rb.version), ConflictError);
  c.ops.length = 0;
  const again = await c.b.read(aor);
  t.same(c.ops, ['loc.read'], 'the retry reads from the primary');
  t.same(again.bindings.map((x) => x.contact), ['sip:bob@phone1']);
  await c.b.replace(aor, [...again.bindings, binding(aor, 'sip:bob@phone2', later)], again.version);
  t.same((await c.store.bindings(aor)).map((x) => x.contact).sort(), ['sip:bob@phone1', 'sip:bob@phone2'], 'no write was lost');
  c.ops.length = 0;
  await c.b.read(aor);
  t.same(c.ops, [], 'and later reads are local again');
});

t.test('changes are applied in version order; a removal is not undone by an older change', async (t) => {
  const c = cluster(t);
  await c.a.load();
  const later = c.scheduler.wallNow() + 60_000;
  const aor = 'sip:carol@example.com';
  await c.store.replace(aor, [binding(aor, 'sip:carol@one', later)]);
  await c.store.replace(aor, [binding(aor, 'sip:carol@two', later)]);
  await c.store.replace(aor, []);
  const [first, second, removal] = c.sent.splice(0);
  if (first === undefined || second === undefined || removal === undefined) throw new Error('three changes expected');
  t.ok(first.version < second.version && second.version < removal.version, 'every write has a higher version, a removal too');
  c.a.apply(second);
  c.a.apply(first);
  t.same((await c.a.bindings(aor)).map((x) => x.contact), ['sip:carol@two'], 'an older change arriving late is ignored');
  c.a.apply(removal);
  c.a.apply(second);
  t.same(await c.a.read(aor), { bindings: [], version: 0 }, 'a removed AOR reads as the primary reads it (version 0)');
  // registered again from scratch: version 0 is what the primary expects
  await c.a.replace(aor, [binding(aor, 'sip:carol@three', later)], 0);
  t.equal((await c.store.bindings(aor))[0]?.contact, 'sip:carol@three');
  // a removal is remembered for keepRemovedMs, then forgotten
  await c.a.replace(aor, [], (await c.a.read(aor)).version);
  t.equal(c.a.size, 1);
  c.scheduler.advance(1001);
  c.a.forgetRemoved();
  t.equal(c.a.size, 0);
});

t.test('count and the AOR list are the primary\'s; a copy not loaded yet reads from the primary', async (t) => {
  const c = cluster(t);
  const later = c.scheduler.wallNow() + 60_000;
  await c.store.replace('sip:d@example.com', [binding('sip:d@example.com', 'sip:d@x', later)]);
  t.equal(await c.a.count(), 1);
  t.same(await c.a.aors({ prefix: 'sip:d' }), ['sip:d@example.com']);
  c.ops.length = 0;
  t.equal((await c.a.bindings('sip:d@example.com')).length, 1);
  t.same(c.ops, ['loc.read'], 'not loaded: asked the primary');
});
