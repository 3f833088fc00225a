import t from 'tap';
import { FakeScheduler } from '../../../../src/lib/index.js';
import { ConnectionTable, createMemoryPair, shouldUseReliable, type InboundPacket, type TableConnection } from '../../../../src/sip/transport/index.js';

t.test('memory pair delivers asynchronously with addresses', async (t) => {
  const { a, b } = createMemoryPair('udp');
  const got: InboundPacket[] = [];
  b.on('message', (p) => got.push(p));
  const sent = a.send({ protocol: 'udp', address: '127.0.0.2', port: 5060 }, Buffer.from('hi'));
  t.equal(got.length, 0, 'not synchronous');
  await sent;
  await Promise.resolve();
  t.equal(got.length, 1);
  t.same(got[0]!.source, { protocol: 'udp', address: '127.0.0.1', port: 5060 });
  t.equal(got[0]!.connectionId, undefined);
  await t.rejects(a.send({ protocol: 'udp', address: '10.9.9.9', port: 1 }, Buffer.from('x')));
  await a.close();
  await a.close();
  await t.rejects(a.send({ protocol: 'udp', address: '127.0.0.2', port: 5060 }, Buffer.from('x')));
});

t.test('memory tcp: connection ids, reply over the connection, close events', async (t) => {
  const { hub, a, b } = createMemoryPair('tcp');
  const atB: InboundPacket[] = [];
  const atA: InboundPacket[] = [];
  b.on('message', (p) => atB.push(p));
  a.on('message', (p) => atA.push(p));
  await a.send({ protocol: 'tcp', address: '127.0.0.2', port: 5060 }, Buffer.from('req'));
  await Promise.resolve();
  const id = atB[0]!.connectionId!;
  t.ok(id);
  await b.send({ protocol: 'tcp', address: 'ignored', port: 0, connectionId: id }, Buffer.from('resp'));
  await Promise.resolve();
  t.equal(atA[0]!.connectionId, id);
  t.equal(a.connectionCount, 1);
  const closed: string[] = [];
  a.on('connectionClosed', (cid) => closed.push(cid));
  hub.closeConnection(id);
  t.same(closed, [id]);
  t.equal(hub.log.length, 2);
  hub.dropFilter = () => true;
  await a.send({ protocol: 'tcp', address: '127.0.0.2', port: 5060 }, Buffer.from('lost'));
  await Promise.resolve();
  t.equal(atB.length, 1);
});

t.test('shouldUseReliable (RFC 3261 §18.1.1)', async (t) => {
  t.equal(shouldUseReliable(1300, 'udp'), false);
  t.equal(shouldUseReliable(1301, 'udp'), true);
  t.equal(shouldUseReliable(5000, 'tcp'), false);
  t.equal(shouldUseReliable(8000, 'udp', 9000), false);
});

t.test('connection table: per-IP cap, reuse lookup, idle sweep on fake time', async (t) => {
  const scheduler = new FakeScheduler();
  const table = new ConnectionTable<TableConnection & { gone?: string }>({ protocol: 'tcp', scheduler, idleTimeoutMs: 1000, maxConnectionsPerIp: 2 });
  t.ok(table.admit('1.1.1.1'));
  t.ok(table.admit('1.1.1.1'));
  t.notOk(table.admit('1.1.1.1'));
  t.equal(table.rejectedConnections, 1);
  table.release('1.1.1.1');
  t.ok(table.admit('1.1.1.1'));
  const mk = (port: number) => {
    const c: TableConnection & { gone?: string } = {
      id: table.newId(),
      remote: { protocol: 'tcp', address: '1.1.1.1', port },
      lastActivity: scheduler.now(),
      destroy(reason) {
        c.gone = reason;
        table.remove(c);
      },
    };
    table.add(c);
    return c;
  };
  const c1 = mk(5000);
  const c2 = mk(5001);
  t.ok(table.owns(c1.id));
  t.equal(table.findByRemote('1.1.1.1', 5001), c2);
  scheduler.advance(600);
  c2.lastActivity = scheduler.now();
  scheduler.advance(600);
  t.equal(c1.gone, 'idle timeout');
  t.equal(c2.gone, undefined);
  t.equal(table.size, 1);
  scheduler.advance(1000);
  t.equal(c2.gone, 'idle timeout');
  t.equal(scheduler.pending, 0, 'sweeper stops when the table is empty');
});
