import t from 'tap';
import {
  HeaderList, SipRequestMessage, createRequest, createResponse, formatAuthHeader, formatNameAddr, formatUri,
  formatVia, parseAuthHeader, parseCSeq, parseMessage, parseNameAddr, parseUri, parseVia, reasonPhrase,
  serializeMessage, type SipMessage, type SipRequest,
} from '../../../../src/sip/message/index.js';
import { ESSENTIAL, INVITE, SDP, crlf } from './corpus.js';
import { roundTrip } from './helpers.js';

function ok(data: Buffer | string): SipMessage {
  const r = parseMessage(typeof data === 'string' ? Buffer.from(data) : data);
  if (!r.ok) throw new Error('parse failed: ' + r.error.reason);
  return r.message;
}
function request(data: Buffer | string): SipRequest {
  const m = ok(data);
  if (m.kind !== 'request') throw new Error('not a request');
  return m;
}

const MIN = ['Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1', 'To: <sip:b@example.com>', 'From: <sip:a@example.com>;tag=1', 'Call-ID: c1', 'CSeq: 1 OPTIONS'];

t.test('inline essential RFC 4475 cases', async (t) => {
  for (const [name, [data, expected]] of Object.entries(ESSENTIAL)) {
    const r = parseMessage(data);
    if (expected === 'ok') {
      t.ok(r.ok, `${name} accepted`);
      if (r.ok) t.equal(roundTrip(r.message), undefined, `${name} round-trips`);
    } else {
      t.equal(r.ok ? 'ok' : r.error.status, expected, `${name} rejected with ${expected}`);
    }
  }
  const semi = request(ESSENTIAL.semiuri![0]);
  t.equal(semi.uri.user, 'user;par=u%40example.net');
  const wsinv = request(ESSENTIAL.wsinv![0]);
  t.equal(wsinv.from?.displayName, 'J Rosenberg \\"');
  t.equal(wsinv.vias.length, 3);
  t.equal(wsinv.maxForwards, 68);
});

t.test('typical INVITE', async (t) => {
  const m = request(INVITE);
  t.equal(m.method, 'INVITE');
  t.equal(m.uri.user, 'bob');
  t.equal(m.uri.host, 'biloxi.example.com');
  t.equal(m.topVia?.branch, 'z9hG4bK776asdhds');
  t.equal(m.topVia?.port, 5060);
  t.equal(m.topVia?.params.get('rport'), null);
  t.equal(m.callId, 'a84b4c76e66710@pc33.atlanta.example.com');
  t.same(m.cseq, { seq: 314159, method: 'INVITE' });
  t.equal(m.fromTag, '1928301774');
  t.equal(m.toTag, undefined);
  t.equal(m.from?.displayName, 'Alice A.');
  t.equal(m.to?.displayName, 'Bob');
  t.equal(m.contentType, 'application/sdp');
  t.equal(m.body.toString(), SDP);
  t.same(m.supported, ['replaces', 'timer', '100rel']);
  t.equal(m.headers.getAll('Allow').length, 7);
  t.equal(roundTrip(m), undefined);
});

t.test('compact header forms', async (t) => {
  const m = ok(crlf('MESSAGE sip:b@example.com SIP/2.0', 'v: SIP/2.0/TCP h;branch=z9hG4bKx', 't: <sip:b@example.com>', 'f: <sip:a@example.com>;tag=9',
    'i: cid', 'CSeq: 2 MESSAGE', 'm: <sip:a@h>', 'c: text/plain', 'e: gzip', 's: hi', 'k: path', 'o: presence', 'u: refer', 'r: <sip:c@d>',
    'b: <sip:e@f>', 'x: 1800', 'y: abc', 'a: *;audio', 'l: 2', '', 'hi'));
  t.equal(m.callId, 'cid');
  t.equal(m.contentType, 'text/plain');
  t.equal(m.headers.get('content-encoding'), 'gzip');
  t.equal(m.headers.get('Subject'), 'hi');
  t.same(m.supported, ['path']);
  t.equal(m.headers.get('Event'), 'presence');
  t.equal(m.headers.get('Allow-Events'), 'refer');
  t.equal(m.headers.get('Refer-To'), '<sip:c@d>');
  t.equal(m.headers.get('Referred-By'), '<sip:e@f>');
  t.equal(m.headers.get('Session-Expires'), '1800');
  t.equal(m.headers.get('Identity'), 'abc');
  t.equal(m.headers.get('Accept-Contact'), '*;audio');
  t.equal(m.headers.get('i'), 'cid', 'lookup by compact name');
  t.equal(m.body.toString(), 'hi');
  const out = serializeMessage(m).toString();
  t.match(out, /\r\nCall-ID: cid\r\n/);
  t.match(out, /\r\nContent-Type: text\/plain\r\n/);
  t.notMatch(out, /\r\n[a-z]: /, 'serialized with long names');
});

