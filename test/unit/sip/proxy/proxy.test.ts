import t from 'tap';
import { binding, credentials, invite, setup } from './harness.js';

/** an authenticated INVITE from alice (first 407, then with credentials) */
async function authedInvite(h: ReturnType<typeof setup>, opts: Parameters<typeof invite>[0] = {}) {
  h.receive(invite({ ...opts, branch: 'z9hG4bKfirst' }));
  await h.flush();
  const challenge = h.responses().find((r) => r.status === 407)!;
  h.sent.length = 0;
  const uri = opts.uri ?? 'sip:bob@example.com';
  h.receive(invite({ ...opts, cseq: 2, branch: 'z9hG4bKsecond', extra: credentials(challenge, opts.method ?? 'INVITE', uri) + (opts.extra ?? '') }));
  await h.flush();
}

t.test('§16.3 validation: 483, 416, 420', async (t) => {
  const h = setup();
  h.receive(invite({ branch: 'z9hG4bKmf' }).replace('Max-Forwards: 70', 'Max-Forwards: 0'));
  h.receive(invite({ branch: 'z9hG4bKtel', uri: 'tel:+123' }));
  h.receive(invite({ branch: 'z9hG4bKpr', extra: 'Proxy-Require: foo\n' }));
  await h.flush();
  const st = h.responses().map((r) => r.status);
  t.same(st, [483, 416, 420]);
  t.equal(h.responses()[2]!.headers.get('Unsupported'), 'foo');
});

t.test('407 challenge, then forward with Record-Route to the binding', async (t) => {
  const h = setup();
  h.store.map.set('sip:bob@example.com', [binding('sip:bob@example.com', 'sip:bob@192.0.2.20:5060')]);
  h.receive(invite());
  await h.flush();
  const c = h.responses()[0]!;
  t.equal(c.status, 407);
  t.match(c.headers.get('Proxy-Authenticate') ?? '', /Digest realm="example.com"/);
  t.ok(c.toTag, 'final response has a To tag');
  await authedInvite(h);
  const fwd = h.requests('INVITE');
  t.equal(fwd.length, 1);
  const req = fwd[0]!.message;
  t.equal(req.uri.host, '192.0.2.20');
  t.same(fwd[0]!.target, { protocol: 'udp', address: '192.0.2.20', port: 5060 });
  t.equal(req.maxForwards, 69);
  t.equal(req.headers.getAll('Record-Route').length, 1);
  t.equal(req.headers.get('Record-Route'), '<sip:10.0.0.1:5060;transport=udp;lr>');
  t.equal(req.vias.length, 2);
  t.equal(req.topVia?.host, '10.0.0.1');
  t.notOk(req.headers.has('Proxy-Authorization'), 'our credentials are consumed');
  // responses: 100 absorbed, 180 forwarded, 200 forwarded without our Via
  h.reply(req, 100);
  h.reply(req, 180);
  h.reply(req, 200);
  const up = h.responses();
  t.same(up.map((r) => r.status).filter((s) => s !== 100), [180, 200]);
  t.equal(up.at(-1)!.vias.length, 1, 'our Via popped');
  t.equal(up.at(-1)!.topVia?.branch, 'z9hG4bKsecond');
});

t.test('wrong user in credentials: 403; foreign caller to foreign domain: 403 (no relay)', async (t) => {
  const h = setup();
  h.receive(invite({ from: 'sip:mallory@evil.org', uri: 'sip:x@other.net', to: 'sip:x@other.net' }));
  await h.flush();
  t.equal(h.responses()[0]!.status, 403);
  t.equal(h.requests('INVITE').length, 0);
});

t.test('foreign domain from an authenticated local caller is relayed after DNS', async (t) => {
  const h = setup();
  await authedInvite(h, { uri: 'sip:carol@other.net', to: 'sip:carol@other.net' });
  const fwd = h.requests('INVITE');
  t.equal(fwd.length, 1);
  t.same(fwd[0]!.target, { protocol: 'udp', address: '192.0.2.50', port: 5060 });
  t.equal(fwd[0]!.message.uri.host, 'other.net');
});

t.test('incoming from a foreign domain to a local user needs no auth; 404 and 480', async (t) => {
  const h = setup();
  h.receive(invite({ from: 'sip:x@other.net', uri: 'sip:nobody@example.com', branch: 'z9hG4bKa' }));
  h.receive(invite({ from: 'sip:x@other.net', uri: 'sip:carol@example.com', branch: 'z9hG4bKb' }));
  await h.flush();
  t.same(h.responses().filter((r) => r.status >= 200).map((r) => r.status), [404, 480]);
});

