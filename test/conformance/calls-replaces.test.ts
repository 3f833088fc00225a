/**
 * INVITE with Replaces arriving at opencx (RFC 3891 §3): alice (SIPp) calls bob (baresip,
 * auto-answer) through opencx; then dave, a phone driven from a raw UDP socket, sends an INVITE
 * whose Replaces names alice's dialog with opencx (its id read from opencx's debug log, as an
 * operator would trace it). opencx answers dave 200, bridges him to bob, and sends alice BYE;
 * dave's BYE then ends the call and nothing is left behind. The leg records say alice's leg was
 * replaced.
 */
import t from 'tap';
import dgram from 'node:dgram';
import { fixture } from '../helpers/paths.js';
import { startPbx } from '../helpers/pbx.js';
import { authCsv, describeRun, startSipp } from '../helpers/sipp.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface DialogId {
  callId: string;
  localTag: string;
  remoteTag: string;
}

/** a UDP phone for hand-written requests: everything received is kept */
async function rawPhone(): Promise<{ port: number; send(text: string, port: number): void; waitFor(re: RegExp, timeoutMs: number): Promise<string | undefined>; close(): void }> {
  const sock = dgram.createSocket('udp4');
  const got: string[] = [];
  sock.on('message', (m) => got.push(m.toString('utf8')));
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return {
    port: sock.address().port,
    send: (text, port) => sock.send(Buffer.from(text, 'utf8'), port, '127.0.0.1'),
    async waitFor(re, timeoutMs) {
      for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(50)) {
        const hit = got.find((m) => re.test(m));
        if (hit !== undefined) return hit;
      }
      return undefined;
    },
    close: () => sock.close(),
  };
}

t.test('an INVITE with Replaces takes over the caller\'s place in an answered call', async (t) => {
  const pbx = await startPbx(t, ['alice', 'bob'], { env: { OPENCX_LOG__LEVEL: 'debug' } });
  if (pbx === undefined) return;
  const server = pbx.server;
  const bob = await pbx.phone('bob', { answer: true });
  const dave = await rawPhone();
  t.teardown(() => dave.close());

  const alice = await startSipp({
    target: `127.0.0.1:${pbx.udp}`,
    scenario: fixture(import.meta.url, 'sipp/replaced-caller-uac.xml'),
    csv: authCsv([{ user: 'alice', domain: '127.0.0.1', password: 'pw-alice', extra: ['bob'] }]),
    calls: 1,
    timeoutS: 45,
  });
  t.ok(await bob.waitFor(/Call established/, 15000).then(() => true, () => false), 'bob answered alice');
  // alice's dialog with opencx, as opencx logs it (the A leg: its id ends in -a)
  let aliceDialog: DialogId | undefined;
  for (let i = 0; i < 50 && aliceDialog === undefined; i++, await sleep(100)) {
    for (const line of server.output) {
      if (!line.includes('"leg dialog"')) continue;
      const rec = JSON.parse(line) as { legId?: string; dialog?: DialogId };
      if (rec.legId?.endsWith('-a') === true) aliceDialog = rec.dialog;
    }
  }
  t.ok(aliceDialog !== undefined, `alice's dialog found in the log: ${JSON.stringify(aliceDialog)}`);
  if (aliceDialog === undefined) return void alice.kill();

  const sdp = ['v=0', 'o=dave 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${dave.port + 2} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
  const head = (method: string, uri: string, cseq: number, branch: string, toTag?: string): string =>
    `${method} ${uri} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 127.0.0.1:${dave.port};branch=z9hG4bK-${branch};rport\r\n` +
    'Max-Forwards: 70\r\n' +
    'From: <sip:dave@example.org>;tag=dave1\r\n' +
    `To: <sip:bob@127.0.0.1>${toTag !== undefined ? `;tag=${toTag}` : ''}\r\n` +
    'Call-ID: dave-replaces-1\r\n' +
    `CSeq: ${cseq} ${method}\r\n` +
    `Contact: <sip:dave@127.0.0.1:${dave.port}>\r\n`;
  dave.send(
    head('INVITE', 'sip:bob@127.0.0.1', 1, 'inv1') +
      `Replaces: ${aliceDialog.callId};to-tag=${aliceDialog.localTag};from-tag=${aliceDialog.remoteTag}\r\n` +
      `Content-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(sdp)}\r\n\r\n${sdp}`,
    pbx.udp,
  );
  const ok = await dave.waitFor(/^SIP\/2\.0 200[^\n]*\n(?:[^\n]*\n)*?CSeq: 1 INVITE/, 10000);
  t.ok(ok !== undefined, 'dave\'s INVITE with Replaces is answered 200');
  if (ok === undefined) return void alice.kill();
  t.match(ok, /application\/sdp/, 'with an SDP answer');
  const toTag = /^To:[^\n]*;tag=([^;\s]+)/im.exec(ok)?.[1] ?? '';
  const contact = /^Contact:\s*<([^>]+)>/im.exec(ok)?.[1] ?? `sip:127.0.0.1:${pbx.udp}`;
  dave.send(head('ACK', contact, 1, 'ack1', toTag) + 'Content-Length: 0\r\n\r\n', pbx.udp);

  const aliceRun = await alice.done;
  t.equal(aliceRun.code, 0, `alice (the replaced caller) got BYE from opencx${aliceRun.code === 0 ? '' : '\n' + describeRun(aliceRun)}`);
  await sleep(500);
  const metrics = await fetch(`http://127.0.0.1:${server.ports.http}/metrics`).then((r) => r.text());
  t.match(metrics, /^opencx_calls_active 1$/m, 'the call goes on');
  t.match(metrics, /^opencx_sip_ua_dialogs 2$/m, 'with two dialogs: dave and bob');
  t.notMatch(bob.output(), /session closed/, 'bob never noticed');

  dave.send(head('BYE', contact, 2, 'bye1', toTag) + 'Content-Length: 0\r\n\r\n', pbx.udp);
  t.ok(await dave.waitFor(/^SIP\/2\.0 200[^\n]*\n(?:[^\n]*\n)*?CSeq: 2 BYE/, 10000), 'dave\'s BYE answered 200');
  t.ok(await bob.waitFor(/session closed|terminated/, 10000).then(() => true, () => false), 'bob got the BYE');
  await pbx.assertIdle(t);
  const cdrs = await pbx.cli('cdr', 'list', '--limit', '10');
  t.match(cdrs.stdout, /\tleg\t[^\n]*-a\t[^\n]* Replaced by/, 'alice\'s leg record says Replaced');
  t.same(pbx.errors(), [], 'opencx logged no errors');
});
