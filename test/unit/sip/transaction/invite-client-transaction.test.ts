import t from 'tap';
import { InviteClientTransaction } from '../../../../src/sip/transaction/index.js';
import { flush, isRequest, newHarness, request, response, TCP_PEER } from './harness.js';

t.test('Timer A retransmits at T1, 2T1, 4T1... until Timer B (64*T1) reports a timeout (UDP)', async (t) => {
  const h = newHarness();
  const txn = h.startClient(request('INVITE'));
  t.equal(txn.state, 'calling');
  h.sched.advance(40_000);
  t.same(h.times(isRequest('INVITE')), [0, 500, 1500, 3500, 7500, 15500, 31500]);
  t.same(h.client.timeouts, [32_000]);
  t.same(h.client.terminated, [32_000]);
  t.equal(txn.state, 'terminated');
  t.equal(h.layer.activeCount, 0);
  t.equal(h.sched.pending, 0);
});

t.test('configurable T1 scales Timers A and B', async (t) => {
  const h = newHarness({ t1: 100 });
  h.startClient(request('INVITE'));
  h.sched.advance(10_000);
  t.same(h.times(isRequest('INVITE')), [0, 100, 300, 700, 1500, 3100, 6300]);
  t.same(h.client.timeouts, [6400]);
});

t.test('no Timer A over a reliable transport; Timer B still fires', async (t) => {
  const h = newHarness();
  const txn = h.startClient(request('INVITE', { transport: 'tcp' }), TCP_PEER);
  t.equal(h.sched.pending, 1, 'only Timer B is armed');
  h.sched.advance(40_000);
  t.same(h.times(isRequest('INVITE')), [0]);
  t.same(h.client.timeouts, [32_000]);
  t.equal(txn.state, 'terminated');
});

t.test('1xx moves Calling to Proceeding and stops Timers A and B', async (t) => {
  const h = newHarness();
  const req = request('INVITE');
  const txn = h.startClient(req);
  h.sched.advance(600);
  h.layer.receiveResponse(response(req, 180), { source: { protocol: 'udp', address: '192.0.2.99', port: 5060 } });
  t.equal(txn.state, 'proceeding');
  h.layer.receiveResponse(response(req, 183), { source: { protocol: 'udp', address: '192.0.2.99', port: 5060 } });
  h.sched.advance(100_000);
  t.same(h.times(isRequest('INVITE')), [0, 500]);
  t.same(h.client.responses.map((r) => r.status), [180, 183]);
  t.same(h.client.timeouts, []);
  t.equal(txn.state, 'proceeding', 'the TU (Timer C) ends a stuck Proceeding, not the transaction');
  t.equal(h.sched.pending, 0);
});

t.test('RFC 6026: 2xx enters Accepted, 2xx retransmissions reach the TU, Timer M ends it', async (t) => {
  const h = newHarness();
  const req = request('INVITE');
  const txn = h.startClient(req);
  const c = { source: { protocol: 'udp' as const, address: '192.0.2.99', port: 5060 } };
  h.layer.receiveResponse(response(req, 100), c);
  h.sched.advance(1000);
  h.layer.receiveResponse(response(req, 200), c);
  t.equal(txn.state, 'accepted');
  h.sched.advance(4000);
  h.layer.receiveResponse(response(req, 200), c);
  h.layer.receiveResponse(response(req, 200, 'other-fork'), c);
  h.layer.receiveResponse(response(req, 180), c);
  h.layer.receiveResponse(response(req, 486), c);
  t.same(h.client.responses.map((r) => [r.at, r.status]), [[0, 100], [1000, 200], [5000, 200], [5000, 200]]);
  t.same(h.times(isRequest('ACK')), [], 'the TU, not the transaction, ACKs a 2xx');
  h.sched.advance(64 * 500 - 4000 - 1);
  t.equal(txn.state, 'accepted');
  h.sched.advance(1);
  t.equal(txn.state, 'terminated');
  t.same(h.client.terminated, [33_000]);
  h.layer.receiveResponse(response(req, 200), c);
  t.equal(h.server.strays.length, 1, 'after Timer M a 2xx is stray');
});

