/**
 * Session timers on B2BUA legs (RFC 4028), with SIPp on both sides of opencx:
 * - alice asks for Session-Expires: 90 (refresher uac) with timer and 100rel in Supported: the
 *   INVITE opencx sends bob asks for the same interval and lists timer and 100rel;
 * - bob's 200 makes opencx the refresher of his leg: its refresh re-INVITE reaches bob half-way
 *   and nothing reaches alice (her scenario takes no request before the BYE);
 * - alice never refreshes: her leg expires (90 - 30 s, §10), opencx sends BYE to both, and the
 *   CDR says session-expired; nothing is left behind.
 */
import t from 'tap';
import { fixture } from '../helpers/paths.js';
import { startPbx } from '../helpers/pbx.js';
import { authCsv, describeRun, freePort, runSipp, startSipp } from '../helpers/sipp.js';

const scenario = (name: string): string => fixture(import.meta.url, `sipp/${name}`);

t.test('session timer asked by the caller runs on both legs; expiry ends the call', async (t) => {
  const pbx = await startPbx(t, ['alice', 'bob']);
  if (pbx === undefined) return;
  const target = `127.0.0.1:${pbx.udp}`;
  const uasPort = await freePort('127.0.0.1');
  const reg = await runSipp({ target, scenario: scenario('register-auth.xml'), localPort: uasPort, csv: authCsv([{ user: 'bob', domain: '127.0.0.1', password: 'pw-bob', extra: ['3600'] }]), calls: 1, timeoutS: 10 });
  t.equal(reg.code, 0, `bob (SIPp) registers${reg.code === 0 ? '' : '\n' + describeRun(reg)}`);
  const uas = await startSipp({ target, scenario: scenario('session-timer-uas.xml'), localPort: uasPort, calls: 1, timeoutS: 150 });
  const uac = await runSipp({
    target,
    scenario: scenario('session-timer-uac.xml'),
    csv: authCsv([{ user: 'alice', domain: '127.0.0.1', password: 'pw-alice', extra: ['bob'] }]),
    calls: 1,
    timeoutS: 150,
  });
  t.equal(uac.code, 0, `alice: Session-Expires in the 200, no request until opencx's BYE${uac.code === 0 ? '' : '\n' + describeRun(uac)}`);
  if (uac.code !== 0) uas.kill();
  const bob = await uas.done;
  t.equal(bob.code, 0, `bob: Session-Expires and timer/100rel asked, a refresh re-INVITE, then BYE${bob.code === 0 ? '' : '\n' + describeRun(bob)}`);
  await pbx.assertIdle(t);
  const cdrs = await pbx.cli('cdr', 'list', '--limit', '10');
  t.match(cdrs.stdout, /\tcall\t[^\n]*408 session-expired by system/, 'the call CDR says session-expired');
  t.same(pbx.errors(), [], 'opencx logged no errors');
});