t.test('forking: parallel within the highest q, then the next group; best response', async (t) => {
  const h = setup();
  h.store.map.set('sip:bob@example.com', [
    binding('sip:bob@example.com', 'sip:bob@192.0.2.21', { q: 0.5 }),
    binding('sip:bob@example.com', 'sip:bob@192.0.2.22', { q: 1 }),
    binding('sip:bob@example.com', 'sip:bob@192.0.2.23', { q: 1 }),
  ]);
  h.receive(invite({ from: 'sip:x@other.net' }));
  await h.flush();
  let fwd = h.requests('INVITE');
  t.same(fwd.map((f) => f.message.uri.host).sort(), ['192.0.2.22', '192.0.2.23'], 'q=1 group in parallel');
  t.not(fwd[0]!.message.topVia?.branch, fwd[1]!.message.topVia?.branch);
  h.reply(fwd[0]!.message, 486);
  h.reply(fwd[1]!.message, 404);
  fwd = h.requests('INVITE');
  t.equal(fwd.length, 3, 'next group started');
  t.equal(fwd[2]!.message.uri.host, '192.0.2.21');
  t.equal(h.responses().filter((r) => r.status >= 200).length, 0, 'nothing upstream yet');
  h.reply(fwd[2]!.message, 503);
  const finals = h.responses().filter((r) => r.status >= 200);
  t.equal(finals.length, 1);
  t.ok([486, 404].includes(finals[0]!.status), 'lowest class: a 4xx beats the 503');
});

t.test('6xx stops forking and CANCELs the other branches', async (t) => {
  const h = setup();
  h.store.map.set('sip:bob@example.com', [
    binding('sip:bob@example.com', 'sip:bob@192.0.2.22'),
    binding('sip:bob@example.com', 'sip:bob@192.0.2.23'),
    binding('sip:bob@example.com', 'sip:bob@192.0.2.24', { q: 0.1 }),
  ]);
  h.receive(invite({ from: 'sip:x@other.net' }));
  await h.flush();
  const fwd = h.requests('INVITE');
  h.reply(fwd[1]!.message, 180);
  h.reply(fwd[0]!.message, 603);
  const cancels = h.requests('CANCEL');
  t.equal(cancels.length, 1);
  t.equal(cancels[0]!.message.topVia?.branch, fwd[1]!.message.topVia?.branch);
  h.reply(fwd[1]!.message, 487);
  t.equal(h.requests('INVITE').length, 2, 'no new branch after a 6xx');
  const finals = h.responses().filter((r) => r.status >= 200);
  t.same(finals.map((r) => r.status), [603]);
});

t.test('401/407 challenges are aggregated; 503 alone becomes 500', async (t) => {
  const h = setup();
  h.store.map.set('sip:bob@example.com', [binding('sip:bob@example.com', 'sip:bob@192.0.2.22'), binding('sip:bob@example.com', 'sip:bob@192.0.2.23')]);
  h.receive(invite({ from: 'sip:x@other.net' }));
  await h.flush();
  const fwd = h.requests('INVITE');
  h.reply(fwd[0]!.message, 401, [['WWW-Authenticate', 'Digest realm="a", nonce="1"']]);
  h.reply(fwd[1]!.message, 407, [['Proxy-Authenticate', 'Digest realm="b", nonce="2"']]);
  const final = h.responses().find((r) => r.status >= 200)!;
  t.ok(final.status === 401 || final.status === 407);
  t.equal(final.headers.getAll('WWW-Authenticate').length, 1);
  t.equal(final.headers.getAll('Proxy-Authenticate').length, 1);

  const h2 = setup();
  h2.store.map.set('sip:bob@example.com', [binding('sip:bob@example.com', 'sip:bob@192.0.2.22')]);
  h2.receive(invite({ from: 'sip:x@other.net' }));
  await h2.flush();
  h2.reply(h2.requests('INVITE')[0]!.message, 503);
  t.equal(h2.responses().find((r) => r.status >= 200)!.status, 500);
});

