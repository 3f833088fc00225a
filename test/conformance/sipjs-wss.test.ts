/**
 * A SIP.js 0.21 user agent (run in Node, its WebSocket transport backed by `ws`) registers over
 * secure WebSocket (RFC 7118) with `opencx start` and exchanges MESSAGE (RFC 3428) with a Debian
 * baresip user registered over UDP, both directions, through opencx's proxy:
 *  - baresip -> SIP.js: the request must reach SIP.js over its WSS connection (the registrar
 *    binding of a WebSocket client points at a `.invalid` host: only the connection reaches it);
 *  - SIP.js -> baresip: SIP.js answers the 407 challenge and gets 200 from baresip.
 *
 * The server offers MD5 only (OPENCX_SIP__AUTH_ALGORITHMS=MD5) because of baresip 1.0's libre
 * (see baresip-call.test.ts). The server's certificate is self-signed: the WebSocket does not
 * verify it.
 */
import t from 'tap';
import WebSocket from 'ws';
import { Messager, Registerer, RegistererState, UserAgent, type Message } from 'sip.js';
import { runOpencx, startOpencx } from '../helpers/opencx-process.js';
import { baresipAvailable, BARESIP_BIN, startBaresip, type BaresipPhone } from '../helpers/baresip.js';

/** SIP.js creates `new WebSocket(server, "sip")` from the global scope, as in a browser */
class InsecureWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, { rejectUnauthorized: false });
  }
}
(globalThis as { WebSocket?: unknown }).WebSocket = InsecureWebSocket;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

t.test('SIP.js over WSS exchanges MESSAGE with baresip through opencx', async (t) => {
  t.ok(baresipAvailable(), `baresip found at ${BARESIP_BIN} (install Debian baresip)`);
  if (!baresipAvailable()) return;

  const server = await startOpencx(['--bind', '127.0.0.1', '--sip-port', '0', '--sip-tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0'], {
    env: { OPENCX_SIP__AUTH_ALGORITHMS: 'MD5' },
  });
  const started: { bob?: BaresipPhone; ua?: UserAgent } = {};
  const sipLog: string[] = [];
  t.teardown(async () => {
    await started.ua?.stop().catch(() => {});
    await started.bob?.stop();
    await server.stop();
  });
  const { udp, wss } = server.ports;
  t.ok(udp !== undefined && wss !== undefined, 'UDP and WSS ports reported');

  for (const user of ['bob', 'dave']) {
    const r = await runOpencx(['user', 'add', `${user}@127.0.0.1`, '--password', `pw-${user}`, '--data-dir', server.dataDir]);
    t.equal(r.code, 0, `user add ${user}: ${r.stdout}${r.stderr}`);
  }

  // dave: SIP.js over WSS
  const received: { from: string; body: string }[] = [];
  const messageWaiters: (() => void)[] = [];
  const daveUri = UserAgent.makeURI('sip:dave@127.0.0.1');
  const bobUri = UserAgent.makeURI('sip:bob@127.0.0.1');
  if (daveUri === undefined || bobUri === undefined) throw new Error('SIP.js could not parse the test URIs');
  const ua = (started.ua = new UserAgent({
    uri: daveUri,
    transportOptions: { server: `wss://127.0.0.1:${wss}`, traceSip: true },
    authorizationUsername: 'dave',
    authorizationPassword: 'pw-dave',
    logBuiltinEnabled: false,
    logConnector: (_level, category, _label, content) => {
      sipLog.push(`${category}: ${content}`);
    },
    delegate: {
      onMessage(message: Message) {
        received.push({ from: message.request.from.uri.toString(), body: message.request.body });
        void message.accept();
        for (const w of messageWaiters.slice()) w();
      },
    },
  }));
  await withTimeout(ua.start(), 10000, 'SIP.js connects over WSS');
  t.pass('SIP.js connected over WSS');

  const registerer = new Registerer(ua, { expires: 300 });
  const registered = new Promise<void>((resolve, reject) => {
    registerer.stateChange.addListener((s) => {
      if (s === RegistererState.Registered) resolve();
      if (s === RegistererState.Terminated) reject(new Error('registerer terminated'));
    });
  });
  await registerer.register({
    requestDelegate: {
      onReject: (r) => sipLog.push(`REGISTER rejected: ${r.message.statusCode} ${r.message.reasonPhrase}`),
    },
  });
  await withTimeout(registered, 10000, `SIP.js REGISTER over WSS\n${sipLog.join('\n').slice(-4000)}`);
  t.pass('SIP.js registered over WSS');
  t.match(sipLog.join('\n'), /SIP\/2\.0 401[\s\S]*REGISTER[\s\S]*Authorization: Digest/, 'SIP.js answered the REGISTER challenge');

  // bob: baresip over UDP, with dave as its current contact; it sends a MESSAGE at start
  const bob = (started.bob = await startBaresip({
    account: `<sip:bob@127.0.0.1>;auth_pass=pw-bob;outbound="sip:127.0.0.1:${udp};transport=udp";regint=600`,
    extraConfig: ['module_app contact.so'],
    files: { contacts: '"Dave" <sip:dave@127.0.0.1>\n' },
    commands: ['/message hello dave, from baresip'],
  }));
  t.ok(await bob.waitFor(/bob@127\.0\.0\.1: \{0\/UDP\/v4\} 200 OK/, 15000), 'bob (baresip) registered over UDP');

  // baresip -> SIP.js
  if (!received.some((m) => m.body.includes('hello dave'))) {
    await withTimeout(
      new Promise<void>((resolve) => messageWaiters.push(() => (received.some((m) => m.body.includes('hello dave')) ? resolve() : undefined))),
      15000,
      `MESSAGE from baresip reaches SIP.js\n--- baresip:\n${bob.output().slice(-4000)}\n--- SIP.js:\n${sipLog.join('\n').slice(-4000)}`,
    ).catch((e: unknown) => t.fail(String(e)));
  }
  const fromBob = received.find((m) => m.body.includes('hello dave'));
  t.ok(fromBob, 'SIP.js received the MESSAGE from baresip over WSS');
  t.match(fromBob?.from ?? '', /^sip:bob@127\.0\.0\.1/, 'it is from bob');
  t.ok(await bob.waitFor(/SIP\/2\.0 200 [^\n]*\n(?:[^\n]+\n)*?CSeq: \d+ MESSAGE/, 10000), 'baresip got 200 for its MESSAGE');

  // SIP.js -> baresip
  const outcome = await withTimeout(
    new Promise<number>((resolve) => {
      const messager = new Messager(ua, bobUri, 'hello bob, from SIP.js');
      void messager.message({
        requestDelegate: {
          onAccept: (r) => resolve(r.message.statusCode ?? 0),
          onReject: (r) => resolve(r.message.statusCode ?? 0),
        },
      });
    }),
    15000,
    `MESSAGE from SIP.js answered\n${sipLog.join('\n').slice(-4000)}`,
  );
  t.equal(outcome, 200, 'SIP.js MESSAGE to bob answered 200');
  t.match(sipLog.join('\n'), /SIP\/2\.0 407[\s\S]*MESSAGE sip:bob[\s\S]*Proxy-Authorization: Digest/, 'SIP.js answered the proxy challenge for its MESSAGE');
  t.ok(await bob.waitFor(/MESSAGE sip:bob[^\n]*SIP\/2\.0[\s\S]*?hello bob, from SIP\.js/, 10000), 'baresip received the MESSAGE body');

  await registerer.unregister().catch(() => {});
  const serverErrors = server.output.filter((l) => /"level":(50|60)/.test(l));
  t.same(serverErrors, [], 'opencx logged no errors');
});

