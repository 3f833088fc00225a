/**
 * The B2BUA on fake time, with real user agents on an in-memory hub (alice, opencx, bob, carol)
 * and a fake media engine: the maximum call duration, session timers on both legs (RFC 4028),
 * attended transfer (REFER with Replaces, RFC 3515 + 3891) and its 481 case, and RFC 4733 digits
 * sent as INFO to a phone without telephone-event.
 */
import t from 'tap';
import { silentLogger } from '../../../src/lib/index.js';
import { B2bua, type CallRouter, type CdrRecord } from '../../../src/calls/index.js';
import type { EndpointDescription, MediaEngineApi, MediaEvent } from '../../../src/media/index.js';
import { serializeMessage, type SipRequest } from '../../../src/sip/message/index.js';
import type { ReferNotify, UaDialog } from '../../../src/sip/ua/index.js';
import { setup, UaNode } from '../sip/ua/harness.js';

const sdp = (host: string, port: number, te: boolean): string =>
  `v=0\r\no=x 1 1 IN IP4 ${host}\r\ns=-\r\nc=IN IP4 ${host}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0${te ? ' 101' : ''}\r\na=rtpmap:0 PCMU/8000\r\n${te ? 'a=rtpmap:101 telephone-event/8000\r\n' : ''}`;

/** the calls the B2BUA makes on the engine, and the endpoints alive */
class FakeMedia {
  endpoints = new Set<string>();
  bridges = new Map<string, [string, string]>();
  detecting = new Set<string>();
  private n = 0;
  private listeners: ((e: MediaEvent) => void)[] = [];

  emit(e: MediaEvent): void {
    for (const l of this.listeners) l(e);
  }

  api(): MediaEngineApi {
    const describe = (id: string): EndpointDescription => ({ id, localSdp: sdp('127.0.0.2', 30000 + Number(id.slice(3)) * 2, true) });
    const fake: Partial<MediaEngineApi> = {
      createEndpoint: async () => {
        const id = `ep-${String(++this.n)}`;
        this.endpoints.add(id);
        return describe(id);
      },
      updateEndpoint: async (id) => describe(id),
      deleteEndpoint: async (id) => void this.endpoints.delete(id),
      endpointStats: async (id) => ({ id, kind: 'rtp', packetsSent: 0, packetsReceived: 0, packetsLost: 0, jitterMs: 0 }),
      bridge: async (a, b) => {
        const id = `br-${String(++this.n)}`;
        this.bridges.set(id, [a, b]);
        return { bridgeId: id, transcoding: false };
      },
      unbridge: async (id) => void this.bridges.delete(id),
      play: async () => ({ playId: `pl-${String(++this.n)}` }),
      stopPlay: async () => undefined,
      sendDtmf: async () => undefined,
      detectInbandDtmf: async (id, on) => void (on ? this.detecting.add(id) : this.detecting.delete(id)),
      onEvent: (l) => {
        this.listeners.push(l);
        return () => undefined;
      },
    };
    return fake as MediaEngineApi;
  }
}

