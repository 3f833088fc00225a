/**
 * UserAgentService as UAC (node a, 127.0.0.1) calling UserAgentService as UAS (node b,
 * 127.0.0.2) over memory transports on fake time: INVITE/answer/ACK/BYE, provisional responses,
 * 100rel, 2xx retransmission, CANCEL, digest challenges, failures, forked 2xx, Timer C.
 */
import t from 'tap';
import { createResponse, type SipRequest } from '../../../../src/sip/message/index.js';
import type { IncomingInvite, ProvisionalInfo, UaDialog, DialogEnd, InviteFailure } from '../../../../src/sip/ua/index.js';
import { ANSWER, OFFER, digestGate, setup } from './harness.js';

const URI = 'sip:bob@127.0.0.2:5060';
const FROM = 'sip:alice@127.0.0.1';

function callee(node: ReturnType<typeof setup>['b']) {
  const calls: IncomingInvite[] = [];
  node.ua.on('invite', (c) => calls.push(c));
  return calls;
}

t.test('basic call: INVITE with SDP, 200 with SDP, ACK, BYE from the caller', async (t) => {
  const { a, b, flush } = setup();
  const calls = callee(b);
  const out = a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER });
  await flush();
  t.equal(calls.length, 1, 'the UAS sees the INVITE');
  const call = calls[0]!;
  t.equal(call.sdp, OFFER, 'offer visible');
  t.equal(call.source.address, '127.0.0.1');
  const accepted = call.accept({ sdp: ANSWER });
  await flush();
  const result = await out.done;
  t.ok(result.ok, 'answered');
  if (!result.ok) return;
  t.equal(result.sdp, ANSWER, 'answer SDP reaches the UAC');
  const uasDialog = await accepted;
  t.equal(a.requests('ACK').length, 1, 'one ACK sent');
  t.equal(a.ua.dialogCount, 1);
  t.equal(b.ua.dialogCount, 1);
  t.equal(uasDialog.remoteSdp, OFFER);
  t.equal(result.dialog.remoteSdp, ANSWER);
  t.same(b.ua.findDialog(uasDialog.id), uasDialog, 'findDialog by id');
  t.equal(b.ua.dialogsOfCall(out.callId).length, 1, 'dialogs of a call');

  const ended: DialogEnd[] = [];
  uasDialog.on('ended', (e) => ended.push(e));
  const byeRes = await result.dialog.bye();
  await flush();
  t.equal(byeRes?.status, 200, 'BYE answered 200');
  t.equal(ended[0]?.by, 'remote');
  t.equal(ended[0]?.cause, 'bye');
  t.equal(a.ua.dialogCount, 0, 'caller has no dialog left');
  t.equal(b.ua.dialogCount, 0, 'callee has no dialog left');
  t.equal(a.ua.pendingInviteCount + b.ua.pendingInviteCount, 0);
});

t.test('BYE from the callee ends the caller side', async (t) => {
  const { a, b, flush } = setup();
  const calls = callee(b);
  const out = a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER });
  await flush();
  const uas = calls[0]!.accept({ sdp: ANSWER });
  await flush();
  const r = await out.done;
  const dialog = (await uas) as UaDialog;
  t.ok(r.ok);
  const ended: DialogEnd[] = [];
  if (r.ok) r.dialog.on('ended', (e) => ended.push(e));
  await dialog.bye();
  await flush();
  t.equal(ended[0]?.by, 'remote');
  t.equal(a.ua.dialogCount + b.ua.dialogCount, 0);
});

t.test('180 then 183 with SDP, then 200', async (t) => {
  const { a, b, flush } = setup();
  const calls = callee(b);
  const out = a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER });
  const prov: ProvisionalInfo[] = [];
  out.on('provisional', (p) => prov.push(p));
  await flush();
  calls[0]!.progress(180);
  await flush();
  calls[0]!.progress(183, { sdp: ANSWER });
  await flush();
  t.same(prov.map((p) => [p.status, p.sdp, p.reliable]), [[180, undefined, false], [183, ANSWER, false]]);
  t.equal(out.state, 'proceeding');
  void calls[0]!.accept({ sdp: ANSWER });
  await flush();
  t.ok((await out.done).ok);
  t.equal(a.requests('PRACK').length, 0, 'no PRACK for unreliable provisionals');
  a.close();
  b.close();
  await flush();
  t.equal(a.ua.dialogCount + b.ua.dialogCount, 0);
});

