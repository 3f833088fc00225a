/**
 * Two SIP workers keep copies of the primary's subscriber directory (RpcDirectory) and location
 * store (LocationReplica): a provisioning change made over REST must reach every worker at once,
 * not after the cache's TTL, and a registration made through one worker must route calls made
 * through the other. Requests are sent under several Call-IDs so that both workers (Call-ID
 * affinity) answer some of them.
 */
import t from 'tap';
import dgram from 'node:dgram';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startOpencx } from '../../helpers/opencx-process.js';
import { childPids } from '../../helpers/proc.js';
import { statusOf, udpExchange } from '../../helpers/sip-client.js';

const HOST = '127.0.0.1';
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

function register(port: number, localPort: number, callId: string, cseq: number, authorization?: string, expires = 60): Buffer {
  return Buffer.from(
    `REGISTER sip:${HOST} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${HOST}:${localPort};branch=z9hG4bK${randomBytes(6).toString('hex')};rport\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:alice@${HOST}>;tag=f${callId.slice(0, 6)}\r\nTo: <sip:alice@${HOST}>\r\n` +
      `Call-ID: ${callId}\r\nCSeq: ${cseq} REGISTER\r\nContact: <sip:alice@${HOST}:${localPort}>\r\nExpires: ${expires}\r\n` +
      (authorization !== undefined ? `Authorization: ${authorization}\r\n` : '') +
      'Content-Length: 0\r\n\r\n',
  );
}

type Exchange = (data: (localPort: number) => Buffer) => Promise<Buffer | undefined>;

/** REGISTER, answer the MD5 challenge with `password`, return the final status (from a new socket, or through `exchange`) */
async function registerWith(port: number, password: string, exchange?: Exchange, expires = 60): Promise<number | undefined> {
  const callId = randomBytes(8).toString('hex');
  const send: Exchange = exchange ?? (async (data) => (await udpExchange(HOST, port, data, { until: (m) => m.length > 0, waitMs: 3000 }))[0]);
  const first = [await send((lp) => register(port, lp, callId, 1, undefined, expires))].filter((m): m is Buffer => m !== undefined);
  const text = first[0]?.toString('latin1') ?? '';
  const challenge = text.split('\r\n').find((l) => /^WWW-Authenticate:\s*Digest/i.test(l) && /algorithm=MD5/i.test(l));
  if (statusOf(text) !== 401 || challenge === undefined) return statusOf(text);
  const nonce = /nonce="([^"]+)"/.exec(challenge)?.[1] ?? '';
  const realm = /realm="([^"]+)"/.exec(challenge)?.[1] ?? '';
  const uri = `sip:${HOST}`;
  const cnonce = randomBytes(4).toString('hex');
  const response = md5(`${md5(`alice:${realm}:${password}`)}:${nonce}:00000001:${cnonce}:auth:${md5(`REGISTER:${uri}`)}`);
  const authorization = `Digest username="alice", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="${cnonce}"`;
  return statusOf((await send((lp) => register(port, lp, callId, 2, authorization, expires))) ?? '');
}

