import t, { type Test } from 'tap';
import { ConflictError, FakeScheduler, UnavailableError } from '../../../../src/lib/index.js';
import { MemoryBus } from '../../../../src/platform/index.js';
import { answerChallenge, ha1, selectChallenge } from '../../../../src/sip/auth/index.js';
import { formatAuthHeader, parseAuthHeader, parseMessage, type SipRequest, type SipResponse } from '../../../../src/sip/message/index.js';
import type { SubscriberDirectory } from '../../../../src/sip/server/index.js';
import type { ReceiveContext } from '../../../../src/sip/transaction/index.js';
import {
  MemoryLocationStore,
  REGISTRATIONS_TOPIC,
  Registrar,
  parseRegistrationEvent,
  registrationsView,
  type LocationStore,
  type RegistrarOptions,
  type RegistrationEvent,
} from '../../../../src/sip/registrar/index.js';

const PASSWORDS: Record<string, string> = { alice: 'alicepw', bob: 'bobpw' };

const directory: SubscriberDirectory = {
  isLocalDomain: async (host) => host === 'example.com',
  realmFor: (domain) => domain,
  ha1: async (user, domain, hash) => {
    const pw = PASSWORDS[user];
    return pw === undefined ? undefined : ha1(hash === 'MD5' ? 'MD5' : 'SHA-256', user, domain, pw);
  },
  userExists: async (user) => user in PASSWORDS,
};

const tick = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

interface Harness {
  scheduler: FakeScheduler;
  store: MemoryLocationStore;
  bus: MemoryBus;
  registrar: Registrar;
  events: RegistrationEvent[];
}

async function harness(t: Test, extra: Partial<RegistrarOptions> = {}): Promise<Harness> {
  const scheduler = new FakeScheduler();
  const store = new MemoryLocationStore({ scheduler, sweepIntervalMs: 1000 });
  const bus = new MemoryBus({ scheduler });
  const events: RegistrationEvent[] = [];
  await bus.subscribe(REGISTRATIONS_TOPIC, (m) => {
    const e = parseRegistrationEvent(m);
    if (e !== undefined) events.push(e);
  });
  const registrar = new Registrar({ store, directory, scheduler, bus, nodeId: 'node-1', authSecret: 'shared-secret', ...extra });
  t.teardown(async () => {
    registrar.close();
    registrar.close();
    await store.close();
    await bus.close();
  });
  return { scheduler, store, bus, registrar, events };
}

let seq = 0;
interface RegisterSpec {
  user?: string;
  toUser?: string;
  uriHost?: string;
  contacts?: string[];
  expires?: number;
  callId?: string;
  cseq?: number;
  extra?: string[];
  authorization?: string;
  vias?: number;
}

function register(spec: RegisterSpec = {}): SipRequest {
  const user = spec.toUser ?? spec.user ?? 'alice';
  const host = spec.uriHost ?? 'example.com';
  const lines = [`REGISTER sip:${host} SIP/2.0`];
  for (let i = 0; i < (spec.vias ?? 1); i++) lines.push(`Via: SIP/2.0/UDP 192.0.2.${10 + i}:5060;branch=z9hG4bK${seq++}x${i}`);
  lines.push(
    'Max-Forwards: 70',
    `From: <sip:${user}@example.com>;tag=f${seq}`,
    `To: <sip:${user}@example.com>`,
    `Call-ID: ${spec.callId ?? 'call-a'}`,
    `CSeq: ${spec.cseq ?? ++seq} REGISTER`,
  );
  for (const c of spec.contacts ?? [`<sip:${user}@192.0.2.10:5060>`]) lines.push(`Contact: ${c}`);
  if (spec.expires !== undefined) lines.push(`Expires: ${spec.expires}`);
  if (spec.authorization !== undefined) lines.push(`Authorization: ${spec.authorization}`);
  lines.push(...(spec.extra ?? []), 'Content-Length: 0', '', '');
  const r = parseMessage(Buffer.from(lines.join('\r\n')));
  if (!r.ok || r.message.kind !== 'request') throw new Error('fixture does not parse: ' + (r.ok ? '' : r.error.reason));
  return r.message;
}

