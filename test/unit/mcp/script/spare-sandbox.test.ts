import t from 'tap';
import { FakeScheduler } from '../../../../src/lib/index.js';
import { ScriptError, SpareSandbox } from '../../../../src/mcp/script/index.js';

t.test('the spare is made on a timer, not by take(); every session gets a sandbox of its own', async (t) => {
  const scheduler = new FakeScheduler();
  const spares = new SpareSandbox({}, scheduler);
  t.teardown(() => spares.close());
  t.equal(scheduler.pending, 1, 'the first spare is made on a timer when the pool starts');
  scheduler.advance(0);
  t.equal(scheduler.pending, 0);
  const a = await spares.take();
  t.teardown(() => a.close());
  t.equal(scheduler.pending, 1, 'taking the spare schedules the next one');
  // nothing ready yet (the timer has not run): take() makes one for the caller
  const b = await spares.take();
  t.teardown(() => b.close());
  t.not(a, b);
  t.equal(scheduler.pending, 1, 'one refill at a time');
  scheduler.advance(0);
  const c = await spares.take();
  t.teardown(() => c.close());
  t.not(c, a);
  t.not(c, b);
});

t.test('a spare holds nothing of an earlier session', async (t) => {
  const scheduler = new FakeScheduler();
  const spares = new SpareSandbox({}, scheduler);
  t.teardown(() => spares.close());
  scheduler.advance(0);
  const first = await spares.take();
  first.declareValue('secret', 42, 'application');
  t.equal(first.evaluate('application.secret'), 42);
  first.close();
  scheduler.advance(0);
  const second = await spares.take();
  t.teardown(() => second.close());
  t.notOk(second.isDeclared('secret'));
  t.equal(second.evaluate('typeof application.secret'), 'undefined');
});

t.test('the limits apply to spares too', async (t) => {
  const scheduler = new FakeScheduler();
  const spares = new SpareSandbox({ timeMs: 50 }, scheduler);
  t.teardown(() => spares.close());
  scheduler.advance(0);
  const s = await spares.take();
  t.teardown(() => s.close());
  let caught: unknown;
  try {
    s.evaluate('(function () { for (;;) {} })()');
  } catch (err) {
    caught = err;
  }
  t.ok(caught instanceof ScriptError);
  t.equal((caught as ScriptError).kind, 'time-limit');
});

t.test('close frees the spare and stops refills; take() still works', async (t) => {
  const scheduler = new FakeScheduler();
  const spares = new SpareSandbox({}, scheduler);
  scheduler.advance(0);
  spares.close();
  spares.close();
  t.equal(scheduler.pending, 0);
  const s = await spares.take();
  t.teardown(() => s.close());
  t.equal(s.evaluate('1 + 1'), 2);
  t.equal(scheduler.pending, 0, 'no refill after close');
});