t.test('100rel: reliable 183 retransmitted until PRACK, PRACK answered 200', async (t) => {
  const { a, b, flush, advance } = setup();
  const calls = callee(b);
  // lose the first two PRACKs at the callee: the 183 keeps being retransmitted
  let prackDrops = 2;
  b.dropIn = (m) => m.kind === 'request' && m.method === 'PRACK' && prackDrops-- > 0;
  const out = a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER });
  const prov: ProvisionalInfo[] = [];
  out.on('provisional', (p) => prov.push(p));
  await flush();
  const call = calls[0]!;
  t.ok(call.supports100rel, 'the caller advertised 100rel');
  let pracked = 0;
  call.on('prack', () => pracked++);
  call.progress(183, { sdp: ANSWER, reliable: true });
  await flush();
  const sent183 = b.responses('INVITE').filter((r) => r.status === 183);
  t.equal(sent183.length, 1);
  t.match(sent183[0]!.message.headers.get('Require'), /100rel/);
  t.ok(sent183[0]!.message.headers.get('RSeq'), 'RSeq present');
  // the PRACK transaction retransmits (Timer E) and the 183 is retransmitted (T1 doubling)
  await advance(2000);
  t.ok(b.responses('INVITE').filter((r) => r.status === 183).length >= 2, '183 retransmitted while unacknowledged');
  t.equal(pracked, 1, 'PRACK finally received once');
  t.equal(prov.length, 1, 'the UAC reports the reliable 183 once');
  t.equal(prov[0]!.reliable, true);
  t.equal(a.requests('PRACK').length >= 1, true);
  t.match(a.requests('PRACK')[0]!.headers.get('RAck'), new RegExp(`^${sent183[0]!.message.headers.get('RSeq')} \\d+ INVITE$`));
  t.ok(a.responses('PRACK', 'in').some((r) => r.status === 200), 'PRACK answered 200');
  const count = b.responses('INVITE').filter((r) => r.status === 183).length;
  await advance(4000);
  t.equal(b.responses('INVITE').filter((r) => r.status === 183).length, count, 'no retransmission after PRACK');
  void call.accept({ sdp: ANSWER });
  await flush();
  t.ok((await out.done).ok);
  a.close();
  b.close();
  await flush();
});

t.test('2xx retransmitted until the ACK arrives; no ACK at all ends with BYE', async (t) => {
  const { a, b, flush, advance } = setup();
  const calls = callee(b);
  let ackDrops = 2;
  b.dropIn = (m) => m.kind === 'request' && m.method === 'ACK' && ackDrops-- > 0;
  const out = a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER });
  await flush();
  const accepted = calls[0]!.accept({ sdp: ANSWER });
  await flush();
  t.ok((await out.done).ok);
  t.equal(b.responses('INVITE').filter((r) => r.status === 200).length, 1);
  await advance(500);
  await advance(1000);
  t.equal(b.responses('INVITE').filter((r) => r.status === 200).length, 3, '2xx retransmitted at T1, 2T1');
  t.equal(a.requests('ACK').length, 3, 'each retransmission ACKed again');
  const dialog = await accepted;
  t.equal(dialog.ended, false);
  await advance(8000);
  t.equal(b.responses('INVITE').filter((r) => r.status === 200).length, 3, 'retransmissions stop at the ACK');
  a.close();
  b.close();
  await flush();

  // the ACK never arrives: 64*T1 later the UAS hangs up (§13.3.1.4)
  const s2 = setup();
  const calls2 = callee(s2.b);
  s2.b.dropIn = (m) => m.kind === 'request' && m.method === 'ACK';
  const out2 = s2.a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER });
  await s2.flush();
  const failed: string[] = [];
  calls2[0]!.on('failed', (r) => failed.push(r));
  const p = calls2[0]!.accept({ sdp: ANSWER });
  p.catch(() => undefined);
  await s2.flush();
  const r2 = await out2.done;
  t.ok(r2.ok);
  const ended: DialogEnd[] = [];
  if (r2.ok) r2.dialog.on('ended', (e) => ended.push(e));
  await s2.advance(33_000, 500);
  await t.rejects(p, /no ACK/);
  t.same(failed, ['no ACK for the 2xx']);
  t.equal(s2.b.requests('BYE').length, 1, 'UAS sent BYE');
  t.equal(ended[0]?.by, 'remote', 'caller saw the BYE');
  t.equal(s2.a.ua.dialogCount + s2.b.ua.dialogCount, 0);
});