t.test('non-2xx final: ACK generated on the same branch with Route set, resent for retransmissions, Timer D', async (t) => {
  const h = newHarness();
  const req = request('INVITE');
  const txn = h.startClient(req);
  const c = { source: { protocol: 'udp' as const, address: '192.0.2.99', port: 5060 } };
  h.sched.advance(700);
  h.layer.receiveResponse(response(req, 486, 'busytag'), c);
  t.equal(txn.state, 'completed');
  const acks = h.sent.filter((s) => isRequest('ACK')(s.message));
  t.equal(acks.length, 1);
  const ack = acks[0]!.message;
  if (ack.kind !== 'request') throw new Error('ack');
  t.equal(ack.vias.length, 1, 'exactly one Via');
  t.equal(ack.topVia?.branch, 'z9hG4bKbranch1', 'same branch as the INVITE');
  t.same(ack.cseq, { seq: 1, method: 'ACK' });
  t.equal(ack.toTag, 'busytag', 'To from the response');
  t.equal(ack.fromTag, 'fromtag1');
  t.equal(ack.callId, 'call-1@example.com');
  t.same(ack.routes.map((r) => r.uri.host), ['p1.example.com', 'p2.example.com']);
  t.equal(ack.uri.host, 'example.com');
  t.same(acks[0]!.target, { protocol: 'udp', address: '192.0.2.99', port: 5060 });
  t.same(txn instanceof InviteClientTransaction ? txn.ackRequest?.method : undefined, 'ACK');

  h.sched.advance(2000);
  h.layer.receiveResponse(response(req, 486, 'busytag'), c);
  h.layer.receiveResponse(response(req, 486, 'busytag'), c);
  t.same(h.times(isRequest('ACK')), [700, 2700, 2700]);
  t.same(h.client.responses.map((r) => r.status), [486], 'retransmissions are not passed up');
  t.same(h.times(isRequest('INVITE')), [0, 500], 'Timer A stopped');
  h.sched.advance(32_000 - 2000 - 1);
  t.equal(txn.state, 'completed');
  h.sched.advance(1);
  t.equal(txn.state, 'terminated', 'Timer D = 32 s after the final response');
  t.same(h.client.terminated, [32_700]);
  t.same(h.client.timeouts, []);
});

t.test('Timer D is 0 over a reliable transport', async (t) => {
  const h = newHarness();
  const req = request('INVITE', { transport: 'tcp' });
  const txn = h.startClient(req, TCP_PEER);
  h.layer.receiveResponse(response(req, 603), { source: { protocol: 'tcp', address: '192.0.2.99', port: 5060 }, connectionId: 'c1' });
  t.equal(txn.state, 'terminated');
  t.same(h.times(isRequest('ACK')), [0]);
  t.equal(h.sched.pending, 0);
  t.equal(h.layer.activeCount, 0);
});

t.test('Timer D is configurable', async (t) => {
  const h = newHarness({ timerD: 40_000 });
  const req = request('INVITE');
  const txn = h.startClient(req);
  h.layer.receiveResponse(response(req, 404), { source: { protocol: 'udp', address: '192.0.2.99', port: 5060 } });
  h.sched.advance(39_999);
  t.equal(txn.state, 'completed');
  h.sched.advance(1);
  t.equal(txn.state, 'terminated');
});

t.test('transport error in Calling is reported to the TU and ends the transaction', async (t) => {
  const h = newHarness();
  h.failSends(true);
  const txn = h.startClient(request('INVITE'));
  await flush();
  t.equal(h.client.transportErrors.length, 1);
  t.match(h.client.transportErrors[0]!.message, /ECONNREFUSED/);
  t.equal(txn.state, 'terminated');
  t.equal(h.sched.pending, 0);
  t.equal(h.layer.activeCount, 0);
});

t.test('a send that throws synchronously is still a transport error', async (t) => {
  const { TransactionLayer } = await import('../../../../src/sip/transaction/index.js');
  const { FakeScheduler } = await import('../../../../src/lib/index.js');
  const sched = new FakeScheduler();
  const layer = new TransactionLayer({
    scheduler: sched,
    send: () => {
      throw new Error('boom');
    },
    delegate: { onRequest: () => {} },
  });
  const errors: Error[] = [];
  layer.createClientTransaction(request('INVITE'), { protocol: 'udp', address: '192.0.2.9', port: 5060 }, { onResponse: () => {}, onTransportError: (e) => errors.push(e) });
  await flush();
  t.equal(errors.length, 1);
  t.equal(layer.activeCount, 0);
});

t.test('illegal transitions throw', async (t) => {
  const h = newHarness();
  const req = request('INVITE');
  const txn = h.startClient(req) as InviteClientTransaction;
  h.layer.receiveResponse(response(req, 200), { source: { protocol: 'udp', address: '192.0.2.99', port: 5060 } });
  t.throws(() => (txn as any).transition('proceeding'), /illegal transition accepted -> proceeding/);
  t.throws(() => (txn as any).transition('calling'), { name: 'ConflictError' });
  h.layer.close();
});

t.test('a TU that throws does not break the transaction', async (t) => {
  const h = newHarness();
  const req = request('INVITE');
  const txn = h.layer.createClientTransaction(req, { protocol: 'udp', address: '192.0.2.9', port: 5060 }, {
    onResponse: () => {
      throw new Error('tu bug');
    },
  });
  h.layer.receiveResponse(response(req, 486), { source: { protocol: 'udp', address: '192.0.2.9', port: 5060 } });
  t.equal(txn.state, 'completed');
  t.same(h.times(isRequest('ACK')).length, 1);
  t.ok(h.logger.records.some((r) => r.level === 'error'));
  h.layer.close();
});
