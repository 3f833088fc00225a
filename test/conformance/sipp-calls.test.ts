/**
 * Calls through the proxy with real SIPp against a real `opencx start`: a SIPp UAS registers as
 * bob (REGISTER from the port it then answers on), a SIPp UAC authenticates as alice (407, then
 * INVITE with Proxy-Authorization) and calls bob: INVITE/100/180/200/ACK/BYE/200 with the
 * Record-Route set followed by ACK and BYE. Both over UDP, then the UAC on TCP and the UAS on
 * UDP (the proxy double Record-Routes across transports). 20 calls each, all must succeed.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fixture } from '../helpers/paths.js';
import { runOpencx, startOpencx } from '../helpers/opencx-process.js';
import { authCsv, describeRun, freePort, requireSipp, runSipp, startSipp } from '../helpers/sipp.js';

const HOST = '127.0.0.1';
const CALLS = 20;
const scenario = (name: string): string => fixture(import.meta.url, `sipp/${name}`);

t.test('authenticated calls through the record-routing proxy', async (t) => {
  requireSipp();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'opencx-calls-'));
  const alice = { user: 'alice', domain: HOST, password: 'alice-secret' };
  const bob = { user: 'bob', domain: HOST, password: 'bob-secret' };
  writeFileSync(path.join(dataDir, 'users.txt'), [alice, bob].map((u) => `${u.user}@${u.domain};${u.password}`).join('\n') + '\n');
  const imported = await runOpencx(['user', 'import', path.join(dataDir, 'users.txt'), '--data-dir', dataDir], { timeoutMs: 30_000 });
  t.equal(imported.code, 0, `opencx user import: ${imported.stdout}${imported.stderr}`);

  const server = await startOpencx(['--role', 'sip,control', '--bind', HOST, '--sip-port', '0', '--sip-tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0', '--data-dir', dataDir]);
  t.teardown(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const udpTarget = `${HOST}:${String(server.ports.udp)}`;
  const tcpTarget = `${HOST}:${String(server.ports.tcp)}`;

  // bob registers from the port his UAS then listens on
  const uasPort = await freePort(HOST);
  const reg = await runSipp({ target: udpTarget, scenario: scenario('register-auth.xml'), localPort: uasPort, csv: authCsv([{ ...bob, extra: ['3600'] }]), calls: 1, timeoutS: 10 });
  t.equal(reg.code, 0, `bob registers${reg.code === 0 ? '' : '\n' + describeRun(reg)}`);

  // across transports the caller's scenario also insists on a double Record-Route (call-uac-double-rr.xml)
  const cases: [string, string, string, string][] = [
    ['UAC on UDP, UAS on UDP', 'u1', udpTarget, 'call-uac.xml'],
    ['UAC on TCP, UAS on UDP', 't1', tcpTarget, 'call-uac-double-rr.xml'],
  ];
  for (const [name, transport, target, uacScenario] of cases) {
    const uas = await startSipp({ target: udpTarget, scenario: scenario('call-uas.xml'), localPort: uasPort, calls: CALLS, timeoutS: 40 });
    const uac = await runSipp({
      target,
      scenario: scenario(uacScenario),
      transport,
      csv: authCsv([{ ...alice, extra: ['bob'] }]),
      calls: CALLS,
      rate: 10,
      limit: 10,
      timeoutS: 30,
    });
    t.equal(uac.code, 0, `${name}: UAC exit status${uac.code === 0 ? '' : '\n' + describeRun(uac)}`);
    t.equal(uac.successful, CALLS, `${name}: ${CALLS} calls completed at the caller`);
    if (uac.code !== 0) uas.kill();
    const uasResult = await uas.done;
    t.equal(uasResult.code, 0, `${name}: UAS exit status${uasResult.code === 0 ? '' : '\n' + describeRun(uasResult)}`);
    t.equal(uasResult.successful, CALLS, `${name}: ${CALLS} calls answered and hung up at the callee`);
  }
});