function ctx(address = '192.0.2.10', protocol: 'udp' | 'tcp' = 'udp', connectionId?: string): ReceiveContext {
  return { source: { protocol, address, port: 5060 }, connectionId };
}

async function send(h: Harness, req: SipRequest, c: ReceiveContext = ctx()): Promise<SipResponse> {
  const got: SipResponse[] = [];
  const handled = h.registrar.handleRequest(req, { respond: (r) => got.push(r) }, c);
  if (!handled) throw new Error('not handled');
  for (let i = 0; i < 20 && got.length === 0; i++) await tick();
  if (got.length !== 1) throw new Error(`expected one response, got ${got.length}`);
  return got[0]!;
}

/** 401 then an answered REGISTER: returns the final response */
async function registerWithAuth(h: Harness, spec: RegisterSpec = {}, c: ReceiveContext = ctx(), password?: string): Promise<SipResponse> {
  const first = await send(h, register(spec), c);
  if (first.status !== 401) return first;
  const challenges = first.headers.getAll('WWW-Authenticate').map((v) => parseAuthHeader(v)!);
  const challenge = selectChallenge(challenges)!;
  const user = spec.user ?? 'alice';
  const answer = answerChallenge(challenge, { username: user, password: password ?? PASSWORDS[user] ?? 'x', method: 'REGISTER', uri: `sip:${spec.uriHost ?? 'example.com'}` })!;
  return send(h, register({ ...spec, cseq: (spec.cseq ?? ++seq) + 1, authorization: formatAuthHeader(answer, 'credentials') }), c);
}

function contactsOf(res: SipResponse): string[] {
  return res.headers.getAll('Contact');
}

t.test('401 with one challenge per algorithm, then 200 listing the binding with expires and Date', async (t) => {
  const h = await harness(t);
  const first = await send(h, register());
  t.equal(first.status, 401);
  const challenges = first.headers.getAll('WWW-Authenticate');
  t.equal(challenges.length, 2);
  t.match(challenges[0], /algorithm=SHA-256/);
  t.match(challenges[1], /algorithm=MD5/);
  t.ok(first.toTag, 'final responses carry a To tag');
  const ok = await registerWithAuth(h, { expires: 600 });
  t.equal(ok.status, 200);
  t.same(contactsOf(ok), ['<sip:alice@192.0.2.10:5060>;expires=600']);
  t.ok(ok.headers.get('Date')?.endsWith('GMT'));
  const stored = await h.store.bindings('sip:alice@example.com');
  t.equal(stored.length, 1);
  t.same(stored[0]!.source, { protocol: 'udp', address: '192.0.2.10', port: 5060, connectionId: undefined, nodeId: 'node-1' });
  t.same(
    h.events.map((e) => [e.type, e.contact]),
    [['registered', 'sip:alice@192.0.2.10:5060']],
  );
});

t.test('refresh keeps one binding; a second contact is added; remove one; then *', async (t) => {
  const h = await harness(t);
  t.equal((await registerWithAuth(h, { callId: 'c1' })).status, 200);
  h.scheduler.advance(10_000);
  const refreshed = await registerWithAuth(h, { callId: 'c1', expires: 1800 });
  t.same(contactsOf(refreshed), ['<sip:alice@192.0.2.10:5060>;expires=1800']);
  const two = await registerWithAuth(h, { callId: 'c2', contacts: ['<sip:alice@198.51.100.1>;q=0.5'] });
  t.equal(contactsOf(two).length, 2, '200 lists all current bindings');
  t.ok(contactsOf(two).includes('<sip:alice@198.51.100.1>;expires=3600;q=0.5'), 'q-value echoed');
  const removed = await registerWithAuth(h, { callId: 'c2', contacts: ['<sip:alice@198.51.100.1>;expires=0'] });
  t.same(contactsOf(removed), ['<sip:alice@192.0.2.10:5060>;expires=1800']);
  const badStar = await registerWithAuth(h, { callId: 'c3', contacts: ['*'] });
  t.equal(badStar.status, 400, '* without Expires: 0');
  const star = await registerWithAuth(h, { callId: 'c3', contacts: ['*'], expires: 0 });
  t.equal(star.status, 200);
  t.same(contactsOf(star), []);
  t.same(await h.store.bindings('sip:alice@example.com'), []);
  t.same(
    h.events.map((e) => e.type),
    ['registered', 'refreshed', 'registered', 'removed', 'removed'],
  );
});

