import t from 'tap';
import { responseTarget, type InviteServerTransaction } from '../../../../src/sip/transaction/index.js';
import { parseVia } from '../../../../src/sip/message/index.js';
import { ctx, isRequest, isStatus, newHarness, request, response } from './harness.js';

t.test('§17.2.3: same branch but different sent-by or method is a different transaction', async (t) => {
  const h = newHarness();
  h.layer.receiveRequest(request('OPTIONS'), ctx());
  h.layer.receiveRequest(request('OPTIONS', { sentBy: '192.0.2.7:5060' }), ctx());
  h.layer.receiveRequest(request('INFO'), ctx());
  h.layer.receiveRequest(request('OPTIONS'), ctx());
  t.equal(h.server.requests.length, 3);
  t.equal(h.layer.activeCount, 3);
  h.layer.close();
});

t.test('§9.2: CANCEL gets its own transaction and finds the INVITE it targets', async (t) => {
  const h = newHarness();
  const inv = request('INVITE');
  h.layer.receiveRequest(inv, ctx());
  const inviteTxn = h.server.requests[0]!.txn;
  h.layer.receiveRequest(request('CANCEL'), ctx());
  t.equal(h.server.cancels.length, 1);
  t.equal(h.server.cancels[0]!.invite, inviteTxn);
  t.not(h.server.cancels[0]!.txn, inviteTxn);
  h.layer.receiveRequest(request('CANCEL', { branch: 'z9hG4bKnomatch' }), ctx());
  t.equal(h.server.cancels[1]!.invite, undefined, 'no INVITE: the TU answers 481');
  // a retransmitted CANCEL is absorbed by the CANCEL transaction
  h.layer.receiveRequest(request('CANCEL'), ctx());
  t.equal(h.server.cancels.length, 2);
  t.equal(h.layer.findCancelTarget(request('CANCEL')), inviteTxn);
  h.layer.close();
});

t.test('RFC 2543 fallback: retransmissions, CANCEL and the non-2xx ACK match without a magic cookie', async (t) => {
  const h = newHarness();
  const inv = request('INVITE', { branch: 'oldbranch' });
  h.layer.receiveRequest(inv, ctx());
  const txn = h.server.requests[0]!.txn as InviteServerTransaction;
  h.layer.receiveRequest(request('INVITE', { branch: 'oldbranch' }), ctx());
  t.equal(h.server.requests.length, 1, 'retransmission matched by Request-URI, tags, Call-ID, CSeq, top Via');
  h.layer.receiveRequest(request('INVITE', { branch: 'oldbranch', cseq: 2 }), ctx());
  t.equal(h.server.requests.length, 2, 'a different CSeq is a new transaction');
  h.layer.receiveRequest(request('CANCEL', { branch: 'oldbranch' }), ctx());
  t.equal(h.server.cancels[0]!.invite, txn);
  txn.respond(response(inv, 486, 'srvtag'));
  h.layer.receiveRequest(request('ACK', { branch: 'oldbranch', toTag: 'wrongtag' }), ctx());
  t.equal(txn.state, 'completed', 'ACK with another To tag does not match');
  t.equal(h.server.acks.length, 1);
  h.layer.receiveRequest(request('ACK', { branch: 'oldbranch', toTag: 'srvtag' }), ctx());
  t.equal(txn.state, 'confirmed');
  t.equal(h.server.acks.length, 1);
  h.layer.close();
});

t.test('§17.1.3: responses match by branch and CSeq method; others are stray', async (t) => {
  const h = newHarness();
  const inv = request('INVITE');
  const invTxn = h.startClient(inv);
  const cancel = request('CANCEL');
  const cancelTxn = h.startClient(cancel);
  const from = { source: { protocol: 'udp' as const, address: '192.0.2.99', port: 5060 } };
  h.layer.receiveResponse(response(cancel, 200), from);
  t.equal(cancelTxn.state, 'completed');
  t.equal(invTxn.state, 'calling', 'CANCEL response does not touch the INVITE transaction');
  h.layer.receiveResponse(response(inv, 487), from);
  t.equal(invTxn.state, 'completed');
  h.layer.receiveResponse(response(request('OPTIONS', { branch: 'z9hG4bKunknown' }), 200), from);
  t.equal(h.server.strays.length, 1);
  t.same(h.client.responses.map((r) => r.status), [200, 487]);
  h.layer.close();
});

t.test('stateless send for the 2xx ACK; failures are only logged', async (t) => {
  const h = newHarness();
  h.failSends(true);
  h.layer.sendStateless(request('ACK'), { protocol: 'udp', address: '192.0.2.9', port: 5060 });
  await new Promise((r) => setImmediate(r));
  t.same(h.times(isRequest('ACK')), [0]);
  t.ok(h.logger.records.some((r) => r.level === 'warn'));
  h.layer.close();
});

