import net from 'node:net';
import t from 'tap';
import { StreamTransport } from '../../../../src/sip/transport/index.js';
import { OPTIONS, nextClose, nextPacket, packets } from './helpers.js';

function connect(port: number, host: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host }, () => resolve(s));
    s.once('error', reject);
  });
}

for (const address of ['127.0.0.1', '::1']) {
  t.test(`TCP on ${address}: pipelined and split messages, replies on the same connection`, async (t) => {
    const server = await StreamTransport.listen({ protocol: 'tcp', address, port: 0 });
    t.teardown(() => server.close());
    const sock = await connect(server.local.port, address);
    t.teardown(() => sock.destroy());
    const three = packets(server, 3);
    const body = 'a\r\n\r\nb';
    const stream = Buffer.concat([OPTIONS(), OPTIONS(body.length, body), Buffer.from('\r\n'), OPTIONS()]);
    sock.write(stream.subarray(0, 10));
    sock.write(stream.subarray(10, 100));
    sock.write(stream.subarray(100));
    const got = await three;
    t.ok(got[1]!.data.equals(OPTIONS(body.length, body)));
    t.equal(got[0]!.connectionId, got[2]!.connectionId);
    t.equal(got[0]!.source.port, sock.localPort);
    t.equal(server.connectionCount, 1);
    const reply = new Promise<Buffer>((resolve) => sock.once('data', resolve));
    await server.send({ protocol: 'tcp', address: 'unused', port: 1, connectionId: got[0]!.connectionId }, Buffer.from('SIP/2.0 200 OK\r\n\r\n'));
    t.equal((await reply).toString(), 'SIP/2.0 200 OK\r\n\r\n');
    // keepalive ping gets a pong (RFC 5626 §4.4.1)
    const pong = new Promise<Buffer>((resolve) => sock.once('data', resolve));
    sock.write('\r\n\r\n');
    t.equal((await pong).toString(), '\r\n');
    const closed = nextClose(server);
    sock.end();
    t.equal((await closed)[0], got[0]!.connectionId);
    t.equal(server.connectionCount, 0);
  });
}

t.test('TCP outbound connects, then reuses the connection in both directions', async (t) => {
  const a = await StreamTransport.listen({ protocol: 'tcp', address: '127.0.0.1', port: 0 });
  const b = await StreamTransport.listen({ protocol: 'tcp', address: '127.0.0.1', port: 0 });
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const atB = nextPacket(b);
  await a.send({ protocol: 'tcp', address: '127.0.0.1', port: b.local.port }, OPTIONS());
  const p = await atB;
  t.equal(a.connectionCount, 1);
  await a.send({ protocol: 'tcp', address: '127.0.0.1', port: b.local.port }, OPTIONS());
  t.equal(a.connectionCount, 1, 'reused, not redialled');
  const atA = nextPacket(a);
  // b answers to a's ephemeral address: found in the table, no new connection
  await b.send({ protocol: 'tcp', address: p.source.address, port: p.source.port }, OPTIONS());
  await atA;
  t.equal(b.connectionCount, 1);
  await t.rejects(a.send({ protocol: 'tcp', address: '127.0.0.1', port: 1 }, OPTIONS()), { name: 'UnavailableError' });
});

t.test('framing error: packet with framingError, a 400 can be written, then the connection closes', async (t) => {
  const server = await StreamTransport.listen({ protocol: 'tcp', address: '127.0.0.1', port: 0, limits: { framingErrorGraceMs: 5_000 } });
  t.teardown(() => server.close());
  const sock = await connect(server.local.port, '127.0.0.1');
  t.teardown(() => sock.destroy());
  const got = nextPacket(server);
  sock.write('INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK3\r\nContent-Length: -999\r\n\r\nxxxx');
  const p = await got;
  t.match(p.framingError, /negative/);
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve) => sock.once('close', resolve));
  await server.send({ protocol: 'tcp', address: '127.0.0.1', port: 0, connectionId: p.connectionId }, Buffer.from('SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
  await ended;
  t.match(Buffer.concat(chunks).toString(), /^SIP\/2.0 400/);
});

t.test('framing error without a reply: closed after the grace period', async (t) => {
  const server = await StreamTransport.listen({ protocol: 'tcp', address: '127.0.0.1', port: 0, limits: { framingErrorGraceMs: 20 } });
  t.teardown(() => server.close());
  const sock = await connect(server.local.port, '127.0.0.1');
  t.teardown(() => sock.destroy());
  const closed = nextClose(server);
  sock.write('INVITE sip:a@b SIP/2.0\r\nContent-Length: abc\r\n\r\n');
  t.match((await closed)[1], /framing error/);
});

t.test('idle timeout closes quiet connections', async (t) => {
  const server = await StreamTransport.listen({ protocol: 'tcp', address: '127.0.0.1', port: 0, limits: { idleTimeoutMs: 100 } });
  t.teardown(() => server.close());
  const sock = await connect(server.local.port, '127.0.0.1');
  t.teardown(() => sock.destroy());
  const closed = nextClose(server);
  const sockClosed = new Promise((resolve) => sock.once('close', resolve));
  t.equal((await closed)[1], 'idle timeout');
  await sockClosed;
});

t.test('per-source-IP cap closes excess connections at once and counts them', async (t) => {
  const server = await StreamTransport.listen({ protocol: 'tcp', address: '127.0.0.1', port: 0, limits: { maxConnectionsPerIp: 2 } });
  t.teardown(() => server.close());
  const s1 = await connect(server.local.port, '127.0.0.1');
  const s2 = await connect(server.local.port, '127.0.0.1');
  const s3 = await connect(server.local.port, '127.0.0.1');
  t.teardown(() => [s1, s2, s3].forEach((s) => s.destroy()));
  await new Promise((resolve) => s3.once('close', resolve));
  t.equal(server.rejectedConnections, 1);
  t.equal(server.connectionCount, 2);
});

t.test('stopAccepting keeps existing connections; close is idempotent and cascades', async (t) => {
  const server = await StreamTransport.listen({ protocol: 'tcp', address: '127.0.0.1', port: 0 });
  const sock = await connect(server.local.port, '127.0.0.1');
  const first = nextPacket(server);
  sock.write(OPTIONS());
  const p = await first;
  await server.stopAccepting();
  await t.rejects(connect(server.local.port, '127.0.0.1'));
  const again = nextPacket(server);
  sock.write(OPTIONS());
  t.equal((await again).connectionId, p.connectionId);
  const sockClosed = new Promise((resolve) => sock.once('close', resolve));
  await Promise.all([server.close(), server.close()]);
  await sockClosed;
  t.equal(server.connectionCount, 0);
  await t.rejects(server.send({ protocol: 'tcp', address: '127.0.0.1', port: 1 }, OPTIONS()), { name: 'ClosedError' });
});
