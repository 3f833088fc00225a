import t from 'tap';
import { parseMessage, type SipRequest } from '../../../../src/sip/message/index.js';
import { checkUasRequest, optionsResponse, type UasCheckOptions } from '../../../../src/sip/dialog/index.js';

function req(first: string, extra: string[] = [], body = '', maxForwards = 70): SipRequest {
  const method = first.split(' ')[0]!;
  const text = [
    first,
    'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9',
    `Max-Forwards: ${maxForwards}`,
    'From: <sip:alice@example.com>;tag=9fxced76sl',
    'To: <sip:bob@example.com>',
    'Call-ID: 3848276298220188511@example.com',
    `CSeq: 1 ${method}`,
    ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
  const r = parseMessage(Buffer.from(text));
  if (!r.ok) throw new Error(r.error.reason);
  return r.message as SipRequest;
}

const OPTS: UasCheckOptions = {
  allowedMethods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS'],
  supportedExtensions: ['timer', '100rel'],
  acceptedContentTypes: ['application/sdp'],
  toTag: 'uas1',
};

t.test('a good request passes', async (t) => {
  t.equal(checkUasRequest(req('INVITE sip:bob@example.com SIP/2.0', ['Content-Type: application/sdp', 'Require: timer'], 'v=0\r\n'), OPTS), undefined);
  t.equal(checkUasRequest(req('BYE sip:bob@example.com SIP/2.0'), OPTS), undefined);
});

t.test('§8.2.1 methods: 405 for known, 501 for unknown, both with Allow', async (t) => {
  const r405 = checkUasRequest(req('REGISTER sip:example.com SIP/2.0'), OPTS)!;
  t.equal(r405.status, 405);
  t.equal(r405.headers.get('Allow'), 'INVITE, ACK, BYE, CANCEL, OPTIONS');
  t.equal(r405.toTag, 'uas1', '§8.2.6.2 To tag added');
  t.equal(r405.callId, '3848276298220188511@example.com');
  const r501 = checkUasRequest(req('FOO sip:bob@example.com SIP/2.0'), OPTS)!;
  t.equal(r501.status, 501);
  t.equal(r501.headers.get('Allow'), 'INVITE, ACK, BYE, CANCEL, OPTIONS');
  const { toTag: _unused, ...noTag } = OPTS;
  const random = checkUasRequest(req('FOO sip:bob@example.com SIP/2.0'), noTag)!;
  t.ok(random.toTag !== undefined && random.toTag.length > 0, 'random To tag by default');
});

t.test('§8.2.2.1 unsupported Request-URI scheme -> 416', async (t) => {
  t.equal(checkUasRequest(req('INVITE tel:+15551234567 SIP/2.0'), OPTS)!.status, 416);
  t.equal(checkUasRequest(req('INVITE tel:+15551234567 SIP/2.0'), { ...OPTS, supportedSchemes: ['sip', 'sips', 'tel'] }), undefined);
  t.equal(checkUasRequest(req('INVITE sips:bob@example.com SIP/2.0'), OPTS), undefined);
});

t.test('§8.2.2.3 Require -> 420 with Unsupported; never for ACK/CANCEL', async (t) => {
  const r = checkUasRequest(req('INVITE sip:bob@example.com SIP/2.0', ['Require: timer, foo', 'Require: bar']), OPTS)!;
  t.equal(r.status, 420);
  t.equal(r.headers.get('Unsupported'), 'foo, bar');
  t.equal(checkUasRequest(req('CANCEL sip:bob@example.com SIP/2.0', ['Require: foo']), OPTS), undefined);
  t.equal(checkUasRequest(req('ACK sip:bob@example.com SIP/2.0', ['Require: foo']), OPTS), undefined);
  t.equal(checkUasRequest(req('INVITE sip:bob@example.com SIP/2.0', ['Require: 100REL']), OPTS), undefined, 'option tags compare case-insensitively');
});

t.test('§8.2.3 content -> 415 with Accept', async (t) => {
  const r = checkUasRequest(req('INVITE sip:bob@example.com SIP/2.0', ['Content-Type: text/plain'], 'hello'), OPTS)!;
  t.equal(r.status, 415);
  t.equal(r.headers.get('Accept'), 'application/sdp');
  t.equal(checkUasRequest(req('INVITE sip:bob@example.com SIP/2.0', ['Content-Type: Application/SDP; charset=utf-8'], 'v=0'), OPTS), undefined);
  t.equal(checkUasRequest(req('INVITE sip:bob@example.com SIP/2.0', [], 'v=0'), OPTS)!.status, 415, 'body without Content-Type');
  t.equal(checkUasRequest(req('INVITE sip:bob@example.com SIP/2.0', ['Content-Type: text/plain']), OPTS), undefined, 'no body, no check');
  const enc = checkUasRequest(req('INVITE sip:bob@example.com SIP/2.0', ['Content-Type: application/sdp', 'Content-Encoding: gzip'], 'xx'), OPTS)!;
  t.equal(enc.status, 415);
  t.equal(enc.headers.get('Accept-Encoding'), 'identity');
});

t.test('§12.2.2 in-dialog request without a dialog -> 481', async (t) => {
  const bye = req('BYE sip:bob@example.com SIP/2.0');
  bye.headers.set('To', '<sip:bob@example.com>;tag=gone');
  bye.invalidate();
  t.equal(checkUasRequest(bye, { ...OPTS, dialogExists: () => false })!.status, 481);
  t.equal(checkUasRequest(bye, { ...OPTS, dialogExists: () => true }), undefined);
  t.equal(checkUasRequest(bye, OPTS), undefined, 'no dialog check configured');
  t.equal(checkUasRequest(req('BYE sip:bob@example.com SIP/2.0'), { ...OPTS, dialogExists: () => false }), undefined, 'no To tag');
});

t.test('Max-Forwards rule', async (t) => {
  const fwd = { ...OPTS, needsForwarding: () => true };
  t.equal(checkUasRequest(req('INVITE sip:carol@elsewhere.com SIP/2.0', [], '', 0), fwd)!.status, 483);
  t.equal(checkUasRequest(req('INVITE sip:carol@elsewhere.com SIP/2.0', [], '', 0), OPTS), undefined, 'consumed locally: no 483');
  t.equal(checkUasRequest(req('INVITE sip:carol@elsewhere.com SIP/2.0', [], '', 1), fwd), undefined);
  t.equal(checkUasRequest(req('OPTIONS sip:bob@example.com SIP/2.0', [], '', 0), fwd), undefined, 'OPTIONS with Max-Forwards 0 is answered (§11)');
});

t.test('ACK never gets a response', async (t) => {
  t.equal(checkUasRequest(req('ACK tel:+1555 SIP/2.0', ['Content-Type: text/plain'], 'x'), OPTS), undefined);
});

t.test('§11.2 OPTIONS response', async (t) => {
  const r = optionsResponse(req('OPTIONS sip:bob@example.com SIP/2.0', ['Accept: application/sdp'], '', 0), {
    allow: ['INVITE', 'ACK', 'CANCEL', 'OPTIONS', 'BYE'],
    accept: ['application/sdp'],
    supported: ['timer', 'replaces'],
    toTag: 'o1',
  });
  t.equal(r.status, 200);
  t.equal(r.reason, 'OK');
  t.equal(r.headers.get('Allow'), 'INVITE, ACK, CANCEL, OPTIONS, BYE');
  t.equal(r.headers.get('Accept'), 'application/sdp');
  t.equal(r.headers.get('Accept-Encoding'), 'identity');
  t.equal(r.headers.get('Accept-Language'), 'en');
  t.equal(r.headers.get('Supported'), 'timer, replaces');
  t.equal(r.toTag, 'o1');
  t.same(r.cseq, { seq: 1, method: 'OPTIONS' });
});
