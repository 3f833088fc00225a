/**
 * Two SipServers on real UDP sockets, each with a UserAgentService: a call with SDP, a
 * re-INVITE, DTMF INFO (application/dtmf-relay passes the server core because the UA claims its
 * in-dialog requests), REFER/NOTIFY sipfrag, and BYE; no dialog is left on either side.
 */
import t from 'tap';
import { SystemScheduler } from '../../../src/lib/index.js';
import { SipServer } from '../../../src/sip/index.js';
import { UserAgentService, type IncomingInfo, type ReferNotify, type UaDialog } from '../../../src/sip/ua/index.js';

const HOST = '127.0.0.1';
const sdp = (v: number, port: number) => `v=0\r\no=x 1 ${String(v)} IN IP4 ${HOST}\r\ns=-\r\nc=IN IP4 ${HOST}\r\nt=0 0\r\nm=audio ${String(port)} RTP/AVP 0\r\n`;

async function node(ua: UserAgentService) {
  const server = new SipServer({
    listeners: [
      { protocol: 'udp', address: HOST, port: 0 },
      { protocol: 'tcp', address: HOST, port: 0 },
    ],
    scheduler: new SystemScheduler(),
    services: [ua],
    timers: { t1: 50 },
  });
  const listeners = await server.start();
  return { server, port: listeners[0]!.port, tcpPort: listeners.find((l) => l.protocol === 'tcp')!.port };
}

t.test('UA to UA over UDP through two SipServers', async (t) => {
  const caller = new UserAgentService();
  const callee = new UserAgentService();
  const a = await node(caller);
  const b = await node(callee);
  t.teardown(async () => {
    await a.server.shutdown(200);
    await b.server.shutdown(200);
  });
  let uasDialog: Promise<UaDialog> | undefined;
  callee.on('invite', (call) => {
    call.progress(180);
    uasDialog = call.accept({ sdp: sdp(1, 20000) });
  });
  const uri = `sip:bob@${HOST}:${String(b.port)}`;
  const out = caller.invite({ requestUri: uri, from: `sip:alice@${HOST}`, to: uri, sdp: sdp(1, 10000) });
  const result = await out.done;
  t.ok(result.ok, 'answered');
  if (!result.ok) return;
  const uas = await uasDialog!;
  t.match(result.sdp, /m=audio 20000/);

  uas.on('reinvite', (offer) => offer.accept({ sdp: sdp(2, 20002) }));
  const re = await result.dialog.reinvite({ sdp: sdp(2, 10002) });
  t.equal(re.status, 200, 're-INVITE answered');
  t.match(re.sdp, /20002/);

  const infos: IncomingInfo[] = [];
  uas.on('info', (i) => infos.push(i));
  const info = await result.dialog.sendDtmf('9', 120);
  t.equal(info.status, 200, 'dtmf-relay INFO accepted');
  t.same(infos[0]?.dtmf, { signal: '9', duration: 120 });

  const notes: ReferNotify[] = [];
  const gotFinal = new Promise<void>((resolve) =>
    result.dialog.on('notify', (n) => {
      notes.push(n);
      if (n.terminated) resolve();
    }),
  );
  uas.on('refer', (r) => {
    r.accept();
    setTimeout(() => void r.notify(200, 'OK').catch(() => undefined), 20);
  });
  const refer = await result.dialog.refer({ referTo: `sip:carol@${HOST}` });
  t.equal(refer.status, 202);
  await gotFinal;
  t.same(notes.map((n) => n.status), [100, 200], 'sipfrag NOTIFYs pass the server core');

  const ended = new Promise((resolve) => uas.on('ended', resolve));
  const bye = await result.dialog.bye();
  t.equal(bye?.status, 200);
  await ended;
  t.equal(caller.dialogCount + callee.dialogCount, 0, 'no dialog left');
});

t.test('UA to UA over TCP: the callee hangs up over the caller connection', async (t) => {
  const caller = new UserAgentService();
  const callee = new UserAgentService();
  const a = await node(caller);
  const b = await node(callee);
  t.teardown(async () => {
    await a.server.shutdown(200);
    await b.server.shutdown(200);
  });
  let uasDialog: Promise<UaDialog> | undefined;
  callee.on('invite', (call) => {
    uasDialog = call.accept({ sdp: sdp(1, 20000) });
  });
  const uri = `sip:bob@${HOST}:${String(b.tcpPort)};transport=tcp`;
  const result = await caller.invite({ requestUri: uri, from: `sip:alice@${HOST}`, to: uri, sdp: sdp(1, 10000) }).done;
  t.ok(result.ok, 'answered over TCP');
  if (!result.ok) return;
  const uas = await uasDialog!;
  uas.on('reinvite', (offer) => offer.accept({ sdp: sdp(2, 20002) }));
  t.equal((await result.dialog.reinvite({ sdp: sdp(2, 10002) })).status, 200, 're-INVITE over TCP');
  const ended = new Promise((resolve) => result.dialog.on('ended', resolve));
  t.equal((await uas.bye())?.status, 200, 'BYE from the callee');
  await ended;
  t.equal(caller.dialogCount + callee.dialogCount, 0);
});