t.test('requests without a Via are dropped, never thrown', async (t) => {
  const h = newHarness();
  const noVia = request('OPTIONS');
  noVia.headers.remove('Via');
  noVia.invalidate();
  const noCseq = request('OPTIONS', { branch: 'legacy' });
  noCseq.headers.remove('CSeq');
  noCseq.invalidate();
  t.doesNotThrow(() => h.layer.receiveRequest(noCseq, ctx()));
  t.doesNotThrow(() => h.layer.receiveRequest(noVia, ctx()));
  t.equal(h.server.requests.length, 0);
});

t.test('drain resolves when the last transaction ends, or at the deadline; close is idempotent', async (t) => {
  const h = newHarness();
  await h.layer.drain(1000); // nothing active: immediate
  const req = request('OPTIONS', { transport: 'tcp' });
  h.layer.receiveRequest(req, ctx('tcp', 'c1'));
  let drained = false;
  const p = h.layer.drain(60_000).then(() => {
    drained = true;
  });
  await new Promise((r) => setImmediate(r));
  t.equal(drained, false);
  h.server.requests[0]!.txn.respond(response(req, 200));
  await p;
  t.equal(drained, true);
  t.equal(h.sched.pending, 0, 'the deadline timer is cancelled');

  h.startClient(request('OPTIONS', { branch: 'z9hG4bKlong' }));
  let late = false;
  const q = h.layer.drain(5000).then(() => {
    late = true;
  });
  h.sched.advance(5000);
  await q;
  t.equal(late, true);
  t.equal(h.layer.activeCount, 1);
  const r = h.layer.drain(5000);
  h.layer.close();
  await r;
  h.layer.close();
  t.equal(h.sched.pending, 0);
  t.equal(h.layer.activeCount, 0);
  h.layer.receiveRequest(request('OPTIONS'), ctx());
  t.equal(h.server.requests.length, 1, 'a closed layer ignores input');
});

t.test('responseTarget: §18.2.2 and RFC 3581 §4', async (t) => {
  const udp = { source: { protocol: 'udp' as const, address: '198.51.100.7', port: 34567 } };
  const via = (s: string) => parseVia(s);
  t.same(responseTarget(via('SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKx'), udp), { protocol: 'udp', address: '198.51.100.7', port: 5070 }, 'source address (received), sent-by port');
  t.same(responseTarget(via('SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx'), udp), { protocol: 'udp', address: '198.51.100.7', port: 5060 }, 'default port 5060');
  t.same(responseTarget(via('SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKx;received=203.0.113.5'), udp), { protocol: 'udp', address: '203.0.113.5', port: 5070 });
  t.same(responseTarget(via('SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKx;rport'), udp), { protocol: 'udp', address: '198.51.100.7', port: 34567 }, 'empty rport: source port');
  t.same(responseTarget(via('SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKx;rport=4000;received=203.0.113.5'), udp), { protocol: 'udp', address: '203.0.113.5', port: 4000 });
  t.same(responseTarget(via('SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKx;maddr=[2001:db8::1]'), udp), { protocol: 'udp', address: '2001:db8::1', port: 5070 }, 'maddr, brackets stripped');
  const tcp = { source: { protocol: 'tcp' as const, address: '198.51.100.7', port: 50000 }, connectionId: 'k1' };
  t.same(responseTarget(via('SIP/2.0/TCP 10.0.0.1;branch=z9hG4bKx;rport'), tcp), { protocol: 'tcp', address: '198.51.100.7', port: 5060, connectionId: 'k1' }, 'reliable: same connection, rport ignored');
  const tls = { source: { protocol: 'tls' as const, address: '198.51.100.7', port: 50000 } };
  t.same(responseTarget(via('SIP/2.0/TLS 10.0.0.1;branch=z9hG4bKx'), tls), { protocol: 'tls', address: '198.51.100.7', port: 5061 });
  t.same(responseTarget(undefined, udp), { protocol: 'udp', address: '198.51.100.7', port: 34567 });
});

t.test('server responses go to the §18.2.2 target computed from the request', async (t) => {
  const h = newHarness();
  const req = request('OPTIONS', { sentBy: '10.1.1.1:5080;rport' });
  h.layer.receiveRequest(req, { source: { protocol: 'udp', address: '198.51.100.9', port: 31000 } });
  h.server.requests[0]!.txn.respond(response(req, 200));
  t.same(h.sent.find((s) => isStatus(200)(s.message))!.target, { protocol: 'udp', address: '198.51.100.9', port: 31000 });
  h.layer.close();
});

t.test('drain does not wait for transactions that only absorb retransmissions', async (t) => {
  const h = newHarness();
  const req = request('OPTIONS'); // UDP: after the 200 the transaction stays Completed for Timer J
  h.layer.receiveRequest(req, ctx());
  let drained = false;
  const p = h.layer.drain(60_000).then(() => {
    drained = true;
  });
  await new Promise((r) => setImmediate(r));
  t.equal(drained, false, 'an unanswered request holds the drain');
  h.server.requests[0]!.txn.respond(response(req, 200));
  await p;
  t.equal(drained, true, 'answered: the drain is over');
  t.equal(h.layer.activeCount, 1, 'while the transaction still lives in Completed (Timer J)');
  h.layer.close();
});
