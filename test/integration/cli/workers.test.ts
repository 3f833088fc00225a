/**
 * The SIP role on several worker processes (sip.workers > 1): they share the ports, a stateful
 * transaction's retransmissions meet the one worker that owns it (Call-ID affinity over the
 * relay sockets), /metrics sums the workers, and SIGTERM stops them all.
 */
import t from 'tap';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { startOpencx } from '../../helpers/opencx-process.js';
import { optionsRequest, statusOf, udpExchange } from '../../helpers/sip-client.js';

const HOST = '127.0.0.1';

function invite(port: number, localPort: number, callId: string): Buffer {
  return Buffer.from(
    `INVITE sip:nobody@${HOST}:${port} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${HOST}:${localPort};branch=z9hG4bK${callId.slice(0, 10)};rport\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:a@${HOST}>;tag=f${callId.slice(0, 6)}\r\nTo: <sip:nobody@${HOST}>\r\n` +
      `Call-ID: ${callId}\r\nCSeq: 1 INVITE\r\nContact: <sip:a@${HOST}:${localPort}>\r\nContent-Length: 0\r\n\r\n`,
  );
}

t.test('two SIP workers', async (t) => {
  const server = await startOpencx(['--bind', HOST, '--sip-port', '0', '--http-port', '0', '--role', 'sip'], {
    env: { OPENCX_SIP__WORKERS: '2', OPENCX_SIP__TRANSPORTS: 'udp,tcp' },
  });
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await server.stop('SIGKILL');
  });
  const port = server.ports.udp!;
  t.ok(port > 0, `shared UDP port ${port}`);

  // many OPTIONS from many sockets: whichever worker gets one answers it
  let ok = 0;
  for (let i = 0; i < 20; i++) {
    const got = await udpExchange(HOST, port, (lp) => optionsRequest({ host: HOST, port, transport: 'UDP', localPort: lp }), { until: (m) => m.length > 0, waitMs: 3000 });
    if (statusOf(got[0] ?? '') === 200) ok++;
  }
  t.equal(ok, 20, '20 OPTIONS answered 200');

  // A request with a transaction, retransmitted from several sockets' worth of Call-IDs: every
  // copy must be answered by the transaction that owns it (same To tag), not by a new one.
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, HOST, resolve));
  const localPort = sock.address().port;
  const replies = new Map<string, string[]>();
  sock.on('message', (m) => {
    const text = m.toString('latin1');
    const callId = /Call-ID: (\S+)/i.exec(text)?.[1] ?? '';
    const toTag = /^To:.*;tag=([^;\r\n]+)/im.exec(text)?.[1] ?? '';
    if (statusOf(text) !== undefined && statusOf(text)! >= 200) replies.set(callId, [...(replies.get(callId) ?? []), toTag]);
  });
  const callIds = Array.from({ length: 8 }, () => randomBytes(8).toString('hex'));
  for (const callId of callIds) {
    for (let copy = 0; copy < 6; copy++) {
      sock.send(invite(port, localPort, callId), port, HOST);
      await new Promise((r) => setTimeout(r, 15));
    }
  }
  await new Promise((r) => setTimeout(r, 700));
  // the final responses are resent by Timer G too; absorb the ACK question by just closing
  sock.close();
  for (const callId of callIds) {
    const tags = replies.get(callId) ?? [];
    t.ok(tags.length >= 1, `call ${callId}: final responses came back (${tags.length})`);
    t.equal(new Set(tags).size, 1, `call ${callId}: every copy answered by one transaction (To tags ${[...new Set(tags)].join(',')})`);
  }

  const metrics = await (await fetch(`http://${HOST}:${server.ports.http}/metrics`)).text();
  const options = /sip_requests_total\{method="OPTIONS",transport="udp",direction="in"\} (\d+)/.exec(metrics);
  t.ok(options !== null && Number(options[1]) >= 20, `/metrics sums the workers' OPTIONS counts (${options?.[1]})`);
  const ready = await fetch(`http://${HOST}:${server.ports.http}/readyz`);
  t.equal(ready.status, 200, '/readyz: every worker is ready');

  const result = await server.stop('SIGTERM');
  stopped = true;
  t.equal(result.code, 0, 'SIGTERM exits 0 with workers');
  t.ok(result.ms < 5000, `stopped in ${result.ms} ms`);
  t.notOk(
    server.output.some((l) => l.includes('resources still open')),
    'primary and workers closed everything',
  );
});
