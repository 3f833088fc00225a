/**
 * `opencx trunk|did|dialplan|cdr` as an operator runs them: on the data directory of a stopped
 * server (straight into its database), and against a running server (through its REST API,
 * found by <data-dir>/server.json with the key in <data-dir>/api-key).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { CdrStore, controlMigrations } from '../../../src/control/index.js';
import { openDatabase, runMigrations } from '../../../src/platform/index.js';
import { runOpencx, startOpencx } from '../../helpers/opencx-process.js';

const HOST = '127.0.0.1';

t.test('--help lists the telephony commands', async (t) => {
  const help = await runOpencx(['--help']);
  t.equal(help.code, 0);
  for (const c of ['opencx trunk add NAME', 'opencx did add NUMBER', 'opencx dialplan set', 'opencx cdr list']) t.match(help.stdout, c);
  const sub = await runOpencx(['trunk', '--help']);
  t.equal(sub.code, 0);
  t.match(sub.stdout, 'opencx trunk add');
});

t.test('on a stopped server: trunk, did, dialplan and cdr commands work on the data directory', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'opencx-tel-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (...args: string[]) => runOpencx([...args, '--data-dir', dir]);

  const added = await cli('trunk', 'add', 'carrier', '--gateway', 'sip.carrier.example:5080;transport=tcp', '--gateway', '[2001:db8::7]', '--acl', '203.0.113.0/24', '--username', 'acct', '--password', 'hunter2', '--format', 'national', '--country-code', '1');
  t.equal(added.code, 0, added.stderr);
  t.match(added.stdout, /added trunk carrier/);
  const dup = await cli('trunk', 'add', 'carrier', '--acl', '10.0.0.1');
  t.equal(dup.code, 1);
  t.match(dup.stderr, /already exists/);
  const badGateway = await cli('trunk', 'add', 'x', '--gateway', 'gw.example:99999');
  t.equal(badGateway.code, 2, 'a bad --gateway is a usage error');
  t.match(badGateway.stderr, /gateway.*port/);
  const badAcl = await cli('trunk', 'add', 'x', '--acl', '10.0.0.0/99');
  t.equal(badAcl.code, 1);
  t.match(badAcl.stderr, /acl\.0/);
  const list = await cli('trunk', 'list');
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, /carrier\tboth\tgateways=sip\.carrier\.example:5080\/tcp,\[2001:db8::7\]:5060\/udp\tacl=203\.0\.113\.0\/24\tnational/);
  t.notMatch(list.stdout, 'hunter2');

  const did = await cli('did', 'add', '+15550100001', '--user', 'alice@example.com', '--trunk', 'carrier');
  t.equal(did.code, 0, did.stderr);
  t.equal((await cli('did', 'add', '+15550100002', '--vxml', 'https://ivr.example/start.vxml')).code, 0);
  const twoTargets = await cli('did', 'add', '+15550100003', '--user', 'a@b.c', '--reject');
  t.equal(twoTargets.code, 2);
  const dids = await cli('did', 'list');
  t.match(dids.stdout, /\+15550100001\t-> user alice@example\.com\t\(trunk carrier\)/);
  t.match(dids.stdout, /\+15550100002\t-> vxml https:\/\/ivr\.example\/start\.vxml/);
  const busy = await cli('trunk', 'remove', 'carrier');
  t.equal(busy.code, 1, 'a trunk with DIDs restricted to it stays');
  t.equal((await cli('did', 'remove', '+15550100001')).code, 0);
  t.equal((await cli('trunk', 'remove', 'carrier')).code, 0);
  t.match((await cli('trunk', 'list')).stdout, /^0 trunk\(s\)/);
  t.equal((await cli('trunk', 'remove', 'carrier')).code, 1, 'an unknown trunk');

  const yamlFile = path.join(dir, 'plan.yaml');
  writeFileSync(yamlFile, 'rules:\n  - name: emergency\n    match: { number: "911" }\n    target: { type: number, number: "911" }\n');
  const set = await cli('dialplan', 'set', yamlFile);
  t.equal(set.code, 0, set.stderr);
  t.match(set.stdout, 'version 1');
  const jsonFile = path.join(dir, 'plan.json');
  writeFileSync(jsonFile, JSON.stringify({ rules: [] }));
  t.match((await cli('dialplan', 'set', jsonFile)).stdout, 'version 2');
  const show = await cli('dialplan', 'show');
  t.match(show.stdout, /# version 2/);
  t.same(JSON.parse(show.stdout.slice(show.stdout.indexOf('\n') + 1)), { rules: [] });
  const broken = path.join(dir, 'broken.yaml');
  writeFileSync(broken, 'rules: [\n');
  t.equal((await cli('dialplan', 'set', broken)).code, 1);

  // CDRs written as the calls role would (the server is stopped: the data directory is ours)
  const db = await openDatabase({ dataDir: dir });
  try {
    await runMigrations(db, controlMigrations);
    const tenant = await db.query<{ id: string }>("SELECT id FROM tenants WHERE name = 'default'");
    const cdrs = new CdrStore({ db });
    for (let i = 0; i < 3; i++) {
      await cdrs.insert({ tenantId: tenant.rows[0]!.id, kind: 'call', callId: `call-${i}`, direction: 'inbound', fromNumber: '+15551112222', toNumber: '+15550100002', setupAt: `2026-04-0${i + 1}T10:00:00Z`, endAt: `2026-04-0${i + 1}T10:00:42Z`, sipStatus: 200, hangupBy: 'caller' });
    }
  } finally {
    await db.close();
  }
  const cdrList = await cli('cdr', 'list', '--since', '2026-04-02T00:00:00Z');
  t.equal(cdrList.code, 0, cdrList.stderr);
  t.match(cdrList.stdout, /2026-04-03T10:00:00\.000Z\tcall\tcall-2\t\+15551112222 -> \+15550100002\t42s/);
  t.match(cdrList.stdout, /2 CDR\(s\)/);
  t.match((await cli('cdr', 'list', '--limit', '1')).stdout, /1 CDR\(s\) \(more/);
  t.equal((await cli('cdr', 'list', '--since', 'yesterday')).code, 2);
});

t.test('against a running server: the commands go through its REST API', async (t) => {
  const server = await startOpencx(['--bind', HOST, '--sip-port', '0', '--sip-tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0']);
  t.teardown(() => server.stop('SIGKILL'));
  const cli = (...args: string[]) => runOpencx([...args, '--data-dir', server.dataDir]);
  const base = `http://${HOST}:${server.ports.http}`;
  const key = readFileSync(path.join(server.dataDir, 'api-key'), 'utf8').trim();

  const added = await cli('trunk', 'add', 'live', '--gateway', 'gw.example;transport=tls', '--username', 'acct', '--password', 'hunter2', '--options-ping', '30');
  t.equal(added.code, 0, added.stderr);
  const trunks = (await (await fetch(`${base}/api/v1/trunks`, { headers: { authorization: `Bearer ${key}` } })).json()) as { name: string; gateways: { port: number }[]; optionsPingSeconds: number }[];
  t.match(trunks, [{ name: 'live', gateways: [{ port: 5061 }], optionsPingSeconds: 30 }], 'created through the API of the running server');
  t.match((await cli('trunk', 'list')).stdout, /live\tboth\tgateways=gw\.example:5061\/tls/);
  const dup = await cli('trunk', 'add', 'live', '--acl', '10.0.0.1');
  t.equal(dup.code, 1);
  t.match(dup.stderr, /409/);
  const bad = await cli('trunk', 'add', 'x', '--acl', 'nope');
  t.equal(bad.code, 1);
  t.match(bad.stderr, /400.*acl\.0/);

  t.equal((await cli('did', 'add', '+15550100009', '--ring-group', 'a@example.com,b@example.com', '--trunk', 'live')).code, 0);
  t.match((await cli('did', 'list')).stdout, /\+15550100009\t-> ring-group a@example\.com,b@example\.com\t\(trunk live\)/);
  t.equal((await cli('did', 'remove', '+15550100009')).code, 0);
  t.equal((await cli('trunk', 'remove', 'live')).code, 0);

  // the first start put the sample IVR extensions in the empty dial plan (mcp.samples)
  const seeded = (await cli('dialplan', 'show')).stdout;
  t.match(seeded, /# version 1/);
  t.match(seeded, /sample-dtmf-menu/, 'the sample extensions are in the first dial plan');
  const planFile = path.join(server.dataDir, 'plan.json');
  writeFileSync(planFile, JSON.stringify({ rules: [] }));
  t.match((await cli('dialplan', 'set', planFile)).stdout, 'version 2');
  t.match((await cli('dialplan', 'show')).stdout, /# version 2/);
  const cdrs = await cli('cdr', 'list');
  t.equal(cdrs.code, 0, cdrs.stderr);
  t.match(cdrs.stdout, /^0 CDR\(s\)/);
  const unauthorized = await runOpencx(['trunk', 'list', '--server', base, '--api-key', 'wrong']);
  t.equal(unauthorized.code, 1);
  t.match(unauthorized.stderr, /401/);
  const stopped = await server.stop('SIGTERM');
  t.equal(stopped.code, 0);
});