t.test('query without Contact lists bindings; wildcard with another contact is 400', async (t) => {
  const h = await harness(t);
  await registerWithAuth(h, { callId: 'q1' });
  const query = await registerWithAuth(h, { callId: 'q2', contacts: [] });
  t.equal(query.status, 200);
  t.equal(contactsOf(query).length, 1);
  const mixed = await registerWithAuth(h, { callId: 'q3', contacts: ['*', '<sip:alice@h>'], expires: 0 });
  t.equal(mixed.status, 400);
});

t.test('423 Interval Too Brief with Min-Expires; expires capped at maxExpires', async (t) => {
  const h = await harness(t);
  const brief = await registerWithAuth(h, { expires: 30 });
  t.equal(brief.status, 423);
  t.equal(brief.headers.get('Min-Expires'), '60');
  const capped = await registerWithAuth(h, { contacts: ['<sip:alice@h1>;expires=99999'] });
  t.same(contactsOf(capped), ['<sip:alice@h1>;expires=3600']);
});

t.test('CSeq ordering: same Call-ID with a lower CSeq is 500 (§10.3 step 7), an equal one a retransmission', async (t) => {
  const h = await harness(t);
  t.equal((await registerWithAuth(h, { callId: 'ord', cseq: 100 })).status, 200);
  const old = await registerWithAuth(h, { callId: 'ord', cseq: 50 });
  t.equal(old.status, 500);
  // the same CSeq again is a retransmission (REGISTER is answered statelessly): same 200, nothing changes
  const again = await registerWithAuth(h, { callId: 'ord', cseq: 100 });
  t.equal(again.status, 200, 'an equal CSeq is a retransmission, not out of order');
  const otherCall = await registerWithAuth(h, { callId: 'other', cseq: 1 });
  t.equal(otherCall.status, 200, 'another Call-ID replaces the binding');
});

t.test('max bindings per AOR: 403', async (t) => {
  const h = await harness(t, { maxBindingsPerAor: 2 });
  t.equal((await registerWithAuth(h, { callId: 'm1', contacts: ['<sip:alice@h1>'] })).status, 200);
  t.equal((await registerWithAuth(h, { callId: 'm2', contacts: ['<sip:alice@h2>'] })).status, 200);
  const third = await registerWithAuth(h, { callId: 'm3', contacts: ['<sip:alice@h3>'] });
  t.equal(third.status, 403);
  t.equal(third.reason, 'Too many registered contacts');
  t.equal((await registerWithAuth(h, { callId: 'm1', contacts: ['<sip:alice@h1>'] })).status, 200, 'a refresh still works');
});

t.test('domain and identity checks', async (t) => {
  const h = await harness(t);
  const foreign = await send(h, register({ uriHost: 'other.org' }));
  t.equal(foreign.status, 403, 'never a registrar for foreign domains');
  t.equal(foreign.headers.getAll('WWW-Authenticate').length, 0);
  const wrongUser = await registerWithAuth(h, { user: 'bob', toUser: 'alice' });
  t.equal(wrongUser.status, 403, 'bob cannot register alice');
  t.same(await h.store.bindings('sip:alice@example.com'), []);
});

t.test('Path is stored and echoed only with Supported: path', async (t) => {
  const h = await harness(t);
  const ok = await registerWithAuth(h, { callId: 'p1', extra: ['Path: <sip:edge1.example.com;lr>', 'Supported: path'], vias: 2 });
  t.equal(ok.status, 200);
  t.same(ok.headers.getAll('Path'), ['<sip:edge1.example.com;lr>']);
  t.same((await h.store.bindings('sip:alice@example.com'))[0]!.path, ['<sip:edge1.example.com;lr>']);
  const noEcho = await registerWithAuth(h, { callId: 'p1', extra: ['Path: <sip:edge1.example.com;lr>'], vias: 2 });
  t.same(noEcho.headers.getAll('Path'), []);
});

