import t from 'tap';
import type { InviteServerTransaction } from '../../../../src/sip/transaction/index.js';
import { ctx, flush, isStatus, newHarness, request, response } from './harness.js';

function invite(h: ReturnType<typeof newHarness>, transport: 'udp' | 'tcp' = 'udp') {
  const req = request('INVITE', { transport });
  h.layer.receiveRequest(req, transport === 'udp' ? ctx() : ctx('tcp', 'conn-1'));
  const txn = h.server.requests[0]!.txn as InviteServerTransaction;
  return { req, txn };
}

t.test('100 Trying after 200 ms when the TU is silent', async (t) => {
  const h = newHarness();
  const { txn } = invite(h);
  t.equal(txn.state, 'proceeding');
  h.sched.advance(199);
  t.same(h.times(isStatus(100)), []);
  h.sched.advance(1);
  t.same(h.times(isStatus(100)), [200]);
  const trying = h.sent[0]!.message;
  t.equal(trying.kind === 'response' ? trying.toTag : 'x', undefined, '100 has no To tag');
  t.same(h.sent[0]!.target, { protocol: 'udp', address: '192.0.2.1', port: 5060 });
});

t.test('no 100 Trying when the TU answers within 200 ms', async (t) => {
  const h = newHarness();
  h.server.answer = (txn, req) => txn.respond(response(req, 180));
  invite(h);
  h.sched.advance(1000);
  t.same(h.sent.map((s) => s.message.kind === 'response' && s.message.status), [180]);
});

t.test('INVITE retransmission in Proceeding resends the last provisional (or a 100 if none)', async (t) => {
  const h = newHarness({ invite100Delay: 10_000 });
  const { req, txn } = invite(h);
  h.layer.receiveRequest(req, ctx());
  t.same(h.times(isStatus(100)), [0], 'retransmission before any provisional: 100 now');
  txn.respond(response(req, 180));
  h.sched.advance(500);
  h.layer.receiveRequest(req, ctx());
  t.same(h.times(isStatus(180)), [0, 500]);
  t.equal(h.server.requests.length, 1, 'retransmissions never reach the TU');
  h.sched.advance(20_000);
  t.same(h.times(isStatus(100)), [0], 'no 100 once answered');
});

t.test('RFC 6026: 2xx -> Accepted; INVITE retransmissions absorbed; TU 2xx retransmissions sent; ACK to TU; Timer L', async (t) => {
  const h = newHarness();
  const { req, txn } = invite(h);
  h.sched.advance(50);
  const ok = response(req, 200);
  txn.respond(ok);
  t.equal(txn.state, 'accepted');
  h.layer.receiveRequest(req, ctx());
  t.same(h.times(isStatus(200)), [50], 'INVITE retransmission absorbed; the transaction never retransmits a 2xx');
  h.sched.advance(500);
  txn.respond(ok);
  t.same(h.times(isStatus(200)), [50, 550], 'TU retransmission passed to the transport');
  txn.respond(response(req, 486));
  t.same(h.times(isStatus(486)), [], 'a non-2xx after 2xx is dropped');
  // the 2xx ACK has a new branch and reaches the TU
  h.layer.receiveRequest(request('ACK', { branch: 'z9hG4bKack2xx', toTag: 'totag1' }), ctx());
  // an ACK with the INVITE's branch in Accepted is passed up too (RFC 6026 §7.1)
  h.layer.receiveRequest(request('ACK', { toTag: 'totag1' }), ctx());
  t.equal(h.server.acks.length, 2);
  t.equal(h.server.acks[0]!.invite, undefined);
  t.equal(h.server.acks[1]!.invite, txn);
  h.sched.advance(32_050 - 550 - 1);
  t.equal(txn.state, 'accepted');
  h.sched.advance(1);
  t.equal(txn.state, 'terminated', 'Timer L = 64*T1');
  t.same(h.server.terminated.map((e) => e.at), [32_050]);
  t.equal(h.layer.activeCount, 0);
});