/**
 * The server's default challenge (MD5 only, sip.authAlgorithms) must work for SIP.js 0.21, which
 * keeps only the LAST WWW-/Proxy-Authenticate header it receives and knows only MD5: an offer
 * ending in SHA-256 leaves it at 401 ("challenge with Digest algorithm different than 'MD5'").
 */
t.test('SIP.js registers over WSS with the default auth offer', async (t) => {
  const server = await startOpencx(['--bind', '127.0.0.1', '--sip-port', '0', '--sip-tls-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0', '--role', 'sip,control']);
  const log: string[] = [];
  const started: { ua?: UserAgent } = {};
  t.teardown(async () => {
    await started.ua?.stop().catch(() => {});
    await server.stop();
  });
  const r = await runOpencx(['user', 'add', 'erin@127.0.0.1', '--password', 'pw-erin', '--data-dir', server.dataDir]);
  t.equal(r.code, 0, `user add erin: ${r.stdout}${r.stderr}`);
  const uri = UserAgent.makeURI('sip:erin@127.0.0.1');
  if (uri === undefined) throw new Error('SIP.js could not parse the test URI');
  const ua = (started.ua = new UserAgent({
    uri,
    transportOptions: { server: `wss://127.0.0.1:${server.ports.wss}`, traceSip: true },
    authorizationUsername: 'erin',
    authorizationPassword: 'pw-erin',
    logBuiltinEnabled: false,
    logConnector: (level, category, _label, content) => {
      log.push(`${level} ${category}: ${content}`);
    },
  }));
  await withTimeout(ua.start(), 10000, 'SIP.js connects over WSS');
  const registerer = new Registerer(ua);
  const outcome = new Promise<string>((resolve) => {
    registerer.stateChange.addListener((s) => {
      if (s === RegistererState.Registered || s === RegistererState.Unregistered || s === RegistererState.Terminated) resolve(s);
    });
  });
  await registerer.register();
  const state = await withTimeout(outcome, 10000, 'REGISTER outcome');
  t.equal(state, RegistererState.Registered, `SIP.js registered with the default auth offer${state === RegistererState.Registered ? '' : '\n' + log.filter((l) => /warn|SIP\/2\.0 4|Authenticate/.test(l)).join('\n').slice(-3000)}`);
});