t.test('CANCEL: 200, CANCEL to branches (after a provisional), 487 upstream; 481 otherwise', async (t) => {
  const h = setup();
  h.store.map.set('sip:bob@example.com', [binding('sip:bob@example.com', 'sip:bob@192.0.2.22'), binding('sip:bob@example.com', 'sip:bob@192.0.2.23')]);
  h.receive(invite({ from: 'sip:x@other.net' }));
  await h.flush();
  const fwd = h.requests('INVITE');
  h.reply(fwd[0]!.message, 180);
  h.receive(invite({ from: 'sip:x@other.net', method: 'CANCEL' }));
  t.equal(h.responses().find((r) => r.cseq?.method === 'CANCEL')!.status, 200);
  t.equal(h.requests('CANCEL').length, 1, 'only the branch with a provisional is cancelled now (§9.1)');
  h.reply(fwd[1]!.message, 100);
  h.reply(fwd[1]!.message, 180);
  t.equal(h.requests('CANCEL').length, 2, 'the other one on its first provisional');
  h.reply(fwd[0]!.message, 487);
  h.reply(fwd[1]!.message, 487);
  const finals = h.responses().filter((r) => r.status >= 200 && r.cseq?.method === 'INVITE');
  t.same(finals.map((r) => r.status), [487]);
  h.scheduler.advance(64_000);
  t.equal(h.proxy.activeContexts, 0, 'the response context is gone once every branch ended');

  h.sent.length = 0;
  h.receive(invite({ from: 'sip:x@other.net', method: 'CANCEL', branch: 'z9hG4bKnone' }));
  t.equal(h.responses()[0]!.status, 481);
});

t.test('Timer C: CANCEL after a provisional, 408 without one', async (t) => {
  const h = setup({ timerCMs: 1000 });
  h.store.map.set('sip:bob@example.com', [binding('sip:bob@example.com', 'sip:bob@192.0.2.22'), binding('sip:bob@example.com', 'sip:bob@192.0.2.23')]);
  h.receive(invite({ from: 'sip:x@other.net' }));
  await h.flush();
  const fwd = h.requests('INVITE');
  h.reply(fwd[0]!.message, 180);
  h.scheduler.advance(900);
  h.reply(fwd[0]!.message, 183); // resets Timer C on branch 0
  h.scheduler.advance(200);
  t.equal(h.requests('CANCEL').length, 0, 'branch 1 is in Calling: no CANCEL (§9.1), it counts as 408');
  h.scheduler.advance(1000);
  t.equal(h.requests('CANCEL').length, 1, 'branch 0 CANCELled on Timer C');
  h.reply(fwd[0]!.message, 487);
  const finals = h.responses().filter((r) => r.status >= 200);
  t.same(finals.map((r) => r.status), [408], 'best of 408 and 487 (same rank: the first)');
});

t.test('ACK for 2xx and BYE follow the Route set', async (t) => {
  const h = setup();
  const route = 'Route: <sip:10.0.0.1:5060;transport=udp;lr>\n';
  h.receive(invite({ method: 'ACK', uri: 'sip:bob@192.0.2.20:5060', toTag: 'callee', extra: route }));
  await h.flush();
  const acks = h.requests('ACK');
  t.equal(acks.length, 1);
  t.same(acks[0]!.target, { protocol: 'udp', address: '192.0.2.20', port: 5060 });
  t.equal(acks[0]!.message.headers.getAll('Route').length, 0, 'our Route popped');
  t.equal(acks[0]!.message.vias.length, 2);

  h.receive(invite({ method: 'BYE', uri: 'sip:bob@192.0.2.20:5060', toTag: 'callee', cseq: 3, branch: 'z9hG4bKbye', extra: route + 'Route: <sip:192.0.2.77;lr>\n' }));
  await h.flush();
  const byes = h.requests('BYE');
  t.equal(byes.length, 1, 'in-dialog: no auth');
  t.same(byes[0]!.target, { protocol: 'udp', address: '192.0.2.77', port: 5060 }, 'next Route is the next hop');
  t.notOk(byes[0]!.message.headers.has('Record-Route'));
  h.reply(byes[0]!.message, 200);
  t.equal(h.responses().at(-1)!.status, 200);

  // an in-dialog request that does not route through us is not relayed
  h.sent.length = 0;
  h.receive(invite({ method: 'BYE', from: 'sip:x@evil.org', uri: 'sip:bob@192.0.2.20', toTag: 'callee', cseq: 4, branch: 'z9hG4bKbye2' }));
  await h.flush();
  t.equal(h.responses()[0]!.status, 403);
});

