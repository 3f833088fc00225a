import t from 'tap';
import { FakeScheduler } from '../../../../src/lib/index.js';
import { CallLimits } from '../../../../src/calls/limits/rate-limits.js';
import { canTransition, transition } from '../../../../src/calls/call/call-state.js';

t.test('concurrency: the limit answers no until a call is released; all-or-nothing across keys', async (t) => {
  const clock = new FakeScheduler();
  const limits = new CallLimits(clock);
  const keys = [
    { key: 'tenant:x', spec: { maxConcurrent: 3 } },
    { key: 'trunk:t', spec: { maxConcurrent: 2 } },
  ];
  const a = limits.admit(keys);
  const b = limits.admit(keys);
  const c = limits.admit(keys);
  t.ok(a.ok && b.ok);
  t.match(c, { ok: false, reason: 'concurrency', key: 'trunk:t' });
  t.equal(limits.active('tenant:x'), 2, 'the refused call took no tenant slot either');
  if (a.ok) {
    a.release();
    a.release();
  }
  t.equal(limits.active('trunk:t'), 1, 'release is idempotent');
  t.ok(limits.admit(keys).ok, 'a slot is free again');
});

t.test('calls per second: a burst of one second, then the refill rate', async (t) => {
  const clock = new FakeScheduler();
  const limits = new CallLimits(clock);
  const keys = [{ key: 'trunk:t', spec: { callsPerSecond: 5 } }];
  let ok = 0;
  for (let i = 0; i < 10; i++) if (limits.admit(keys).ok) ok++;
  t.equal(ok, 5, 'five at once');
  clock.advance(400);
  ok = 0;
  for (let i = 0; i < 10; i++) if (limits.admit(keys).ok) ok++;
  t.equal(ok, 2, '400 ms later, two more');
});

t.test('call state machine: legal and illegal moves', async (t) => {
  t.ok(canTransition('routing', 'answered'));
  t.ok(canTransition('answered', 'held'));
  t.ok(canTransition('transferring', 'answered'), 'a failed transfer returns to the call');
  t.notOk(canTransition('ended', 'answered'));
  t.throws(() => transition('ended', 'routing'), { name: 'ConflictError' });
  t.equal(transition('ringing', 'answered'), 'answered');
});
