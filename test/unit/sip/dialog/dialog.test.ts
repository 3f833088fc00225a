import t from 'tap';
import { FakeScheduler } from '../../../../src/lib/index.js';
import { formatUri, parseMessage, serializeMessage, type SipRequest, type SipResponse } from '../../../../src/sip/message/index.js';
import { Dialog, DialogStore, canTransition, transition } from '../../../../src/sip/dialog/index.js';

function parse(lines: string[], body = ''): unknown {
  const text = [...lines, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
  const r = parseMessage(Buffer.from(text));
  if (!r.ok) throw new Error(`fixture does not parse: ${r.error.reason}`);
  return r.message;
}

const req = (lines: string[], body = ''): SipRequest => parse(lines, body) as SipRequest;
const res = (lines: string[], body = ''): SipResponse => parse(lines, body) as SipResponse;

const INVITE = [
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.example.com>',
  'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@pc33.atlanta.example.com>',
  'Record-Route: <sip:p2.biloxi.example.com;lr>',
  'Record-Route: <sip:p1.atlanta.example.com;lr>',
];
const invite = () => req(INVITE);

const response = (status: number, reason: string, extra: string[] = [], cseq = '314159 INVITE') =>
  res([
    `SIP/2.0 ${status} ${reason}`,
    'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds',
    'To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf',
    'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    `CSeq: ${cseq}`,
    ...extra,
  ]);
const RR = ['Record-Route: <sip:p2.biloxi.example.com;lr>', 'Record-Route: <sip:p1.atlanta.example.com;lr>'];
const ok200 = (extra: string[] = []) => response(200, 'OK', ['Contact: <sip:bob@192.0.2.4>', ...RR, ...extra]);

/** a request from Bob to Alice inside the dialog */
const fromBob = (method: string, seq: number, extra: string[] = []) =>
  req([
    `${method} sip:alice@pc33.atlanta.example.com SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds10',
    'Max-Forwards: 70',
    'From: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf',
    'To: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    `CSeq: ${seq} ${method}`,
    ...extra,
  ]);

t.test('state table', async (t) => {
  t.ok(canTransition('early', 'confirmed'));
  t.ok(canTransition('confirmed', 'terminated'));
  t.notOk(canTransition('confirmed', 'early'));
  t.notOk(canTransition('terminated', 'confirmed'));
  t.throws(() => transition('terminated', 'early'), { name: 'ConflictError' });
});

t.test('UAC dialog from 2xx (§12.1.2)', async (t) => {
  const d = Dialog.asUac(invite(), ok200())!;
  t.equal(d.state, 'confirmed');
  t.same(d.id, { callId: 'a84b4c76e66710@pc33.atlanta.example.com', localTag: '1928301774', remoteTag: 'a6c85cf' });
  t.equal(d.role, 'uac');
  t.ok(d.ownsCallId);
  t.equal(d.localSeq, 314159);
  t.equal(d.remoteSeq, undefined);
  t.equal(formatUri(d.remoteTarget), 'sip:bob@192.0.2.4');
  t.same(d.routeSet.map((r) => r.uri.host), ['p1.atlanta.example.com', 'p2.biloxi.example.com'], 'reversed');
  t.equal(d.secure, false);

  const bye = d.createRequest('BYE');
  t.equal(bye.method, 'BYE');
  t.equal(formatUri(bye.uri), 'sip:bob@192.0.2.4', 'loose routing: target in the Request-URI');
  t.same(bye.headers.getAll('Route'), ['<sip:p1.atlanta.example.com;lr>', '<sip:p2.biloxi.example.com;lr>']);
  t.same(bye.cseq, { seq: 314160, method: 'BYE' });
  t.equal(bye.fromTag, '1928301774');
  t.equal(bye.toTag, 'a6c85cf');
  t.equal(bye.callId, d.id.callId);
  t.equal(bye.maxForwards, 70);
  t.notOk(bye.headers.has('Contact'), 'BYE carries no Contact');
  t.equal(d.state, 'terminated', 'BYE ends the dialog (§15.1.1)');
  t.throws(() => d.createRequest('INFO'), { name: 'ClosedError' });
  t.match(serializeMessage(bye).toString(), /^BYE sip:bob@192.0.2.4 SIP\/2.0\r\n/);
});

t.test('secure flag needs TLS and a sips Request-URI', async (t) => {
  const sipsInvite = req(INVITE.map((l, i) => (i === 0 ? 'INVITE sips:bob@biloxi.example.com SIP/2.0' : l)));
  t.equal(Dialog.asUac(sipsInvite, ok200(), { secureTransport: true })!.secure, true);
  t.equal(Dialog.asUac(sipsInvite, ok200())!.secure, false);
  t.equal(Dialog.asUac(invite(), ok200(), { secureTransport: true })!.secure, false);
});

t.test('UAC early dialog, then 2xx recomputes the route set and target (§13.2.2.4)', async (t) => {
  const d = Dialog.asUac(invite(), response(180, 'Ringing', ['Record-Route: <sip:early.example.com;lr>']))!;
  t.equal(d.state, 'early');
  t.equal(formatUri(d.remoteTarget), 'sip:bob@biloxi.example.com', 'no Contact on the 180: Request-URI');
  t.notOk(d.canSendInvite, 'initial INVITE still pending');
  d.receiveResponse(ok200());
  t.equal(d.state, 'confirmed');
  t.equal(formatUri(d.remoteTarget), 'sip:bob@192.0.2.4');
  t.equal(d.routeSet.length, 2);
  t.ok(d.canSendInvite);
  const ack = d.createAck(314159);
  t.same(ack.cseq, { seq: 314159, method: 'ACK' }, 'ACK keeps the INVITE number');
  t.equal(d.localSeq, 314159, 'ACK does not consume a CSeq');
  t.equal(ack.headers.getAll('Route').length, 2);

  const early2 = Dialog.asUac(invite(), response(183, 'Session Progress', ['Contact: <sip:bob@192.0.2.9>']))!;
  early2.receiveResponse(response(486, 'Busy Here'));
  t.equal(early2.state, 'terminated', 'non-2xx final ends the early dialog (§12.3)');
});

t.test('strict routing (§12.2.1.1)', async (t) => {
  const d = Dialog.asUac(invite(), response(200, 'OK', ['Contact: <sip:bob@192.0.2.4>', 'Record-Route: <sip:strict.example.com;method=INVITE>', 'Record-Route: <sip:p1.example.com;lr>']))!;
  const info = d.createRequest('INFO');
  t.equal(formatUri(info.uri), 'sip:bob@192.0.2.4', 'first route (after reversal) is loose: target stays');
  t.same(info.headers.getAll('Route'), ['<sip:p1.example.com;lr>', '<sip:strict.example.com;method=INVITE>']);
  const d2 = Dialog.asUac(invite(), response(200, 'OK', ['Contact: <sip:bob@192.0.2.4>', 'Record-Route: <sip:p2.example.com;lr>', 'Record-Route: <sip:strict.example.com;method=INVITE?X=1>']))!;
  const info2 = d2.createRequest('INFO');
  t.equal(formatUri(info2.uri), 'sip:strict.example.com', 'strict first hop becomes the Request-URI, minus method and headers');
  t.same(info2.headers.getAll('Route'), ['<sip:p2.example.com;lr>', '<sip:bob@192.0.2.4>'], 'remote target goes last');
});

t.test('UAS dialog (§12.1.1) and remote CSeq rules (§12.2.2)', async (t) => {
  const r = invite();
  const d = Dialog.asUas(r, response(180, 'Ringing'), { initialLocalSeq: 7, localContact: '<sip:bob@192.0.2.4>' })!;
  t.equal(d.state, 'early');
  t.same(d.id, { callId: r.callId, localTag: 'a6c85cf', remoteTag: '1928301774' });
  t.equal(d.remoteSeq, 314159);
  t.equal(d.localSeq, 7);
  t.equal(formatUri(d.remoteTarget), 'sip:alice@pc33.atlanta.example.com');
  t.same(d.routeSet.map((x) => x.uri.host), ['p2.biloxi.example.com', 'p1.atlanta.example.com'], 'in order');
  t.notOk(d.ownsCallId);
  d.responseSent(response(200, 'OK'));
  t.equal(d.state, 'confirmed');

  t.same(d.receiveRequest(req(['ACK sip:bob@192.0.2.4 SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bKa', 'From: <sip:alice@atlanta.example.com>;tag=1928301774', 'To: <sip:bob@biloxi.example.com>;tag=a6c85cf', 'Call-ID: a84b4c76e66710@pc33.atlanta.example.com', 'CSeq: 314159 ACK'])), { accept: true });
  t.same(d.receiveRequest(fromBobAsAlice('INFO', 314160)), { accept: true });
  t.equal(d.remoteSeq, 314160);
  t.match(d.receiveRequest(fromBobAsAlice('INFO', 314100)), { accept: false, status: 500 }, 'lower CSeq -> 500');
  t.equal(d.remoteSeq, 314160);
  // re-INVITE refreshes the remote target
  t.same(d.receiveRequest(fromBobAsAlice('INVITE', 314161, ['Contact: <sip:alice@198.51.100.7>'])), { accept: true });
  t.equal(formatUri(d.remoteTarget), 'sip:alice@198.51.100.7');
  t.match(d.receiveRequest(fromBobAsAlice('INVITE', 314162)), { accept: false, status: 500, headers: [['Retry-After', /^\d+$/]] }, 'second INVITE before answering');
  t.throws(() => d.createRequest('INVITE'), { name: 'ConflictError' }, 'no INVITE while one is in progress');
  d.responseSent(response(200, 'OK', [], '314161 INVITE'));
  t.ok(d.canSendInvite);

  const upd = d.createRequest('UPDATE');
  t.same(upd.cseq, { seq: 8, method: 'UPDATE' });
  t.equal(upd.headers.get('Contact'), '<sip:bob@192.0.2.4>', 'target refresh carries Contact');
  t.equal(upd.fromTag, 'a6c85cf');
  t.equal(upd.toTag, '1928301774');
  t.equal(formatUri(upd.uri), 'sip:alice@198.51.100.7');
  d.receiveResponse(response(200, 'OK', ['Contact: <sip:alice@203.0.113.1>'], '8 UPDATE'));
  t.equal(formatUri(d.remoteTarget), 'sip:alice@203.0.113.1', '2xx to UPDATE refreshes the target (§12.2.1.2)');

  d.receiveRequest(fromBobAsAlice('BYE', 314170));
  d.responseSent(response(200, 'OK', [], '314170 BYE'));
  t.equal(d.state, 'terminated');
  t.match(d.receiveRequest(fromBobAsAlice('INFO', 314171)), { accept: false, status: 481 });
});

/** requests from Alice (the UAC) to a UAS dialog on Bob's side */
function fromBobAsAlice(method: string, seq: number, extra: string[] = []) {
  return req([
    `${method} sip:bob@192.0.2.4 SIP/2.0`,
    'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKx' + String(seq),
    'Max-Forwards: 70',
    'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
    'To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    `CSeq: ${seq} ${method}`,
    ...extra,
  ]);
}

t.test('cannot make a dialog from incomplete messages', async (t) => {
  t.equal(Dialog.asUas(req(INVITE.filter((l) => !l.startsWith('Contact'))), response(200, 'OK')), undefined, 'no Contact');
  t.equal(Dialog.asUac(invite(), response(100, 'Trying')), undefined);
  t.equal(Dialog.asUac(invite(), response(486, 'Busy Here')), undefined);
  t.equal(Dialog.asUac(invite(), res(['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP h;branch=z9hG4bKq', 'To: <sip:bob@b>', 'From: <sip:a@a>;tag=1', 'Call-ID: c', 'CSeq: 1 INVITE'])), undefined, 'no To tag');
});

t.test('glare (§14.1, §14.2)', async (t) => {
  const d = Dialog.asUac(invite(), ok200(), { random: () => 0.5 })!;
  const reinvite = d.createRequest('INVITE');
  t.same(reinvite.cseq, { seq: 314160, method: 'INVITE' });
  t.match(reinvite.headers.get('Contact'), /alice@pc33/);
  t.match(d.receiveRequest(fromBob('INVITE', 1)), { accept: false, status: 491, reason: 'Request Pending' });
  t.equal(d.remoteSeq, 1);
  d.receiveResponse(response(491, 'Request Pending', [], '314160 INVITE'));
  t.equal(d.state, 'confirmed', '491 does not end the dialog');
  t.ok(d.canSendInvite);
  t.equal(d.glareRetryDelayMs(), 2100 + 10 * 95, 'Call-ID owner: 2.1–4 s');
  const s = new FakeScheduler();
  let retried = 0;
  d.scheduleGlareRetry(s, () => retried++);
  s.advance(3049);
  t.equal(retried, 0);
  s.advance(1);
  t.equal(retried, 1);

  const lo = Dialog.asUac(invite(), ok200(), { random: () => 0 })!;
  const hi = Dialog.asUac(invite(), ok200(), { random: () => 0.99999 })!;
  t.equal(lo.glareRetryDelayMs(), 2100);
  t.equal(hi.glareRetryDelayMs(), 4000);
  const uas = Dialog.asUas(invite(), response(200, 'OK'), { random: () => 0.99999 })!;
  t.equal(uas.glareRetryDelayMs(), 2000, 'not the owner: 0–2 s');
  t.equal(Dialog.asUas(invite(), response(200, 'OK'), { random: () => 0 })!.glareRetryDelayMs(), 0);

  // terminate cancels a pending retry
  d.scheduleGlareRetry(s, () => retried++);
  d.terminate();
  d.terminate();
  s.runAll();
  t.equal(retried, 1);
  t.equal(s.pending, 0);
});

t.test('481 or 408 to an in-dialog request ends the dialog (§12.2.1.2)', async (t) => {
  const d = Dialog.asUac(invite(), ok200())!;
  d.createRequest('INFO');
  d.receiveResponse(response(481, 'Call/Transaction Does Not Exist', [], '314160 INFO'));
  t.equal(d.state, 'terminated');
});

t.test('DialogStore', async (t) => {
  const store = new DialogStore();
  const uac = Dialog.asUac(invite(), ok200())!;
  store.add(uac);
  t.equal(store.size, 1);
  t.equal(store.findForRequest(fromBob('INFO', 1)), uac, 'incoming: To tag is ours');
  t.equal(store.findForResponse(ok200()), uac);
  t.equal(store.findForRequest(invite()), undefined, 'no To tag');
  t.equal(store.get(uac.id), uac);
  let terminated = 0;
  uac.onTerminated(() => terminated++);
  uac.onTerminated(() => {
    throw new Error('listener failure is contained');
  });
  uac.terminate();
  t.equal(terminated, 1);
  t.equal(store.size, 0, 'terminated dialogs leave the store');

  const uas = Dialog.asUas(invite(), response(180, 'Ringing'))!;
  store.add(uas);
  t.equal(store.findForRequest(fromBobAsAlice('CANCEL', 314159)), uas);
  t.ok(store.remove(uas.id));
  store.add(uas);
  store.close();
  store.close();
  t.equal(uas.state, 'terminated');
  t.equal(store.size, 0);
});