t.test('header folding and list splitting', async (t) => {
  const m = ok(crlf('OPTIONS sip:b@example.com SIP/2.0', ...MIN, 'Accept: application/sdp,', '\tapplication/pkcs7-mime', 'Supported: a', 'Supported: b, c',
    'Contact: "A, B" <sip:a@h;x=1>, <sip:b,c@h?subject=ab>;q=0.5', 'Route: <sip:p1;lr>, <sip:p2;lr>', 'Route: <sip:p3;lr>', '', ''));
  t.same(m.headers.getAll('Accept'), ['application/sdp', 'application/pkcs7-mime']);
  t.same(m.supported, ['a', 'b', 'c']);
  t.equal(m.contacts.length, 2);
  const c0 = m.contacts[0];
  t.ok(c0 !== '*' && c0?.displayName === 'A, B');
  t.same(m.routes.map((r) => r.uri.host), ['p1', 'p2', 'p3']);
  t.equal(m.headers.removeFirst('Route'), '<sip:p1;lr>');
  t.same(m.routes.map((r) => r.uri.host), ['p2', 'p3'], 'cache invalidated by edit');
  t.equal(m.headers.get('Date'), undefined);
  const d = ok(crlf('OPTIONS sip:b@example.com SIP/2.0', ...MIN, 'Date: Sat, 13 Nov 2010 23:29:00 GMT', '', ''));
  t.same(d.headers.getAll('Date'), ['Sat, 13 Nov 2010 23:29:00 GMT'], 'Date is not a list');
});

t.test('IPv6 references (RFC 5118)', async (t) => {
  const m = request(crlf('OPTIONS sip:[2001:db8::10]:5070;transport=tcp SIP/2.0', 'Via: SIP/2.0/UDP [2001:DB8::9:1]:5060;branch=z9hG4bKas3;received=[2001:db8::9:255]',
    'To: <sip:user@[2001:db8::10]>', 'From: <sip:user@[::1]>;tag=81x2', 'Call-ID: v6', 'CSeq: 1 OPTIONS', '', ''));
  t.equal(m.uri.host, '[2001:db8::10]');
  t.equal(m.uri.port, 5070);
  t.equal(m.topVia?.host, '[2001:db8::9:1]');
  t.equal(m.topVia?.port, 5060);
  t.equal(m.topVia?.params.get('received'), '[2001:db8::9:255]');
  t.equal(m.from?.uri.host, '[::1]');
  t.equal(parseUri('sip:[2001:db8::10'), undefined);
  t.equal(roundTrip(m), undefined);
});

t.test('tel: and sips: URIs', async (t) => {
  const tel = parseUri('tel:+1-201-555-0123;phone-context=example.com');
  t.equal(tel?.scheme, 'tel');
  t.equal(tel?.user, '+1-201-555-0123');
  t.equal(tel?.params.get('phone-context'), 'example.com');
  t.equal(formatUri(tel!), 'tel:+1-201-555-0123;phone-context=example.com');
  const m = request(crlf('INVITE tel:+15551234 SIP/2.0', 'Via: SIP/2.0/TLS h;branch=z9hG4bK1', 'To: <tel:+15551234>', 'From: <sips:a@example.com>;tag=1', 'Call-ID: c', 'CSeq: 1 INVITE', '', ''));
  t.equal(m.uri.user, '+15551234');
  t.equal(m.from?.uri.scheme, 'sips');
  const s = parseUri('SIPS:Alice:secret@Atlanta.example.com:5061;Transport=TLS;lr?subject=project%20x&priority=urgent');
  t.equal(s?.scheme, 'sips');
  t.equal(s?.user, 'Alice');
  t.equal(s?.password, 'secret');
  t.equal(s?.host, 'atlanta.example.com');
  t.equal(s?.port, 5061);
  t.equal(s?.params.get('transport'), 'TLS');
  t.equal(s?.params.get('lr'), null);
  t.equal(s?.headers.get('subject'), 'project%20x');
  t.equal(parseUri('http://example.com'), undefined);
  t.equal(parseUri('sip:'), undefined);
  t.equal(parseUri('sip:a@b:99999'), undefined);
  t.equal(parseUri('sip:a b@c'), undefined);
  const r = parseMessage(crlf('INVITE mailto:a@b SIP/2.0', ...MIN.slice(0, 4), 'CSeq: 1 INVITE', '', ''));
  t.equal(r.ok ? 0 : r.error.status, 416, 'unknown scheme in Request-URI: 416');
});

