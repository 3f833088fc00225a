import t from 'tap';
import { nonInvite100Earliest, type NonInviteServerTransaction } from '../../../../src/sip/transaction/index.js';
import { ctx, flush, isStatus, newHarness, request, response } from './harness.js';

function start(h: ReturnType<typeof newHarness>, method = 'OPTIONS', transport: 'udp' | 'tcp' = 'udp') {
  const req = request(method, { transport });
  h.layer.receiveRequest(req, transport === 'udp' ? ctx() : ctx('tcp', 'conn-1'));
  const txn = h.server.requests[0]!.txn as NonInviteServerTransaction;
  return { req, txn };
}

t.test('Trying absorbs retransmissions; final -> Completed resends on retransmission; Timer J = 64*T1', async (t) => {
  const h = newHarness({ nonInvite100: false });
  const { req, txn } = start(h);
  t.equal(txn.state, 'trying');
  h.layer.receiveRequest(req, ctx());
  t.same(h.sent, [], 'nothing to resend in Trying');
  t.equal(h.server.requests.length, 1);
  h.sched.advance(100);
  txn.respond(response(req, 200));
  t.equal(txn.state, 'completed');
  h.sched.advance(1000);
  h.layer.receiveRequest(req, ctx());
  t.same(h.times(isStatus(200)), [100, 1100]);
  txn.respond(response(req, 500));
  t.same(h.times(isStatus(500)), [], 'late TU responses dropped');
  h.sched.advance(32_000 - 1000 - 1);
  t.equal(txn.state, 'completed');
  h.sched.advance(1);
  t.equal(txn.state, 'terminated');
  t.same(h.server.terminated.map((e) => e.at), [32_100]);
  t.equal(h.sched.pending, 0);
});

t.test('reliable transport: no timer at all, Timer J = 0', async (t) => {
  const h = newHarness();
  const { req, txn } = start(h, 'REGISTER', 'tcp');
  t.equal(h.sched.pending, 0, 'no timer armed for a request over TCP');
  txn.respond(response(req, 200));
  t.equal(txn.state, 'terminated');
  t.equal(h.sched.pending, 0);
  t.equal(h.layer.activeCount, 0);
  t.same(h.sent[0]!.target, { protocol: 'tcp', address: '192.0.2.1', port: 5060, connectionId: 'conn-1' });
});

t.test('RFC 4320 §4.1: the earliest 100 over UDP is when Timer E reaches T2', async (t) => {
  t.equal(nonInvite100Earliest({ t1: 500, t2: 4000 }), 3500);
  t.equal(nonInvite100Earliest({ t1: 100, t2: 4000 }), 100 + 200 + 400 + 800 + 1600 + 3200);
  t.equal(nonInvite100Earliest({ t1: 0, t2: 4000 }), 0, 'a zero T1 does not loop forever');
});

t.test('RFC 4320 §4.1: automatic 100 over UDP at 3.5 s, not before; Proceeding resends it', async (t) => {
  const h = newHarness();
  const { req, txn } = start(h);
  h.sched.advance(3499);
  t.same(h.sent, []);
  h.sched.advance(1);
  t.same(h.times(isStatus(100)), [3500]);
  t.equal(txn.state, 'proceeding');
  h.sched.advance(500);
  h.layer.receiveRequest(req, ctx());
  t.same(h.times(isStatus(100)), [3500, 4000]);
  txn.respond(response(req, 200));
  t.equal(txn.state, 'completed');
});

t.test('RFC 4320 §4.1: a TU 100 over UDP before 3.5 s is dropped; later it is sent', async (t) => {
  const h = newHarness({ nonInvite100: false });
  const { req, txn } = start(h);
  h.sched.advance(1000);
  txn.respond(response(req, 100));
  t.same(h.sent, []);
  t.equal(txn.state, 'trying');
  h.sched.advance(2500);
  txn.respond(response(req, 100));
  t.same(h.times(isStatus(100)), [3500]);
  t.equal(txn.state, 'proceeding');
});

t.test('RFC 4320 §4.1: 100 over a reliable transport at any time; never a 1xx other than 100', async (t) => {
  const h = newHarness();
  const { req, txn } = start(h, 'SUBSCRIBE', 'tcp');
  txn.respond(response(req, 180));
  t.same(h.sent, [], '180 to a non-INVITE is never sent');
  txn.respond(response(req, 100));
  t.same(h.times(isStatus(100)), [0]);
  t.equal(txn.state, 'proceeding');
});

t.test('RFC 4320 §4.2: a 408 is never sent; the transaction completes silently', async (t) => {
  const h = newHarness();
  const { req, txn } = start(h);
  txn.respond(response(req, 408));
  t.same(h.sent, []);
  t.equal(txn.state, 'completed');
  h.layer.receiveRequest(req, ctx());
  t.same(h.sent, [], 'retransmissions absorbed, nothing resent');
  t.equal(h.server.requests.length, 1);
  h.sched.advance(32_000);
  t.equal(txn.state, 'terminated');
});

t.test('transport error in Proceeding or Completed is reported', async (t) => {
  const h = newHarness();
  const { req, txn } = start(h, 'OPTIONS', 'tcp');
  h.failSends(true);
  txn.respond(response(req, 100));
  await flush();
  t.equal(txn.state, 'terminated');
  t.equal(h.server.transportErrors.length, 1);

  const h2 = newHarness();
  const b = start(h2);
  h2.failSends(true);
  b.txn.respond(response(b.req, 200));
  await flush();
  t.equal(b.txn.state, 'terminated');
  t.equal(h2.server.transportErrors.length, 1);
  t.equal(h2.sched.pending, 0);
});

t.test('illegal transitions throw', async (t) => {
  const h = newHarness();
  const { req, txn } = start(h);
  txn.respond(response(req, 200));
  t.throws(() => (txn as any).transition('trying'), /completed -> trying/);
  t.throws(() => (txn as any).transition('proceeding'), { name: 'ConflictError' });
  h.layer.close();
});
