/**
 * Less common paths: session refresh by re-INVITE, the UAS as refresher, a 2xx retransmitted
 * after the INVITE client transaction is gone, INVITE with Replaces, unknown in-dialog methods.
 */
import t from 'tap';
import { serializeMessage, type SipResponse } from '../../../../src/sip/message/index.js';
import type { IncomingInvite, UaDialog, UserAgentServiceOptions, InviteOptions } from '../../../../src/sip/ua/index.js';
import { ANSWER, OFFER, setup } from './harness.js';

const URI = 'sip:bob@127.0.0.2:5060';
const FROM = 'sip:alice@127.0.0.1';

async function call(opts: { a?: UserAgentServiceOptions; b?: UserAgentServiceOptions; invite?: Partial<InviteOptions>; before?: (s: ReturnType<typeof setup>) => void } = {}) {
  const s = setup(opts);
  opts.before?.(s);
  const incoming: IncomingInvite[] = [];
  let uas: Promise<UaDialog> | undefined;
  s.b.ua.on('invite', (c) => {
    incoming.push(c);
    uas ??= c.accept({ sdp: ANSWER });
  });
  const out = s.a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER, ...opts.invite });
  await s.flush();
  const r = await out.done;
  if (!r.ok) throw new Error('call failed');
  return { ...s, uac: r.dialog, uas: await uas!, incoming };
}

t.test('session refresh by re-INVITE when the peer does not allow UPDATE', async (t) => {
  const { a, b, uac, uas, advance, flush } = await call({
    b: { sessionTimer: { interval: 90, minSE: 90 } },
    before: (s) => Object.defineProperty(s.b.ua, 'allow', { value: 'INVITE, ACK, BYE, CANCEL' }),
  });
  t.equal(uac.session?.refresher, 'local');
  let asked = 0;
  uas.on('reinvite', () => asked++);
  await advance(45_000, 1000);
  const reinvites = a.requests('INVITE').slice(1);
  t.equal(reinvites.length, 1, 're-INVITE refresh at half of 90 s');
  t.equal(reinvites[0]!.body.toString(), OFFER, 'the refresh carries our current SDP');
  t.equal(asked, 0, 'an unchanged SDP is answered without bothering the owner');
  t.equal(a.requests('ACK').length, 2, 'refresh 2xx ACKed');
  t.equal(uas.ended, false);
  a.close();
  b.close();
  await flush();
});

t.test('the UAS refreshes when the UAC asks it to (refresher=uas)', async (t) => {
  const { a, b, uac, uas, advance, flush } = await call({
    b: { sessionTimer: { interval: 1800, minSE: 90 } },
    invite: { sessionExpires: false, headers: [['Session-Expires', '120;refresher=uas']] },
  });
  t.same(uas.session, { interval: 120, refresher: 'local' });
  t.same(uac.session, { interval: 120, refresher: 'remote' });
  await advance(60_000, 1000);
  t.equal(b.requests('UPDATE').length, 1, 'the callee sent the refresh');
  t.same(uas.session, { interval: 120, refresher: 'local' }, 'still the refresher after its refresh');
  t.same(uac.session, { interval: 120, refresher: 'remote' });
  await advance(120_000, 1000);
  t.equal(uac.ended || uas.ended, false);
  a.close();
  b.close();
  await flush();
});

t.test('a 2xx retransmitted after the INVITE client transaction ended is ACKed again', async (t) => {
  const { a, b, advance, flush } = await call();
  const ok = b.seen.find((s) => s.dir === 'out' && s.message.kind === 'response' && s.message.status === 200)!.message as SipResponse;
  await advance(40_000, 1000); // past Timer M (64*T1)
  const acks = a.requests('ACK').length;
  await b.transport.send({ protocol: 'udp', address: '127.0.0.1', port: 5060 }, serializeMessage(ok));
  await flush();
  t.equal(a.requests('ACK').length, acks + 1, 'stray 2xx re-ACKed');
  a.close();
  b.close();
  await flush();
});

t.test('INVITE with Replaces names an existing dialog (RFC 3891)', async (t) => {
  const { a, b, uas, incoming, flush } = await call();
  const replaces = `${uas.callId};to-tag=${uas.id.localTag};from-tag=${uas.id.remoteTag}`;
  const second = a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER, headers: [['Replaces', replaces]] });
  await flush();
  t.equal(incoming.length, 2);
  const target = incoming[1]!.replaces;
  t.ok(target);
  t.equal(b.ua.findByReplaces(target!), uas, 'the B2BUA finds the dialog to replace');
  incoming[1]!.reject(486);
  await flush();
  t.equal((await second.done).ok, false);
  a.close();
  b.close();
  await flush();
});

