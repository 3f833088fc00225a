/**
 * Two SIP workers cache the primary's subscriber directory (RpcDirectory): a provisioning change
 * made over REST must reach every worker at once, not after the cache's TTL. Registrations are
 * sent under several Call-IDs so that both workers (Call-ID affinity) answer some of them.
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startOpencx } from '../../helpers/opencx-process.js';
import { statusOf, udpExchange } from '../../helpers/sip-client.js';

const HOST = '127.0.0.1';
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

function register(port: number, localPort: number, callId: string, cseq: number, authorization?: string): Buffer {
  return Buffer.from(
    `REGISTER sip:${HOST} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${HOST}:${localPort};branch=z9hG4bK${randomBytes(6).toString('hex')};rport\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:alice@${HOST}>;tag=f${callId.slice(0, 6)}\r\nTo: <sip:alice@${HOST}>\r\n` +
      `Call-ID: ${callId}\r\nCSeq: ${cseq} REGISTER\r\nContact: <sip:alice@${HOST}:${localPort}>\r\nExpires: 60\r\n` +
      (authorization !== undefined ? `Authorization: ${authorization}\r\n` : '') +
      'Content-Length: 0\r\n\r\n',
  );
}

/** REGISTER, answer the MD5 challenge with `password`, return the final status */
async function registerWith(port: number, password: string): Promise<number | undefined> {
  const callId = randomBytes(8).toString('hex');
  const first = await udpExchange(HOST, port, (lp) => register(port, lp, callId, 1), { until: (m) => m.length > 0, waitMs: 3000 });
  const text = first[0]?.toString('latin1') ?? '';
  const challenge = text.split('\r\n').find((l) => /^WWW-Authenticate:\s*Digest/i.test(l) && /algorithm=MD5/i.test(l));
  if (statusOf(text) !== 401 || challenge === undefined) return statusOf(text);
  const nonce = /nonce="([^"]+)"/.exec(challenge)?.[1] ?? '';
  const realm = /realm="([^"]+)"/.exec(challenge)?.[1] ?? '';
  const uri = `sip:${HOST}`;
  const cnonce = randomBytes(4).toString('hex');
  const response = md5(`${md5(`alice:${realm}:${password}`)}:${nonce}:00000001:${cnonce}:auth:${md5(`REGISTER:${uri}`)}`);
  const authorization = `Digest username="alice", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="${cnonce}"`;
  const second = await udpExchange(HOST, port, (lp) => register(port, lp, callId, 2, authorization), { until: (m) => m.length > 0, waitMs: 3000 });
  return statusOf(second[0] ?? '');
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
