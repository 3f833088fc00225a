/**
 * Two `opencx start --role sip,control` nodes share Redis (bus and location service) and one
 * PostgreSQL (users): a SIPp UAS registers as bob through node A, a SIPp UAC calls bob through
 * node B; node A is SIGKILLed and calls through B still reach the UAS.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fixture } from '../helpers/paths.js';
import { startOpencx, type OpencxProcess } from '../helpers/opencx-process.js';
import { startPostgresServer } from '../helpers/postgres-server.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { authCsv, describeRun, freePort, requireSipp, runSipp, startSipp } from '../helpers/sipp.js';

const HOST = '127.0.0.1';
const CALLS = 10;
const scenario = (name: string): string => fixture(import.meta.url, `sipp/${name}`);

t.test('a call through node B reaches a UAS registered on node A, also after A dies', async (t) => {
  requireSipp();
  const redis = await startRedisServer();
  t.teardown(() => redis.stop());
  const pg = await startPostgresServer();
  t.teardown(() => pg.stop());
  const env = { OPENCX_BUS__KIND: 'redis', OPENCX_BUS__URL: redis.url, OPENCX_DATABASE__URL: pg.url, OPENCX_SIP__AUTH_SECRET: 'shared-nonce-secret-for-both-nodes' };
  const dirs = [mkdtempSync(path.join(tmpdir(), 'opencx-nodeA-')), mkdtempSync(path.join(tmpdir(), 'opencx-nodeB-'))];
  t.teardown(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const start = (dir: string): Promise<OpencxProcess> =>
    startOpencx(['--role', 'sip,control', '--bind', HOST, '--sip-port', '0', '--sip-tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0', '--data-dir', dir], { env, timeoutMs: 30_000 });
  const nodeA = await start(dirs[0]!);
  t.teardown(() => nodeA.stop('SIGKILL'));
  const nodeB = await start(dirs[1]!);
  t.teardown(() => nodeB.stop());

  const apiKey = readFileSync(path.join(dirs[0]!, 'api-key'), 'utf8').trim();
  const alice = { user: 'alice', domain: HOST, password: 'alice-secret' };
  const bob = { user: 'bob', domain: HOST, password: 'bob-secret' };
  for (const u of [alice, bob]) {
    const res = await fetch(`http://${HOST}:${String(nodeA.ports.http)}/api/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: u.user, domain: u.domain, password: u.password }),
    });
    t.equal(res.status, 201, `POST /api/v1/users ${u.user} on node A`);
  }

  const uasPort = await freePort(HOST);
  const reg = await runSipp({ target: `${HOST}:${String(nodeA.ports.udp)}`, scenario: scenario('register-auth.xml'), localPort: uasPort, csv: authCsv([{ ...bob, extra: ['3600'] }]), calls: 1, timeoutS: 10 });
  t.equal(reg.code, 0, `bob registers through node A${reg.code === 0 ? '' : '\n' + describeRun(reg)}`);

  const callThroughB = async (label: string): Promise<void> => {
    const uas = await startSipp({ target: `${HOST}:${String(nodeB.ports.udp)}`, scenario: scenario('call-uas.xml'), localPort: uasPort, calls: CALLS, timeoutS: 30 });
    const uac = await runSipp({ target: `${HOST}:${String(nodeB.ports.udp)}`, scenario: scenario('call-uac.xml'), csv: authCsv([{ ...alice, extra: ['bob'] }]), calls: CALLS, limit: 5, timeoutS: 25 });
    t.equal(uac.code, 0, `${label}: ${CALLS} calls through node B${uac.code === 0 ? '' : '\n' + describeRun(uac)}`);
    if (uac.code !== 0) uas.kill();
    const r = await uas.done;
    t.equal(r.code, 0, `${label}: the UAS answered them${r.code === 0 ? '' : '\n' + describeRun(r)}`);
  };
  await callThroughB('node A alive');
  await nodeA.stop('SIGKILL');
  await callThroughB('node A killed');
});
