// The shortcuts taken on the per-message path (cached header-name lookups, a fixed-shape view
// cache, responses copying the request's fields, challenge templates) must give exactly what the
// long way gives.
import t from 'tap';
import { FakeScheduler } from '../../../../src/lib/index.js';
import { DigestAuthenticator } from '../../../../src/sip/auth/digest-authenticator.js';
import { formatDigestHeader } from '../../../../src/sip/auth/format.js';
import {
  HeaderList, canonicalHeaderName, createResponse, parseMessage, serializeMessage, type SipMessage, type SipRequest,
} from '../../../../src/sip/message/index.js';

function request(text: string): SipRequest {
  const r = parseMessage(Buffer.from(text));
  if (!r.ok || r.message.kind !== 'request') throw new Error('not a request');
  return r.message;
}

const REGISTER = [
  'REGISTER sip:example.com SIP/2.0',
  'v: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK-a1;rport',
  'Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-a0',
  'f: <sip:alice@example.com>;tag=f1',
  'To: <sip:alice@example.com>',
  'i: call-1@192.0.2.1',
  'CSeq: 7 REGISTER',
  'm: <sip:alice@192.0.2.1:5070>;expires=60',
  'Timestamp: 54',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

t.test('header names: any spelling, compact or long, gives the canonical name and one key', async (t) => {
  const h = new HeaderList();
  // the same spellings twice: the second lookups come from the cache of spellings
  for (let round = 0; round < 2; round++) {
    t.equal(canonicalHeaderName('call-id'), 'Call-ID');
    t.equal(canonicalHeaderName('CALL-ID'), 'Call-ID');
    t.equal(canonicalHeaderName('i'), 'Call-ID');
    t.equal(canonicalHeaderName('cSeQ'), 'CSeq');
    t.equal(canonicalHeaderName('X-Custom-Thing'), 'X-Custom-Thing', 'an unknown name stays as written');
  }
  h.append('x-custom', 'a');
  h.append('X-CUSTOM', 'b');
  h.append('v', 'SIP/2.0/UDP h;branch=z9hG4bK1');
  t.same(h.getAll('X-Custom'), ['a', 'b'], 'unknown names compare case-insensitively');
  t.same([...h.entries()].map(([n]) => n), ['x-custom', 'X-CUSTOM', 'Via']);
  t.equal(h.get('VIA'), 'SIP/2.0/UDP h;branch=z9hG4bK1');
});

t.test('header values from code: line breaks become spaces, outer whitespace goes, the rest is kept', async (t) => {
  const h = new HeaderList();
  h.append('Subject', 'plain');
  h.append('Subject', '  padded\t');
  h.append('Subject', 'one\r\ntwo\nthree\rfour');
  h.append('Subject', '\u00a0nbsp\u00a0');
  h.append('Subject', '');
  h.append('Subject', 'x');
  t.same(h.getFields('Subject'), ['plain', 'padded', 'one two three four', 'nbsp', '', 'x']);
  const r = createResponse(request(REGISTER), 200);
  r.headers.set('Warning', '399 h "a\r\nInjected: yes"');
  t.notMatch(serializeMessage(r).toString(), /\r\nInjected/, 'no header injection through set()');
});

t.test('typed views follow every edit of the headers', async (t) => {
  const req = request(REGISTER);
  t.equal(req.callId, 'call-1@192.0.2.1');
  t.equal(req.cseq?.seq, 7);
  t.equal(req.vias.length, 2);
  t.equal(req.contacts.length, 1);
  t.equal(req.expires, undefined);
  req.headers.set('Expires', '300');
  t.equal(req.expires, 300, 'a header set after a view was read is seen');
  req.headers.set('CSeq', '8 REGISTER');
  t.equal(req.cseq?.seq, 8);
  req.headers.removeFirst('Via');
  t.equal(req.vias.length, 1);
  t.equal(req.topVia?.branch, 'z9hG4bK-a0');
  const other = new HeaderList([['Call-ID', 'replaced'], ['CSeq', '1 REGISTER']]);
  req.headers = other;
  t.equal(req.callId, 'replaced', 'a replaced header list is seen');
  t.equal(req.vias.length, 0);
  t.equal(req.toTag, undefined);
});

t.test('replaceTopVia changes the Via and keeps the other views', async (t) => {
  const req = request(REGISTER);
  const from = req.from;
  const top = req.topVia;
  if (top === undefined) throw new Error('no Via');
  top.params.set('received', '198.51.100.7');
  req.replaceTopVia(top);
  t.equal(req.from, from, 'From was not parsed again');
  t.equal(req.vias.length, 2);
  t.equal(req.vias[0]?.params.get('received'), '198.51.100.7');
  t.match(req.headers.get('Via'), /received=198\.51\.100\.7/);
  req.headers.append('Subject', 'edit');
  t.equal(req.vias[0]?.params.get('received'), '198.51.100.7', 'views rebuilt from the headers after an edit agree');
});

t.test('invalidate drops the views; they come back the same from the headers', async (t) => {
  const req = request(REGISTER);
  const before = { callId: req.callId, cseq: req.cseq, from: req.fromTag, vias: req.vias.map((v) => v.branch), contacts: req.contacts.length };
  const fromObject = req.from;
  req.invalidate();
  t.not(req.from, fromObject, 'From parsed again');
  t.same({ callId: req.callId, cseq: req.cseq, from: req.fromTag, vias: req.vias.map((v) => v.branch), contacts: req.contacts.length }, before);
});

t.test('a response copies Via, From, To, Call-ID, CSeq (and Timestamp on 100) and parses them the same', async (t) => {
  const req = request(REGISTER);
  const ok = createResponse(req, 200, 'OK', { toTag: 'tt', headers: [['Contact', '<sip:alice@192.0.2.1:5070>;expires=60']] });
  t.same([...ok.headers.entries()].map(([n]) => n), ['Via', 'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Content-Length']);
  t.equal(ok.toTag, 'tt');
  t.equal(ok.callId, req.callId);
  t.same(ok.cseq, { seq: 7, method: 'REGISTER' });
  if (ok.cseq === undefined || req.cseq === undefined) throw new Error('no CSeq');
  ok.cseq.seq = 99;
  t.equal(req.cseq.seq, 7, "the response's CSeq is its own object");
  const trying = createResponse(req, 100);
  t.equal(trying.headers.get('Timestamp'), '54');
  t.equal(trying.toTag, undefined, 'no tag on 100');
  // what goes on the wire parses back to the same thing
  const back = parseMessage(serializeMessage(ok));
  if (!back.ok) throw new Error('reparse failed');
  const m: SipMessage = back.message;
  t.equal(m.callId, 'call-1@192.0.2.1');
  t.same(m.cseq, { seq: 7, method: 'REGISTER' });
  t.equal(m.vias.length, 2);
  t.equal(m.toTag, 'tt');
  // a request whose To already has a tag keeps it
  const inDialog = request(REGISTER.replace('To: <sip:alice@example.com>', 'To: <sip:alice@example.com>;tag=old'));
  t.equal(createResponse(inDialog, 200, 'OK', { toTag: 'new' }).toTag, 'old');
});

t.test('a response to a request without CSeq or Call-ID has none either', async (t) => {
  const req = request(REGISTER);
  req.headers.remove('CSeq');
  req.headers.remove('Call-ID');
  const r = createResponse(req, 400);
  t.equal(r.cseq, undefined);
  t.equal(r.callId, undefined);
  t.equal(r.headers.has('CSeq'), false);
});

t.test('challenges from the template equal the formatted headers, fresh and stale', async (t) => {
  const auth = new DigestAuthenticator({ realm: 'example.com', secret: 'k', scheduler: new FakeScheduler(), algorithms: ['SHA-256', 'MD5'] });
  t.teardown(() => auth.close());
  for (const stale of [false, true, false, true]) {
    const values = auth.challenge({ stale });
    t.equal(values.length, 2);
    const nonce = /nonce="([^"]+)"/.exec(values[0] ?? '')?.[1];
    if (nonce === undefined) throw new Error('no nonce');
    t.equal(/nonce="([^"]+)"/.exec(values[1] ?? '')?.[1], nonce, 'one nonce for both');
    const expected = ['SHA-256', 'MD5'].map((algorithm) => {
      const params = new Map([['realm', 'example.com'], ['nonce', nonce], ['algorithm', algorithm], ['qop', 'auth']]);
      if (stale) params.set('stale', 'true');
      return formatDigestHeader({ scheme: 'Digest', params }, 'challenge');
    });
    t.same(values, expected, `stale=${String(stale)}`);
  }
  const a = auth.challenge()[0];
  const b = auth.challenge()[0];
  t.not(a, b, 'every challenge gets a new nonce');
});