t.test('double Record-Route when the transport changes (RFC 5658); NAT target = binding.source with connection', async (t) => {
  const h = setup();
  h.store.map.set('sip:bob@example.com', [
    binding('sip:bob@example.com', 'sip:bob@abc.invalid;transport=ws', {
      source: { protocol: 'wss', address: '198.51.100.9', port: 55555, connectionId: 'conn-7', nodeId: 'node1' },
    }),
  ]);
  h.receive(invite({ from: 'sip:x@other.net' }));
  await h.flush();
  const fwd = h.requests('INVITE')[0]!;
  t.same(fwd.target, { protocol: 'wss', address: '198.51.100.9', port: 55555, connectionId: 'conn-7' });
  t.same(fwd.message.headers.getAll('Record-Route'), ['<sips:10.0.0.1:7443;transport=wss;lr>', '<sip:10.0.0.1:5060;transport=udp;lr>']);
  t.match(fwd.message.topVia!.transport, 'WSS');

  // a binding on another node: no connection id
  const h2 = setup();
  h2.store.map.set('sip:bob@example.com', [
    binding('sip:bob@example.com', 'sip:bob@10.1.1.1:5060', { source: { protocol: 'udp', address: '203.0.113.4', port: 40000, nodeId: 'node2' } }),
  ]);
  h2.receive(invite({ from: 'sip:x@other.net' }));
  await h2.flush();
  t.same(h2.requests('INVITE')[0]!.target, { protocol: 'udp', address: '203.0.113.4', port: 40000 });

  // the BYE from the callee pops both of our Routes
  h.sent.length = 0;
  h.receive(
    invite({ method: 'BYE', uri: 'sip:x@192.0.2.10', toTag: 't', cseq: 9, branch: 'z9hG4bKbye3', extra: 'Route: <sips:10.0.0.1:7443;transport=wss;lr>, <sip:10.0.0.1:5060;transport=udp;lr>\n' }),
  );
  await h.flush();
  t.same(h.requests('BYE')[0]!.target, { protocol: 'udp', address: '192.0.2.10', port: 5060 });
});

t.test('Path of the binding becomes Route', async (t) => {
  const h = setup();
  h.store.map.set('sip:bob@example.com', [binding('sip:bob@example.com', 'sip:bob@10.9.9.9', { path: ['<sip:192.0.2.88;lr>'] })]);
  h.receive(invite({ from: 'sip:x@other.net' }));
  await h.flush();
  const fwd = h.requests('INVITE')[0]!;
  t.same(fwd.target, { protocol: 'udp', address: '192.0.2.88', port: 5060 });
  t.equal(fwd.message.headers.get('Route'), '<sip:192.0.2.88;lr>');
});

t.test('loop detection (482) and strict-router fix-up', async (t) => {
  const h = setup();
  await authedInvite(h, { uri: 'sip:carol@other.net', to: 'sip:carol@other.net' });
  const out = h.requests('INVITE')[0]!.message;
  // the same request comes back to us unchanged: a loop
  h.sent.length = 0;
  h.transactions.receiveRequest(out, h.udp('192.0.2.50'));
  await h.flush();
  t.equal(h.responses()[0]!.status, 482);

  const h2 = setup();
  h2.store.map.set('sip:bob@example.com', [binding('sip:bob@example.com', 'sip:bob@192.0.2.20')]);
  h2.receive(invite({ method: 'BYE', uri: 'sip:10.0.0.1:5060;transport=udp;lr', toTag: 't', branch: 'z9hG4bKstrict', extra: 'Route: <sip:bob@192.0.2.20:5070>\n' }));
  await h2.flush();
  const bye = h2.requests('BYE')[0];
  t.ok(bye, 'forwarded');
  t.equal(bye!.message.uri.port, 5070, 'R-URI restored from the last Route');
});

t.test('stray response with our Via goes to the next Via; MESSAGE is relayed', async (t) => {
  const h = setup();
  h.receive(
    'SIP/2.0 200 OK\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKgone.0\nVia: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKc;rport=40001;received=198.51.100.3\nFrom: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>;tag=2\nCall-ID: s1\nCSeq: 1 INVITE\nContent-Length: 0\n\n',
  );
  await h.flush();
  t.same(h.sent[0]!.target, { protocol: 'udp', address: '198.51.100.3', port: 40001 });
  t.equal((h.sent[0]!.message as { vias: unknown[] }).vias.length, 1);

  const h2 = setup();
  h2.store.map.set('sip:bob@example.com', [binding('sip:bob@example.com', 'sip:bob@192.0.2.22')]);
  await authedInvite(h2, { method: 'MESSAGE' });
  const msg = h2.requests('MESSAGE')[0]!;
  t.ok(msg);
  t.notOk(msg.message.headers.has('Record-Route'), 'no Record-Route on MESSAGE');
  h2.reply(msg.message, 202);
  t.equal(h2.responses().at(-1)!.status, 202);
});

t.test('close is idempotent', async (t) => {
  const h = setup();
  await h.proxy.close();
  await h.proxy.close();
  t.pass();
});
