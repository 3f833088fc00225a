/**
 * Abuse handling with real SIPp against a real `opencx start`: no open relay (an INVITE for a
 * foreign domain without credentials is 403); 100 wrong passwords from one address do not lock
 * the right user out on another address; a REGISTER burst from one address (20,000/s for 1 s) is
 * throttled (503 from the per-source rate brake, or 403 from a lockout) while a second address
 * still registers.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fixture } from '../helpers/paths.js';
import { runOpencx, startOpencx } from '../helpers/opencx-process.js';
import { authCsv, describeRun, requireSipp, runSipp, startSipp, stat } from '../helpers/sipp.js';

const HOST = '127.0.0.1';
const scenario = (name: string): string => fixture(import.meta.url, `sipp/${name}`);

t.test('relay refusal, password guessing and REGISTER floods', async (t) => {
  requireSipp();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'opencx-abuse-'));
  const carol = { user: 'carol', domain: HOST, password: 'carol-secret' };
  writeFileSync(path.join(dataDir, 'users.txt'), `${carol.user}@${carol.domain};${carol.password}\n`);
  const imported = await runOpencx(['user', 'import', path.join(dataDir, 'users.txt'), '--data-dir', dataDir], { timeoutMs: 30_000 });
  t.equal(imported.code, 0, `opencx user import: ${imported.stdout}${imported.stderr}`);

  const server = await startOpencx(['--bind', HOST, '--sip-port', '0', '--sip-tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0', '--data-dir', dataDir]);
  t.teardown(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const target = `${HOST}:${String(server.ports.udp)}`;

  const relay = await runSipp({ target, scenario: scenario('invite-foreign.xml'), calls: 3, timeoutS: 10 });
  t.equal(relay.code, 0, `INVITE to a foreign domain without credentials is 403${relay.code === 0 ? '' : '\n' + describeRun(relay)}`);

  const guesses = await runSipp({
    target,
    scenario: scenario('register-wrong-any.xml'),
    localIp: '127.0.0.31',
    csv: authCsv([{ ...carol, password: 'guess', extra: ['3600'] }]),
    calls: 100,
    rate: 50,
    limit: 5,
    timeoutS: 20,
  });
  t.equal(guesses.code, 0, `100 wrong passwords from 127.0.0.31: every one rejected (401 or 403)${guesses.code === 0 ? '' : '\n' + describeRun(guesses)}`);
  const locked = await runSipp({ target, scenario: scenario('register-locked.xml'), localIp: '127.0.0.31', csv: authCsv([{ ...carol, extra: ['3600'] }]), calls: 1, timeoutS: 10 });
  t.equal(locked.code, 0, `127.0.0.31 is locked out (403 at once)${locked.code === 0 ? '' : '\n' + describeRun(locked)}`);
  const right = await runSipp({ target, scenario: scenario('register-auth.xml'), localIp: '127.0.0.32', csv: authCsv([{ ...carol, extra: ['3600'] }]), calls: 1, timeoutS: 10 });
  t.equal(right.code, 0, `carol still registers from 127.0.0.32${right.code === 0 ? '' : '\n' + describeRun(right)}`);

  // a flood of REGISTERs from one address: the first ones are challenged, the rest throttled
  const floodRun = await startSipp({
    target,
    scenario: scenario('register-burst.xml'),
    localIp: '127.0.0.33',
    csv: authCsv([{ ...carol, extra: ['3600'] }]),
    calls: 20000,
    rate: 20000,
    timeoutS: 20,
    extraArgs: ['-recv_timeout', '3s', '-nr'],
  });
  // while the flood runs, a second address registers
  await new Promise((r) => setTimeout(r, 700));
  const during = await runSipp({ target, scenario: scenario('register-auth.xml'), localIp: '127.0.0.34', csv: authCsv([{ ...carol, extra: ['3600'] }]), calls: 1, timeoutS: 10 });
  t.equal(during.code, 0, `a second address registers during the flood${during.code === 0 ? '' : '\n' + describeRun(during)}`);
  const flood = await floodRun.done;
  const challenged = stat(flood, 'SuccessfulCall(C)');
  const throttled = stat(flood, 'FailedUnexpectedMessage(C)');
  t.ok(challenged > 0, `some flood REGISTERs were challenged (401): ${challenged}`);
  t.ok(throttled > 0, `some flood REGISTERs were throttled (503/403): ${throttled}\n${throttled > 0 ? '' : describeRun(flood)}`);
});
