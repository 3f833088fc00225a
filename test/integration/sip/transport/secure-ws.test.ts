import { generate } from 'selfsigned';
import t from 'tap';
import { WebSocket } from 'ws';
import { StreamTransport, WsTransport, type TlsSettings } from '../../../../src/sip/transport/index.js';
import { OPTIONS, nextClose, nextPacket } from './helpers.js';

const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
  keySize: 2048,
  algorithm: 'sha256',
  extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] }],
});
const tlsSettings: TlsSettings = { cert: pems.cert, key: pems.private };

for (const address of ['127.0.0.1', '::1']) {
  t.test(`TLS on ${address}: outbound connect, reply over the same connection`, async (t) => {
    const a = await StreamTransport.listen({ protocol: 'tls', address, port: 0, tls: tlsSettings });
    const b = await StreamTransport.listen({ protocol: 'tls', address, port: 0, tls: { ...tlsSettings, ca: pems.cert, rejectUnauthorized: true } });
    t.teardown(() => Promise.all([a.close(), b.close()]));
    const atB = nextPacket(b);
    await a.send({ protocol: 'tls', address, port: b.local.port }, OPTIONS());
    const p = await atB;
    t.ok(p.data.equals(OPTIONS()));
    t.equal(p.source.protocol, 'tls');
    const atA = nextPacket(a);
    await b.send({ protocol: 'tls', address, port: p.source.port, connectionId: p.connectionId }, Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'));
    t.match((await atA).data.toString(), /^SIP\/2.0 200 OK/);
    // b verifies certificates: a's self-signed cert is trusted through ca
    const atA2 = nextPacket(a);
    await b.send({ protocol: 'tls', address, port: a.local.port }, OPTIONS());
    t.ok((await atA2).data.equals(OPTIONS()));
  });
}

for (const protocol of ['ws', 'wss'] as const) {
  for (const address of ['127.0.0.1', '::1']) {
    t.test(`${protocol} on ${address}: subprotocol sip, one message per frame, reuse`, async (t) => {
      const opts = { protocol, address, port: 0, ...(protocol === 'wss' ? { tls: tlsSettings } : {}) };
      const a = await WsTransport.listen(opts);
      const b = await WsTransport.listen(opts);
      t.teardown(() => Promise.all([a.close(), b.close()]));
      const atB = nextPacket(b);
      await a.send({ protocol, address, port: b.local.port }, OPTIONS());
      const p = await atB;
      t.ok(p.data.equals(OPTIONS()));
      const atA = nextPacket(a);
      await b.send({ protocol, address, port: p.source.port, connectionId: p.connectionId }, Buffer.from('SIP/2.0 200 OK\r\n\r\n'));
      t.equal((await atA).data.toString(), 'SIP/2.0 200 OK\r\n\r\n');
      await a.send({ protocol, address, port: b.local.port }, OPTIONS());
      t.equal(a.connectionCount, 1, 'outbound connection reused');

      // a client without the sip subprotocol is refused (RFC 7118 §4.1)
      const host = address === '::1' ? '[::1]' : address;
      const url = `${protocol}://${host}:${b.local.port}`;
      const refused = await new Promise<string>((resolve) => {
        const ws = new WebSocket(url, { rejectUnauthorized: false });
        ws.on('unexpected-response', (_req, res) => {
          resolve(String(res.statusCode));
          ws.terminate();
        });
        ws.on('error', () => resolve('error'));
        ws.on('open', () => resolve('open'));
      });
      t.equal(refused, '400');
      t.equal(b.rejectedHandshakes, 1);

      // browser-style client: CRLF keepalive answered, binary frame accepted
      const client = new WebSocket(url, 'sip', { rejectUnauthorized: false });
      await new Promise((resolve) => client.once('open', resolve));
      const pong = new Promise<string>((resolve) => client.once('message', (d) => resolve(String(d))));
      client.send('\r\n\r\n');
      t.equal(await pong, '\r\n');
      const bin = nextPacket(b);
      client.send(OPTIONS(), { binary: true });
      t.ok((await bin).data.equals(OPTIONS()));
      const closed = nextClose(b);
      client.close();
      t.ok((await closed)[0]);
    });
  }
}

t.test('ws idle timeout and per-IP cap', async (t) => {
  const server = await WsTransport.listen({ protocol: 'ws', address: '127.0.0.1', port: 0, limits: { idleTimeoutMs: 100, maxConnectionsPerIp: 1 } });
  t.teardown(() => server.close());
  const url = `ws://127.0.0.1:${server.local.port}`;
  const c1 = new WebSocket(url, 'sip');
  await new Promise((resolve) => c1.once('open', resolve));
  const c2 = new WebSocket(url, 'sip');
  await new Promise((resolve) => {
    c2.on('error', resolve);
    c2.on('close', resolve);
  });
  t.equal(server.rejectedConnections, 1);
  const closed = nextClose(server);
  t.equal((await closed)[1], 'idle timeout');
  await new Promise((resolve) => (c1.readyState === WebSocket.CLOSED ? resolve(undefined) : c1.once('close', resolve)));
});