t.test('a spelling cached for one header never answers for another', async (t) => {
  // U+212A KELVIN SIGN lower-cases to "k", the compact form of Supported
  t.equal(canonicalHeaderName('\u212a'), 'Supported');
  t.equal(canonicalHeaderName('\u212a'), 'Supported');
  t.equal(canonicalHeaderName('*'), '*', 'the cached spelling is the one given, not a lossy copy of it');
  t.equal(canonicalHeaderName('content-length'), 'Content-Length');
  t.equal(canonicalHeaderName('content-lengthx'), 'content-lengthx');
});

t.test('a packed header list reads, edits and serializes exactly as before packing', async (t) => {
  const original = request(REGISTER + '');
  const expected = serializeMessage(original).toString('latin1');
  const fields = [...original.headers.entries()];
  const packed = request(REGISTER);
  const h = packed.headers as HeaderList;
  h.pack();
  h.pack(); // twice: a no-op
  t.equal(serializeMessage(packed).toString('latin1'), expected, 'same bytes on the wire');
  t.same([...h.entries()], fields, 'same fields, names and order');
  h.pack();
  t.equal(h.get('i'), 'call-1@192.0.2.1', 'a compact-form lookup after packing');
  h.pack();
  t.same(h.getAll('Via'), ['SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK-a1;rport', 'SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-a0']);
  h.pack();
  h.append('X-Later', 'added after packing');
  t.equal(h.get('x-later'), 'added after packing');
  t.equal(h.size, fields.length + 1);
  h.pack();
  t.equal(h.removeFirst('Via'), 'SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK-a1;rport', 'removeFirst on a packed list');
  t.equal(packed.topVia?.branch, 'z9hG4bK-a0', 'the views follow the edit');
  const empty = new HeaderList();
  empty.pack();
  t.equal(empty.size, 0);
  empty.append('Subject', 'x');
  t.same([...empty.entries()], [['Subject', 'x']]);
});