t.test('non-2xx: Timer G doubles up to T2, Timer H reports a timeout', async (t) => {
  const h = newHarness();
  const { req, txn } = invite(h);
  h.sched.advance(200); // 100 Trying
  txn.respond(response(req, 486));
  t.equal(txn.state, 'completed');
  h.sched.advance(40_000);
  const base = 200;
  t.same(
    h.times(isStatus(486)).map((x) => x - base),
    [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
  );
  t.same(h.server.timeouts.map((e) => e.at), [32_200]);
  t.equal(txn.state, 'terminated');
  t.equal(h.sched.pending, 0);
});

t.test('INVITE retransmission in Completed resends the final response', async (t) => {
  const h = newHarness();
  const { req, txn } = invite(h);
  txn.respond(response(req, 404));
  h.sched.advance(100);
  h.layer.receiveRequest(req, ctx());
  t.same(h.times(isStatus(404)), [0, 100]);
});

t.test('ACK -> Confirmed: G and H stop, ACKs absorbed, Timer I = T4', async (t) => {
  const h = newHarness();
  const { req, txn } = invite(h);
  txn.respond(response(req, 486, 'busytag'));
  h.sched.advance(600);
  h.layer.receiveRequest(request('ACK', { toTag: 'busytag' }), ctx());
  t.equal(txn.state, 'confirmed');
  h.layer.receiveRequest(request('ACK', { toTag: 'busytag' }), ctx());
  t.equal(h.server.acks.length, 0, 'ACK for a non-2xx is absorbed');
  h.sched.advance(4999);
  t.equal(txn.state, 'confirmed');
  t.same(h.times(isStatus(486)), [0, 500]);
  h.sched.advance(1);
  t.equal(txn.state, 'terminated');
  t.same(h.server.timeouts, []);
  t.equal(h.sched.pending, 0);
});

t.test('reliable transport: no Timer G, Timer H still armed, Timer I = 0', async (t) => {
  const h = newHarness();
  const { req, txn } = invite(h, 'tcp');
  txn.respond(response(req, 486));
  t.equal(h.sched.pending, 1, 'only Timer H');
  t.same(h.sent[0]!.target, { protocol: 'tcp', address: '192.0.2.1', port: 5060, connectionId: 'conn-1' });
  h.layer.receiveRequest(request('ACK', { transport: 'tcp', toTag: 'totag1' }), ctx('tcp', 'conn-1'));
  t.equal(txn.state, 'terminated');
  t.equal(h.sched.pending, 0);
  t.same(h.times(isStatus(486)), [0]);
});

t.test('reliable transport: Timer H fires without an ACK', async (t) => {
  const h = newHarness();
  const { req, txn } = invite(h, 'tcp');
  txn.respond(response(req, 500));
  h.sched.advance(32_000);
  t.equal(txn.state, 'terminated');
  t.same(h.server.timeouts.map((e) => e.at), [32_000]);
});

t.test('transport error in Proceeding and in Completed is reported', async (t) => {
  const h = newHarness();
  const { req, txn } = invite(h);
  h.failSends(true);
  txn.respond(response(req, 180));
  await flush();
  t.equal(txn.state, 'terminated');
  t.equal(h.server.transportErrors.length, 1);

  const h2 = newHarness();
  const second = invite(h2);
  h2.failSends(true);
  second.txn.respond(response(second.req, 503));
  await flush();
  t.equal(second.txn.state, 'terminated');
  t.equal(h2.server.transportErrors.length, 1);
  t.equal(h2.sched.pending, 0);
});

t.test('illegal transitions throw', async (t) => {
  const h = newHarness();
  const { req, txn } = invite(h);
  t.throws(() => (txn as any).transition('confirmed'), /proceeding -> confirmed/);
  txn.respond(response(req, 200));
  t.throws(() => (txn as any).transition('completed'), { name: 'ConflictError' });
  h.layer.close();
});
