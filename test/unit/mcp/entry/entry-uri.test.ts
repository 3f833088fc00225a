/** RFC 5552 / RFC 4240 Request-URIs: what the MCP is asked to run, and what it refuses. */
import t from 'tap';
import { message } from '../../../../src/sip/index.js';
import { connectionInfoFromInvite } from '../../../../src/mcp/entry/connection-info.js';
import { isEntryUri, parseEntryUri } from '../../../../src/mcp/entry/entry-uri.js';

function uri(text: string): message.SipUri {
  const u = message.parseUri(text);
  if (u === undefined) throw new Error(`test URI does not parse: ${text}`);
  return u;
}

t.test('RFC 5552 dialog URIs', async (t) => {
  const r = parseEntryUri(uri('sip:dialog@ms.example.com;voicexml=http://as.example.com/app/start.vxml%3Fa%3D1;maxage=10;maxstale=5;aai=hello%20world'));
  t.ok(r.ok);
  if (!r.ok) return;
  t.same(r.entry, {
    kind: 'dialog',
    url: 'http://as.example.com/app/start.vxml?a=1',
    method: 'get',
    maxageS: 10,
    maxstaleS: 5,
    aai: 'hello world',
    params: { voicexml: 'http://as.example.com/app/start.vxml?a=1', maxage: '10', maxstale: '5', aai: 'hello world' },
  });
  t.ok(isEntryUri(uri('sip:Dialog@ms.example.com')), 'the user part is case-insensitive');
  t.notOk(isEntryUri(uri('sip:alice@ms.example.com')));
  const post = parseEntryUri(uri('sip:dialog@ms;voicexml=https://as/x.vxml;method=POST'));
  t.equal(post.ok && post.entry.kind === 'dialog' && post.entry.method, 'post');
});

t.test('refusals name the problem', async (t) => {
  const cases: Array<[string, number, RegExp]> = [
    ['sip:dialog@ms', 400, /voicexml/],
    ['sip:dialog@ms;voicexml=ftp://x/y', 400, /Bad voicexml/],
    ['sip:dialog@ms;voicexml=notaurl', 400, /Bad voicexml/],
    ['sip:annc@ms', 400, /play/],
    ['sip:annc@ms;play=http://a/b.wav;repeat=0', 400, /repeat/],
    ['sip:annc@ms;play=http://a/b.wav;repeat=forever', 400, /duration/],
    ['sip:annc@ms;play=http://a/b.wav;delay=-1', 400, /delay/],
    ['sip:someone@ms', 404, /Not Found/],
  ];
  for (const [text, status, reason] of cases) {
    const r = parseEntryUri(uri(text));
    t.notOk(r.ok, text);
    if (!r.ok) {
      t.equal(r.status, status, `${text}: status`);
      t.match(r.reason, reason, `${text}: reason`);
    }
  }
});

t.test('RFC 4240 announcements', async (t) => {
  const r = parseEntryUri(uri('sip:annc@ms.example.net;play=http://audio.example.net/allcircuitsbusy.wav;repeat=3;delay=500;duration=20000;locale=en_US'));
  t.ok(r.ok);
  if (!r.ok || r.entry.kind !== 'annc') return;
  t.equal(r.entry.play, 'http://audio.example.net/allcircuitsbusy.wav');
  t.equal(r.entry.repeat, 3);
  t.equal(r.entry.delayMs, 500);
  t.equal(r.entry.durationMs, 20000);
  t.equal(r.entry.locale, 'en_US');
  const forever = parseEntryUri(uri('sip:annc@ms;play=file:///tmp/x.wav;repeat=forever;duration=1000'));
  t.equal(forever.ok && forever.entry.kind === 'annc' && forever.entry.repeat, Infinity);
});

t.test('session.connection from an INVITE', async (t) => {
  const raw = [
    'INVITE sip:dialog@127.0.0.1:5060;voicexml=http://127.0.0.1:8080/a.vxml SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1',
    'From: "Alice" <sip:alice@example.com>;tag=abc',
    'To: <sip:dialog@127.0.0.1>',
    'Call-ID: c1@example.com',
    'CSeq: 1 INVITE',
    'Max-Forwards: 70',
    'Contact: <sip:alice@127.0.0.1:5070>',
    'Diversion: <sip:+15551230000@carrier.example>;reason=no-answer;privacy=off;screen=yes',
    'User-to-User: 68656c6c6f;encoding=hex',
    'X-Account: 42',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const parsed = message.parseMessage(Buffer.from(raw));
  if (!parsed.ok || parsed.message.kind !== 'request') throw new Error('test INVITE does not parse');
  const info = connectionInfoFromInvite(parsed.message);
  t.equal(info.local.uri, 'sip:dialog@127.0.0.1');
  t.equal(info.remote.uri, 'sip:alice@example.com');
  t.equal(info.protocol.name, 'sip');
  t.equal(info.protocol.version, '2.0');
  const sip = info.protocol['sip'] as { requesturi: Record<string, string>; headers: Record<string, string> };
  t.equal(sip.requesturi['voicexml'], 'http://127.0.0.1:8080/a.vxml');
  t.equal(sip.headers['x-account'], '42');
  t.equal(sip.headers['call-id'], 'c1@example.com');
  t.same(info.redirect, [{ uri: 'sip:+15551230000@carrier.example', reason: 'no-answer', pi: 'off', si: 'yes' }]);
  t.equal(info.aai, 'hello', 'User-to-User hex payload');
  t.equal(info.originator, 'remote');
});