t.test('values parsed without parameters share one read-only empty map; with some, a Map of their own', async (t) => {
  const m = request(crlf('INVITE sip:bob@example.com SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'To: <sip:bob@example.com>', 'From: "A" <sip:a@example.com;user=phone>;tag=1', 'Route: <sip:p1.example.com;lr>, <sip:p2.example.com>', 'Call-ID: c', 'CSeq: 1 INVITE', 'Contact: <sip:a@192.0.2.1>', '', ''));
  const bare = [m.uri.params, m.to!.uri.params, m.to!.params, m.routes[1]!.uri.params, m.routes[0]!.params];
  for (const params of bare) {
    t.equal(params.size, 0);
    t.equal(params, bare[0], 'the same shared map');
    t.throws(() => params.set('x', null), TypeError, 'which refuses changes');
    t.equal(params.delete('x'), false);
  }
  t.equal(m.from!.params.get('tag'), '1');
  t.equal(m.from!.uri.params.get('user'), 'phone');
  t.equal(m.routes[0]!.uri.params.get('lr'), null);
  const own = m.from!.params;
  own.set('x', 'y');
  t.equal(own.get('x'), 'y', 'a value with parameters has a Map it may change');
  t.equal(m.from!.uri.params === m.routes[0]!.uri.params, false);
  t.equal(formatNameAddr(m.to!), '<sip:bob@example.com>', 'formats as before');
  t.equal(formatUri(parseUri('tel:+15551234')!), 'tel:+15551234');
  t.equal(parseUri('tel:+15551234')!.params, bare[0]);
});

t.test('quoted strings with escapes', async (t) => {
  const na = parseNameAddr('"Mr \\"Q\\" \\\\ Smith" <sip:q@example.com>;tag=a;x="a;b,c"');
  t.equal(na?.displayName, 'Mr "Q" \\ Smith');
  t.equal(na?.params.get('x'), '"a;b,c"');
  t.equal(formatNameAddr(na!), '"Mr \\"Q\\" \\\\ Smith" <sip:q@example.com>;tag=a;x="a;b,c"');
  t.equal(parseNameAddr('"unterminated <sip:q@example.com>'), undefined);
  t.equal(parseNameAddr('Bob <sip:b@example.com>')?.displayName, 'Bob');
  t.equal(parseNameAddr('sip:b@example.com;tag=1')?.params.get('tag'), '1', 'addr-spec params are header params');
  t.equal(parseNameAddr('<sip:b@example.com;lr>')?.uri.params.get('lr'), null);
  t.equal(parseNameAddr('sip:b@example.com?x=1'), undefined);
});

t.test('Via, CSeq and auth helpers', async (t) => {
  const v = parseVia('SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf;rport=5060;received=192.0.2.1');
  t.equal(v?.transport, 'WSS');
  t.equal(v?.branch, 'z9hG4bKasudf');
  t.equal(v?.params.get('rport'), '5060');
  t.equal(formatVia(v!), 'SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf;rport=5060;received=192.0.2.1');
  t.equal(parseVia('SIP/2.0/UDP'), undefined);
  t.equal(parseVia('SIP/2.0/UDP h;;'), undefined);
  t.same(parseCSeq('4294967295 ACK'), { seq: 4294967295, method: 'ACK' });
  t.equal(parseCSeq('4294967296 ACK'), undefined);
  t.equal(parseCSeq('1'), undefined);
  const a = parseAuthHeader('Digest username="bob", realm="biloxi.com", nonce="dcd98b\\"7102", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", algorithm=SHA-256, opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  t.equal(a?.scheme, 'Digest');
  t.equal(a?.params.get('username'), 'bob');
  t.equal(a?.params.get('nonce'), 'dcd98b"7102');
  t.equal(a?.params.get('qop'), 'auth');
  t.equal(a?.params.get('algorithm'), 'SHA-256');
  const again = parseAuthHeader(formatAuthHeader(a!));
  t.same([...again!.params], [...a!.params]);
  t.match(formatAuthHeader(a!), /qop=auth, nc=00000001/);
  t.match(formatAuthHeader({ scheme: 'Digest', params: new Map([['realm', 'x'], ['qop', 'auth,auth-int']]) }, 'challenge'), /qop="auth,auth-int"/);
  t.equal(parseAuthHeader('Digest realm="x'), undefined);
  t.equal(parseAuthHeader('Digest realm'), undefined);
  const m = ok(crlf('REGISTER sip:example.com SIP/2.0', ...MIN.slice(0, 4), 'CSeq: 2 REGISTER', 'Authorization: Digest username="a", realm="r", nonce="n", uri="sip:example.com", response="x"', '', ''));
  t.equal(m.authorizations()[0]?.params.get('realm'), 'r');
  t.same(m.authorizations(true), []);
});

t.test('errors carry status, reason and partial headers', async (t) => {
  const cases: [string, Buffer, number][] = [
    ['missing Via', crlf('OPTIONS sip:a@b SIP/2.0', ...MIN.slice(1), '', ''), 400],
    ['missing To', crlf('OPTIONS sip:a@b SIP/2.0', MIN[0]!, ...MIN.slice(2), '', ''), 400],
    ['missing Call-ID', crlf('OPTIONS sip:a@b SIP/2.0', ...MIN.slice(0, 3), MIN[4]!, '', ''), 400],
    ['Max-Forwards 256', crlf('OPTIONS sip:a@b SIP/2.0', ...MIN, 'Max-Forwards: 256', '', ''), 400],
    ['status 99', crlf('SIP/2.0 099 Low', ...MIN, '', ''), 400],
    ['status 700', crlf('SIP/2.0 700 High', ...MIN, '', ''), 400],
    ['no colon', crlf('OPTIONS sip:a@b SIP/2.0', ...MIN, 'Garbage line', '', ''), 400],
    ['folded first line', crlf('OPTIONS sip:a@b SIP/2.0', ' Via: x', ...MIN, '', ''), 400],
    ['bad version', crlf('OPTIONS sip:a@b SIP/3.0', ...MIN, '', ''), 505],
    ['response bad version', crlf('SIP/3.0 200 OK', ...MIN, '', ''), 505],
    ['garbage', Buffer.from('\x00\x01\x02hello'), 400],
    ['empty', Buffer.alloc(0), 400],
    ['only CRLF', Buffer.from('\r\n\r\n'), 400],
  ];
  for (const [name, data, status] of cases) {
    const r = parseMessage(data);
    t.equal(r.ok ? 'ok' : r.error.status, status, name);
  }
  const r = parseMessage(crlf('OPTIONS sip:a@b SIP/2.0', ...MIN.slice(0, 4), 'CSeq: 99999999999 OPTIONS', '', ''));
  t.notOk(r.ok);
  if (!r.ok) {
    t.equal(r.error.partial?.isRequest, true);
    t.equal(r.error.partial?.method, 'OPTIONS');
    t.equal(r.error.partial?.headers?.get('Call-ID'), 'c1');
  }
});

t.test("a response's From, To and Contact are parsed when read; a request's at once", async (t) => {
  const badFrom = 'From: <sip:a@exa mple.com>;tag=1';
  const badContact = 'Contact: <sip:c@[::1>';
  const response = ok(crlf('SIP/2.0 200 OK', MIN[0]!, MIN[1]!, badFrom, MIN[3]!, MIN[4]!, badContact, '', ''));
  t.equal(response.kind, 'response', 'a proxy can still relay it (RFC 3261 §16.7)');
  t.equal(response.from, undefined, 'a malformed From reads as missing');
  t.equal(response.fromTag, undefined);
  t.same(response.contacts, [], 'a malformed Contact reads as none');
  t.equal(response.to?.uri.user, 'b', 'a well-formed To parses on first read');
  t.equal(response.cseq?.method, 'OPTIONS');
  t.equal(response.topVia?.branch, 'z9hG4bK1');
  const good = ok(crlf('SIP/2.0 200 OK', ...MIN, 'Contact: <sip:c@192.0.2.1:5070>;expires=60', '', ''));
  t.equal(good.fromTag, '1');
  const contact = good.contacts[0];
  t.equal(contact !== '*' && contact?.uri.port, 5070);
  t.equal(contact !== '*' && contact?.params.get('expires'), '60');
  for (const [name, lines] of [
    ['From', [MIN[0]!, MIN[1]!, badFrom, MIN[3]!, MIN[4]!]],
    ['To', [MIN[0]!, 'To: <sip:b@exa mple.com>', ...MIN.slice(2)]],
    ['Contact', [...MIN, badContact]],
  ] as const) {
    const r = parseMessage(crlf('OPTIONS sip:a@b SIP/2.0', ...lines, '', ''));
    t.equal(r.ok ? 'ok' : r.error.reason, `Malformed ${name}`, `a request with a malformed ${name} is refused`);
  }
  for (const missing of [1, 2]) {
    const r = parseMessage(crlf('SIP/2.0 200 OK', ...MIN.filter((_, i) => i !== missing), '', ''));
    t.equal(r.ok ? 'ok' : r.error.status, 400, `a response without ${missing === 1 ? 'To' : 'From'} is refused`);
  }
});

t.test('UTF-8 and empty reason phrases', async (t) => {
  const m = ok(crlf('SIP/2.0 200 Très bien ☎', ...MIN, '', ''));
  t.equal(m.kind === 'response' && m.reason, 'Très bien ☎');
  const e = ok(crlf('SIP/2.0 180', ...MIN, '', ''));
  t.equal(e.kind === 'response' && e.reason, '');
});

t.test('body framing (datagram semantics)', async (t) => {
  const noLength = ok(crlf('MESSAGE sip:a@b SIP/2.0', ...MIN.slice(0, 4), 'CSeq: 1 MESSAGE', '', 'hello'));
  t.equal(noLength.body.toString(), 'hello', 'no Content-Length: body is the rest');
  const trailing = ok(crlf('MESSAGE sip:a@b SIP/2.0', ...MIN.slice(0, 4), 'CSeq: 1 MESSAGE', 'Content-Length: 2', '', 'hello'));
  t.equal(trailing.body.toString(), 'he');
  const lf = ok(Buffer.from(['OPTIONS sip:a@b SIP/2.0', ...MIN, 'Content-Length: 3', '', 'abc'].join('\n')));
  t.equal(lf.body.toString(), 'abc', 'bare LF line ends tolerated');
  const lead = ok(Buffer.concat([Buffer.from('\r\n\r\n'), crlf('OPTIONS sip:a@b SIP/2.0', ...MIN, '', '')]));
  t.equal(lead.kind, 'request', 'leading CRLFs ignored (RFC 3261 §7.5)');
  const conflict = parseMessage(crlf('MESSAGE sip:a@b SIP/2.0', ...MIN.slice(0, 4), 'CSeq: 1 MESSAGE', 'Content-Length: 2', 'l: 3', '', 'hello'));
  t.notOk(conflict.ok, 'conflicting Content-Length');
});

t.test('size limit', async (t) => {
  const big = Buffer.concat([INVITE, Buffer.alloc(70000, 0x61)]);
  const r = parseMessage(big);
  t.equal(r.ok ? 0 : r.error.status, 513);
  t.ok(parseMessage(big, { maxSize: 100000 }).ok);
  const small = parseMessage(INVITE, { maxSize: 100 });
  t.equal(small.ok ? 0 : small.error.status, 513);
});

t.test('header list editing invalidates typed views', async (t) => {
  const m = request(INVITE);
  t.equal(m.vias.length, 1);
  m.headers.prepend('Via', 'SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp1');
  t.equal(m.vias.length, 2);
  t.equal(m.topVia?.host, 'proxy.example.com');
  t.equal(m.headers.removeFirst('Via'), 'SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp1');
  t.equal(m.topVia?.host, 'pc33.atlanta.example.com');
  m.headers.set('Max-Forwards', '69');
  t.equal(m.maxForwards, 69);
  m.headers = m.headers.clone();
  m.headers.set('To', 'Bob <sip:bob@biloxi.example.com>;tag=x');
  t.equal(m.toTag, 'x');
  t.equal(m.headers.remove('Allow'), 1);
  t.equal(m.headers.has('allow'), false);
  m.headers.append('X-Evil', 'a\r\nVia: injected');
  t.notMatch(serializeMessage(m).toString(), /\r\nVia: injected/, 'no header injection');
  const list = new HeaderList([['v', 'SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2']]);
  t.same(list.getAll('Via').length, 2);
  t.same([...list.entries()][0]?.[0], 'Via');
});

t.test('createResponse (RFC 3261 §8.2.6)', async (t) => {
  const req = request(crlf('INVITE sip:bob@b.example.com SIP/2.0', 'Via: SIP/2.0/UDP p1;branch=z9hG4bK1', 'Via: SIP/2.0/UDP p2;branch=z9hG4bK2, SIP/2.0/UDP p3;branch=z9hG4bK3',
    'Max-Forwards: 70', 'To: Bob <sip:bob@b.example.com>', 'From: <sip:a@a.example.com>;tag=f1', 'Call-ID: cr1', 'CSeq: 7 INVITE', 'Timestamp: 54', 'Record-Route: <sip:p1;lr>', 'Content-Type: application/sdp', 'Content-Length: 3', '', 'abc'));
  const trying = createResponse(req, 100, undefined, { toTag: 'ignored' });
  t.equal(trying.reason, 'Trying');
  t.equal(trying.toTag, undefined, 'no To tag on 100');
  t.equal(trying.headers.get('Timestamp'), '54');
  const ok200 = createResponse(req, 200, undefined, { toTag: 't9', headers: [['Contact', '<sip:bob@10.0.0.1>']], body: Buffer.from('v=0\r\n'), contentType: 'application/sdp' });
  t.same(ok200.vias.map((v) => v.host), ['p1', 'p2', 'p3']);
  t.equal(ok200.toTag, 't9');
  t.equal(ok200.fromTag, 'f1');
  t.equal(ok200.callId, 'cr1');
  t.same(ok200.cseq, { seq: 7, method: 'INVITE' });
  t.equal(ok200.headers.get('Timestamp'), undefined);
  t.equal(ok200.headers.get('Record-Route'), undefined);
  t.equal(ok200.contentLength, 5);
  t.equal(ok200.contentType, 'application/sdp');
  const wire = parseMessage(serializeMessage(ok200));
  t.ok(wire.ok && wire.message.kind === 'response' && wire.message.status === 200 && wire.message.reason === 'OK');
  const tagged = request(crlf('BYE sip:b@b SIP/2.0', MIN[0]!, 'To: <sip:b@example.com>;tag=existing', ...MIN.slice(2, 4), 'CSeq: 2 BYE', '', ''));
  t.equal(createResponse(tagged, 200, 'Fine', { toTag: 'new' }).toTag, 'existing');
  t.equal(createResponse(tagged, 486).reason, 'Busy Here');
  // the fields are copied as they are (clean already); a tag from code is cleaned like any edit
  t.equal(ok200.headers.get('Via'), 'SIP/2.0/UDP p1;branch=z9hG4bK1');
  const injected = createResponse(req, 200, undefined, { toTag: 'x\r\nX-Evil: 1' });
  t.equal(injected.headers.get('To'), 'Bob <sip:bob@b.example.com>;tag=x X-Evil: 1', 'no line break gets into the To');
  t.notOk(serializeMessage(injected).toString().includes('\r\nX-Evil'), 'and none onto the wire');
  t.equal(reasonPhrase(481), 'Call/Transaction Does Not Exist');
  t.equal(reasonPhrase(499), 'Client Error');
});

t.test('createRequest and constructors', async (t) => {
  const r = createRequest({ method: 'OPTIONS', uri: 'sip:bob@example.com', headers: [...MIN.map((l) => l.split(': ', 2) as [string, string])] });
  t.equal(r.kind, 'request');
  t.equal(r.cseq?.seq, 1);
  t.equal(r.headers.get('Content-Length'), '0');
  const parsed = parseMessage(serializeMessage(r));
  t.ok(parsed.ok);
  t.throws(() => createRequest({ method: 'OPTIONS', uri: 'nonsense' }));
  const direct = new SipRequestMessage({ method: 'MESSAGE', uri: parseUri('sip:a@b')!, headers: new HeaderList(MIN.map((l) => l.split(': ', 2) as [string, string])), body: Buffer.from('x') });
  t.match(serializeMessage(direct).toString(), /^MESSAGE sip:a@b SIP\/2\.0\r\n/);
  t.match(serializeMessage(direct).toString(), /Content-Length: 1\r\n\r\nx$/);
});
