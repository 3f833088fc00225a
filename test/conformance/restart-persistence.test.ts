/**
 * Users added through the REST API survive a restart of `opencx start`, on the embedded PGlite
 * database (same data directory) and on PostgreSQL (OPENCX_DATABASE__URL): after the restart
 * SIPp registers as each user with digest auth.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fixture } from '../helpers/paths.js';
import { startOpencx, type OpencxProcess } from '../helpers/opencx-process.js';
import { startPostgresServer } from '../helpers/postgres-server.js';
import { authCsv, describeRun, requireSipp, runSipp } from '../helpers/sipp.js';

const HOST = '127.0.0.1';
const scenario = (name: string): string => fixture(import.meta.url, `sipp/${name}`);

function start(dataDir: string, env: Record<string, string>): Promise<OpencxProcess> {
  return startOpencx(['--bind', HOST, '--sip-port', '0', '--sip-tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0', '--data-dir', dataDir], { env, timeoutMs: 30_000 });
}

async function persists(t: Test, label: string, env: Record<string, string>, restartOnFreshDataDir: boolean): Promise<void> {
  requireSipp();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'opencx-restart-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const users = [
    { user: 'dave', domain: HOST, password: 'dave-secret-1' },
    { user: 'erin', domain: HOST, password: 'erin-secret-2' },
  ];

  const first = await start(dataDir, env);
  try {
    const apiKey = readFileSync(path.join(dataDir, 'api-key'), 'utf8').trim();
    for (const u of users) {
      const res = await fetch(`http://${HOST}:${String(first.ports.http)}/api/v1/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username: u.user, domain: u.domain, password: u.password }),
      });
      t.equal(res.status, 201, `${label}: POST /api/v1/users ${u.user} (${res.status}: ${await res.text()})`);
    }
  } finally {
    const stopped = await first.stop();
    t.equal(stopped.code, 0, `${label}: first server stopped cleanly`);
  }

  // on PostgreSQL the restarted server gets an empty data directory: the users can only come from the database
  const secondDir = restartOnFreshDataDir ? mkdtempSync(path.join(tmpdir(), 'opencx-restart-')) : dataDir;
  t.teardown(() => rmSync(secondDir, { recursive: true, force: true }));
  const second = await start(secondDir, env);
  try {
    const reg = await runSipp({
      target: `${HOST}:${String(second.ports.udp)}`,
      scenario: scenario('register-auth.xml'),
      csv: authCsv(users.map((u) => ({ ...u, extra: ['3600'] }))),
      calls: users.length,
      timeoutS: 15,
    });
    t.equal(reg.code, 0, `${label}: after the restart both users register with their passwords${reg.code === 0 ? '' : '\n' + describeRun(reg)}`);
  } finally {
    await second.stop();
  }
}

t.test('users survive a restart on PGlite', async (t) => {
  await persists(t, 'PGlite', {}, false);
});

t.test('users survive a restart on PostgreSQL', async (t) => {
  const pg = await startPostgresServer();
  t.teardown(() => pg.stop());
  await persists(t, 'PostgreSQL', { OPENCX_DATABASE__URL: pg.url }, true);
});
