import dgram from 'node:dgram';
import t from 'tap';
import { UdpTransport } from '../../../../src/sip/transport/index.js';
import { OPTIONS, nextPacket } from './helpers.js';

for (const address of ['127.0.0.1', '::1']) {
  t.test(`UDP echo on ${address}`, async (t) => {
    const a = await UdpTransport.listen({ address, port: 0 });
    const b = await UdpTransport.listen({ address, port: 0 });
    t.teardown(() => Promise.all([a.close(), b.close()]));
    t.not(a.local.port, 0);
    b.on('message', (p) => void b.send({ protocol: 'udp', address: p.source.address, port: p.source.port }, p.data).catch(() => {}));
    const got = nextPacket(a);
    await a.send({ protocol: 'udp', address, port: b.local.port }, OPTIONS());
    const p = await got;
    t.ok(p.data.equals(OPTIONS()));
    t.same(p.source, b.local);
    t.equal(p.local, a.local);
    t.equal(p.connectionId, undefined);
    const other = address === '::1' ? '127.0.0.1' : '::1';
    await t.rejects(a.send({ protocol: 'udp', address: other, port: 9 }, OPTIONS()), { name: 'InvalidInputError' });
    await t.rejects(a.send({ protocol: 'udp', address, port: 70000 }, OPTIONS()), { name: 'InvalidInputError' });
    // a message as text arrives as its UTF-8 bytes; bad data is a rejection, never a throw
    const text = OPTIONS().toString('utf8').replace('OPTIONS sip:', 'OPTIONS sip:ü');
    const gotText = nextPacket(a);
    await b.send({ protocol: 'udp', address, port: a.local.port }, text);
    t.ok((await gotText).data.equals(Buffer.from(text, 'utf8')));
    let sync: unknown;
    let sent: Promise<void> | undefined;
    try {
      sent = a.send({ protocol: 'udp', address, port: b.local.port }, undefined as unknown as Buffer);
    } catch (err) {
      sync = err;
    }
    t.equal(sync, undefined, 'no synchronous throw');
    await t.rejects(sent!, TypeError);
  });
}

t.test('UDP drops CRLF keepalives and oversize datagrams; close is idempotent', async (t) => {
  const a = await UdpTransport.listen({ address: '127.0.0.1', port: 0, maxMessageSize: 150 });
  const raw = dgram.createSocket('udp4');
  t.teardown(() => raw.close());
  const got = nextPacket(a);
  raw.send(Buffer.from('\r\n\r\n'), a.local.port, '127.0.0.1');
  raw.send(Buffer.alloc(200, 65), a.local.port, '127.0.0.1');
  raw.send(OPTIONS(), a.local.port, '127.0.0.1');
  const p = await got;
  t.ok(p.data.equals(OPTIONS()));
  t.equal(a.droppedDatagrams, 2);
  await t.rejects(a.send({ protocol: 'udp', address: '127.0.0.1', port: 9 }, Buffer.alloc(200)), { name: 'InvalidInputError' });
  await t.rejects(a.send({ protocol: 'udp', address: '127.0.0.1', port: 9 }, 'x'.repeat(151)), { name: 'InvalidInputError' }, 'oversize text too');
  await t.rejects(a.send({ protocol: 'udp', address: '127.0.0.1', port: 9 }, 'é'.repeat(76)), /152 bytes/, 'counted in UTF-8 bytes');
  await a.close();
  await a.close();
  await t.rejects(a.send({ protocol: 'udp', address: '127.0.0.1', port: 9 }, OPTIONS()), { name: 'ClosedError' });
});