t.test('outbound: instance + reg-id is a flow, a new flow replaces the old, Require: outbound', async (t) => {
  const h = await harness(t);
  const inst = '+sip.instance="<urn:uuid:00000000-0000-1000-8000-000000000001>"';
  const first = await registerWithAuth(h, { callId: 'o1', contacts: [`<sip:alice@10.0.0.5:5060;transport=tcp;ob>;${inst};reg-id=1`], extra: ['Supported: outbound, path'] }, ctx('203.0.113.9', 'tcp', 'conn-1'));
  t.equal(first.status, 200);
  t.equal(first.headers.get('Require'), 'outbound');
  t.match(contactsOf(first)[0], /\+sip\.instance="<urn:uuid:00000000-0000-1000-8000-000000000001>";reg-id=1/);
  const second = await registerWithAuth(h, { callId: 'o2', contacts: [`<sip:alice@10.0.0.6:5062;transport=tcp;ob>;${inst};reg-id=1`], extra: ['Supported: outbound'] }, ctx('203.0.113.9', 'tcp', 'conn-2'));
  t.equal(second.status, 200);
  const stored = await h.store.bindings('sip:alice@example.com');
  t.equal(stored.length, 1, 'the old flow was replaced');
  t.equal(stored[0]!.contact, 'sip:alice@10.0.0.6:5062;transport=tcp;ob');
  t.same(stored[0]!.source, { protocol: 'tcp', address: '203.0.113.9', port: 5060, connectionId: 'conn-2', nodeId: 'node-1' }, 'reached at the source');
  const other = await registerWithAuth(h, { callId: 'o3', contacts: [`<sip:alice@10.0.0.6:5062;ob>;${inst};reg-id=2`] }, ctx('203.0.113.9', 'tcp', 'conn-3'));
  t.equal(contactsOf(other).length, 2, 'another reg-id is another flow');
  const viaProxy = await registerWithAuth(h, { callId: 'o4', contacts: [`<sip:alice@10.0.0.7;ob>;${inst};reg-id=3`], vias: 2 });
  t.equal(viaProxy.status, 439, 'a first hop without outbound support');
});

t.test('wrong password: 401 again, then lockout for that AOR+source; another source still works', async (t) => {
  const h = await harness(t, { failuresPerAorSource: { maxFailures: 3, windowMs: 60_000 } });
  for (let i = 0; i < 2; i++) {
    const r = await registerWithAuth(h, {}, ctx('198.51.100.66'), 'wrong');
    t.equal(r.status, 401, `failure ${i + 1} is challenged again`);
  }
  const locked = await registerWithAuth(h, {}, ctx('198.51.100.66'), 'wrong');
  t.equal(locked.status, 403);
  t.equal(locked.reason, 'Forbidden (too many failed authentications)');
  const stillLocked = await send(h, register(), ctx('198.51.100.66'));
  t.equal(stillLocked.status, 403, 'even the right user on that address');
  const elsewhere = await registerWithAuth(h, {}, ctx('192.0.2.77'));
  t.equal(elsewhere.status, 200, 'the right user from another address');
  h.scheduler.advance(300_001);
  t.equal((await registerWithAuth(h, {}, ctx('198.51.100.66'))).status, 200, 'the lockout ends');
});

t.test('failures per source across many AORs lock the source', async (t) => {
  const h = await harness(t, { failuresPerSource: { maxFailures: 4, windowMs: 60_000 } });
  const statuses: number[] = [];
  for (const user of ['alice', 'bob', 'alice', 'bob']) statuses.push((await registerWithAuth(h, { user }, ctx('198.51.100.99'), 'nope')).status);
  t.same(statuses, [401, 401, 401, 403]);
  t.equal((await send(h, register({ user: 'bob' }), ctx('198.51.100.99'))).status, 403, 'locked before any work');
  t.equal((await registerWithAuth(h, { user: 'bob' }, ctx('192.0.2.5'))).status, 200);
});

