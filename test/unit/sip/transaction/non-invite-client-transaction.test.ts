import t from 'tap';
import { flush, isRequest, newHarness, request, response, TCP_PEER } from './harness.js';

const FROM_PEER = { source: { protocol: 'udp' as const, address: '192.0.2.99', port: 5060 } };

t.test('Timer E doubles from T1 up to T2, Timer F (64*T1) reports a timeout (UDP)', async (t) => {
  const h = newHarness();
  const txn = h.startClient(request('OPTIONS'));
  t.equal(txn.state, 'trying');
  h.sched.advance(40_000);
  t.same(h.times(isRequest('OPTIONS')), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  t.same(h.client.timeouts, [32_000]);
  t.same(h.client.responses, [], 'a timeout is not a fabricated 408 response');
  t.equal(txn.state, 'terminated');
  t.equal(h.layer.activeCount, 0);
  t.equal(h.sched.pending, 0);
});

t.test('configurable T2 caps Timer E', async (t) => {
  const h = newHarness({ t2: 1000 });
  h.startClient(request('OPTIONS'));
  h.sched.advance(4000);
  t.same(h.times(isRequest('OPTIONS')), [0, 500, 1500, 2500, 3500]);
});

t.test('no Timer E over a reliable transport; Timer F still fires', async (t) => {
  const h = newHarness();
  h.startClient(request('REGISTER', { transport: 'tcp' }), TCP_PEER);
  t.equal(h.sched.pending, 1);
  h.sched.advance(40_000);
  t.same(h.times(isRequest('REGISTER')), [0]);
  t.same(h.client.timeouts, [32_000]);
});

t.test('Proceeding: retransmissions continue at T2, Timer F still runs', async (t) => {
  const h = newHarness();
  const req = request('BYE');
  const txn = h.startClient(req);
  h.sched.advance(600); // sent at 0 and 500; next E due at 1500 (interval 1000)
  h.layer.receiveResponse(response(req, 100), FROM_PEER);
  t.equal(txn.state, 'proceeding');
  h.sched.advance(40_000);
  t.same(h.times(isRequest('BYE')), [0, 500, 1500, 5500, 9500, 13500, 17500, 21500, 25500, 29500]);
  t.same(h.client.timeouts, [32_000]);
  t.same(h.client.responses.map((r) => r.status), [100]);
});

t.test('final response: Completed, retransmissions absorbed, Timer K = T4', async (t) => {
  const h = newHarness();
  const req = request('BYE');
  const txn = h.startClient(req);
  h.sched.advance(100);
  h.layer.receiveResponse(response(req, 180), FROM_PEER);
  h.layer.receiveResponse(response(req, 200), FROM_PEER);
  t.equal(txn.state, 'completed');
  h.layer.receiveResponse(response(req, 200), FROM_PEER);
  t.same(h.client.responses.map((r) => r.status), [180, 200]);
  h.sched.advance(4999);
  t.equal(txn.state, 'completed');
  t.same(h.times(isRequest('BYE')), [0], 'Timer E stopped');
  h.sched.advance(1);
  t.equal(txn.state, 'terminated');
  t.same(h.client.terminated, [5100]);
  t.equal(h.sched.pending, 0);
});

t.test('final response straight from Trying; Timer K configurable through T4', async (t) => {
  const h = newHarness({ t4: 2000 });
  const req = request('INFO');
  const txn = h.startClient(req);
  h.layer.receiveResponse(response(req, 481), FROM_PEER);
  t.equal(txn.state, 'completed');
  h.sched.advance(2000);
  t.equal(txn.state, 'terminated');
});

t.test('Timer K is 0 over a reliable transport', async (t) => {
  const h = newHarness();
  const req = request('OPTIONS', { transport: 'tcp' });
  const txn = h.startClient(req, TCP_PEER);
  h.layer.receiveResponse(response(req, 200), { ...FROM_PEER, connectionId: 'c1' });
  t.equal(txn.state, 'terminated');
  t.equal(h.sched.pending, 0);
  t.same(h.client.terminated, [0]);
});

t.test('transport error in Trying and in Proceeding is reported to the TU', async (t) => {
  const h = newHarness();
  h.failSends(true);
  const a = h.startClient(request('OPTIONS', { branch: 'z9hG4bKa' }));
  await flush();
  t.equal(a.state, 'terminated');
  t.equal(h.client.transportErrors.length, 1);

  h.failSends(false);
  const req = request('OPTIONS', { branch: 'z9hG4bKb' });
  const b = h.startClient(req);
  h.layer.receiveResponse(response(req, 100), FROM_PEER);
  h.failSends(true);
  h.sched.advance(500); // Timer E retransmission fails
  await flush();
  t.equal(b.state, 'terminated');
  t.equal(h.client.transportErrors.length, 2);
  t.equal(h.layer.activeCount, 0);
});

t.test('illegal transitions throw', async (t) => {
  const h = newHarness();
  const req = request('OPTIONS');
  const txn = h.startClient(req);
  t.throws(() => (txn as any).transition('trying'), { name: 'ConflictError' });
  h.layer.receiveResponse(response(req, 200), FROM_PEER);
  t.throws(() => (txn as any).transition('proceeding'), /completed -> proceeding/);
  h.layer.close();
});

t.test('createClientTransaction rejects ACK, a missing RFC 3261 branch, duplicates and a closed layer', async (t) => {
  const h = newHarness();
  t.throws(() => h.startClient(request('ACK')), { name: 'InvalidInputError' });
  t.throws(() => h.startClient(request('OPTIONS', { branch: 'old2543' })), { name: 'InvalidInputError' });
  h.startClient(request('OPTIONS'));
  t.throws(() => h.startClient(request('OPTIONS')), { name: 'ConflictError' });
  h.layer.close();
  h.layer.close();
  t.throws(() => h.startClient(request('OPTIONS', { branch: 'z9hG4bKnew' })), { name: 'ClosedError' });
  t.equal(h.layer.activeCount, 0);
  t.equal(h.sched.pending, 0, 'close cancels every timer');
});
