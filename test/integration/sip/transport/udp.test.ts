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
  await a.close();
  await a.close();
  await t.rejects(a.send({ protocol: 'udp', address: '127.0.0.1', port: 9 }, OPTIONS()), { name: 'ClosedError' });
});
