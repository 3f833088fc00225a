import { generate } from 'selfsigned';
import t from 'tap';
import { TransportManager, type InboundPacket } from '../../../../src/sip/transport/index.js';
import { OPTIONS } from './helpers.js';

const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048, algorithm: 'sha256' });
const tls = { cert: pems.cert, key: pems.private };

t.test('manager starts every listener, pairs UDP/TCP ports, routes by protocol and family', async (t) => {
  const got: InboundPacket[] = [];
  let wake: (() => void) | undefined;
  const server = await TransportManager.start({
    listeners: [
      { protocol: 'udp', address: '127.0.0.1', port: 0 },
      { protocol: 'tcp', address: '127.0.0.1', port: 0 },
      { protocol: 'udp', address: '::1', port: 0 },
      { protocol: 'tls', address: '127.0.0.1', port: 0, tls },
      { protocol: 'ws', address: '127.0.0.1', port: 0 },
      { protocol: 'wss', address: '::1', port: 0, tls },
    ],
    onPacket: (p) => {
      got.push(p);
      wake?.();
    },
  });
  const client = await TransportManager.start({
    listeners: [
      { protocol: 'udp', address: '127.0.0.1', port: 0 },
      { protocol: 'udp', address: '::1', port: 0 },
      { protocol: 'tcp', address: '127.0.0.1', port: 0 },
      { protocol: 'tls', address: '127.0.0.1', port: 0, tls },
      { protocol: 'ws', address: '127.0.0.1', port: 0 },
      { protocol: 'wss', address: '::1', port: 0, tls },
    ],
  });
  t.teardown(() => Promise.all([server.close(), client.close()]));
  const ls = server.listeners();
  t.equal(ls.length, 6);
  t.ok(ls.every((l) => l.port > 0));
  t.equal(ls[0]!.port, ls[1]!.port, 'UDP and TCP share a port number');
  const waitFor = (n: number) =>
    new Promise<void>((resolve) => {
      if (got.length >= n) return resolve();
      wake = () => {
        if (got.length >= n) resolve();
      };
    });
  let n = 0;
  for (const l of ls) {
    await client.send({ protocol: l.protocol, address: l.address, port: l.port }, OPTIONS());
    await waitFor(++n);
    t.equal(got[n - 1]!.local.protocol, l.protocol);
    t.equal(got[n - 1]!.source.address, l.address, `${l.protocol} ${l.address} came from the same family`);
  }
  t.equal(server.connectionCount, 4);
  t.equal(client.transportFor({ protocol: 'udp', address: '::1', port: 1 })?.local.address, '::1');
  t.equal(client.transportFor({ protocol: 'tcp', address: '::1', port: 1 }), undefined);
  await t.rejects(client.send({ protocol: 'tcp', address: '::1', port: 1 }, OPTIONS()), { name: 'UnavailableError' });
  // a response over a known connection id goes through the owning transport
  const tcpPacket = got.find((p) => p.local.protocol === 'tcp')!;
  t.equal(server.transportFor({ protocol: 'tcp', address: 'x', port: 0, connectionId: tcpPacket.connectionId })?.protocol, 'tcp');
  await server.stopAccepting();
  t.equal(server.connectionCount, 4, 'existing connections survive stopAccepting');
  await server.close();
  await server.close();
  await t.rejects(server.send({ protocol: 'udp', address: '127.0.0.1', port: 1 }, OPTIONS()), { name: 'ClosedError' });
});

t.test('a listener that cannot bind fails start and closes the others', async (t) => {
  const first = await TransportManager.start({ listeners: [{ protocol: 'tcp', address: '127.0.0.1', port: 0 }] });
  t.teardown(() => first.close());
  const port = first.listeners()[0]!.port;
  await t.rejects(TransportManager.start({ listeners: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }, { protocol: 'tcp', address: '127.0.0.1', port }] }), { name: 'UnavailableError' });
});