t.test('a field that would not survive packing leaves the list unpacked and intact', async (t) => {
  // HeaderList.adopt takes fields as they are: one with a LF cannot be told apart once packed
  const h = HeaderList.adopt([
    { name: 'Subject', key: 'subject', value: 'one' },
    { name: 'X-Odd', key: 'x-odd', value: 'two\nlines' },
  ]);
  h.pack();
  t.same([...h.entries()], [['Subject', 'one'], ['X-Odd', 'two\nlines']]);
});

t.test('compact() drops the views, packs the headers and copies a body out of the datagram', async (t) => {
  const sdp = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n';
  const text = REGISTER.replace('Content-Length: 0', `Content-Type: application/sdp\r\nContent-Length: ${sdp.length}`) + sdp + 'trailing octets';
  // a buffer of its own, as a receive batch is (Buffer.from would cut it from the shared pool)
  const datagram = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  datagram.write(text);
  const r = parseMessage(datagram);
  if (!r.ok) throw new Error('did not parse');
  const m = r.message;
  const before = serializeMessage(m).toString('latin1');
  const from = m.from;
  t.equal(m.body.buffer, datagram.buffer, 'the parser hands out a view of the datagram');
  m.compact();
  t.not(m.from, from, 'views parsed again after compact');
  t.equal(m.fromTag, 'f1');
  t.equal(m.body.toString('latin1'), sdp);
  t.not(m.body.buffer, datagram.buffer, 'the body no longer keeps the datagram');
  datagram.fill(0);
  t.equal(m.body.toString('latin1'), sdp, 'a copy: the datagram can go');
  t.equal(serializeMessage(m).toString('latin1'), before, 'the same message on the wire');
  const bodyless = request(REGISTER);
  t.equal(bodyless.body.length, 0);
  t.equal(request(REGISTER).body, bodyless.body, 'messages without a body share one empty buffer');
});
