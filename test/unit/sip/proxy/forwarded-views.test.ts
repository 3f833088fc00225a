// A forwarded copy (and a response sent upstream, and a request whose own Route was popped) keeps
// views parsed earlier instead of parsing again. Whatever it keeps must equal what parsing the
// copy's own text gives: each view is compared with a fresh parse of the serialized message.
import t, { type Test } from 'tap';
import { parseMessage, serializeMessage, type SipMessage, type SipRequest, type SipResponse } from '../../../../src/sip/message/index.js';
import { buildForwardedRequest, withoutTopVia } from '../../../../src/sip/proxy/request-forwarding.js';

function parse(text: string): SipMessage {
  const r = parseMessage(Buffer.from(text));
  if (!r.ok) throw new Error('fixture does not parse: ' + r.error.reason);
  return r.message;
}

const VIEWS = [
  'vias', 'callId', 'cseq', 'from', 'to', 'maxForwards', 'contacts', 'routes', 'recordRoutes', 'contentLength',
  'contentType', 'expires', 'require', 'supported', 'proxyRequire', 'topVia', 'fromTag', 'toTag',
] as const;

/** every typed view of `m` equals the view of a fresh parse of its bytes */
function sameAsReparsed(t: Test, m: SipMessage, label: string): void {
  const fresh = parse(serializeMessage(m).toString('utf8'));
  for (const v of VIEWS) t.same(m[v], fresh[v], `${label}: ${v}`);
}

const INVITE = [
  'INVITE sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK-a1;rport=5070;received=192.0.2.1',
  'Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-a0',
  'Route: <sip:192.0.2.50:5060;lr>, <sip:proxy2.example.net;lr>',
  'Max-Forwards: 69',
  'From: "Alice" <sip:alice@example.com>;tag=f1',
  'To: <sip:bob@example.com>',
  'Call-ID: call-1@192.0.2.1',
  'CSeq: 7 INVITE',
  'Contact: <sip:alice@192.0.2.1:5070>',
  'Supported: timer, 100rel',
  'Proxy-Authorization: Digest username="alice", realm="example.com", nonce="n", uri="sip:bob@example.com", response="00"',
  'Content-Type: application/sdp',
  'Content-Length: 4',
  '',
  'v=0\n',
].join('\r\n');

t.test('a forwarded request keeps the parsed views of its source, and they match its own text', async (t) => {
  const req = parse(INVITE) as SipRequest;
  // touch the views a proxy reads before forwarding
  t.equal(req.vias.length, 2);
  t.equal(req.from?.displayName, 'Alice');
  req.removeTopRoute();
  t.equal(req.routes.length, 1, 'the popped Route is gone from the view');
  t.equal(req.routes[0]?.uri.host, 'proxy2.example.net');
  t.same(req.headers.getAll('Route'), ['<sip:proxy2.example.net;lr>']);
  sameAsReparsed(t, req, 'after the Route pop');

  const fwd = buildForwardedRequest(req, {
    uri: req.uri,
    routes: ['<sip:edge.example.org;lr>'],
    via: 'SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-proxy.0;rport',
    recordRoutes: ['<sip:198.51.100.7:5060;transport=udp;lr>'],
    consumedRealm: 'example.com',
  });
  t.equal(fwd.vias.length, 3, 'our Via on top of both');
  t.equal(fwd.topVia?.branch, 'z9hG4bK-proxy.0');
  t.equal(fwd.maxForwards, 68);
  t.equal(fwd.from, req.from, 'the parsed From is shared, not parsed again');
  t.equal(fwd.routes.length, 2, 'the new Route set is read from the copy');
  t.equal(fwd.recordRoutes.length, 1);
  t.equal(fwd.headers.has('Proxy-Authorization'), false, 'our realm\'s credentials are consumed');
  sameAsReparsed(t, fwd, 'forwarded');
  // the source is untouched by the copy
  t.equal(req.vias.length, 2);
  t.equal(req.maxForwards, 69);
  sameAsReparsed(t, req, 'source after forwarding');
});

t.test('a forwarded copy of a request whose views were dropped parses them from its own text', async (t) => {
  const req = parse(INVITE) as SipRequest;
  req.invalidate();
  const fwd = buildForwardedRequest(req, { uri: req.uri, routes: [], via: 'SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bK-x.1', recordRoutes: [] });
  t.equal(fwd.vias.length, 3);
  t.equal(fwd.topVia?.host, '[2001:db8::1]');
  t.equal(fwd.maxForwards, 68);
  sameAsReparsed(t, fwd, 'forwarded without source views');
});

t.test('Max-Forwards: added with 70 when absent, never below 0', async (t) => {
  const none = parse(INVITE.replace('Max-Forwards: 69\r\n', '')) as SipRequest;
  const a = buildForwardedRequest(none, { uri: none.uri, routes: [], via: 'SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK-m.0', recordRoutes: [] });
  t.equal(a.maxForwards, 70);
  sameAsReparsed(t, a, 'added');
  const zero = parse(INVITE.replace('Max-Forwards: 69', 'Max-Forwards: 0')) as SipRequest;
  const b = buildForwardedRequest(zero, { uri: zero.uri, routes: [], via: 'SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK-m.1', recordRoutes: [] });
  t.equal(b.maxForwards, 0);
  sameAsReparsed(t, b, 'zero');
});

t.test('a response sent upstream without our Via keeps the other views', async (t) => {
  const res = parse([
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-proxy.0;rport=5060',
    'Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK-a1, SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-a0',
    'Record-Route: <sip:198.51.100.7:5060;transport=udp;lr>',
    'From: "Alice" <sip:alice@example.com>;tag=f1',
    'To: <sip:bob@example.com>;tag=t9',
    'Call-ID: call-1@192.0.2.1',
    'CSeq: 7 INVITE',
    'Contact: <sip:bob@192.0.2.77>',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n')) as SipResponse;
  t.equal(res.vias.length, 3);
  t.equal(res.recordRoutes.length, 1);
  const up = withoutTopVia(res);
  t.equal(up.vias.length, 2);
  t.equal(up.topVia?.branch, 'z9hG4bK-a1');
  t.equal(up.cseq, res.cseq, 'the parsed CSeq is shared');
  sameAsReparsed(t, up, 'upstream');
  t.equal(res.vias.length, 3, 'the received response keeps its Vias');
  sameAsReparsed(t, res, 'received response');
});
