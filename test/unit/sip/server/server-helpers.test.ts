import t from 'tap';
import { parseMessage, type SipRequest } from '../../../../src/sip/message/index.js';
import { stampVia, statelessErrorResponse } from '../../../../src/sip/server/index.js';
import { statelessToTag } from '../../../../src/sip/server/stateless-reply.js';

function request(via: string, extra = ''): SipRequest {
  const r = parseMessage(
    Buffer.from(
      `OPTIONS sip:srv.example.com SIP/2.0\r\nVia: ${via}\r\nVia: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1\r\nMax-Forwards: 70\r\n` +
        `From: <sip:a@example.com>;tag=abc\r\nTo: <sip:srv.example.com>${extra}\r\nCall-ID: c1@example.com\r\nCSeq: 7 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
    ),
  );
  if (!r.ok || r.message.kind !== 'request') throw new Error('fixture does not parse');
  return r.message;
}

const source = { protocol: 'udp' as const, address: '198.51.100.7', port: 40000 };

t.test('stampVia: received and rport per RFC 3261 §18.2.1 and RFC 3581', async (t) => {
  const nat = request('SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa;rport');
  const from = nat.from;
  t.ok(stampVia(nat, source, false));
  t.equal(nat.topVia?.params.get('received'), '198.51.100.7', 'received added: sent-by differs from the source');
  t.equal(nat.topVia?.params.get('rport'), '40000', 'rport filled with the source port');
  t.match(nat.headers.getAll('Via')[0] ?? '', /received=198\.51\.100\.7;rport=40000|rport=40000;received=198\.51\.100\.7/);
  t.equal(nat.vias.length, 2, 'the second Via is untouched');
  t.equal(nat.from, from, 'other typed views survive the Via edit (not parsed again)');

  const plain = request('SIP/2.0/UDP 198.51.100.7:40000;branch=z9hG4bKb');
  t.ok(stampVia(plain, source, false));
  t.notOk(plain.topVia?.params.has('received'), 'no received when sent-by is the source address');
  t.notOk(plain.topVia?.params.has('rport'), 'no rport unless asked for');

  const forced = request('SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKc');
  stampVia(forced, source, true);
  t.equal(forced.topVia?.params.get('rport'), '40000', 'forceRport answers to the source port');
});

t.test('statelessToTag: RFC 3261 §8.2.7 deterministic tags', async (t) => {
  const a1 = request('SIP/2.0/UDP h;branch=z9hG4bKsame');
  const a2 = request('SIP/2.0/UDP h;branch=z9hG4bKsame');
  const b = request('SIP/2.0/UDP h;branch=z9hG4bKother');
  t.equal(statelessToTag(a1), statelessToTag(a2), 'a retransmission gets the same tag');
  t.not(statelessToTag(a1), statelessToTag(b), 'another request gets another tag');
  t.ok(statelessToTag(a1).length >= 8, 'at least 32 bits');
  t.equal(statelessToTag(request('SIP/2.0/UDP h;branch=z9hG4bKx', ';tag=given')), 'given', 'an existing To tag is kept');
});

t.test('statelessErrorResponse: a 400 from recovered headers', async (t) => {
  const r = parseMessage(Buffer.from('INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\nFrom: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'));
  t.notOk(r.ok, 'the CSeq method mismatch is refused');
  if (r.ok) return;
  const bytes = statelessErrorResponse(r.error.status, r.error.reason, r.error.partial?.headers, 'opencx/test');
  t.ok(bytes, 'a response can be built');
  const text = bytes!.toString();
  t.match(text, /^SIP\/2\.0 400 /);
  t.match(text, /\r\nVia: SIP\/2\.0\/UDP h;branch=z9hG4bK1\r\n/);
  t.match(text, /\r\nTo: <sip:a@b>;tag=\w+/, 'a To tag is added (§8.2.6.2)');
  t.match(text, /\r\nContent-Length: 0\r\n\r\n$/);
  t.equal(statelessErrorResponse(400, 'x', undefined, 'u'), undefined, 'nothing to address without headers');
  const reparsed = parseMessage(bytes!);
  t.ok(reparsed.ok, 'the 400 itself is a valid SIP message');
});