t.test('stale nonce: 401 stale=true', async (t) => {
  const h = await harness(t, { nonceTtlMs: 1000 });
  const first = await send(h, register());
  const challenge = selectChallenge(first.headers.getAll('WWW-Authenticate').map((v) => parseAuthHeader(v)!))!;
  h.scheduler.advance(5000);
  const answer = answerChallenge(challenge, { username: 'alice', password: 'alicepw', method: 'REGISTER', uri: 'sip:example.com' })!;
  const stale = await send(h, register({ authorization: formatAuthHeader(answer, 'credentials') }));
  t.equal(stale.status, 401);
  t.match(stale.headers.get('WWW-Authenticate'), /stale=true/);
});

t.test('pike: a flooding source gets 503 + Retry-After, others are untouched', async (t) => {
  const h = await harness(t, { pike: { ratePerSecond: 5, burst: 5 } });
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push((await send(h, register(), ctx('198.51.100.200'))).status);
  t.same(statuses, [401, 401, 401, 401, 401, 503, 503, 503]);
  const r = await send(h, register(), ctx('198.51.100.200'));
  t.equal(r.headers.get('Retry-After'), '5');
  t.equal((await send(h, register(), ctx('192.0.2.1'))).status, 401, 'another source is served');
  h.scheduler.advance(1000);
  t.equal((await send(h, register(), ctx('198.51.100.200'))).status, 401, 'tokens refill');
  h.scheduler.advance(60_000);
  t.equal(h.registrar.trackedSources.pike, 0, 'full buckets are swept');
});

t.test('expiry: the store sweep publishes expired', async (t) => {
  const h = await harness(t);
  await registerWithAuth(h, { expires: 60 });
  h.scheduler.advance(61_000);
  await tick();
  t.same(
    h.events.map((e) => e.type),
    ['registered', 'expired'],
  );
  t.same(await h.store.bindings('sip:alice@example.com'), []);
});

t.test('a dead store answers 503 with Retry-After; other failures 500', async (t) => {
  const scheduler = new FakeScheduler();
  const failing = (err: Error): LocationStore => ({
    bindings: () => Promise.reject(err),
    read: () => Promise.reject(err),
    replace: () => Promise.reject(err),
    count: () => Promise.reject(err),
    aors: () => Promise.reject(err),
    close: async () => {},
  });
  const dead = new Registrar({ store: failing(new UnavailableError('redis down')), directory, scheduler, nodeId: 'n', authSecret: 's' });
  const h = { registrar: dead } as unknown as Harness;
  const ok = await registerWithAuth(h);
  t.equal(ok.status, 503);
  t.equal(ok.headers.get('Retry-After'), '5');
  dead.close();
  const broken = new Registrar({ store: failing(new Error('bug')), directory, scheduler, nodeId: 'n', authSecret: 's' });
  t.equal((await registerWithAuth({ registrar: broken } as unknown as Harness)).status, 500);
  broken.close();
});

t.test('concurrent REGISTERs for one AOR both land (optimistic retry)', async (t) => {
  const h = await harness(t);
  const a = registerWithAuth(h, { callId: 'x1', contacts: ['<sip:alice@h1>'] });
  const b = registerWithAuth(h, { callId: 'x2', contacts: ['<sip:alice@h2>'] });
  const [ra, rb] = await Promise.all([a, b]);
  t.equal(ra.status, 200);
  t.equal(rb.status, 200);
  t.equal((await h.store.bindings('sip:alice@example.com')).length, 2);
});

