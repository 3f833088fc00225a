/**
 * UaDialog on both sides of an established call (memory transports, fake time): re-INVITE in
 * both directions, 491 glare, UPDATE, REFER + NOTIFY sipfrag, INFO DTMF, out-of-order CSeq,
 * session timers (refresh, expiry, 422), Replaces lookup.
 */
import t from 'tap';
import type { ReferNotify, UaDialog, DialogEnd, IncomingInfo, IncomingRefer } from '../../../../src/sip/ua/index.js';
import type { UserAgentServiceOptions } from '../../../../src/sip/ua/index.js';
import { ANSWER, ANSWER2, OFFER, OFFER2, setup } from './harness.js';

const URI = 'sip:bob@127.0.0.2:5060';
const FROM = 'sip:alice@127.0.0.1';

async function established(options: { a?: UserAgentServiceOptions; b?: UserAgentServiceOptions; sessionExpires?: number } = {}) {
  const s = setup(options);
  let uasPromise: Promise<UaDialog> | undefined;
  s.b.ua.on('invite', (call) => {
    uasPromise = call.accept({ sdp: ANSWER });
  });
  const out = s.a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER, ...(options.sessionExpires !== undefined ? { sessionExpires: options.sessionExpires } : {}) });
  await s.flush();
  const r = await out.done;
  if (!r.ok) throw new Error(`call failed: ${r.failure.status}`);
  const uas = await uasPromise!;
  return { ...s, uac: r.dialog, uas, out };
}

t.test('re-INVITE from the caller and from the callee', async (t) => {
  const { uac, uas, a, b, flush } = await established();
  uas.on('reinvite', (offer) => {
    t.equal(offer.sdp, OFFER2, 'callee sees the new offer');
    offer.accept({ sdp: ANSWER2 });
  });
  const r1 = await uac.reinvite({ sdp: OFFER2 });
  t.equal(r1.status, 200);
  t.equal(r1.sdp, ANSWER2);
  await flush();
  t.equal(uac.localSdp, OFFER2);
  t.equal(uac.remoteSdp, ANSWER2);
  t.equal(uas.remoteSdp, OFFER2);
  t.equal(uas.localSdp, ANSWER2);
  t.equal(a.requests('ACK').length, 2, 'the re-INVITE 2xx was ACKed');

  const OFFER3 = ANSWER2.replace('o=b 1 2', 'o=b 1 3');
  uac.on('reinvite', (offer) => {
    t.equal(offer.sdp, OFFER3);
    offer.accept({ sdp: OFFER2.replace('o=a 1 2', 'o=a 1 3') });
  });
  const r2 = await uas.reinvite({ sdp: OFFER3 });
  t.equal(r2.status, 200, 'callee-side re-INVITE answered');
  await flush();
  t.equal(b.requests('ACK').length, 1, 'callee ACKed its re-INVITE 2xx');
  // a rejected offer leaves the session as it was (§14.2)
  uas.removeAllListeners();
  uas.on('reinvite', (offer) => offer.reject(488));
  const before = uac.localSdp;
  const r3 = await uac.reinvite({ sdp: OFFER });
  t.equal(r3.status, 488);
  t.equal(uac.localSdp, before, 'local SDP unchanged after 488');
  t.equal(uac.ended, false);
  await uac.bye();
  await flush();
  t.equal(a.ua.dialogCount + b.ua.dialogCount, 0);
});

t.test('whenEnded: a listener gets the end once, also when added after the dialog ended', async (t) => {
  const { uac, uas, flush } = await established();
  const before: DialogEnd[] = [];
  const off = uas.whenEnded((end) => before.push(end));
  const unsubscribed: DialogEnd[] = [];
  uas.whenEnded((end) => unsubscribed.push(end))();
  await uac.bye();
  await flush();
  t.equal(before.length, 1, 'a listener added while the dialog lived heard the end once');
  t.match(before[0], { by: 'remote', cause: 'bye' });
  t.same(unsubscribed, [], 'an unsubscribed listener heard nothing');
  const after: DialogEnd[] = [];
  uas.whenEnded((end) => after.push(end));
  t.same(after, before, 'a listener added after the end hears it at once');
  off();
});

