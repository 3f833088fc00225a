// The deadline queues behind the transaction timers: one scheduler timer per duration, deadlines
// fire at their own instant and in the order they were armed, cancelling leaves no timer behind.
import t from 'tap';
import { FakeScheduler, recordingLogger } from '../../../../src/lib/index.js';
import { DeadlineQueues, type DeadlineOwner } from '../../../../src/sip/transaction/deadline-queue.js';

function recorder(sched: FakeScheduler, fired: string[], tag: string, then?: (name: string) => void): DeadlineOwner {
  return {
    fireDeadline(name: string): void {
      fired.push(`${tag}:${name}@${sched.now()}`);
      then?.(name);
    },
  };
}

t.test('each deadline fires at its own instant, same durations in arming order', async (t) => {
  const sched = new FakeScheduler();
  const queues = new DeadlineQueues(sched, recordingLogger());
  const fired: string[] = [];
  queues.arm(recorder(sched, fired, 'a'), 'J', 32_000);
  sched.advance(10);
  queues.arm(recorder(sched, fired, 'b'), 'J', 32_000);
  queues.arm(recorder(sched, fired, 'c'), 'K', 5_000);
  sched.advance(7);
  queues.arm(recorder(sched, fired, 'd'), 'J', 32_000);
  t.equal(sched.pending, 2, 'one scheduler timer per duration');
  t.equal(queues.size, 4);
  sched.advance(31_999 - 17);
  t.same(fired, ['c:K@5010'], 'nothing of 32 s before its time');
  sched.advance(1);
  t.same(fired, ['c:K@5010', 'a:J@32000']);
  sched.advance(9);
  t.same(fired, ['c:K@5010', 'a:J@32000'], 'b is due at 32010, not before');
  sched.advance(1);
  sched.advance(7);
  t.same(fired, ['c:K@5010', 'a:J@32000', 'b:J@32010', 'd:J@32017']);
  t.equal(sched.pending, 0, 'no timer once every deadline fired');
  t.equal(queues.size, 0);
});

t.test('cancelled deadlines never fire; when all of a duration are cancelled its timer goes', async (t) => {
  const sched = new FakeScheduler();
  const queues = new DeadlineQueues(sched, recordingLogger());
  const fired: string[] = [];
  const a = queues.arm(recorder(sched, fired, 'a'), 'E', 500);
  const b = queues.arm(recorder(sched, fired, 'b'), 'E', 500);
  sched.advance(100);
  const c = queues.arm(recorder(sched, fired, 'c'), 'E', 500);
  a.cancel();
  a.cancel(); // idempotent
  sched.advance(400);
  t.same(fired, ['b:E@500'], 'a cancelled head is skipped');
  c.cancel();
  b.cancel(); // after it fired: nothing happens
  t.equal(sched.pending, 0, 'all cancelled: no timer left');
  sched.advance(1_000);
  t.same(fired, ['b:E@500']);
  queues.arm(recorder(sched, fired, 'd'), 'E', 500);
  sched.advance(500);
  t.same(fired, ['b:E@500', 'd:E@2000'], 'the duration works again after being emptied');
});

t.test('a handler may re-arm (even with no delay) and a throwing handler stops nothing', async (t) => {
  const sched = new FakeScheduler();
  const logger = recordingLogger();
  const queues = new DeadlineQueues(sched, logger);
  const fired: string[] = [];
  let again = 3;
  const looping: DeadlineOwner = recorder(sched, fired, 'loop', () => {
    if (again-- > 0) queues.arm(looping, 'Z', 0);
  });
  queues.arm(looping, 'Z', 0);
  const thrower: DeadlineOwner = {
    fireDeadline(): void {
      throw new Error('boom');
    },
  };
  queues.arm(thrower, 'X', 100);
  queues.arm(recorder(sched, fired, 'after'), 'X', 100);
  sched.advance(0);
  t.same(fired, ['loop:Z@0', 'loop:Z@0', 'loop:Z@0', 'loop:Z@0'], 're-armed with no delay: one per scheduler turn, no endless loop');
  sched.advance(100);
  t.same(fired.slice(4), ['after:X@100'], 'the deadline after a throwing one still fires');
  t.ok(logger.records.some((r) => r.msg === 'transaction timer handler threw'));
});

t.test('close cancels everything and later arms do nothing', async (t) => {
  const sched = new FakeScheduler();
  const queues = new DeadlineQueues(sched, recordingLogger());
  const fired: string[] = [];
  queues.arm(recorder(sched, fired, 'a'), 'L', 32_000);
  queues.arm(recorder(sched, fired, 'b'), 'G', 500);
  queues.close();
  queues.close();
  t.equal(sched.pending, 0);
  queues.arm(recorder(sched, fired, 'c'), 'G', 500).cancel();
  sched.advance(60_000);
  t.same(fired, []);
});