t.test('registrationsView: list and remove', async (t) => {
  const h = await harness(t);
  await registerWithAuth(h, { contacts: ['<sip:alice@h1>;q=0.7'] });
  const view = registrationsView({ store: h.store, scheduler: h.scheduler, nodeId: 'api', bus: h.bus });
  const list = await view.bindings('sip:alice@example.com');
  t.equal(list.length, 1);
  t.equal(list[0]!.q, 0.7);
  t.equal(list[0]!.expires, 3600);
  t.same(await view.aors(), ['sip:alice@example.com']);
  t.equal(await view.count(), 1);
  t.equal(await view.remove('sip:alice@example.com'), 1);
  t.equal(await view.remove('sip:alice@example.com'), 0);
  await tick();
  t.equal(h.events.at(-1)?.type, 'removed');
});

t.test('non-REGISTER is not taken; close stops timers', async (t) => {
  const scheduler = new FakeScheduler();
  const store = new MemoryLocationStore({ scheduler, sweepIntervalMs: 0 });
  const r = new Registrar({ store, directory, scheduler, nodeId: 'n', authSecret: 's' });
  const options = parseMessage(Buffer.from('OPTIONS sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:example.com>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'));
  if (!options.ok || options.message.kind !== 'request') throw new Error('fixture');
  t.notOk(r.handleRequest(options.message, { respond: () => {} }, ctx()));
  r.close();
  await store.close();
  t.equal(scheduler.pending, 0);
  t.throws(() => new Registrar({ store, directory, scheduler, nodeId: 'n' }), /authSecret/);
});

t.test('the Date of a 200 is the RFC 1123 date of that very second (formatted once a second)', async (t) => {
  const h = await harness(t);
  const first = await registerWithAuth(h, { expires: 600 });
  t.equal(first.status, 200);
  t.equal(first.headers.get('Date'), new Date(h.scheduler.wallNow()).toUTCString());
  h.scheduler.advance(400);
  const same = await registerWithAuth(h, { expires: 600 });
  t.equal(same.headers.get('Date'), new Date(h.scheduler.wallNow()).toUTCString());
  h.scheduler.advance(2500);
  const later = await registerWithAuth(h, { expires: 600 });
  t.equal(later.headers.get('Date'), new Date(h.scheduler.wallNow()).toUTCString());
  t.not(later.headers.get('Date'), first.headers.get('Date'), 'a later second gets its own Date');
});

t.test('registration events are built only when the bus has a subscriber for them', async (t) => {
  const scheduler = new FakeScheduler();
  const store = new MemoryLocationStore({ scheduler, sweepIntervalMs: 1000 });
  // the real in-process bus, counting what reaches publish()
  class CountingBus extends MemoryBus {
    published = 0;
    override async publish(topic: string, message: string): Promise<void> {
      this.published++;
      return super.publish(topic, message);
    }
  }
  const bus = new CountingBus({ scheduler });
  const registrar = new Registrar({ store, directory, scheduler, bus, nodeId: 'node-1', authSecret: 'shared-secret' });
  t.teardown(async () => {
    registrar.close();
    await store.close();
    await bus.close();
  });
  const h: Harness = { scheduler, store, bus, registrar, events: [] };
  t.equal((await registerWithAuth(h, { expires: 600 })).status, 200);
  t.equal(bus.published, 0, 'nobody listens: nothing encoded or published');
  t.equal((await store.bindings('sip:alice@example.com')).length, 1, 'the binding is stored all the same');
  const sub = await bus.subscribe(REGISTRATIONS_TOPIC, (m) => {
    const e = parseRegistrationEvent(m);
    if (e !== undefined) h.events.push(e);
  });
  t.equal((await registerWithAuth(h, { user: 'bob', expires: 600 })).status, 200);
  await tick();
  t.equal(bus.published, 1, 'a subscriber: the event goes out');
  t.same(h.events.map((e) => [e.type, e.aor]), [['registered', 'sip:bob@example.com']]);
  await sub.unsubscribe();
  t.equal((await registerWithAuth(h, { user: 'bob', expires: 0 })).status, 200);
  t.equal(bus.published, 1, 'unsubscribed again: nothing more');
});

