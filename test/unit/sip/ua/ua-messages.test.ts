/** Pure helpers and the usage state machines of the user agent. */
import t from 'tap';
import { parseMessage, type SipRequest } from '../../../../src/sip/message/index.js';
import {
  formatReferTo,
  formatReplaces,
  negotiateAsUas,
  parseDtmfBody,
  parseReferTo,
  parseReplaces,
  parseSessionExpires,
  parseSipfragStatus,
} from '../../../../src/sip/ua/index.js';
import { parseRAck, parseRSeq } from '../../../../src/sip/ua/ua-messages.js';
import { incomingInviteMachine, INCOMING_INVITE_TRANSITIONS } from '../../../../src/sip/ua/incoming-invite-state.js';
import { outgoingInviteMachine, OUTGOING_INVITE_TRANSITIONS } from '../../../../src/sip/ua/outgoing-invite-state.js';

function invite(extra: string): SipRequest {
  const text =
    'INVITE sip:b@127.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>\r\n' +
    'Call-ID: c\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1>\r\n' + extra + 'Content-Length: 0\r\n\r\n';
  const r = parseMessage(Buffer.from(text));
  if (!r.ok || r.message.kind !== 'request') throw new Error('fixture');
  return r.message;
}

t.test('RSeq / RAck (RFC 3262 §7)', async (t) => {
  t.same(parseRAck('776656 1 INVITE'), { rseq: 776656, cseq: 1, method: 'INVITE' });
  t.equal(parseRAck('x 1 INVITE'), undefined);
  t.equal(parseRSeq(' 12 '), 12);
  t.equal(parseRSeq('1a'), undefined);
});

t.test('Session-Expires and UAS negotiation (RFC 4028 §9)', async (t) => {
  t.same(parseSessionExpires('1800;refresher=uas'), { interval: 1800, refresher: 'uas' });
  t.same(parseSessionExpires('90'), { interval: 90, refresher: undefined });
  t.equal(parseSessionExpires('soon'), undefined);
  t.same(negotiateAsUas(invite('Session-Expires: 60\r\n'), undefined), { reject: 90 }, 'below 90 -> 422 Min-SE 90');
  t.same(negotiateAsUas(invite('Session-Expires: 600\r\n'), { interval: 1800, minSE: 900 }), { reject: 900 });
  t.same(negotiateAsUas(invite('Supported: timer\r\nSession-Expires: 1800\r\n'), { interval: 600, minSE: 90 }), { session: { interval: 600, refresher: 'uac' }, requireTimer: true }, 'shortened, UAC refreshes');
  t.same(negotiateAsUas(invite('Session-Expires: 1800;refresher=uas\r\nSupported: timer\r\n'), undefined), { session: { interval: 1800, refresher: 'uas' }, requireTimer: true });
  t.same(negotiateAsUas(invite(''), { interval: 300, minSE: 90 }), { session: { interval: 300, refresher: 'uas' }, requireTimer: false }, 'no timer support at the UAC: we refresh');
  t.same(negotiateAsUas(invite(''), undefined), { session: undefined, requireTimer: false });
});

t.test('Replaces and Refer-To (RFC 3891, RFC 3515)', async (t) => {
  const r = parseReplaces('98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only');
  t.same(r, { callId: '98732@sip.example.com', toTag: 'ff87ff', fromTag: 'r33th4x0r', earlyOnly: true });
  t.equal(parseReplaces('only-call-id'), undefined);
  t.equal(formatReplaces({ callId: 'c@h', toTag: 't', fromTag: 'f', earlyOnly: false }), 'c@h;to-tag=t;from-tag=f');
  const referTo = formatReferTo('sip:carol@example.com', { callId: 'c@h', toTag: 't', fromTag: 'f', earlyOnly: false });
  t.equal(referTo, '<sip:carol@example.com?Replaces=c%40h%3Bto-tag%3Dt%3Bfrom-tag%3Df>');
  const parsed = parseReferTo(referTo);
  t.equal(parsed?.uri.user, 'carol');
  t.same(parsed?.replaces, { callId: 'c@h', toTag: 't', fromTag: 'f', earlyOnly: false });
  t.equal(parseReferTo('<not a uri>'), undefined);
});

t.test('message/sipfrag and DTMF bodies', async (t) => {
  t.same(parseSipfragStatus(Buffer.from('SIP/2.0 180 Ringing\r\n')), { status: 180, reason: 'Ringing' });
  t.equal(parseSipfragStatus(Buffer.from('garbage')), undefined);
  t.same(parseDtmfBody('application/dtmf-relay', Buffer.from('Signal=*\r\nDuration=250\r\n')), { signal: '*', duration: 250 });
  t.same(parseDtmfBody('application/dtmf-relay', Buffer.from('signal= 1\nduration=100')), { signal: '1', duration: 100 });
  t.same(parseDtmfBody('application/dtmf', Buffer.from('11')), { signal: '11', duration: undefined });
  t.equal(parseDtmfBody('application/dtmf-relay', Buffer.from('Duration=100')), undefined);
  t.equal(parseDtmfBody('text/plain', Buffer.from('Signal=1')), undefined);
});

t.test('usage state machines refuse illegal moves', async (t) => {
  const inc = incomingInviteMachine();
  inc.transition('early');
  inc.transition('accepted');
  t.throws(() => inc.transition('rejected'), /illegal transition accepted -> rejected/);
  inc.transition('confirmed');
  t.same(INCOMING_INVITE_TRANSITIONS.confirmed, [], 'confirmed is final');
  const out = outgoingInviteMachine();
  out.transition('proceeding');
  out.transition('cancelling');
  t.ok(out.can('answered'), 'a 2xx may still win against CANCEL (§9.1)');
  out.transition('failed');
  t.throws(() => out.transition('answered'));
  t.same(OUTGOING_INVITE_TRANSITIONS.answered, []);
});
