/**
 * Forwarding on no answer, from the dial plan: 2000 rings bob for 4 s (a sequential ring group
 * with continueOnFailure); bob's baresip rings but nobody answers; opencx cancels it and the next
 * rule for 2000 sends the call to carol, who answers.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startPbx } from '../helpers/pbx.js';

t.test('no answer at bob after 4 s: the dial plan forwards the call to carol', async (t) => {
  const pbx = await startPbx(t, ['alice', 'bob', 'carol']);
  if (pbx === undefined) return;
  const plan = path.join(pbx.work, 'plan.json');
  writeFileSync(
    plan,
    JSON.stringify({
      rules: [
        { name: 'sales-first', match: { number: '2000' }, target: { type: 'ring-group', strategy: 'sequential', members: ['bob@127.0.0.1'], ringSeconds: 4 }, continueOnFailure: true },
        { name: 'sales-overflow', match: { number: '2000' }, target: { type: 'user', user: 'carol@127.0.0.1' } },
      ],
    }),
  );
  await pbx.cli('dialplan', 'set', plan);
  const bob = await pbx.phone('bob');
  const carol = await pbx.phone('carol', { answer: true });
  const began = Date.now();
  const alice = await pbx.phone('alice', { commands: ['/dial sip:2000@127.0.0.1'] });
  t.ok(await bob.waitFor(/Incoming call from|INVITE sip:bob/, 15000), 'bob rang first');
  t.ok(await bob.waitFor(/CANCEL sip:bob/, 15000), 'bob was cancelled when nobody answered');
  t.ok(await carol.waitFor(/Call established/, 15000), 'carol got the forwarded call');
  t.ok(Date.now() - began >= 4000, `forwarded after the 4 s ring time (${Date.now() - began} ms)`);
  t.ok(await alice.waitFor(/Call established/, 10000), 'alice is connected');
  await alice.stop();
  await pbx.assertIdle(t);
  t.same(pbx.errors(), [], 'opencx logged no errors');
});
