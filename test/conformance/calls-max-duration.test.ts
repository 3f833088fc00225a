/**
 * The maximum call duration (`calls.maxDurationSeconds`): with a 2 s limit, a call between two
 * baresip phones that never hang up is ended by opencx: both phones get BYE, the CDR's reason
 * is `max-duration` and nothing is left behind.
 */
import t from 'tap';
import { startPbx } from '../helpers/pbx.js';

t.test('a call longer than calls.maxDurationSeconds is ended by opencx', async (t) => {
  const pbx = await startPbx(t, ['alice', 'bob'], { env: { OPENCX_CALLS__MAX_DURATION_SECONDS: '2' } });
  if (pbx === undefined) return;
  const saw = (p: Promise<string>): Promise<boolean> =>
    p.then(
      () => true,
      (err: unknown) => {
        t.comment(String(err));
        return false;
      },
    );
  const bob = await pbx.phone('bob', { answer: true });
  const alice = await pbx.phone('alice', { commands: ['/dial sip:bob@127.0.0.1'] });
  t.ok(await saw(bob.waitFor(/Call established/, 15000)), 'bob answered');
  t.ok(await saw(alice.waitFor(/Call established/, 15000)), 'alice is connected');
  // neither phone hangs up: opencx does, after the limit
  t.ok(await saw(alice.waitFor(/BYE sip:alice/, 20000)), 'alice got a BYE from opencx');
  t.ok(await saw(bob.waitFor(/BYE sip:bob/, 20000)), 'bob got a BYE from opencx');
  await pbx.assertIdle(t);
  const cdrs = await pbx.cli('cdr', 'list', '--limit', '10');
  t.match(cdrs.stdout, /\tcall\t[^\n]*200 max-duration by system/, 'the call CDR says max-duration, ended by the system');
  t.same(pbx.errors(), [], 'opencx logged no errors');
});