t.test('a directory and a store held in memory are used without promises; the same answers come back', async (t) => {
  const refuse = (): Promise<never> => Promise.reject(new Error('the held directory should have answered'));
  const held: SubscriberDirectory = {
    isLocalDomain: refuse,
    realmFor: (domain) => domain,
    ha1: refuse,
    userExists: refuse,
    held: () => ({
      isLocalDomain: (host) => host === 'example.com',
      ha1: (user, domain, hash) => {
        const pw = PASSWORDS[user];
        return pw === undefined ? undefined : ha1(hash === 'MD5' ? 'MD5' : 'SHA-256', user, domain, pw);
      },
    }),
  };
  class SyncOnlyStore extends MemoryLocationStore {
    override read(): Promise<never> {
      return Promise.reject(new Error('readNow should have been used'));
    }
    override replace(): Promise<never> {
      return Promise.reject(new Error('replaceNow should have been used'));
    }
  }
  const scheduler = new FakeScheduler();
  const store = new SyncOnlyStore({ scheduler, sweepIntervalMs: 1000 });
  const registrar = new Registrar({ store, directory: held, scheduler, nodeId: 'node-1', authSecret: 'shared-secret', failuresPerAorSource: { maxFailures: 2, windowMs: 60_000 } });
  t.teardown(async () => {
    registrar.close();
    await store.close();
  });
  const h = { scheduler, store, registrar } as unknown as Harness;

  const ok = await registerWithAuth(h, { expires: 600 });
  t.equal(ok.status, 200, 'challenge, answer, 200');
  t.same(contactsOf(ok), ['<sip:alice@192.0.2.10:5060>;expires=600']);
  t.equal(store.readNow('sip:alice@example.com').bindings.length, 1, 'written with replaceNow');
  t.equal((await registerWithAuth(h, { user: 'mallory' })).status, 401, 'an unknown user is challenged again');
  t.equal((await send(h, register({ uriHost: 'elsewhere.example' }))).status, 403, 'a foreign domain, from the held directory');
  t.equal((await registerWithAuth(h, {}, ctx('198.51.100.9'), 'wrong')).status, 401, 'a wrong password counts');
  t.equal((await registerWithAuth(h, {}, ctx('198.51.100.9'), 'wrong')).status, 403, 'and locks out like the async path');
  // answered at once: the response is there when handleRequest returns, no promise in between
  const got: SipResponse[] = [];
  registrar.handleRequest(register({ callId: 'sync' }), { respond: (r) => got.push(r) }, ctx());
  t.equal(got[0]?.status, 401, 'the challenge came back before handleRequest returned');
});

t.test('a store that only answers with promises (read/replace) gives the same answers, conflicts retried', async (t) => {
  const scheduler = new FakeScheduler();
  const inner = new MemoryLocationStore({ scheduler, sweepIntervalMs: 1000 });
  let conflicts = 1;
  const asyncOnly: LocationStore = {
    bindings: (aor) => inner.bindings(aor),
    read: async (aor) => inner.read(aor),
    replace: async (aor, bindings, expectVersion) => {
      // one concurrent writer gets in first: the registrar reads again and retries
      if (conflicts-- > 0) throw new ConflictError('someone else wrote first');
      return inner.replace(aor, bindings, expectVersion);
    },
    count: () => inner.count(),
    aors: (options) => inner.aors(options),
    close: () => inner.close(),
  };
  const registrar = new Registrar({ store: asyncOnly, directory, scheduler, nodeId: 'node-1', authSecret: 'shared-secret' });
  t.teardown(async () => {
    registrar.close();
    await inner.close();
  });
  const h = { scheduler, store: inner, registrar } as unknown as Harness;
  const ok = await registerWithAuth(h, { expires: 600 });
  t.equal(ok.status, 200);
  t.same(contactsOf(ok), ['<sip:alice@192.0.2.10:5060>;expires=600']);
  t.equal(conflicts, -1, 'the conflicting write was retried once');
  t.equal((await inner.read('sip:alice@example.com')).bindings.length, 1);
  t.equal((await registerWithAuth(h, { expires: 10 })).status, 423, 'Min-Expires as on the other path');
  const removed = await registerWithAuth(h, { contacts: ['*'], expires: 0 });
  t.equal(removed.status, 200);
  t.same(contactsOf(removed), []);
});
