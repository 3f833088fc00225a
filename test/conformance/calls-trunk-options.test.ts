/**
 * An outbound trunk whose first gateway is dead, end to end: `opencx start` (every role), a UDP
 * socket on 127.0.0.4 as the dead gateway (it swallows everything, until told to answer OPTIONS),
 * SIPp as the second gateway (407 challenge, then 200; -aa answers the OPTIONS pings), Debian
 * baresip as alice's phone.
 *
 * - no answer: the dead gateway has `timeout=2`, so the INVITE that draws no response at all
 *   (not even 100 Trying) is given up after 2 s instead of Timer B's 32 s, and the call is
 *   established through the second gateway.
 * - OPTIONS pinging: with pings every 2 s the dead gateway is marked down (log line, gauge
 *   opencx_trunk_gateway_up 0); the next call goes straight to the second gateway: the dead
 *   one sees OPTIONS only, no INVITE of that call. When it answers OPTIONS again it is marked up.
 */
import t from 'tap';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startPbx } from '../helpers/pbx.js';
import { fixture } from '../helpers/paths.js';
import { freePort, requireSipp, startSipp } from '../helpers/sipp.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const GW_HOST = '127.0.0.4';

interface DeadGateway {
  port: number;
  /** requests received: method and Call-ID */
  received: { method: string; callId: string }[];
  /** answer OPTIONS with 200 (the gateway is back); INVITEs are still swallowed */
  answerOptions: boolean;
  close(): Promise<void>;
}

/** A gateway that is there (the port is bound, no ICMP unreachable) but never answers. */
async function deadGateway(host: string): Promise<DeadGateway> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, host, () => resolve());
  });
  const gw: DeadGateway = {
    port: sock.address().port,
    received: [],
    answerOptions: false,
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
  sock.on('message', (buf, from) => {
    const text = buf.toString('latin1');
    const method = /^([A-Z]+) sip:/.exec(text)?.[1];
    if (method === undefined) return; // a response (to nothing we sent)
    const callId = /^(?:Call-ID|i)[ \t]*:[ \t]*(\S+)/im.exec(text)?.[1] ?? '';
    gw.received.push({ method, callId });
    if (method === 'OPTIONS' && gw.answerOptions) sock.send(okTo(text), from.port, from.address);
  });
  return gw;
}

/** RFC 3261 §8.2.6.2: a 200 copying Via, From, To (plus our tag), Call-ID and CSeq */
function okTo(request: string): string {
  const head = (request.split('\r\n\r\n')[0] ?? '').split('\r\n').slice(1);
  const copied = head.filter((l) => /^(Via|v|From|f|To|t|Call-ID|i|CSeq)[ \t]*:/i.test(l)).map((l) => (/^(To|t)[ \t]*:/i.test(l) ? `${l};tag=deadgw` : l));
  return ['SIP/2.0 200 OK', ...copied, 'Content-Length: 0', '', ''].join('\r\n');
}

