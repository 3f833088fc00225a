/**
 * SIPp (Debian sip-tester) sends OPTIONS over UDP, TCP and TLS to a running `opencx start` and
 * gets 200; a WebSocket client does the same over WS and WSS (RFC 7118, subprotocol "sip");
 * everything again over IPv6 loopback.
 *
 * Debian's SIPp 3.6.1 is built without OpenSSL ("To use a TLS transport you must compile SIPp
 * with OpenSSL"), so for TLS its TCP stream is carried over TLS by socat: the server sees a real
 * TLS connection and SIPp's own scenario checks the answers.
 */
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { fixture } from '../helpers/paths.js';
import { startOpencx } from '../helpers/opencx-process.js';
import { optionsRequest, statusOf } from '../helpers/sip-client.js';
import { freePort as freeSippPort } from '../helpers/sipp.js';

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

/** free ports are found by bind-and-release, so a parallel test may grab one first: try again with new ones */
async function runSippWithFreshPorts(build: () => Promise<string[]>, cwd: string): Promise<{ code: number | null; out: string }> {
  let r = await runSipp(await build(), cwd);
  for (let attempt = 1; attempt < 3 && /Address already in use/.test(r.out); attempt++) r = await runSipp(await build(), cwd);
  return r;
}

async function freePort(host: string): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, host, resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** socat listening for plain TCP on `host` and carrying each connection over TLS to the server. */
async function tlsBridge(host: string, tlsPort: number): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort(host);
  const v6 = host.includes(':');
  const listen = v6 ? `TCP6-LISTEN:${port},bind=[${host}],reuseaddr,fork` : `TCP4-LISTEN:${port},bind=${host},reuseaddr,fork`;
  const connect = v6 ? `OPENSSL:[${host}]:${tlsPort},verify=0,pf=ip6` : `OPENSSL:${host}:${tlsPort},verify=0`;
  const child = spawn('socat', [listen, connect], { stdio: 'ignore' });
  // wait until the bridge accepts connections
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect({ host, port }, () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, child };
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

    t.ok(spawnSync('socat', ['-V']).error === undefined, 'socat found (install Debian socat)');
    t.ok(ports.tls, 'TLS port reported');
    const bridge = await tlsBridge(host, ports.tls!);
    t.teardown(() => {
      bridge.child.kill();
    });

    const cases: [string, number | undefined, string[]][] = [
      ['UDP', ports.udp, ['-t', 'u1']],
      ['TCP', ports.tcp, ['-t', 't1']],
      ['TLS (SIPp over socat)', bridge.port, ['-t', 't1']],
    ];
    for (const [name, port, transportArgs] of cases) {
      t.ok(port, `${name} port reported`);
      // SIPp would otherwise take 5060 and 8888 for itself, which a running server may hold
      const r = await runSippWithFreshPorts(
        async () => [`${target}:${port}`, '-sf', scenario, ...transportArgs, '-i', host, '-p', String(await freeSippPort(host)), '-cp', String(await freeSippPort(host)), '-m', '5', '-r', '10', '-nostdin', '-timeout', '15s', '-timeout_error', '-max_recv_loops', '1000'],
        work,
      );
      t.equal(r.code, 0, `SIPp OPTIONS over ${name} on ${host}: 5 calls, all answered 200${r.code === 0 ? '' : '\n' + r.out.slice(-2000)}`);
    }

    t.equal(await wsOptions(`ws://${target}:${ports.ws}`, host, ports.ws!, 'WS'), 200, `OPTIONS over WS on ${host}`);
    t.equal(await wsOptions(`wss://${target}:${ports.wss}`, host, ports.wss!, 'WSS'), 200, `OPTIONS over WSS on ${host}`);

    // the server's own counters say which transports the requests really came over
    const metrics = await (await fetch(`http://${target}:${ports.http}/metrics`)).text();
    for (const transport of ['udp', 'tcp', 'tls', 'ws', 'wss']) {
      const m = new RegExp(`sip_requests_total\\{[^}]*method="OPTIONS"[^}]*transport="${transport}"[^}]*direction="in"[^}]*\\} (\\d+)`).exec(metrics) ??
        new RegExp(`sip_requests_total\\{[^}]*direction="in"[^}]*method="OPTIONS"[^}]*transport="${transport}"[^}]*\\} (\\d+)`).exec(metrics);
      t.ok(m !== null && Number(m[1]) >= 1, `server counted OPTIONS received over ${transport} (${m?.[1] ?? 0})`);
    }
  });
}
