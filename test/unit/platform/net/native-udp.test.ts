// What only the native engine does: SO_REUSEPORT with a random spread over the sockets of a
// port (in one process and across cluster workers), worker threads with their own loops, the
// bounded send queue, and sends the kernel refuses. FAILS, never skips, when the addon is not built.
import cluster from 'node:cluster';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { recordingLogger, UnavailableError } from '../../../../src/lib/index.js';
import { nativeUdpAvailable, openUdpSocket } from '../../../../src/platform/index.js';
import { fixture, repoRoot } from '../../../helpers/paths.js';
import { open, turn } from './udp-test-support.js';

const native = { engine: 'native' } as const;
const moduleUrl = new URL('../../../../src/platform/net/index.js', import.meta.url).href;

t.test('the addon is built and loads', async (t) => {
  const status = nativeUdpAvailable();
  t.same(status, { ok: true }, status.ok ? 'loaded' : `not available: ${status.reason}`);
});

t.test("engine 'auto' takes the native engine when it is built, without a warning", async (t) => {
  const logger = recordingLogger();
  const s = await openUdpSocket({ address: '127.0.0.1', port: 0, logger });
  t.equal(s.engine, 'native');
  t.same(logger.records, []);
  await s.close();
});

t.test('reusePort + spreadOver spreads one peer over the sockets of a port', async (t) => {
  const first = await open(native, '127.0.0.1', 0, { reusePort: true, spreadOver: 2, recvBufferSize: 1 << 22 });
  const second = await open(native, '127.0.0.1', first.socket.local.port, { reusePort: true, spreadOver: 2, recvBufferSize: 1 << 22 });
  const tx = await open(native, '127.0.0.1');
  first.onlyFrom = second.onlyFrom = tx.socket.local.port;
  const n = 2000;
  for (let i = 0; i < n; i++) {
    tx.socket.send(Buffer.from([i & 255]), first.socket.local.port, '127.0.0.1');
    if (i % 200 === 199) await turn();
  }
  while (first.got.length + second.got.length < n) await turn();
  t.equal(first.got.length + second.got.length, n, 'every datagram reached one of the two');
  // one source address and port: the kernel's flow hash alone would give all to one socket
  t.ok(first.got.length > n * 0.3 && second.got.length > n * 0.3, `spread ${first.got.length}/${second.got.length}`);
  for (const c of [first, second, tx]) await c.socket.close();
});

t.test('without reusePort a second bind of the port fails; spreadOver needs reusePort', async (t) => {
  const a = await openUdpSocket({ ...native, address: '127.0.0.1', port: 0 });
  await t.rejects(openUdpSocket({ ...native, address: '127.0.0.1', port: a.local.port, reusePort: true }), { message: /EADDRINUSE/ });
  await t.rejects(openUdpSocket({ ...native, address: '127.0.0.1', port: 0, spreadOver: 2 }), { message: /reusePort/ });
  await a.close();
});

t.test('the dgram engine refuses reusePort with a reason', async (t) => {
  await t.rejects(openUdpSocket({ engine: 'dgram', address: '127.0.0.1', port: 0, reusePort: true }), UnavailableError);
});

t.test('cluster workers share one port through reusePort and the spread', async (t) => {
  const probe = await openUdpSocket({ ...native, address: '127.0.0.1', port: 0 });
  const port = probe.local.port;
  await probe.close();
  cluster.setupPrimary({ exec: fixture(import.meta.url, 'reuseport-echo.mjs'), args: [moduleUrl, String(port), '2'], silent: false });
  const workers = ['w1', 'w2'].map((name) => {
    cluster.setupPrimary({ exec: fixture(import.meta.url, 'reuseport-echo.mjs'), args: [moduleUrl, String(port), '2', name] });
    return cluster.fork();
  });
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => w.once('message', () => resolve()))));
  const tx = await open(native, '127.0.0.1', 0, { recvBufferSize: 1 << 22 });
  tx.onlyFrom = port;
  const n = 1000;
  // in bursts, each answered before the next, so no socket buffer can overflow on a busy box
  for (let i = 0; i < n; i++) {
    tx.socket.send(Buffer.from('?'), port, '127.0.0.1');
    if (i % 100 === 99) await tx.until(i + 1);
  }
  await tx.until(n);
  const by = { w1: 0, w2: 0 } as Record<string, number>;
  for (const r of tx.got) by[r.data.toString()] = (by[r.data.toString()] ?? 0) + 1;
  t.equal((by.w1 ?? 0) + (by.w2 ?? 0), n, 'every datagram answered by a worker');
  t.ok((by.w1 ?? 0) > n * 0.3 && (by.w2 ?? 0) > n * 0.3, `spread ${JSON.stringify(by)}`);
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          w.once('exit', () => resolve());
          w.send('close');
        }),
    ),
  );
  await tx.socket.close();
});

