/**
 * Forwarding on no answer, from the dial plan: 2000 rings bob for 4 s (a sequential ring group
 * with continueOnFailure); bob's baresip rings but nobody answers; opencx cancels it and the next
 * rule for 2000 sends the call to carol, who answers.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runOpencx, startOpencx } from '../helpers/opencx-process.js';
import { baresipAvailable, BARESIP_BIN, startBaresip, type BaresipPhone } from '../helpers/baresip.js';

t.test('no answer at bob after 4 s: the dial plan forwards the call to carol', async (t) => {
  t.ok(baresipAvailable(), `baresip found at ${BARESIP_BIN}`);
  if (!baresipAvailable()) return;
  const server = await startOpencx(['--bind', '127.0.0.1', '--sip-port', '0', '--sip-tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0'], {
    env: { OPENCX_SIP__AUTH_ALGORITHMS: 'MD5', OPENCX_MEDIA__BIND: '127.0.0.1' },
  });
  const work = mkdtempSync(path.join(tmpdir(), 'opencx-fwd-'));
  const phones: BaresipPhone[] = [];
  t.teardown(async () => {
    for (const p of phones) await p.stop();
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const udp = server.ports.udp as number;
  for (const u of ['alice', 'bob', 'carol']) {
    const r = await runOpencx(['user', 'add', `${u}@127.0.0.1`, '--password', `pw-${u}`, '--data-dir', server.dataDir]);
    t.equal(r.code, 0, `user ${u} added`);
  }
  const plan = path.join(work, 'plan.json');
  writeFileSync(
    plan,
    JSON.stringify({
      rules: [
        { name: 'sales-first', match: { number: '2000' }, target: { type: 'ring-group', strategy: 'sequential', members: ['bob@127.0.0.1'], ringSeconds: 4 }, continueOnFailure: true },
        { name: 'sales-overflow', match: { number: '2000' }, target: { type: 'user', user: 'carol@127.0.0.1' } },
      ],
    }),
  );
  const set = await runOpencx(['dialplan', 'set', plan, '--data-dir', server.dataDir]);
  t.equal(set.code, 0, `dial plan stored: ${set.stdout}${set.stderr}`);
  const start = async (u: string, answer: boolean, commands?: string[]): Promise<BaresipPhone> => {
    const phone = await startBaresip({
      account: `<sip:${u}@127.0.0.1>;auth_pass=pw-${u};outbound="sip:127.0.0.1:${udp};transport=udp";regint=600${answer ? ';answermode=auto' : ''}`,
      ...(commands !== undefined ? { commands } : {}),
    });
    phones.push(phone);
    t.ok(await phone.waitFor(new RegExp(`${u}@127\\.0\\.0\\.1: \\{0/UDP/v4\\} 200 OK`), 15000), `${u} registered`);
    return phone;
  };
  const bob = await start('bob', false);
  const carol = await start('carol', true);
  const began = Date.now();
  const alice = await start('alice', false, ['/dial sip:2000@127.0.0.1']);
  t.ok(await bob.waitFor(/Incoming call from|INVITE sip:bob/, 15000), 'bob rang first');
  t.ok(await bob.waitFor(/CANCEL sip:bob/, 15000), 'bob was cancelled when nobody answered');
  t.ok(await carol.waitFor(/Call established/, 15000), 'carol got the forwarded call');
  t.ok(Date.now() - began >= 4000, `forwarded after the 4 s ring time (${Date.now() - began} ms)`);
  t.ok(await alice.waitFor(/Call established/, 10000), 'alice is connected');
  const errors = server.output.filter((l) => /"level":(50|60)/.test(l));
  t.same(errors, [], 'opencx logged no errors');
});
