import t from 'tap';
import { FakeScheduler, silentLogger } from '../../../../src/lib/index.js';
import { TrunkMonitor, type TrunkInfo } from '../../../../src/calls/index.js';
import type { ua } from '../../../../src/sip/index.js';

const trunk: TrunkInfo = {
  id: 't1',
  tenant: 'x',
  name: 'pstn',
  direction: 'outbound',
  acl: [],
  gateways: [
    { host: '192.0.2.1', port: 5060, transport: 'udp', priority: 0, weight: 1 },
    { host: '192.0.2.2', port: 5060, transport: 'udp', priority: 0, weight: 1 },
  ],
  balancing: 'failover',
  callerIdStyle: 'none',
  numberFormat: 'e164',
  optionsPingSeconds: 10,
  enabled: true,
};

t.test('OPTIONS pings mark a silent gateway down after two misses and up after one answer', async (t) => {
  const clock = new FakeScheduler();
  const sent: { uri: string; target: string }[] = [];
  let answerFromFirst = 200;
  const fakeUa = {
    sendRequest(request: { uri: { host: string } }, handlers: { onFinal(res: { status: number }, local?: string): void }, options: { target: { address: string } }) {
      sent.push({ uri: request.uri.host, target: options.target.address });
      // gateway 1 answers as told; gateway 2 never answers (Timer F: a local 408)
      if (options.target.address === '192.0.2.1') handlers.onFinal({ status: answerFromFirst });
      else handlers.onFinal({ status: 408 }, 'timeout');
      return {};
    },
  } as unknown as ua.UserAgentService;
  const monitor = new TrunkMonitor({ ua: fakeUa, trunks: async () => [trunk], resolve: async (h) => h, scheduler: clock, logger: silentLogger, localHost: () => 'opencx.example' });
  monitor.start();
  const flush = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  };
  clock.advance(1000);
  await flush();
  t.equal(sent.length, 2, 'one ping per gateway');
  t.ok(monitor.isUp(trunk, trunk.gateways[1]!), 'one miss is not enough');
  clock.advance(5000);
  await flush();
  t.equal(sent.length, 2, 'no ping before the interval');
  clock.advance(5000);
  await flush();
  t.equal(sent.length, 4, 'second round after 10 s');
  t.notOk(monitor.isUp(trunk, trunk.gateways[1]!), 'two misses: the silent gateway is down');
  t.ok(monitor.isUp(trunk, trunk.gateways[0]!), 'the answering one stays up');
  answerFromFirst = 503;
  clock.advance(10_000);
  await flush();
  clock.advance(10_000);
  await flush();
  t.notOk(monitor.isUp(trunk, trunk.gateways[0]!), 'two 503s take the first one down too');
  answerFromFirst = 404;
  clock.advance(10_000);
  await flush();
  t.ok(monitor.isUp(trunk, trunk.gateways[0]!), 'any answer below 500 brings it back');
  monitor.close();
});

t.test('a ping unanswered by the next one is a miss (no waiting for Timer F); gateways() names trunk and gateway', async (t) => {
  const clock = new FakeScheduler();
  let answering = false;
  const pending: ((status: number) => void)[] = [];
  const fakeUa = {
    sendRequest(_request: unknown, handlers: { onFinal(res: { status: number }, local?: string): void }) {
      // a gateway that swallows pings: the transaction would only end at Timer F (32 s)
      if (answering) handlers.onFinal({ status: 200 });
      else pending.push((status) => handlers.onFinal({ status }));
      return {};
    },
  } as unknown as ua.UserAgentService;
  const fast: TrunkInfo = { ...trunk, gateways: [trunk.gateways[0]!], optionsPingSeconds: 2 };
  let trunks = [fast];
  const monitor = new TrunkMonitor({ ua: fakeUa, trunks: async () => trunks, resolve: async (h) => h, scheduler: clock, logger: silentLogger, localHost: () => 'opencx.example' });
  monitor.start();
  const flush = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  };
  for (let s = 0; s < 6; s++) {
    clock.advance(1000);
    await flush();
  }
  t.notOk(monitor.isUp(fast, fast.gateways[0]!), 'down within a few intervals, long before Timer F');
  t.same(monitor.gateways(), [{ trunk: 'pstn', gateway: '192.0.2.1:5060', up: false }], 'the state for /metrics');
  for (const late of pending) late(200); // answers after giving up are ignored
  answering = true;
  for (let s = 0; s < 3; s++) {
    clock.advance(1000);
    await flush();
  }
  t.ok(monitor.isUp(fast, fast.gateways[0]!), 'an answer brings it back');
  trunks = [{ ...fast, optionsPingSeconds: 0 }];
  clock.advance(1000);
  await flush();
  t.same(monitor.gateways(), [], 'pinging turned off: the gateway is forgotten');
  monitor.close();
  monitor.close();
  t.equal(clock.pending, 0, 'close() leaves no timer behind, and may be called twice');
});