t.test('a worker thread runs its own sockets on its own loop, and terminating it closes them', async (t) => {
  const code = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(moduleUrl)}).then(async ({ openUdpSocket }) => {
      const s = await openUdpSocket({ engine: 'native', address: '127.0.0.1', port: 0 });
      s.onMessage((d, a, p) => s.send(Buffer.concat([Buffer.from('echo:'), d]), p, a));
      parentPort.postMessage(s.local.port);
    });`;
  for (let round = 0; round < 3; round++) {
    const worker = new Worker(code, { eval: true });
    const port = await new Promise<number>((resolve) => worker.once('message', resolve));
    const tx = await open(native, '127.0.0.1');
    tx.onlyFrom = port;
    tx.socket.send(Buffer.from(`r${round}`), port, '127.0.0.1');
    await tx.until(1);
    t.equal(tx.got[0]!.data.toString(), `echo:r${round}`);
    t.equal(await worker.terminate(), 1, 'terminated with its socket still open');
    const again = await openUdpSocket({ ...native, address: '127.0.0.1', port });
    t.equal(again.local.port, port, 'the thread teardown released the port');
    await again.close();
    await tx.socket.close();
  }
});

t.test('the send queue is bounded: beyond it datagrams are dropped and counted', async (t) => {
  const rx = await open(native, '127.0.0.1');
  const tx = await open(native, '127.0.0.1', 0, { sendQueueLimit: 10 });
  rx.onlyFrom = tx.socket.local.port;
  // fewer than a batch, so nothing leaves before the end of this turn
  for (let i = 0; i < 30; i++) tx.socket.send(Buffer.from([i]), rx.socket.local.port, '127.0.0.1');
  t.equal(tx.socket.stats().dropped, 20);
  await rx.until(10);
  t.same(rx.got.map((r) => r.data[0]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.equal(tx.socket.stats().sent, 10);
  for (const c of [rx, tx]) await c.socket.close();
});

t.test('a full batch leaves at once; the rest at the end of the turn; flush() sends at once', async (t) => {
  const rx = await open(native, '127.0.0.1', 0, { recvBufferSize: 1 << 22 });
  const tx = await open(native, '127.0.0.1');
  rx.onlyFrom = tx.socket.local.port;
  for (let i = 0; i < 70; i++) tx.socket.send(Buffer.from([i]), rx.socket.local.port, '127.0.0.1');
  t.equal(tx.socket.stats().sent, 64, 'the 64th send flushed the batch');
  tx.socket.flush();
  t.equal(tx.socket.stats().sent, 70, 'flush() sent the rest');
  await rx.until(70);
  for (const c of [rx, tx]) await c.socket.close();
});

t.test('a send the kernel refuses is counted and reported, asynchronously', async (t) => {
  const tx = await open(native, '127.0.0.1');
  // broadcast without SO_BROADCAST: the kernel says EACCES
  tx.socket.send(Buffer.from('x'), 9, '255.255.255.255');
  tx.socket.flush();
  t.equal(tx.errors.length, 0, 'not reported from inside flush()');
  await tx.untilErrors(1);
  t.match(tx.errors[0], { code: 'EACCES', syscall: 'sendmmsg', address: '255.255.255.255', port: 9 });
  t.equal(tx.socket.stats().sendErrors, 1);
  t.equal(tx.socket.stats().sent, 0);
  await tx.socket.close();
});

t.test('the raw addon refuses bad arguments with JS errors, never a crash', async (t) => {
  const addon = createRequire(import.meta.url)(path.join(repoRoot(), 'native', 'udp', 'build', 'Release', 'opencx_udp.node')) as {
    open(o?: unknown): { send(...a: unknown[]): boolean; local(): unknown; close(): void; stats(): unknown };
  };
  const ok = { family: 4, address: '127.0.0.1', port: 0, onBatch: () => {}, onError: () => {} };
  const badOpens: unknown[] = [
    undefined,
    42,
    {},
    { ...ok, family: 5 },
    { ...ok, port: -1 },
    { ...ok, port: 1.5 },
    { ...ok, port: '5060' },
    { ...ok, address: 'nope' },
    { ...ok, address: '::1' },
    { ...ok, address: 'x'.repeat(10_000) },
    { ...ok, onBatch: 'f' },
    { ...ok, onError: undefined },
    { ...ok, recvBufferSize: -5 },
    { ...ok, spreadOver: 2 },
    { ...ok, queueLimit: 0 },
  ];
  for (const o of badOpens) t.throws(() => addon.open(o), Error, `open(${JSON.stringify(o)?.slice(0, 60)})`);
  const h = addon.open(ok);
  const badSends: unknown[][] = [
    [],
    ['text', 9, '127.0.0.1'],
    [new Uint16Array(2), 9, '127.0.0.1'],
    [Buffer.alloc(1), 0, '127.0.0.1'],
    [Buffer.alloc(1), 65536, '127.0.0.1'],
    [Buffer.alloc(1), NaN, '127.0.0.1'],
    [Buffer.alloc(1), 9, 127],
    [Buffer.alloc(1), 9, 'x'.repeat(1000)],
    [Buffer.alloc(70_000), 9, '127.0.0.1'],
  ];
  for (const a of badSends) t.throws(() => h.send(...a), Error, `send(${a.length} args)`);
  t.throws(() => h.send.call({}, Buffer.alloc(1), 9, '127.0.0.1'), TypeError);
  t.throws(() => h.stats.call(null));
  h.close();
  h.close();
  t.throws(() => h.local(), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
  t.equal(h.send(Buffer.alloc(1), 9, '127.0.0.1'), false, 'a send after close is refused quietly');
});
