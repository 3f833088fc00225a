/**
 * RFC 4733 → SIP INFO through the B2BUA: alice (SIPp) offers telephone-event and dials 1, # and
 * 9 as RFC 4733 events (SIPp's DTMF pcaps); bob (SIPp) answers with an SDP that has no
 * telephone-event, so opencx must send him each digit as INFO application/dtmf-relay.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fixture } from '../helpers/paths.js';
import { startPbx } from '../helpers/pbx.js';
import { authCsv, describeRun, freePort, runSipp, startSipp } from '../helpers/sipp.js';

const PCAP_DIR = '/usr/share/sip-tester';
const scenario = (name: string): string => fixture(import.meta.url, `sipp/${name}`);

t.test('RFC 4733 digits from the caller reach an INFO-only callee as INFO', async (t) => {
  for (const f of ['dtmf_2833_1.pcap', 'dtmf_2833_pound.pcap', 'dtmf_2833_9.pcap']) {
    if (!existsSync(path.join(PCAP_DIR, f))) throw new Error(`${PCAP_DIR}/${f} is missing: the Debian package sip-tester ships it`);
  }
  const pbx = await startPbx(t, ['alice', 'bob']);
  if (pbx === undefined) return;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'opencx-info-dtmf-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // SIPp does not substitute -key values inside exec attributes: write the paths in
  const uacScenario = path.join(dir, 'dtmf-4733-uac.xml');
  await writeFile(uacScenario, (await readFile(scenario('dtmf-4733-uac.xml'), 'utf8')).replaceAll('[pcap_dir]', PCAP_DIR));
  const target = `127.0.0.1:${pbx.udp}`;
  const uasPort = await freePort('127.0.0.1');
  const reg = await runSipp({ target, scenario: scenario('register-auth.xml'), localPort: uasPort, csv: authCsv([{ user: 'bob', domain: '127.0.0.1', password: 'pw-bob', extra: ['3600'] }]), calls: 1, timeoutS: 10 });
  t.equal(reg.code, 0, `bob (SIPp) registers${reg.code === 0 ? '' : '\n' + describeRun(reg)}`);
  const uas = await startSipp({ target, scenario: scenario('dtmf-info-uas.xml'), localPort: uasPort, calls: 1, timeoutS: 40 });
  const uac = await runSipp({
    target,
    scenario: uacScenario,
    csv: authCsv([{ user: 'alice', domain: '127.0.0.1', password: 'pw-alice', extra: ['bob'] }]),
    calls: 1,
    timeoutS: 40,
  });
  t.equal(uac.code, 0, `alice: call, three RFC 4733 digits, BYE${uac.code === 0 ? '' : '\n' + describeRun(uac)}`);
  if (uac.code !== 0) uas.kill();
  const bob = await uas.done;
  t.equal(bob.code, 0, `bob: INFO application/dtmf-relay with 1, # and 9, then BYE${bob.code === 0 ? '' : '\n' + describeRun(bob)}`);
  await pbx.assertIdle(t);
  t.same(pbx.errors(), [], 'opencx logged no errors');
});