t.test('CANCEL: 200 to CANCEL, 487 to the INVITE, cancelled event, failure reported', async (t) => {
  const { a, b, flush } = setup();
  const calls = callee(b);
  const out = a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER });
  await flush();
  let cancelled = 0;
  calls[0]!.on('cancelled', () => cancelled++);
  calls[0]!.progress(180);
  await flush();
  out.cancel();
  await flush();
  const r = await out.done;
  t.equal(cancelled, 1);
  t.notOk(r.ok);
  if (!r.ok) {
    t.equal(r.failure.status, 487);
    t.equal(r.failure.cause, 'cancelled');
  }
  t.ok(a.responses('CANCEL', 'in').some((x) => x.status === 200), 'CANCEL answered 200');
  t.equal(calls[0]!.state, 'rejected');
  t.equal(a.ua.pendingInviteCount + b.ua.pendingInviteCount, 0);
  t.equal(a.ua.dialogCount + b.ua.dialogCount, 0);
});

t.test('CANCEL before any provisional waits for one (§9.1)', async (t) => {
  const { a, b, flush } = setup();
  const calls = callee(b);
  b.dropIn = (m) => m.kind === 'request' && m.method === 'INVITE' && calls.length > 0;
  const out = a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER });
  await flush();
  // hold the 100 Trying: it is sent 200 ms later by the server transaction
  out.cancel();
  await flush();
  t.equal(a.requests('CANCEL').length, 0, 'no CANCEL yet');
  calls[0]!.progress(180);
  await flush();
  t.equal(a.requests('CANCEL').length, 1, 'CANCEL after the 180');
  const r = await out.done;
  t.notOk(r.ok);
});

t.test('401 and 407 challenges are answered once per realm', async (t) => {
  for (const status of [401, 407] as const) {
    const { a, b, flush } = setup();
    const calls = callee(b);
    b.gate = digestGate(b, 'example.org', status);
    const out = a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER, credentials: { username: 'alice', password: 'secret' } });
    await flush();
    t.equal(calls.length, 1, `${status}: the authenticated INVITE gets through`);
    const invites = a.requests('INVITE');
    t.equal(invites.length, 2);
    t.equal(invites[1]!.cseq!.seq, invites[0]!.cseq!.seq + 1, 'CSeq incremented');
    t.equal(invites[1]!.callId, invites[0]!.callId, 'same Call-ID');
    t.ok(invites[1]!.headers.get(status === 401 ? 'Authorization' : 'Proxy-Authorization'));
    void calls[0]!.accept({ sdp: ANSWER });
    await flush();
    t.ok((await out.done).ok, `${status}: answered`);
    a.close();
    b.close();
    await flush();
  }
  // wrong password: one retry, then the challenge is reported as the failure
  const { a, b, flush } = setup();
  b.gate = digestGate(b, 'example.org', 407);
  const out = a.ua.invite({ requestUri: URI, from: FROM, to: URI, credentials: () => ({ username: 'alice', password: 'wrong' }) });
  await flush();
  const r = await out.done;
  t.notOk(r.ok);
  if (!r.ok) t.equal(r.failure.status, 407);
  t.equal(a.requests('INVITE').length, 2, 'only one retry per realm');
});