t.test('an in-dialog method nobody handles gets 405 with Allow', async (t) => {
  const { a, b, uac, flush } = await call();
  const r = await uac.sendRequest('MESSAGE', { body: 'x', contentType: 'text/plain' });
  t.equal(r.status, 405);
  t.match(r.headers.get('Allow'), /INVITE/);
  const opt = await uac.sendRequest('OPTIONS');
  t.equal(opt.status, 200, 'in-dialog OPTIONS answered');
  await t.rejects(uac.sendRequest('BYE'), /own method/);
  await uac.bye();
  await t.rejects(uac.info({ body: 'x', contentType: 'text/plain' }), /ended/);
  t.equal(await uac.bye(), undefined, 'a second bye() does nothing');
  await flush();
  t.equal(a.ua.dialogCount + b.ua.dialogCount, 0);
});

t.test('a PRACK crossing the 2xx gets 481 and the call survives (RFC 3262 §3)', async (t) => {
  const s = setup();
  const calls: IncomingInvite[] = [];
  s.b.ua.on('invite', (c) => calls.push(c));
  const out = s.a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER });
  await s.flush();
  calls[0]!.progress(183, { sdp: ANSWER, reliable: true });
  const uas = calls[0]!.accept({ sdp: ANSWER }); // before the PRACK arrives
  await s.flush();
  const r = await out.done;
  t.ok(r.ok);
  await uas;
  t.ok(s.b.responses('PRACK').some((x) => x.status === 481), 'late PRACK answered 481');
  if (r.ok) {
    t.equal(r.dialog.ended, false, 'the 481 to PRACK does not end the dialog');
    const info = await r.dialog.sendDtmf('1');
    t.equal(info.status, 200, 'the dialog still works');
  }
  s.a.close();
  s.b.close();
  await s.flush();
  t.equal(s.a.ua.dialogCount + s.b.ua.dialogCount, 0);
});

t.test('a BYE that overtakes a lost ACK confirms and ends the dialog at once', async (t) => {
  const s = setup();
  let uas: Promise<UaDialog> | undefined;
  s.b.ua.on('invite', (c) => {
    uas = c.accept({ sdp: ANSWER });
  });
  s.b.dropIn = (m) => m.kind === 'request' && m.method === 'ACK';
  const out = s.a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER });
  await s.flush();
  const r = await out.done;
  t.ok(r.ok);
  if (!r.ok) return;
  const bye = await r.dialog.bye();
  await s.flush();
  t.equal(bye?.status, 200, 'BYE answered 200, not 481');
  const dialog = await uas!;
  t.equal(dialog.endReason?.cause, 'bye');
  const count = s.b.responses('INVITE').filter((x) => x.status === 200).length;
  await s.advance(10_000, 500);
  t.equal(s.b.responses('INVITE').filter((x) => x.status === 200).length, count, '2xx retransmissions stopped');
  t.equal(s.a.ua.dialogCount + s.b.ua.dialogCount, 0);
});

t.test('over TCP the callee reaches the caller back over its connection', async (t) => {
  const s = setup({ protocol: 'tcp' });
  let uas: Promise<UaDialog> | undefined;
  s.b.ua.on('invite', (c) => {
    uas = c.accept({ sdp: ANSWER });
  });
  const out = s.a.ua.invite({
    requestUri: 'sip:bob@127.0.0.2:5060;transport=tcp',
    from: FROM,
    to: URI,
    sdp: OFFER,
  });
  await s.flush();
  const r = await out.done;
  t.ok(r.ok);
  const dialog = await uas!;
  t.match(s.a.requests('INVITE')[0]!.headers.get('Contact'), /transport=tcp/);
  const bye = await dialog.bye();
  t.equal(bye?.status, 200, 'BYE from the callee over the same connection');
  const sentBye = s.hub.log.find((e) => e.data.toString().startsWith('BYE '));
  t.ok(sentBye?.target.connectionId, 'BYE sent on the existing connection');
  await s.flush();
  t.equal(s.a.ua.dialogCount + s.b.ua.dialogCount, 0);
});

t.test('a 2xx arriving after the caller closed is ACKed and hung up', async (t) => {
  const s = setup();
  const calls: IncomingInvite[] = [];
  s.b.ua.on('invite', (c) => calls.push(c));
  const out = s.a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER });
  await s.flush();
  void s.a.close(); // no provisional yet: the CANCEL cannot go out (§9.1), the call is given up
  const r = await out.done;
  t.notOk(r.ok);
  const ended: string[] = [];
  const p = calls[0]!.accept({ sdp: ANSWER });
  p.then((d) => d.on('ended', (e) => ended.push(e.cause))).catch(() => undefined);
  await s.flush();
  t.equal(s.a.requests('ACK').length, 1, 'the late 2xx is ACKed');
  t.equal(s.a.requests('BYE').length, 1, 'and hung up');
  t.equal(s.b.ua.dialogCount, 0);
});
