// A transaction that only waits out Timer J/K/L/M/D keeps its messages as header text: the
// parsed views are dropped (less to hold for 32 s), and whatever reads them later gets the same
// values parsed again. Retransmissions still get the very same response.
import t from 'tap';
import { newHarness, request, response, ctx, UDP_PEER, TCP_PEER } from './harness.js';

t.test('non-INVITE server over UDP: Completed drops the views, retransmissions resend the same bytes', async (t) => {
  const h = newHarness();
  const req = request('OPTIONS', { branch: 'z9hG4bKshed1' });
  h.layer.receiveRequest(req, ctx());
  const txn = h.server.requests[0]?.txn;
  if (txn === undefined) throw new Error('no transaction');
  const from = req.from;
  const vias = req.vias;
  txn.respond(response(req, 200));
  t.equal(txn.state, 'completed');
  t.not(req.from, from, 'From is parsed again after Completed');
  t.not(req.vias, vias);
  t.equal(req.fromTag, 'fromtag1', 'with the same value');
  t.equal(req.topVia?.branch, 'z9hG4bKshed1');
  t.equal(req.cseq?.seq, 1);
  h.layer.receiveRequest(request('OPTIONS', { branch: 'z9hG4bKshed1' }), ctx());
  t.equal(h.sent.length, 2, 'the retransmission got the response again');
  t.equal(h.sent[1]?.message, h.sent[0]?.message);
  const last = h.sent[1]?.message;
  t.equal(last?.kind === 'response' ? last.status : undefined, 200);
  t.equal(last?.cseq?.method, 'OPTIONS');
  h.sched.advance(32_000);
  t.equal(txn.state, 'terminated');
});

t.test('non-INVITE server over TCP ends at once and keeps its views (nothing waits)', async (t) => {
  const h = newHarness();
  const req = request('OPTIONS', { branch: 'z9hG4bKshed2', transport: 'tcp' });
  h.layer.receiveRequest(req, ctx('tcp', 'conn-1'));
  const txn = h.server.requests[0]?.txn;
  if (txn === undefined) throw new Error('no transaction');
  const from = req.from;
  txn.respond(response(req, 200));
  t.equal(txn.state, 'terminated');
  t.equal(req.from, from);
});

t.test('INVITE server: Accepted (2xx) and Completed (non-2xx) drop the views; the ACK still matches', async (t) => {
  for (const status of [200, 486]) {
    const h = newHarness();
    const invite = request('INVITE', { branch: `z9hG4bKshed-${status}` });
    h.layer.receiveRequest(invite, ctx());
    const txn = h.server.requests[0]?.txn;
    if (txn === undefined) throw new Error('no transaction');
    const to = invite.to;
    const final = response(invite, status);
    txn.respond(final);
    t.equal(txn.state, status === 200 ? 'accepted' : 'completed');
    t.not(invite.to, to, `${status}: To parsed again`);
    t.equal(final.toTag, 'totag1', `${status}: the response reads the same after`);
    if (status === 486) {
      const ack = request('ACK', { branch: `z9hG4bKshed-${status}`, toTag: 'totag1' });
      h.layer.receiveRequest(ack, ctx());
      t.equal(txn.state, 'confirmed', 'the ACK matched the transaction');
    }
  }
});

t.test('client transactions: Completed / Accepted drop the views of the request', async (t) => {
  const h = newHarness();
  const bye = request('BYE', { branch: 'z9hG4bKshed-c1', toTag: 'x' });
  const nict = h.startClient(bye, UDP_PEER);
  const byeFrom = bye.from;
  h.layer.receiveResponse(response(bye, 200, 'x'), ctx());
  t.equal(nict.state, 'completed');
  t.not(bye.from, byeFrom);
  t.equal(bye.fromTag, 'fromtag1');

  const invite = request('INVITE', { branch: 'z9hG4bKshed-c2' });
  const ict = h.startClient(invite, UDP_PEER);
  const inviteFrom = invite.from;
  h.layer.receiveResponse(response(invite, 200), ctx());
  t.equal(ict.state, 'accepted');
  t.not(invite.from, inviteFrom);
  h.layer.receiveResponse(response(invite, 200), ctx());
  t.equal(h.client.responses.filter((r) => r.txn === ict && r.status === 200).length, 2, 'a retransmitted 2xx still reaches the TU');

  const rejected = request('INVITE', { branch: 'z9hG4bKshed-c3' });
  const ict2 = h.startClient(rejected, UDP_PEER);
  h.layer.receiveResponse(response(rejected, 486), ctx());
  t.equal(ict2.state, 'completed');
  const acks = h.sent.filter((s) => s.message.kind === 'request' && s.message.method === 'ACK');
  t.equal(acks.length, 1);
  h.layer.receiveResponse(response(rejected, 486), ctx());
  const acksAfter = h.sent.filter((s) => s.message.kind === 'request' && s.message.method === 'ACK');
  t.equal(acksAfter.length, 2, 'the retransmitted 486 gets the same ACK again');
  t.equal(acksAfter[1]?.message, acksAfter[0]?.message);
  t.equal(acksAfter[1]?.message.cseq?.method, 'ACK');

  const overTcp = request('BYE', { branch: 'z9hG4bKshed-c4', toTag: 'x', transport: 'tcp' });
  const tcpTxn = h.startClient(overTcp, TCP_PEER);
  const tcpFrom = overTcp.from;
  h.layer.receiveResponse(response(overTcp, 200, 'x'), ctx('tcp', 'c'));
  t.equal(tcpTxn.state, 'terminated');
  t.equal(overTcp.from, tcpFrom, 'a reliable transport ends at once: nothing dropped');
});