t.test('two SIP workers see a changed password at once', async (t) => {
  const server = await startOpencx(['--bind', HOST, '--sip-port', '0', '--http-port', '0', '--role', 'sip,control'], {
    env: { OPENCX_SIP__WORKERS: '2', OPENCX_SIP__TRANSPORTS: 'udp' },
  });
  t.teardown(() => server.stop('SIGKILL'));
  const port = server.ports.udp!;
  const key = readFileSync(path.join(server.dataDir, 'api-key'), 'utf8').trim();
  const api = (method: string, url: string, body?: unknown) =>
    fetch(`http://${HOST}:${server.ports.http}/api/v1${url}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  const created = await api('POST', '/users', { username: 'alice', domain: HOST, password: 'first-secret' });
  t.equal(created.status, 201, 'user created');
  const { id } = (await created.json()) as { id: string };

  const before: (number | undefined)[] = [];
  for (let i = 0; i < 4; i++) before.push(await registerWith(port, 'first-secret'));
  t.same(before, [200, 200, 200, 200], 'registered with the first password (directory cached in the workers)');

  t.equal((await api('PATCH', `/users/${id}`, { password: 'second-secret' })).status, 200, 'password changed');
  const stale: (number | undefined)[] = [];
  for (let i = 0; i < 3; i++) stale.push(await registerWith(port, 'first-secret'));
  t.same(stale, [401, 401, 401], 'the old password is refused by every worker right away');
  const fresh: (number | undefined)[] = [];
  for (let i = 0; i < 4; i++) fresh.push(await registerWith(port, 'second-secret'));
  t.same(fresh, [200, 200, 200, 200], 'the new password works on every worker');

  const count = await api('GET', '/registrations/count');
  t.same(await count.json(), { aors: 1 }, 'one AOR registered');
});

/**
 * A phone on one socket: it registers from there (the registrar reaches a contact where its
 * REGISTER came from), answers every INVITE 486 (so each call ends at once) and counts them.
 */
async function busyPhone(serverPort: number): Promise<{ exchange: Exchange; invites: () => number; close: () => void }> {
  const sock = dgram.createSocket('udp4');
  let invites = 0;
  let waiting: ((m: Buffer | undefined) => void) | undefined;
  sock.on('message', (msg, from) => {
    const text = msg.toString('latin1');
    if (text.startsWith('SIP/2.0 ')) {
      waiting?.(msg);
      waiting = undefined;
      return;
    }
    if (!text.startsWith('INVITE ')) return;
    invites++;
    const lines = text.split('\r\n');
    const keep = lines.filter((l) => /^(Via|From|Call-ID|CSeq):/i.test(l));
    const to = lines.find((l) => /^To:/i.test(l)) ?? '';
    const reply = ['SIP/2.0 486 Busy Here', ...keep, `${to};tag=busy${invites}`, 'Content-Length: 0', '', ''].join('\r\n');
    sock.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, HOST, () => resolve()));
  const exchange: Exchange = (data) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 3000);
      waiting = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
      sock.send(data(sock.address().port), serverPort, HOST);
    });
  return { exchange, invites: () => invites, close: () => sock.close() };
}

function invite(port: number, localPort: number, callId: string): Buffer {
  return Buffer.from(
    `INVITE sip:alice@${HOST} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${HOST}:${localPort};branch=z9hG4bK${randomBytes(6).toString('hex')};rport\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:caller@elsewhere.example>;tag=c${callId.slice(0, 6)}\r\nTo: <sip:alice@${HOST}>\r\n` +
      `Call-ID: ${callId}\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@${HOST}:${localPort}>\r\nContent-Length: 0\r\n\r\n`,
  );
}

/** the final status of an INVITE to alice sent under a new Call-ID */
async function callAlice(port: number): Promise<number | undefined> {
  const callId = randomBytes(8).toString('hex');
  const got = await udpExchange(HOST, port, (lp) => invite(port, lp, callId), { until: (m) => m.some((x) => (statusOf(x) ?? 0) >= 200), waitMs: 3000 });
  return got.map((x) => statusOf(x)).find((s) => (s ?? 0) >= 200);
}

t.test('a phone registered through one worker is called through both', async (t) => {
  const server = await startOpencx(['--bind', HOST, '--sip-port', '0', '--http-port', '0', '--role', 'sip,control'], {
    env: { OPENCX_SIP__WORKERS: '2', OPENCX_SIP__TRANSPORTS: 'udp' },
  });
  t.teardown(() => server.stop('SIGKILL'));
  const port = server.ports.udp!;
  const phone = await busyPhone(port);
  t.teardown(() => phone.close());
  const key = readFileSync(path.join(server.dataDir, 'api-key'), 'utf8').trim();
  const created = await fetch(`http://${HOST}:${server.ports.http}/api/v1/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', domain: HOST, password: 'pw-alice' }),
  });
  t.equal(created.status, 201, 'user created');

  t.equal(await callAlice(port), 480, 'before she registers: 480');
  t.equal(await registerWith(port, 'pw-alice', phone.exchange), 200, 'registered once, through one of the workers');
  const statuses: (number | undefined)[] = [];
  for (let i = 0; i < 8; i++) statuses.push(await callAlice(port));
  t.same(statuses, new Array(8).fill(486), 'eight calls under eight Call-IDs (both workers) reach her phone');
  t.equal(phone.invites(), 8, 'the phone saw each INVITE once');


  // a worker killed outright is replaced, and the new one starts from the primary's copy
  const workers = childPids(server.child.pid!);
  t.equal(workers.length, 2, 'two worker processes');
  process.kill(workers[0]!, 'SIGKILL');
  for (let i = 0; i < 100 && !server.output.some((l) => /starting a new one/.test(l)); i++) await new Promise((r) => setTimeout(r, 100));
  let replaced: number[] = [];
  for (let i = 0; i < 100; i++) {
    replaced = childPids(server.child.pid!);
    if (replaced.length === 2 && !replaced.includes(workers[0]!)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(replaced.length === 2 && !replaced.includes(workers[0]!), 'the killed worker was replaced');
  // the new worker takes a moment to start and load its copies: wait until calls go through again
  for (let i = 0; i < 15; i++) {
    const probe: (number | undefined)[] = [];
    for (let k = 0; k < 4; k++) probe.push(await callAlice(port));
    if (probe.every((x) => x === 486)) break;
  }
  const afterRestart: (number | undefined)[] = [];
  for (let i = 0; i < 8; i++) afterRestart.push(await callAlice(port));
  t.same(afterRestart, new Array(8).fill(486), 'after the restart both workers still route to her phone');

  t.equal(await registerWith(port, 'pw-alice', phone.exchange, 0), 200, 'unregistered');
  const after: (number | undefined)[] = [];
  for (let i = 0; i < 6; i++) after.push(await callAlice(port));
  t.same(after, new Array(6).fill(480), 'after she unregisters no worker routes to the old binding');
});