function world(options: { maxCallDurationMs?: number; bobTe?: boolean } = {}) {
  const env = setup();
  const { hub, scheduler } = env;
  // setup() made 127.0.0.1 (alice) and 127.0.0.2 (plain); opencx, bob and carol get their own nodes
  const alice = env.a;
  const pbx = new UaNode(hub, '127.0.0.5', scheduler, { claims: (req) => req.method === 'INVITE' && req.toTag === undefined });
  const bob = new UaNode(hub, '127.0.0.3', scheduler);
  const carol = new UaNode(hub, '127.0.0.4', scheduler);
  const media = new FakeMedia();
  const cdrs: CdrRecord[] = [];
  const branch = (user: string, host: string) => ({
    requestUri: `sip:${user}@${host}`,
    to: `<sip:${user}@${host}>`,
    target: { protocol: 'udp' as const, address: host, port: 5060 },
    routes: [],
    label: `${user}@example.com via sip:${user}@${host}`,
  });
  const hosts: Record<string, string> = { bob: '127.0.0.3', carol: '127.0.0.4' };
  const connect = (dest: string) => ({ kind: 'connect' as const, groups: [{ branches: [branch(dest, hosts[dest] ?? '127.0.0.9')], failover: false }], direction: 'internal' as const, tenant: 't1', to: dest });
  const router = {
    route: async (req: SipRequest) => ({ ...connect(req.uri.user ?? ''), callerUser: 'alice@example.com' }),
    routeAs: async (_user: string, _domain: string, dest: string) => connect(dest.split('@')[0] ?? ''),
    ringUser: async () => ({ kind: 'reject' as const, status: 404, reason: 'Not Found' }),
  } as unknown as CallRouter;
  const b2bua = new B2bua({
    ua: pbx.ua,
    media: media.api(),
    router,
    cdrs: { write: async (records) => void cdrs.push(...records) },
    scheduler,
    logger: silentLogger,
    localHost: () => '127.0.0.5',
    ...(options.maxCallDurationMs !== undefined ? { maxCallDurationMs: options.maxCallDurationMs } : {}),
  });
  const answering = (node: UaNode, te: boolean) =>
    node.ua.on('invite', (inc) => {
      inc.accept({ sdp: sdp(node.transport.local.address, 20000, te) }).catch(() => undefined);
    });
  answering(bob, options.bobTe ?? true);
  answering(carol, true);
  const dialogsOf = (node: UaNode): UaDialog[] => [...node.ua.dialogs()];
  /** alice calls `user` through opencx and waits for the answer */
  const call = async (user: string, extra: { sessionExpires?: number } = {}): Promise<UaDialog> => {
    const out = alice.ua.invite({
      requestUri: `sip:${user}@127.0.0.5`,
      from: '<sip:alice@example.com>',
      to: `<sip:${user}@example.com>`,
      sdp: sdp('127.0.0.1', 10000, true),
      target: { protocol: 'udp', address: '127.0.0.5', port: 5060 },
      sessionExpires: extra.sessionExpires ?? false,
    });
    let settled = false;
    void out.done.then(() => (settled = true));
    for (let i = 0; i < 100 && !settled; i++) await env.advance(100, 50);
    const r = await out.done;
    if (!r.ok) throw new Error(`call to ${user} failed: ${String(r.failure.status)}`);
    await env.advance(500, 50);
    return r.dialog;
  };
  return { ...env, alice, pbx, bob, carol, media, cdrs, b2bua, call, dialogsOf };
}

t.test('maximum call duration: both legs get BYE, the CDR says max-duration', async (t) => {
  const w = world({ maxCallDurationMs: 10_000 });
  const a = await w.call('bob');
  t.equal(w.b2bua.activeCalls, 1, 'one call up');
  await w.advance(8_000, 500);
  t.notOk(a.ended, 'still up before the limit');
  await w.advance(3_000, 500);
  t.ok(a.ended, 'alice got BYE');
  t.equal(a.endReason?.by, 'remote', "opencx's BYE, not alice's");
  t.same(w.dialogsOf(w.bob), [], "bob's dialog ended too");
  t.equal(w.b2bua.activeCalls, 0, 'no call left');
  t.equal(w.media.endpoints.size, 0, 'no endpoint left');
  const call = w.cdrs.find((r) => r.legId === undefined);
  t.equal(call?.reason, 'max-duration', 'CDR reason');
  t.equal(call?.endedBy, 'system', 'ended by the system');
});

t.test('session timer asked by the caller: the B leg asks too, refreshes alone; expiry ends the call', async (t) => {
  const w = world();
  // alice never gets her refreshes through: opencx drops them, as if they were lost
  w.pbx.dropIn = (m) => m.kind === 'request' && m.toTag !== undefined && (m.method === 'UPDATE' || m.method === 'INVITE') && m.from?.uri.user === 'alice';
  const a = await w.call('bob', { sessionExpires: 90 });
  const bobInvite = w.bob.requests('INVITE', 'in')[0];
  t.equal(bobInvite?.headers.get('Session-Expires')?.split(';')[0], '90', 'the B leg asks for the caller\'s interval');
  t.match(bobInvite?.headers.get('Supported') ?? '', /100rel/, 'and lists 100rel');
  await w.advance(50_000, 1000);
  const refreshes = [...w.bob.requests('INVITE', 'in').slice(1), ...w.bob.requests('UPDATE', 'in')];
  t.equal(refreshes.length, 1, 'opencx refreshed the B leg half-way (RFC 4028 §10)');
  t.same([...w.alice.requests('INVITE', 'in'), ...w.alice.requests('UPDATE', 'in')], [], 'nothing reached alice');
  t.notOk(a.ended, 'the call is up');
  await w.advance(15_000, 1000);
  t.same(w.dialogsOf(w.bob), [], "alice's leg expired (90 - 30 s): bob got BYE");
  t.equal(w.b2bua.activeCalls, 0, 'no call left');
  const call = w.cdrs.find((r) => r.legId === undefined);
  t.equal(call?.reason, 'session-expired', 'CDR reason');
  t.equal(call?.status, 408, 'CDR status 408');
});

