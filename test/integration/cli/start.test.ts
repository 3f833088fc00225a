/**
 * `opencx start` as a user runs it: ports picked when 0, the endpoints answer, SIGTERM exits 0
 * within 5 s (which also proves no socket or timer is left holding the process open), and bad
 * configuration exits 2 naming the key.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../helpers/paths.js';
import { runOpencx, startOpencx } from '../../helpers/opencx-process.js';
import { optionsRequest, statusOf, udpExchange } from '../../helpers/sip-client.js';

const HOST = '127.0.0.1';

t.test('--help and --version', async (t) => {
  const help = await runOpencx(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /opencx start/);
  t.match(help.stdout, /--sip-port/);
  const version = await runOpencx(['--version']);
  t.equal(version.code, 0);
  const pkg = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string };
  t.equal(version.stdout.trim(), pkg.version);
  const unknown = await runOpencx(['frobnicate']);
  t.equal(unknown.code, 2, 'an unknown command exits 2');
  t.match(unknown.stderr, /unknown command "frobnicate"/);
});

t.test('start on free ports, answer HTTP and SIP, stop on SIGTERM', async (t) => {
  const server = await startOpencx(['--bind', HOST, '--sip-port', '0', '--sip-tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0']);
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await server.stop('SIGKILL');
  });
  const { ports } = server;
  for (const k of ['udp', 'tcp', 'tls', 'ws', 'wss', 'http'] as const) {
    t.ok(typeof ports[k] === 'number' && ports[k]! > 0, `${k} port picked: ${ports[k]}`);
  }
  t.equal(ports.udp, ports.tcp, 'UDP and TCP share one port number, as on 5060');
  t.ok(
    server.output.some((l) => l.includes('self-signed')),
    'a self-signed certificate was made for TLS/WSS and the log says so',
  );

  const base = `http://${HOST}:${ports.http}`;
  const health = await fetch(`${base}/healthz`);
  t.equal(health.status, 200, '/healthz answers 200');
  const ready = await fetch(`${base}/readyz`);
  t.equal(ready.status, 200, '/readyz answers 200 once every listener is bound');

  const got = await udpExchange(HOST, ports.udp!, (lp) => optionsRequest({ host: HOST, port: ports.udp!, transport: 'UDP', localPort: lp }), {
    until: (m) => m.length > 0,
    waitMs: 3000,
  });
  t.equal(statusOf(got[0] ?? ''), 200, 'OPTIONS over UDP answered 200');

  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, /process_cpu_seconds_total/, '/metrics has process metrics');
  t.match(metrics, /sip_requests_total\{[^}]*method="OPTIONS"[^}]*\} [1-9]/, '/metrics counts the OPTIONS request');
  t.match(metrics, /sip_responses_total\{[^}]*status_class="2xx"[^}]*\} [1-9]/, '/metrics counts the 200 response');
  t.match(metrics, /sip_transactions_active/, '/metrics shows active transactions');

  const result = await server.stop('SIGTERM');
  stopped = true;
  t.equal(result.code, 0, 'SIGTERM exits 0');
  t.ok(result.ms < 5000, `exited in ${result.ms} ms (< 5000)`);
  // the process ended because nothing was left open, not because the stop deadline forced it
  t.notOk(
    server.output.some((l) => l.includes('resources still open')),
    'no socket, timer or child left open at exit',
  );
  t.ok(server.output.some((l) => l.includes('opencx stopped')), 'every component closed');
});

t.test('SIGINT also stops cleanly', async (t) => {
  // every listener on a free port: the defaults (TLS 5061, WS/WSS) may be taken on a shared box
  const server = await startOpencx(['--bind', HOST, '--sip-port', '0', '--sip-tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0', '--role', 'sip']);
  const result = await server.stop('SIGINT');
  t.equal(result.code, 0);
  t.ok(result.ms < 5000, `exited in ${result.ms} ms`);
  t.notOk(
    server.output.some((l) => l.includes('resources still open')),
    'no leaked handles',
  );
});

t.test('bad configuration exits 2 and names the key', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'opencx-cfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const unknownKey = path.join(dir, 'unknown.yaml');
  writeFileSync(unknownKey, 'sip:\n  udpPortt: 5070\n');
  const r1 = await runOpencx(['start', '--config', unknownKey, '--data-dir', dir]);
  t.equal(r1.code, 2, 'unknown key: exit 2');
  t.match(r1.stderr, /sip\.udpPortt/, 'unknown key named');

  const wrongType = path.join(dir, 'type.yaml');
  writeFileSync(wrongType, 'sip:\n  udpPort: lots\n');
  const r2 = await runOpencx(['start', '--config', wrongType, '--data-dir', dir]);
  t.equal(r2.code, 2, 'wrong type: exit 2');
  t.match(r2.stderr, /sip\.udpPort/, 'wrong-typed key named');

  const r3 = await runOpencx(['start', '--data-dir', dir], { env: { OPENCX_SIP__UDP_PORT: 'seventy' } });
  t.equal(r3.code, 2, 'bad environment value: exit 2');
  t.match(r3.stderr, /OPENCX_SIP__UDP_PORT|sip\.udpPort/, 'environment variable named');

  const r4 = await runOpencx(['start', '--data-dir', dir, '--sip-port', '99999']);
  t.equal(r4.code, 2, 'bad flag: exit 2');
  t.match(r4.stderr, /sip-port/);

  const r5 = await runOpencx(['start', '--config', path.join(dir, 'missing.yaml'), '--data-dir', dir]);
  t.equal(r5.code, 2, 'missing config file: exit 2');
  t.match(r5.stderr, /missing\.yaml/);
});
