import type { Test } from 'tap';
import { ClosedError, InvalidInputError, NotFoundError } from '../../../src/lib/index.js';
import { compareStreamIds, type Bus } from '../../../src/platform/index.js';

/**
 * The one behaviour both bus adapters must show. A harness makes a fresh bus and moves time:
 * the memory bus advances its FakeScheduler, the Redis bus sleeps for real (Redis keeps its own
 * clock), so the same assertions cover TTLs, idle claims and blocking-read deadlines.
 */
export interface BusHarness {
  make(): Promise<Bus>;
  /** let at least ms of bus time pass */
  elapse(ms: number): Promise<void>;
}

let counter = 0;
/** names unique per test, so tests sharing one Redis never see each other's keys */
function names(): (s: string) => string {
  const p = `ct${process.pid}-${Date.now()}-${counter++}:`;
  return (s) => p + s;
}

function nextMessage(bus: Bus, topic: string): { got: Promise<string>; ready: Promise<unknown> } {
  let resolve!: (m: string) => void;
  const got = new Promise<string>((r) => (resolve = r));
  const ready = bus.subscribe(topic, (m) => resolve(m));
  return { got, ready };
}

export function busContract(t: Test, h: BusHarness): void {
  const withBus = (name: string, fn: (t: Test, bus: Bus, n: (s: string) => string) => Promise<void>): void => {
    t.test(name, async (t) => {
      const bus = await h.make();
      t.teardown(() => bus.close());
      await fn(t, bus, names());
    });
  };

  withBus('key/value: set, get, delete', async (t, bus, n) => {
    t.equal(await bus.get(n('missing')), undefined);
    await bus.set(n('a'), 'one');
    t.equal(await bus.get(n('a')), 'one');
    await bus.set(n('a'), '{"json":true}');
    t.equal(await bus.get(n('a')), '{"json":true}', 'strings are stored verbatim');
    t.equal(await bus.delete(n('a')), true);
    t.equal(await bus.delete(n('a')), false);
    t.equal(await bus.get(n('a')), undefined);
  });

  withBus('key/value: TTL expires, a later set without TTL keeps the key', async (t, bus, n) => {
    await bus.set(n('ttl'), 'x', { ttlMs: 60 });
    await bus.set(n('keep'), 'y', { ttlMs: 60 });
    await bus.set(n('keep'), 'z');
    t.equal(await bus.get(n('ttl')), 'x');
    await h.elapse(150);
    t.equal(await bus.get(n('ttl')), undefined, 'expired');
    t.equal(await bus.get(n('keep')), 'z', 'plain set cleared the TTL');
    await t.rejects(bus.set(n('bad'), 'v', { ttlMs: 0 }), InvalidInputError);
  });

  withBus('key/value: incr', async (t, bus, n) => {
    t.equal(await bus.incr(n('c')), 1);
    t.equal(await bus.incr(n('c'), 5), 6);
    t.equal(await bus.incr(n('c'), -2), 4);
    t.equal(await bus.get(n('c')), '4');
    await bus.set(n('s'), 'not a number');
    await t.rejects(bus.incr(n('s')), InvalidInputError);
    await bus.set(n('t'), '10', { ttlMs: 60 });
    t.equal(await bus.incr(n('t')), 11);
    await h.elapse(150);
    t.equal(await bus.get(n('t')), undefined, 'incr kept the TTL');
  });

  withBus('key/value: scan by prefix', async (t, bus, n) => {
    await bus.set(n('reg:b'), '1');
    await bus.set(n('reg:a'), '1');
    await bus.set(n('regx'), '1');
    await bus.set(n('odd*[x]?:1'), '1');
    await bus.set(n('oddly'), '1');
    t.same(await bus.scan(n('reg:')), [n('reg:a'), n('reg:b')]);
    t.same(await bus.scan(n('odd*[x]?:')), [n('odd*[x]?:1')], 'glob characters are literal');
    t.same(await bus.scan(n('none:')), []);
  });

  withBus('pub/sub: every subscriber gets the message; unsubscribe stops delivery', async (t, bus, n) => {
    const a = nextMessage(bus, n('topic'));
    const b = nextMessage(bus, n('topic'));
    await Promise.all([a.ready, b.ready]);
    await bus.publish(n('topic'), 'hello');
    t.equal(await a.got, 'hello');
    t.equal(await b.got, 'hello');

    const seen: string[] = [];
    const sub = await bus.subscribe(n('t2'), (m) => seen.push(m));
    await sub.unsubscribe();
    await sub.unsubscribe();
    const marker = nextMessage(bus, n('t3'));
    await marker.ready;
    await bus.publish(n('t2'), 'lost');
    await bus.publish(n('t3'), 'marker');
    t.equal(await marker.got, 'marker');
    t.same(seen, [], 'nothing after unsubscribe');
  });

  withBus('pub/sub: hasSubscribers is true while a local subscription is live', async (t, bus, n) => {
    const topic = n('watched');
    const sub = await bus.subscribe(topic, () => {});
    t.equal(bus.hasSubscribers(topic), true, 'a live local subscriber is always seen');
    const other = await bus.subscribe(topic, () => {});
    await sub.unsubscribe();
    t.equal(bus.hasSubscribers(topic), true, 'one subscriber left');
    await other.unsubscribe();
  });

  withBus('pub/sub: a throwing handler does not stop the others', async (t, bus, n) => {
    await bus.subscribe(n('topic'), () => {
      throw new Error('boom');
    });
    const ok = nextMessage(bus, n('topic'));
    await ok.ready;
    await bus.publish(n('topic'), 'still');
    t.equal(await ok.got, 'still');
    await bus.publish(n('none'), 'nobody listens');
  });

  withBus('streams: append, group from 0, read, ack, claim', async (t, bus, n) => {
    const s = n('stream');
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await bus.append(s, { i: String(i), body: `{"n":${i}}` }));
    for (let i = 1; i < ids.length; i++) t.ok(compareStreamIds(ids[i]!, ids[i - 1]!) > 0, 'ids increase');
    t.equal(await bus.streamLength(s), 5);
    await bus.createGroup(s, 'g', '0');
    await bus.createGroup(s, 'g', '$');
    const first = await bus.readGroup(s, 'g', 'c1', { count: 3 });
    t.same(first.map((e) => e.fields.i), ['0', '1', '2']);
    t.same(first[0]!.fields, { i: '0', body: '{"n":0}' });
    const rest = await bus.readGroup(s, 'g', 'c2', { count: 10 });
    t.same(rest.map((e) => e.fields.i), ['3', '4'], 'group hands each entry out once');
    t.same(await bus.readGroup(s, 'g', 'c1'), [], 'nothing new');
    t.equal(await bus.ack(s, 'g', [first[0]!.id, first[1]!.id]), 2);
    t.equal(await bus.ack(s, 'g', [first[0]!.id]), 0, 'acking twice counts once');
    t.equal(await bus.ack(s, 'g', []), 0);

    t.same(await bus.claimIdle(s, 'g', 'c3', { minIdleMs: 60_000 }), [], 'not idle long enough');
    await h.elapse(80);
    const claimed = await bus.claimIdle(s, 'g', 'c3', { minIdleMs: 40, count: 10 });
    t.same(claimed.map((e) => e.fields.i).sort(), ['2', '3', '4'], 'unacked entries are re-delivered');
    t.same(await bus.claimIdle(s, 'g', 'c4', { minIdleMs: 40 }), [], 'claiming resets idle time');
    t.equal(await bus.ack(s, 'g', claimed.map((e) => e.id)), 3);
    await h.elapse(80);
    t.same(await bus.claimIdle(s, 'g', 'c4', { minIdleMs: 40 }), [], 'nothing pending');
  });

  withBus('streams: group from $ sees only new entries; groups are independent', async (t, bus, n) => {
    const s = n('stream');
    await bus.append(s, { old: '1' });
    await bus.createGroup(s, 'new', '$');
    await bus.createGroup(s, 'all', '0');
    await bus.append(s, { fresh: '1' });
    t.same((await bus.readGroup(s, 'new', 'c')).map((e) => e.fields), [{ fresh: '1' }]);
    t.same((await bus.readGroup(s, 'all', 'c')).map((e) => e.fields), [{ old: '1' }, { fresh: '1' }]);
    await bus.createGroup(n('empty'), 'g', '$');
    t.equal(await bus.streamLength(n('empty')), 0, 'createGroup makes the stream');
    t.equal(await bus.streamLength(n('never')), 0);
  });

  withBus('streams: a missing group is NotFoundError', async (t, bus, n) => {
    await bus.append(n('s'), { a: '1' });
    await t.rejects(bus.readGroup(n('s'), 'nope', 'c'), NotFoundError);
    await t.rejects(bus.readGroup(n('nostream'), 'nope', 'c'), NotFoundError);
    await t.rejects(bus.claimIdle(n('s'), 'nope', 'c', { minIdleMs: 0 }), NotFoundError);
  });

  withBus('streams: blocking read wakes on append, or returns [] at its deadline', async (t, bus, n) => {
    const s = n('stream');
    await bus.createGroup(s, 'g', '$');
    const waiting = bus.readGroup(s, 'g', 'c', { blockMs: 5000 });
    // let the XREADGROUP reach the server before appending
    await h.elapse(50);
    await bus.append(s, { wake: 'up' });
    const got = await waiting;
    t.same(got.map((e) => e.fields), [{ wake: 'up' }]);

    const idle = bus.readGroup(s, 'g', 'c', { blockMs: 100 });
    await h.elapse(250);
    t.same(await idle, [], 'deadline passed');
  });

  withBus('streams: trim and maxLen keep the newest entries', async (t, bus, n) => {
    const s = n('stream');
    for (let i = 0; i < 6; i++) await bus.append(s, { i: String(i) }, { maxLen: 4 });
    t.equal(await bus.streamLength(s), 4);
    t.equal(await bus.trim(s, 2), 2);
    t.equal(await bus.streamLength(s), 2);
    await bus.createGroup(s, 'g', '0');
    t.same((await bus.readGroup(s, 'g', 'c')).map((e) => e.fields.i), ['4', '5']);
    t.equal(await bus.trim(n('never'), 1), 0);
  });

  t.test('close: idempotent, later calls and pending blocking reads fail with ClosedError', async (t) => {
    const bus = await h.make();
    const n = names();
    t.equal(bus.connected, true);
    await bus.createGroup(n('s'), 'g', '$');
    const pending = bus.readGroup(n('s'), 'g', 'c', { blockMs: 10_000 });
    await h.elapse(50);
    await bus.close();
    await bus.close();
    await t.rejects(pending, ClosedError);
    t.equal(bus.connected, false);
    await t.rejects(bus.get(n('k')), ClosedError);
    await t.rejects(bus.publish(n('t'), 'x'), ClosedError);
    await t.rejects(bus.subscribe(n('t'), () => {}), ClosedError);
    await t.rejects(bus.append(n('s'), { a: '1' }), ClosedError);
  });
}