t.test("the caller's ACK and BYE read in one batch: the BYE still ends the call and bob gets BYE", async (t) => {
  const w = world();
  // opencx holds alice's ACK and BYE back, then reads both in one go, as a batched UDP read does
  const held: SipRequest[] = [];
  w.pbx.dropIn = (m) => m.kind === 'request' && (m.method === 'ACK' || m.method === 'BYE') && m.from?.uri.user === 'alice' && held.push(m) > 0;
  const a = await w.call('bob');
  const bye = a.bye().catch(() => undefined);
  await w.flush();
  const ack = held.find((m) => m.method === 'ACK');
  const byeRequest = held.find((m) => m.method === 'BYE');
  t.ok(ack !== undefined && byeRequest !== undefined, 'opencx held the ACK and the BYE');
  if (ack === undefined || byeRequest === undefined) return;
  w.pbx.dropIn = undefined;
  const source = { protocol: 'udp' as const, address: '127.0.0.1', port: 5060 };
  for (const m of [ack, byeRequest]) w.pbx.transport.emit('message', { data: serializeMessage(m), source, local: w.pbx.transport.local, connectionId: undefined, framingError: undefined });
  await w.advance(2_000, 100);
  await bye;
  t.ok(a.ended, "alice's BYE was answered");
  t.equal(w.bob.requests('BYE', 'in').length, 1, 'bob got BYE');
  t.same(w.dialogsOf(w.bob), [], "bob's dialog ended");
  t.equal(w.b2bua.activeCalls, 0, 'no call left');
  t.equal(w.media.endpoints.size, 0, 'no endpoint left');
  t.equal(w.cdrs.find((r) => r.legId === undefined)?.endedBy, 'caller', 'the CDR says the caller hung up');
});

t.test('attended transfer: bob joined to carol, alice released, CDRs tell', async (t) => {
  const w = world();
  const toBob = await w.call('bob');
  const toCarol = await w.call('carol');
  t.equal(w.b2bua.activeCalls, 2, 'two calls');
  const notes: ReferNotify[] = [];
  toBob.on('notify', (n) => notes.push(n));
  const refer = toBob.refer({ referTo: 'sip:carol@example.com', replaces: toCarol });
  await w.advance(2000, 50);
  t.equal((await refer).status, 202, 'REFER accepted');
  t.same(
    notes.map((n) => [n.status, n.terminated]),
    [
      [100, false],
      [200, true],
    ],
    'NOTIFY 100, then 200 terminating the subscription',
  );
  t.ok(toBob.ended && toCarol.ended, "both of alice's dialogs ended");
  t.equal(toCarol.endReason?.by, 'remote', 'call 2 hung up by opencx');
  t.equal(w.b2bua.activeCalls, 1, 'one call left');
  t.equal(w.dialogsOf(w.bob).length + w.dialogsOf(w.carol).length, 2, 'bob and carol still up');
  const [bridge] = [...w.media.bridges.values()];
  t.equal(w.media.bridges.size, 1, 'one bridge');
  t.equal(w.media.endpoints.size, 2, "alice's endpoints freed");
  t.ok(bridge !== undefined && bridge.every((id) => w.media.endpoints.has(id)), "the bridge joins bob's and carol's endpoints");
  const bobDialog = w.dialogsOf(w.bob)[0];
  await bobDialog?.bye();
  await w.advance(1000, 50);
  t.same(w.dialogsOf(w.carol), [], "bob's hang-up reaches carol");
  t.equal(w.b2bua.activeCalls, 0, 'no call left');
  t.equal(w.media.endpoints.size, 0, 'no endpoint left');
  t.ok(w.cdrs.some((r) => r.legId === undefined && /^Attended Transfer: joined to call-/.test(r.reason)), "call 2's CDR names the call it joined");
  t.equal(w.cdrs.filter((r) => r.legId !== undefined && r.reason === 'Transferred (attended)').length, 2, "alice's two legs recorded as transferred");
  t.equal(w.pbx.ua.dialogCount, 0, 'no dialog left at opencx');
});