t.test('outbound trunk: a dead gateway is given up in seconds, OPTIONS pings mark it down and up again', async (t) => {
  requireSipp();
  const pbx = await startPbx(t, ['alice']);
  if (pbx === undefined) return;
  const { server, udp, cli } = pbx;
  // provisioning through the running server's REST API where the CLI is not the point (each CLI run is a node start)
  const api = async (method: string, route: string, body: unknown): Promise<{ status: number; json: unknown }> => {
    const key = readFileSync(path.join(server.dataDir, 'api-key'), 'utf8').trim();
    const res = await fetch(`http://127.0.0.1:${server.ports.http}/api/v1${route}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: await res.json().catch(() => undefined) };
  };
  const dead = await deadGateway(GW_HOST);
  t.teardown(() => dead.close());
  const deadLabel = `${GW_HOST}:${dead.port}`;
  const authPort = await freePort(GW_HOST);
  const trunkArgs = ['--direction', 'outbound', '--gateway', `${deadLabel};priority=0;timeout=2`, '--gateway', `${GW_HOST}:${authPort};priority=1`, '--username', 'gw', '--password', 'gw-secret', '--country-code', '1'];
  const added = await cli('trunk', 'add', 'pstn', ...trunkArgs);
  const trunkId = /\(([0-9a-f-]{36})\)/.exec(added.stdout)?.[1] ?? '';
  const stored = await api('GET', `/trunks/${trunkId}`, undefined);
  t.match(stored.json, { gateways: [{ port: dead.port, responseTimeoutSeconds: 2 }, { port: authPort }] }, 'the API shows the gateway response timeout given as ;timeout=2');
  const plan = await api('PUT', '/dialplan', { rules: [{ name: 'us-pstn', match: { number: '_1NXXNXXXXXX' }, target: { type: 'trunk', trunk: 'pstn' } }] });
  t.equal(plan.status, 200, 'dial plan stored');

  // the live gateway answers every call, OPTIONS pings in between (-aa). Each OPTIONS leaves SIPp a
  // call that never ends, so it is killed at the end and its statistics come from the per-second dump (-fd 1)
  const gwAuth = await startSipp({ target: '127.0.0.1:9', scenario: fixture(import.meta.url, 'sipp/gateway-auth.xml'), localIp: GW_HOST, localPort: authPort, calls: 10_000, timeoutS: 120, extraArgs: ['-rsa', `127.0.0.1:${udp}`, '-aa', '-fd', '1'] });
  t.teardown(() => gwAuth.kill());
  await sleep(500);

  const call = async (what: string): Promise<{ ms: number; established: boolean }> => {
    const started = Date.now();
    const alice = await pbx.phone('alice', { commands: ['/dial sip:15557654321@127.0.0.1'] });
    const established = await alice.waitFor(/Call established: sip:15557654321@127\.0\.0\.1/, 15000).then(
      () => true,
      () => false,
    );
    const ms = Date.now() - started;
    t.ok(established, `${what}: alice reached the PSTN number (${ms} ms from starting the phone)`);
    await sleep(500);
    await alice.stop();
    return { ms, established };
  };
  const invitesAtDead = (): string[] => [...new Set(dead.received.filter((r) => r.method === 'INVITE').map((r) => r.callId))];

  // --- 1. no answer at all: given up after the gateway's 2 s, not Timer B's 32 s; the second gateway answers
  const first = await call('dead gateway first');
  t.equal(invitesAtDead().length, 1, 'the dead gateway got the INVITE (and never answered it)');
  t.ok(first.ms < 15000, 'failover took seconds, not Timer B');
  t.ok(
    server.output.some((l) => /branch failed/.test(l) && l.includes(deadLabel) && /"cause":"timeout"/.test(l)),
    'the B2BUA gave up on the dead gateway for want of a response',
  );

  // --- 2. OPTIONS pings every 2 s: the dead gateway is marked down and skipped
  t.equal((await api('PATCH', `/trunks/${trunkId}`, { optionsPingSeconds: 2 })).status, 200, 'OPTIONS pinging turned on (every 2 s)');
  const gauge = async (gateway: string): Promise<string | undefined> => {
    const text = await (await fetch(`http://127.0.0.1:${server.ports.http}/metrics`)).text();
    return new RegExp(`^opencx_trunk_gateway_up\\{trunk="pstn",gateway="${gateway.replaceAll('.', '\\.')}"\\} (\\d)$`, 'm').exec(text)?.[1];
  };
  const waitGauge = async (gateway: string, value: string, ms: number): Promise<boolean> => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(250)) if ((await gauge(gateway)) === value) return true;
    return false;
  };
  const downSince = Date.now();
  t.ok(await waitGauge(deadLabel, '0', 15000), `opencx_trunk_gateway_up is 0 for the dead gateway (${Date.now() - downSince} ms after pinging began)`);
  t.equal(await gauge(`${GW_HOST}:${authPort}`), '1', 'and 1 for the live one, which answers OPTIONS');
  t.ok(
    server.output.some((l) => /trunk gateway marked down/.test(l) && l.includes(deadLabel)),
    'opencx logged that it marked the dead gateway down',
  );
  t.ok(
    dead.received.some((r) => r.method === 'OPTIONS'),
    'the dead gateway was pinged with OPTIONS',
  );

  const before = new Set(invitesAtDead());
  const seenBefore = dead.received.length;
  const second = await call('dead gateway marked down');
  const during = dead.received.slice(seenBefore);
  const newInvites = during.filter((r) => r.method === 'INVITE' && !before.has(r.callId));
  t.same(newInvites, [], 'no INVITE of the second call reached the dead gateway');
  t.ok(
    during.every((r) => r.method === 'OPTIONS' || before.has(r.callId)),
    `meanwhile it got only OPTIONS (and retransmissions of the first call's INVITE): ${[...new Set(during.map((r) => r.method))].join(', ') || 'nothing'}`,
  );
  t.ok(second.ms < first.ms, `the call set up faster straight to the live gateway (${second.ms} ms against ${first.ms} ms)`);

  // --- 3. the dead gateway comes back: it answers OPTIONS and is marked up
  dead.answerOptions = true;
  const upSince = Date.now();
  t.ok(await waitGauge(deadLabel, '1', 10000), `opencx_trunk_gateway_up back to 1 (${Date.now() - upSince} ms after it answered again)`);
  t.ok(
    server.output.some((l) => /trunk gateway marked up/.test(l) && l.includes(deadLabel)),
    'opencx logged that it marked the gateway up',
  );

  await sleep(1500);
  gwAuth.kill();
  const rAuth = await gwAuth.done;
  t.equal(rAuth.successful, 2, `the live gateway challenged, verified the credentials, answered both calls and got their BYEs\n${rAuth.successful === 2 ? '' : rAuth.out.slice(-2000)}`);
  await pbx.assertIdle(t);
  t.same(pbx.errors(), [], 'opencx logged no errors');
});