t.test('491 glare: both re-INVITE at once, both retry after the §14.1 delays', async (t) => {
  const { uac, uas, a, b, flush, advance } = await established();
  uac.on('reinvite', (o) => o.accept({ sdp: OFFER2 }));
  uas.on('reinvite', (o) => o.accept({ sdp: ANSWER2 }));
  const p1 = uac.reinvite({ sdp: OFFER2 });
  const p2 = uas.reinvite({ sdp: ANSWER2 });
  await flush();
  t.ok(a.responses('INVITE', 'in').some((r) => r.status === 491), 'caller got 491');
  t.ok(b.responses('INVITE', 'in').some((r) => r.status === 491), 'callee got 491');
  // random() = 0.5: the callee (not Call-ID owner) waits 1000 ms, the caller 3050 ms
  await advance(1100);
  const calleeResult = await p2;
  t.equal(calleeResult.status, 200, 'the non-owner retried first and succeeded');
  await advance(2100);
  const callerResult = await p1;
  t.equal(callerResult.status, 200, 'the Call-ID owner retried later and succeeded');
  t.equal(a.requests('INVITE').length, 3, 'initial + glared + retried re-INVITE from the caller');
  a.close();
  b.close();
  await flush();
});

t.test('UPDATE with an offer (RFC 3311)', async (t) => {
  const { uac, uas, a, b, flush } = await established();
  uas.on('update', (offer) => {
    t.equal(offer.method, 'UPDATE');
    offer.accept({ sdp: ANSWER2 });
  });
  const r = await uac.update({ sdp: OFFER2 });
  t.equal(r.status, 200);
  t.equal(r.sdp, ANSWER2);
  t.equal(uas.remoteSdp, OFFER2);
  t.equal(a.requests('ACK').length, 1, 'no ACK for UPDATE');
  // without SDP, UPDATE is a bare refresh answered by the dialog itself
  const r2 = await uas.update();
  t.equal(r2.status, 200);
  a.close();
  b.close();
  await flush();
});

t.test('REFER with Replaces, NOTIFY message/sipfrag 100 then 200', async (t) => {
  const { uac, uas, a, b, flush } = await established();
  const refers: IncomingRefer[] = [];
  uas.on('refer', (r) => refers.push(r));
  const notifies: ReferNotify[] = [];
  uac.on('notify', (n) => notifies.push(n));
  const replaces = { callId: 'other-call@x', toTag: 'tt', fromTag: 'ff', earlyOnly: false };
  const pending = uac.refer({ referTo: 'sip:carol@127.0.0.3', replaces });
  await flush();
  t.equal(refers.length, 1, 'REFER delivered');
  // answered only once the owner decides
  const refer = refers[0]!;
  t.equal(refer.referTo?.uri.user, 'carol');
  t.same(refer.replaces, replaces, 'Replaces parsed out of Refer-To');
  refer.accept();
  await flush();
  t.equal((await pending).status, 202);
  await refer.notify(180, 'Ringing');
  const last = await refer.notify(200, 'OK');
  t.equal(last.status, 200, 'NOTIFY answered');
  await flush();
  t.same(notifies.map((n) => [n.status, n.terminated]), [[100, false], [180, false], [200, true]]);
  const sent = b.requests('NOTIFY');
  t.match(sent[0]!.headers.get('Content-Type'), /^message\/sipfrag/);
  t.match(sent[0]!.headers.get('Event'), /^refer/);
  t.match(sent[2]!.headers.get('Subscription-State'), /^terminated/);
  await t.rejects(refer.notify(200, 'OK'), /no active refer/);
  void a;
  a.close();
  b.close();
  await flush();
});

t.test('REFER without a listener is declined; bad Refer-To is 400', async (t) => {
  const { uac, a, b, flush } = await established();
  const r = await uac.refer({ referTo: 'sip:carol@127.0.0.3' });
  t.equal(r.status, 603);
  const bad = await uac.sendRequest('REFER', { headers: [['Refer-To', 'not a uri']] });
  t.equal(bad.status, 400);
  a.close();
  b.close();
  await flush();
});

t.test('INFO with application/dtmf-relay and application/dtmf', async (t) => {
  const { uac, uas, a, b, flush } = await established();
  const infos: IncomingInfo[] = [];
  uas.on('info', (i) => infos.push(i));
  const r1 = await uac.sendDtmf('5', 200);
  t.equal(r1.status, 200);
  const r2 = await uac.info({ body: '#', contentType: 'application/dtmf' });
  t.equal(r2.status, 200);
  const r3 = await uac.info({ body: 'hello', contentType: 'text/plain' });
  t.equal(r3.status, 200);
  t.same(infos.map((i) => i.dtmf), [{ signal: '5', duration: 200 }, { signal: '#', duration: undefined }, undefined]);
  a.close();
  b.close();
  await flush();
});