t.test('attended transfer naming no dialog: NOTIFY 481, the call goes on', async (t) => {
  const w = world();
  const toBob = await w.call('bob');
  const notes: ReferNotify[] = [];
  toBob.on('notify', (n) => notes.push(n));
  await toBob.refer({ referTo: 'sip:carol@example.com', replaces: { callId: 'gone', toTag: 'x', fromTag: 'y', earlyOnly: false } });
  await w.advance(1000, 50);
  t.same(notes.at(-1)?.status, 481, 'NOTIFY 481');
  t.ok(notes.at(-1)?.terminated, 'final');
  t.notOk(toBob.ended, 'the call is still up');
  t.equal(w.b2bua.activeCalls, 1, 'one call');
  await w.b2bua.close();
  await w.advance(1000, 50);
  t.equal(w.media.endpoints.size, 0, 'closed cleanly');
});

t.test('RFC 4733 digits towards a phone without telephone-event go as INFO', async (t) => {
  const w = world({ bobTe: false });
  await w.call('bob');
  const [aliceEp] = [...w.media.endpoints];
  t.ok(aliceEp !== undefined && w.media.detecting.has(aliceEp), "the engine decodes alice's leg to see her digits");
  w.media.emit({ type: 'dtmf', endpointId: aliceEp ?? '', digit: '5', durationMs: 120, source: 'rfc4733' });
  await w.advance(500, 50);
  const infos = w.bob.requests('INFO', 'in');
  t.equal(infos.length, 1, 'bob got one INFO');
  t.equal(infos[0]?.contentType, 'application/dtmf-relay', 'application/dtmf-relay');
  t.match(infos[0]?.body.toString() ?? '', /Signal=5\r\nDuration=120/, 'with the digit and its duration');
  await w.b2bua.close();
  await w.advance(1000, 50);
});

t.test('INVITE with Replaces: takes the named leg over; unknown 481, early-only on a confirmed dialog 486', async (t) => {
  const w = world();
  const toBob = await w.call('bob');
  // carol names alice's dialog as opencx knows it: to-tag is opencx's tag (RFC 3891 §3)
  const named = { callId: toBob.callId, toTag: toBob.id.remoteTag, fromTag: toBob.id.localTag };
  const invite = async (replaces: string): Promise<{ status: number; dialog?: UaDialog }> => {
    const out = w.carol.ua.invite({
      requestUri: 'sip:bob@127.0.0.5',
      from: '<sip:carol@example.com>',
      to: '<sip:bob@example.com>',
      sdp: sdp('127.0.0.4', 12000, true),
      target: { protocol: 'udp', address: '127.0.0.5', port: 5060 },
      headers: [['Replaces', replaces]],
      sessionExpires: false,
    });
    let settled = false;
    void out.done.then(() => (settled = true));
    for (let i = 0; i < 100 && !settled; i++) await w.advance(100, 50);
    const r = await out.done;
    return r.ok ? { status: 200, dialog: r.dialog } : { status: r.failure.status };
  };
  t.equal((await invite('nope;to-tag=a;from-tag=b')).status, 481, 'no such dialog: 481');
  t.equal((await invite(`${named.callId};to-tag=${named.toTag};from-tag=${named.fromTag};early-only`)).status, 486, 'early-only naming a confirmed dialog: 486');
  const taken = await invite(`${named.callId};to-tag=${named.toTag};from-tag=${named.fromTag}`);
  t.equal(taken.status, 200, 'the replacing INVITE is answered');
  await w.advance(1000, 50);
  t.ok(toBob.ended, "alice's dialog got BYE");
  t.equal(toBob.endReason?.by, 'remote', 'from opencx');
  t.equal(w.b2bua.activeCalls, 1, 'the call goes on');
  t.equal(w.dialogsOf(w.bob).length, 1, 'bob never noticed');
  t.equal(w.media.endpoints.size, 2, "alice's endpoint freed, carol's made");
  t.equal(w.media.bridges.size, 1, 'one bridge: carol and bob');
  await taken.dialog?.bye();
  await w.advance(1000, 50);
  t.same(w.dialogsOf(w.bob), [], "carol's hang-up reaches bob");
  t.equal(w.media.endpoints.size, 0, 'no endpoint left');
  t.ok(w.cdrs.some((r) => r.legId !== undefined && r.reason === 'Replaced'), "alice's leg recorded as replaced");
});
