/**
 * InviteOptions.responseTimeoutMs on fake time: an INVITE that draws no response at all is given
 * up in seconds rather than at Timer B (32 s), a late provisional then gets its §9.1 CANCEL, and
 * any response in time (a 100 Trying) leaves the call to ring as long as it likes.
 */
import t from 'tap';
import { ANSWER, OFFER, setup } from './harness.js';

const URI = 'sip:bob@127.0.0.2:5060';
const FROM = 'sip:alice@127.0.0.1';

t.test('no response at all: the INVITE fails with 408 (cause timeout) when responseTimeoutMs runs out', async (t) => {
  const s = setup();
  s.b.dropIn = () => true; // a dead next hop: the port is there, nothing answers
  const out = s.a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER, responseTimeoutMs: 2000 });
  let settled = false;
  void out.done.then(() => (settled = true));
  await s.advance(1900);
  t.equal(settled, false, 'still waiting just before the timeout');
  await s.advance(200);
  const r = await out.done;
  t.match(r, { ok: false, failure: { status: 408, cause: 'timeout' } }, 'given up after 2 s, not Timer B');
  t.equal(s.a.ua.pendingInviteCount, 0, 'no pending INVITE is left');
  t.equal(s.a.requests('CANCEL').length, 0, 'no CANCEL before any provisional response (§9.1)');
  await s.advance(40_000, 1000);
  await s.a.close();
  await s.b.close();
});

t.test('a provisional response after giving up is answered with a CANCEL (§9.1)', async (t) => {
  const s = setup();
  let dropping = true;
  s.b.dropIn = () => dropping;
  let cancelled = false;
  s.b.ua.on('invite', (incoming) => {
    incoming.progress(180);
    incoming.on('cancelled', () => (cancelled = true));
  });
  const out = s.a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER, responseTimeoutMs: 1000 });
  await s.advance(1200);
  t.match(await out.done, { ok: false, failure: { status: 408, cause: 'timeout' } });
  dropping = false; // the next retransmission (Timer A) gets through and is answered with 180
  await s.advance(4000);
  t.equal(s.a.requests('CANCEL').length, 1, 'the late 180 drew a CANCEL');
  t.equal(cancelled, true, 'the callee saw the INVITE cancelled');
  await s.advance(40_000, 1000);
  await s.a.close();
  await s.b.close();
});

t.test('a response in time disarms it: the call may ring longer than the response timeout', async (t) => {
  const s = setup();
  s.b.ua.on('invite', (incoming) => {
    incoming.progress(180);
    s.scheduler.setTimeout(() => void incoming.accept({ sdp: ANSWER }), 5000);
  });
  const out = s.a.ua.invite({ requestUri: URI, from: FROM, to: URI, sdp: OFFER, responseTimeoutMs: 1000 });
  await s.advance(6000);
  const r = await out.done;
  t.equal(r.ok, true, 'answered after 5 s of ringing');
  if (r.ok) await r.dialog.bye();
  await s.advance(40_000, 1000);
  await s.a.close();
  await s.b.close();
});
