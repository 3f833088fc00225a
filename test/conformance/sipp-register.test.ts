/**
 * Registration at scale with real SIPp against a real `opencx start`: 1,000 users imported with
 * `opencx user import`, registered with digest auth, refreshed, unregistered (Expires: 0), the
 * bindings counted through the REST API; 423 with Min-Expires; a wrong password is challenged
 * again and repeated failures lock the (AOR, source) out with 403 (the registrar's documented
 * choice: 403, not 503, so a UA does not fail over with the same wrong password) while another
 * source address still registers.
 *
 * The registrar also brakes each source address at 200 REGISTER/s (503), so the 1,000 users are
 * spread over four loopback source addresses at 90 calls/s (two REGISTERs per call) each.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fixture } from '../helpers/paths.js';
import { runOpencx, startOpencx } from '../helpers/opencx-process.js';
import { authCsv, describeRun, freePort, requireSipp, runSipp, type SippResult } from '../helpers/sipp.js';

const HOST = '127.0.0.1';
const USERS = 1000;
const SOURCES = ['127.0.0.1', '127.0.0.11', '127.0.0.12', '127.0.0.13'];
const scenario = (name: string): string => fixture(import.meta.url, `sipp/${name}`);

interface Registration {
  aor: string;
  contact: string;
}

t.test('1,000 users register, refresh and unregister with digest auth', async (t) => {
  requireSipp();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'opencx-reg-'));
  const users = Array.from({ length: USERS }, (_, i) => ({ user: `u${1000 + i}`, domain: HOST, password: `pw-${i}-secret` }));
  writeFileSync(path.join(dataDir, 'users.txt'), users.map((u) => `${u.user}@${u.domain};${u.password}`).join('\n') + '\n');
  const imported = await runOpencx(['user', 'import', path.join(dataDir, 'users.txt'), '--data-dir', dataDir], { timeoutMs: 60_000 });
  t.equal(imported.code, 0, `opencx user import: ${imported.stdout}${imported.stderr}`);
  t.match(imported.stdout, /imported 1000\b/, '1,000 users imported');

  const server = await startOpencx(['--bind', HOST, '--sip-port', '0', '--sip-tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0', '--data-dir', dataDir]);
  t.teardown(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const target = `${HOST}:${String(server.ports.udp)}`;
  const apiKey = readFileSync(path.join(dataDir, 'api-key'), 'utf8').trim();
  const registrations = async (): Promise<Registration[]> => {
    const res = await fetch(`http://${HOST}:${String(server.ports.http)}/api/v1/registrations`, { headers: { authorization: `Bearer ${apiKey}` } });
    t.equal(res.status, 200, 'GET /api/v1/registrations');
    return (await res.json()) as Registration[];
  };

  // every source address registers its quarter of the users, all at once, always from the same
  // port: a refresh or removal names the same Contact (another port would be another binding)
  const ports = await Promise.all(SOURCES.map((ip) => freePort(ip)));
  const phase = async (expires: number, what: string): Promise<void> => {
    const per = USERS / SOURCES.length;
    const runs: Promise<SippResult>[] = SOURCES.map((ip, k) =>
      runSipp({
        target,
        scenario: scenario('register-auth.xml'),
        localIp: ip,
        localPort: ports[k]!,
        csv: authCsv(users.slice(k * per, (k + 1) * per).map((u) => ({ ...u, extra: [String(expires)] }))),
        calls: per,
        rate: 90,
        limit: 100,
        timeoutS: 40,
      }),
    );
    const results = await Promise.all(runs);
    results.forEach((r, k) => {
      t.equal(r.code, 0, `${what} from ${SOURCES[k] ?? ''}: ${per} REGISTERs answered 200 after the challenge${r.code === 0 ? '' : '\n' + describeRun(r)}`);
      t.equal(r.successful, per, `${what} from ${SOURCES[k] ?? ''}: ${per} successful calls`);
    });
  };

  await phase(3600, 'register');
  let regs = await registrations();
  t.equal(regs.length, USERS, '1,000 bindings after registering');
  t.equal(new Set(regs.map((r) => r.aor)).size, USERS, 'one binding per user');

  await phase(1800, 'refresh');
  regs = await registrations();
  t.equal(regs.length, USERS, 'still 1,000 bindings after refreshing (same contacts, no duplicates)');

  await phase(0, 'unregister');
  regs = await registrations();
  t.equal(regs.length, 0, 'no binding left after unregistering with Expires: 0');

  // 423 Interval Too Brief, with Min-Expires (the scenario checks the header)
  const u = users[0]!;
  const brief = await runSipp({ target, scenario: scenario('register-423.xml'), csv: authCsv([{ ...u, extra: ['5'] }]), calls: 1, timeoutS: 10 });
  t.equal(brief.code, 0, `Expires: 5 is answered 423 with Min-Expires${brief.code === 0 ? '' : '\n' + describeRun(brief)}`);

  // a wrong password is challenged again; at the threshold the (AOR, source) is locked out (403)
  const victim = users[1]!;
  const wrongCsv = authCsv([{ ...victim, password: 'wrong', extra: ['3600'] }]);
  const wrongFrom = '127.0.0.21';
  const again = await runSipp({ target, scenario: scenario('register-wrong-401.xml'), localIp: wrongFrom, csv: wrongCsv, calls: 9, limit: 1, timeoutS: 20 });
  t.equal(again.code, 0, `9 wrong passwords: each answered 401 again${again.code === 0 ? '' : '\n' + describeRun(again)}`);
  const tenth = await runSipp({ target, scenario: scenario('register-wrong-403.xml'), localIp: wrongFrom, csv: wrongCsv, calls: 1, timeoutS: 10 });
  t.equal(tenth.code, 0, `the 10th wrong password is answered 403 (lockout)${tenth.code === 0 ? '' : '\n' + describeRun(tenth)}`);
  const locked = await runSipp({
    target,
    scenario: scenario('register-locked.xml'),
    localIp: wrongFrom,
    csv: authCsv([{ ...victim, extra: ['3600'] }]),
    calls: 1,
    timeoutS: 10,
  });
  t.equal(locked.code, 0, `from the locked-out address even the right password gets 403 at once${locked.code === 0 ? '' : '\n' + describeRun(locked)}`);
  const elsewhere = await runSipp({
    target,
    scenario: scenario('register-auth.xml'),
    localIp: '127.0.0.22',
    csv: authCsv([{ ...victim, extra: ['3600'] }]),
    calls: 1,
    timeoutS: 10,
  });
  t.equal(elsewhere.code, 0, `the same user registers from another address${elsewhere.code === 0 ? '' : '\n' + describeRun(elsewhere)}`);
  regs = await registrations();
  t.same(
    regs.map((r) => r.aor),
    [`sip:${victim.user}@${HOST}`],
    'exactly that binding is registered',
  );
});