t.test('486 is reported with its status, reason and headers', async (t) => {
  const { a, b, flush } = setup();
  const calls = callee(b);
  const out = a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER });
  const failures: InviteFailure[] = [];
  out.on('failed', (f) => failures.push(f));
  await flush();
  calls[0]!.reject(486, { headers: [['Retry-After', '30']] });
  await flush();
  t.equal(failures.length, 1);
  t.equal(failures[0]!.status, 486);
  t.equal(failures[0]!.reason, 'Busy Here');
  t.equal(failures[0]!.cause, 'response');
  t.equal(failures[0]!.headers?.get('Retry-After'), '30');
  t.ok(a.requests('ACK').length === 1, 'the INVITE transaction ACKed the 486');
  t.equal(a.ua.pendingInviteCount + b.ua.pendingInviteCount, 0);
});

t.test('nobody listening for INVITEs: 480', async (t) => {
  const { a, flush } = setup();
  const out = a.ua.invite({ requestUri: URI, from: FROM, to: URI });
  await flush();
  const r = await out.done;
  t.notOk(r.ok);
  if (!r.ok) t.equal(r.failure.status, 480);
});

t.test('Timer C: ring-no-answer cancels', async (t) => {
  const { a, b, flush, advance } = setup();
  const calls = callee(b);
  const out = a.ua.invite({ requestUri: URI, from: FROM, to: URI, timeoutMs: 30_000 });
  await flush();
  calls[0]!.progress(180);
  await flush();
  await advance(30_000, 1000);
  const r = await out.done;
  t.notOk(r.ok);
  if (!r.ok) {
    t.equal(r.failure.status, 487);
    t.equal(r.failure.cause, 'no-answer');
  }
});

t.test('forked 2xx: the second dialog is ACKed and hung up', async (t) => {
  const { a, b, flush } = setup();
  const calls = callee(b);
  const out = a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER });
  await flush();
  const invite = calls[0]!.request as SipRequest;
  void calls[0]!.accept({ sdp: ANSWER });
  await flush();
  t.ok((await out.done).ok);
  // a second 2xx with another To tag, as a forking proxy would relay it
  const fork = createResponse(invite, 200, undefined, { toTag: 'fork2', headers: [['Contact', '<sip:127.0.0.2:5060>']], body: Buffer.from(ANSWER), contentType: 'application/sdp' });
  await b.transport.send({ protocol: 'udp', address: '127.0.0.1', port: 5060 }, (await import('../../../../src/sip/message/index.js')).serializeMessage(fork));
  await flush();
  const acks = a.requests('ACK');
  t.equal(acks.length, 2, 'both 2xx ACKed');
  t.equal(acks[1]!.toTag, 'fork2');
  const byes = a.requests('BYE');
  t.equal(byes.length, 1, 'the extra dialog is hung up');
  t.equal(byes[0]!.toTag, 'fork2');
  t.equal(a.ua.dialogCount, 1, 'only the first dialog lives');
  a.close();
  b.close();
  await flush();
});

t.test('close() ends every dialog and pending INVITE; idempotent', async (t) => {
  const { a, b, flush } = setup();
  const calls = callee(b);
  const out1 = a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER });
  const out2 = a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER });
  await flush();
  void calls[0]!.accept({ sdp: ANSWER });
  await flush();
  t.ok((await out1.done).ok);
  t.equal(b.ua.pendingInviteCount, 1);
  const closing = b.close();
  t.equal(b.close(), closing, 'a second close() returns the same promise');
  await flush();
  await closing; // resolves once the BYE is answered, without any time passing
  const r2 = await out2.done;
  t.notOk(r2.ok);
  if (!r2.ok) t.equal(r2.failure.status, 503);
  t.equal(a.ua.dialogCount, 0, 'BYE from the closing side ended the caller dialog');
  t.equal(b.ua.dialogCount, 0);
  a.close();
});

t.test('starting an outgoing INVITE again sends nothing more (the user agent already started it)', async (t) => {
  const { a, b, flush } = setup();
  const calls = callee(b);
  const out = a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER });
  out.start();
  out.start();
  await flush();
  t.equal(a.requests('INVITE').length, 1, 'one INVITE on the wire');
  t.equal(calls.length, 1, 'the UAS sees one call');
  calls[0]!.accept({ sdp: ANSWER }).catch(() => undefined);
  await flush();
  const result = await out.done;
  t.ok(result.ok, 'answered once');
  t.equal(a.ua.dialogCount, 1, 'one dialog, not a second one from a duplicate INVITE');
});