t.test('other requests: sendRequest and the request event; out-of-order CSeq gets 500', async (t) => {
  const { uac, uas, a, b, flush } = await established();
  uas.on('request', (r) => r.respond(202, { headers: [['X-Seen', r.request.method]] }));
  const msg = await uac.sendRequest('MESSAGE', { body: 'hi', contentType: 'text/plain' });
  t.equal(msg.status, 202);
  t.equal(msg.headers.get('X-Seen'), 'MESSAGE');
  // two INFOs built in order, sent in reverse: the older CSeq arrives last (§12.2.2)
  const first = uac.dialog.createRequest('INFO');
  const second = uac.dialog.createRequest('INFO');
  const statuses: number[] = [];
  a.ua.sendRequest(second, { onFinal: (r) => statuses.push(r.status) });
  await flush();
  a.ua.sendRequest(first, { onFinal: (r) => statuses.push(r.status) });
  await flush();
  t.same(statuses, [200, 500]);
  a.close();
  b.close();
  await flush();
});

t.test('session timer: the refresher refreshes at half the interval', async (t) => {
  const { uac, uas, a, b, flush, advance } = await established({ b: { sessionTimer: { interval: 120, minSE: 90 } } });
  t.same(uac.session, { interval: 120, refresher: 'local' }, 'UAC refreshes (it supports timer)');
  t.same(uas.session, { interval: 120, refresher: 'remote' });
  const ok = b.responses('INVITE').find((r) => r.status === 200)!.message;
  t.equal(ok.headers.get('Session-Expires'), '120;refresher=uac');
  t.match(ok.headers.get('Require'), /timer/);
  await advance(60_000, 1000);
  t.equal(a.requests('UPDATE').length, 1, 'UPDATE refresh at 60 s');
  t.match(a.requests('UPDATE')[0]!.headers.get('Session-Expires'), /^120;refresher=uac/);
  await advance(180_000, 1000);
  t.equal(a.requests('UPDATE').length, 4, 'one refresh every 60 s');
  t.equal(uas.ended, false, 'refreshed sessions stay up');
  t.equal(uac.ended, false);
  a.close();
  b.close();
  await flush();
});

t.test('session timer: no refresh -> BYE before expiry', async (t) => {
  const { uac, uas, a, b, advance } = await established({ b: { sessionTimer: { interval: 120, minSE: 90 } } });
  const ended: DialogEnd[] = [];
  uas.on('ended', (e) => ended.push(e));
  const callerEnded: DialogEnd[] = [];
  uac.on('ended', (e) => callerEnded.push(e));
  // the caller's refreshes are lost
  b.dropIn = (m) => m.kind === 'request' && m.method === 'UPDATE';
  await advance(87_000, 1000);
  t.equal(ended.length, 0, 'still up before interval - min(32, interval/3)');
  await advance(2000, 500);
  t.equal(ended[0]?.cause, 'session-expired', 'callee hangs up at 88 s');
  t.equal(ended[0]?.by, 'local');
  t.equal(b.requests('BYE').length, 1);
  t.equal(callerEnded[0]?.cause, 'bye');
  t.equal(a.ua.dialogCount + b.ua.dialogCount, 0);
  await advance(60_000, 1000);
});

t.test('session timer: 422 is retried with the Min-SE', async (t) => {
  const { uac, a, b, flush } = await established({ b: { sessionTimer: { interval: 1800, minSE: 300 } }, sessionExpires: 120 });
  const invites = a.requests('INVITE');
  t.equal(invites.length, 2);
  t.equal(invites[0]!.headers.get('Session-Expires'), '120');
  t.equal(invites[1]!.headers.get('Session-Expires'), '300');
  t.ok(a.responses('INVITE', 'in').some((r) => r.status === 422));
  t.equal(uac.session?.interval, 300);
  a.close();
  b.close();
  await flush();
});

t.test('Replaces lookup and dialog counts', async (t) => {
  const { uac, uas, a, b, flush } = await established();
  const header = `${uas.callId};to-tag=${uas.id.localTag};from-tag=${uas.id.remoteTag}`;
  t.equal(b.ua.findByReplaces(header), uas, 'Replaces names the callee dialog from its own view');
  t.equal(b.ua.findByReplaces(header + ';early-only'), undefined, 'early-only does not match a confirmed dialog');
  t.equal(b.ua.findByReplaces(`${uas.callId};to-tag=x;from-tag=y`), undefined);
  t.equal(a.ua.findDialog(uac.id), uac);
  t.equal(a.ua.dialogCount, 1);
  a.close();
  await flush();
  t.equal(a.ua.dialogCount, 0);
  t.equal(b.ua.dialogCount, 0, 'BYE on close ended the other side');
  b.close();
});
