/**
 * rawCallId (cluster.ts) reads a Call-ID from the bytes so that a datagram can be passed to its
 * owning worker unparsed. It must never disagree with the parser: either it gives the parser's
 * Call-ID or it gives nothing (the parsed message then decides).
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { rawCallId } from '../../../src/cli/cluster.js';
import { message } from '../../../src/sip/index.js';

function invite(headers: string[], body = ''): Buffer {
  return Buffer.from(['INVITE sip:bob@example.com SIP/2.0', ...headers, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n'), 'latin1');
}
const base = ['Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc', 'From: <sip:a@example.com>;tag=1', 'To: <sip:bob@example.com>', 'CSeq: 1 INVITE', 'Max-Forwards: 70'];

function parsedCallId(data: Buffer): string | undefined {
  const r = message.parseMessage(data);
  return r.ok ? r.message.callId : undefined;
}

t.test('plain forms give the parser\'s Call-ID', async (t) => {
  const cases: [string, Buffer, string][] = [
    ['long form', invite([...base, 'Call-ID: abc123@10.0.0.1']), 'abc123@10.0.0.1'],
    ['compact form', invite([...base, 'i: xyz']), 'xyz'],
    ['upper-case compact', invite([...base, 'I:xyz']), 'xyz'],
    ['any case', invite([...base, 'CALL-id:   spaced  ']), 'spaced'],
    ['space before the colon', invite(['call-ID \t:\tq-1', ...base]), 'q-1'],
    ['after Call-Info', invite(['Call-Info: <http://x/>;purpose=icon', ...base, 'Call-ID: after-info']), 'after-info'],
    ['a response', Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: resp-1\r\nCSeq: 1 INVITE\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nContent-Length: 0\r\n\r\n'), 'resp-1'],
    ['bare LF line ends', Buffer.from('BYE sip:b@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\nCall-ID: lf-only\nCSeq: 2 BYE\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>;tag=2\nContent-Length: 0\n\n'), 'lf-only'],
  ];
  for (const [name, data, want] of cases) {
    t.equal(rawCallId(data), want, name);
    t.equal(parsedCallId(data), want, `${name}: the parser agrees`);
  }
});

t.test('two Call-IDs: the first is read, and whichever worker gets it answers 400', async (t) => {
  const data = invite([...base, 'Call-ID: one', 'Call-ID: two']);
  t.equal(rawCallId(data), 'one');
  const parsed = message.parseMessage(data);
  t.equal(parsed.ok ? 0 : parsed.error.status, 400, 'the parser refuses the message');
});

t.test('anything unusual gives nothing', async (t) => {
  t.equal(rawCallId(invite(base)), undefined, 'no Call-ID header');
  t.equal(rawCallId(invite(base, 'Call-ID: in-the-body\r\n')), undefined, 'a Call-ID line in the body is not a header');
  t.equal(rawCallId(invite([...base, 'Call-ID: folded', ' continued'])), undefined, 'a folded value');
  t.equal(rawCallId(invite([...base, 'Call-ID:   '])), undefined, 'an empty value');
  t.equal(rawCallId(invite([...base, 'Call-ID: caf\u00e9'])), undefined, 'a byte above 0x7f');
  t.equal(rawCallId(invite([...base, 'Identity: i:not-it', 'Call-IDX: nope'])), undefined, 'names that only start alike');
  t.equal(rawCallId(Buffer.alloc(0)), undefined, 'no bytes');
  t.equal(rawCallId(Buffer.from('INVITE')), undefined, 'a start line only');
});

t.test('on random damage it never disagrees with the parser', async (t) => {
  const good = invite([...base, 'Call-ID: 8f2a-77@host', 'Contact: <sip:a@10.0.0.1>'], 'v=0\r\n');
  let compared = 0;
  for (let i = 0; i < 3000; i++) {
    const data = Buffer.from(good);
    const hits = 1 + (i % 4);
    for (let k = 0; k < hits; k++) {
      const at = randomBytes(2).readUInt16BE() % data.length;
      data[at] = [0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x69, 0x49, 0x80, randomBytes(1)[0] ?? 0][i % 9] ?? 0;
    }
    const raw = rawCallId(data);
    if (raw === undefined) continue;
    const parsed = message.parseMessage(data);
    if (!parsed.ok) continue; // the owner answers 400 to what it cannot parse, whoever it is
    compared++;
    if (parsed.message.callId !== raw) {
      t.fail(`disagreement on ${JSON.stringify(data.toString('latin1'))}: raw ${raw}, parsed ${String(parsed.message.callId)}`);
      return;
    }
  }
  t.ok(compared > 200, `${compared} damaged messages compared`);
});
