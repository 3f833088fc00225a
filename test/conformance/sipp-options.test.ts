/**
 * SIPp (Debian sip-tester) sends OPTIONS over UDP, TCP and TLS to a running `opencx start` and
 * gets 200; a WebSocket client does the same over WS and WSS (RFC 7118, subprotocol "sip");
 * everything again over IPv6 loopback.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { fixture } from '../helpers/paths.js';
import { startOpencx } from '../helpers/opencx-process.js';
import { optionsRequest, statusOf } from '../helpers/sip-client.js';

const SIPP = '/usr/bin/sipp';

function sippAvailable(): boolean {
  return spawnSync(SIPP, ['-v']).error === undefined;
}

async function runSipp(args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(SIPP, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, out };
}

async function wsOptions(url: string, host: string, port: number, transport: 'WS' | 'WSS'): Promise<number | undefined> {
  const ws = new WebSocket(url, 'sip', { rejectUnauthorized: false });
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const reply = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer over ' + transport)), 5000);
      ws.once('message', (data: Buffer) => {
        clearTimeout(timer);
        resolve(data.toString());
      });
    });
    ws.send(optionsRequest({ host, port, transport, localPort: 0, localHost: 'df7jal23ls0d.invalid' }).toString());
    return statusOf(await reply);
  } finally {
    ws.close();
  }
}

for (const host of ['127.0.0.1', '::1']) {
  t.test(`OPTIONS over every transport on ${host}`, async (t) => {
    t.ok(sippAvailable(), `SIPp found at ${SIPP} (install Debian sip-tester)`);
    if (!sippAvailable()) return;
    const server = await startOpencx(['--bind', host, '--sip-port', '0', '--sip-tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0', '--role', 'sip']);
    const work = mkdtempSync(path.join(tmpdir(), 'opencx-sipp-'));
    t.teardown(async () => {
      await server.stop();
      rmSync(work, { recursive: true, force: true });
    });
    const { ports } = server;
    const scenario = fixture(import.meta.url, 'sipp/options-uac.xml');
    const target = host.includes(':') ? `[${host}]` : host;

    // SIPp's TLS mode loads a certificate and key even as a client
    const selfsigned = (await import('selfsigned')).default;
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'sipp-client' }], { keySize: 2048 });
    writeFileSync(path.join(work, 'cacert.pem'), pems.cert);
    writeFileSync(path.join(work, 'cakey.pem'), pems.private);

    const cases: [string, number | undefined, string[]][] = [
      ['UDP', ports.udp, ['-t', 'u1']],
      ['TCP', ports.tcp, ['-t', 't1']],
      ['TLS', ports.tls, ['-t', 'l1', '-tls_cert', 'cacert.pem', '-tls_key', 'cakey.pem']],
    ];
    for (const [name, port, transportArgs] of cases) {
      t.ok(port, `${name} port reported`);
      const r = await runSipp(
        [`${target}:${port}`, '-sf', scenario, ...transportArgs, '-i', host, '-m', '5', '-r', '10', '-nostdin', '-timeout', '15s', '-timeout_error', '-max_recv_loops', '1000'],
        work,
      );
      t.equal(r.code, 0, `SIPp OPTIONS over ${name} on ${host}: 5 calls, all answered 200${r.code === 0 ? '' : '\n' + r.out.slice(-2000)}`);
    }

    t.equal(await wsOptions(`ws://${target}:${ports.ws}`, host, ports.ws!, 'WS'), 200, `OPTIONS over WS on ${host}`);
    t.equal(await wsOptions(`wss://${target}:${ports.wss}`, host, ports.wss!, 'WSS'), 200, `OPTIONS over WSS on ${host}`);
  });
}
