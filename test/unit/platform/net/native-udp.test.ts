// What only the native engine does: SO_REUSEPORT with a random spread over the sockets of a
// port (in one process and across cluster workers), worker threads with their own loops, the
// bounded send queue, sends the kernel refuses, sendAt() datagrams that leave from the
// addon's own thread while the JS thread is blocked, and sockets with their own I/O thread.
// FAILS, never skips, when the addon is not built.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { recordingLogger, UnavailableError } from '../../../../src/lib/index.js';
import { nativeUdpAvailable, openUdpSocket, udpPacerStats } from '../../../../src/platform/index.js';
import { nativeUdpAddon } from '../../../../src/platform/net/native-addon.js';
import { fixture } from '../../../helpers/paths.js';
import { open, turn, type Received } from './udp-test-support.js';

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

t.test('socket buffers: what was asked, forced past net.core.rmem_max with CAP_NET_ADMIN, else capped by it', async (t) => {
  const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
  const asked = Math.max(16 * 1024 * 1024, 2 * rmemMax);
  const s = await openUdpSocket({ engine: 'native', address: '127.0.0.1', port: 0, recvBufferSize: asked, sendBufferSize: 1024 * 1024 });
  const sizes = s.bufferSizes?.();
  if (sizes === undefined) throw new Error('the native engine reports its buffer sizes');
  if (hasNetAdmin()) t.equal(sizes.recv, asked, `forced to ${asked} bytes (rmem_max ${rmemMax})`);
  else t.equal(sizes.recv, rmemMax, `capped at rmem_max ${rmemMax} without CAP_NET_ADMIN`);
  t.ok(sizes.send > 0, `send buffer ${sizes.send}`);
  await s.close();
  t.throws(() => s.bufferSizes?.(), /closed/, 'a closed socket has none');
});

/** CAP_NET_ADMIN (bit 12) in this process's effective capabilities */
function hasNetAdmin(): boolean {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapEff:'));
  return line !== undefined && (BigInt('0x' + line.split(/\s+/)[1]) & (1n << 12n)) !== 0n;
}

// first of the sendAt tests, so the pacer thread is stopped with the last worker that used it and started again
t.test('worker threads schedule on the shared pacer; terminating one with datagrams waiting is safe, the next one starts it again', async (t) => {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.moduleUrl).then(async ({ openUdpSocket }) => {
      const s = await openUdpSocket({ engine: 'native', address: '127.0.0.1', port: 0 });
      for (let i = 0; i < 50; i++) s.sendAt(Buffer.from('far ' + i), workerData.port, '127.0.0.1', 60000);
      s.sendAt(Buffer.from(workerData.word), workerData.port, '127.0.0.1', 5);
      parentPort.postMessage(s.stats().scheduled);
    });`;
  const rx = await open(native, '127.0.0.1');
  for (const word of ['first', 'second']) {
    const worker = new Worker(code, { eval: true, workerData: { moduleUrl, port: rx.socket.local.port, word } });
    const scheduled = await new Promise<number>((resolve) => worker.once('message', resolve));
    t.ok(scheduled >= 50, `${scheduled} waiting in the worker`);
    while (!rx.got.some((r) => r.data.toString() === word)) await rx.until(rx.got.length + 1);
    t.equal(await worker.terminate(), 1, 'terminated with 50 datagrams still waiting');
  }
  t.same(rx.got.map((r) => r.data.toString()).filter((w) => w === 'first' || w === 'second'), ['first', 'second']);
  await rx.socket.close();
});

t.test('sendAt datagrams leave from a native thread while the JS thread is blocked', async (t) => {
  // the receiver runs on its own thread and loop, and stamps arrivals with the process-wide monotonic clock
  const receiver = new Worker(
    `
    const { parentPort } = require('node:worker_threads');
    const dgram = require('node:dgram');
    const s = dgram.createSocket('udp4');
    const arrivals = [];
    s.on('message', (m) => {
      if (!m.toString().startsWith('paced ')) return;
      arrivals.push(process.hrtime.bigint().toString());
      if (arrivals.length === 20) parentPort.postMessage(arrivals);
    });
    s.bind(0, '127.0.0.1', () => parentPort.postMessage(s.address().port));`,
    { eval: true },
  );
  const next = (): Promise<unknown> => new Promise((resolve) => receiver.once('message', resolve));
  const port = (await next()) as number;
  const arrivalsMessage = next();
  const tx = await open(native, '127.0.0.1');
  t.equal(tx.socket.schedulesOffThread, true);
  for (let i = 0; i < 20; i++) tx.socket.sendAt(Buffer.from(`paced ${i}`), port, '127.0.0.1', 20 * (i + 1));
  const blockedFrom = process.hrtime.bigint();
  // the JS thread does nothing for 300 ms: no timer, no I/O callback, no prepare handle runs
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
  const blockedUntil = process.hrtime.bigint();
  const arrivals = ((await arrivalsMessage) as string[]).map((a) => BigInt(a));
  const during = arrivals.filter((a) => a >= blockedFrom && a <= blockedUntil).length;
  t.ok(during >= 10, `${during} of 20 datagrams arrived while the JS thread was blocked`);
  t.same(tx.socket.stats(), { received: 0, sent: 20, sendErrors: 0, dropped: 0, scheduled: 0 });
  await receiver.terminate();
  await tx.socket.close();
});

t.test('pacerStats: what the sending thread sent, how late, and how its priority was raised', async (t) => {
  const before = udpPacerStats();
  if (before === undefined) return t.fail('no pacer statistics from the native addon');
  const rx = await open(native, '127.0.0.1');
  const tx = await open(native, '127.0.0.1');
  for (let i = 0; i < 5; i++) tx.socket.sendAt(Buffer.from(`p${i}`), rx.socket.local.port, '127.0.0.1', 5 * i);
  await rx.until(5);
  const after = udpPacerStats();
  t.ok(after !== undefined && after.sent - before.sent >= 5, 'the five datagrams are counted as sent by the thread');
  t.ok(after !== undefined && after.late >= before.late && after.maxLateMs >= 0, 'late counts never go back');
  t.ok(after !== undefined && ['realtime', 'nice', 'none'].includes(after.priority), `priority: ${String(after?.priority)}`);
  await tx.socket.close();
  await rx.socket.close();
});

t.test('a scheduled datagram the kernel refuses is counted and reported on the JS thread', async (t) => {
  const tx = await open(native, '127.0.0.1');
  // broadcast without SO_BROADCAST: the kernel says EACCES, to the pacer thread
  tx.socket.sendAt(Buffer.from('x'), 9, '255.255.255.255', 0);
  tx.socket.sendAt(Buffer.from('y'), 9, '255.255.255.255', 2);
  await tx.untilErrors(2);
  t.match(tx.errors, [
    { code: 'EACCES', syscall: 'sendmmsg', address: '255.255.255.255', port: 9 },
    { code: 'EACCES', syscall: 'sendmmsg', address: '255.255.255.255', port: 9 },
  ]);
  t.match(tx.socket.stats(), { sendErrors: 2, sent: 0, scheduled: 0 });
  await tx.socket.close();
});

t.test('many sockets schedule at once: each gets its own datagrams, in order; close and cancel take back the rest', async (t) => {
  const rx = await open(native, '127.0.0.1', 0, { recvBufferSize: 1 << 22 });
  const senders = [];
  for (let i = 0; i < 40; i++) senders.push(await open(native, '127.0.0.1'));
  const ports = new Map(senders.map((s, i) => [s.socket.local.port, i]));
  // frames 0-4 of every sender are due within 12 ms, frames 5-9 in a minute
  for (let f = 0; f < 10; f++) {
    for (const s of senders) s.socket.sendAt(Buffer.from([f]), rx.socket.local.port, '127.0.0.1', f < 5 ? f * 3 : 60_000 + f);
  }
  const ours = (): Received[] => rx.got.filter((r) => ports.has(r.port));
  while (ours().length < senders.length * 5) await rx.until(rx.got.length + 1);
  const closing = senders.filter((_, i) => i % 2 === 1);
  for (const s of closing) await s.socket.close();
  t.same(
    closing.map((s) => s.socket.stats()),
    closing.map(() => ({ received: 0, sent: 5, sendErrors: 0, dropped: 5, scheduled: 0 })),
    'each closed sender dropped its last five',
  );
  const cancelling = senders.filter((_, i) => i % 2 === 0);
  t.same(
    cancelling.map((s) => s.socket.cancelScheduled()),
    cancelling.map(() => 5),
    'each open sender took back its last five',
  );
  // a marker due after everything that was sent: what arrived before it is all there is
  const marker = await open(native, '127.0.0.1');
  marker.socket.sendAt(Buffer.from('end'), rx.socket.local.port, '127.0.0.1', 20);
  while (!rx.got.some((r) => r.port === marker.socket.local.port)) await rx.until(rx.got.length + 1);
  const frames = new Map<number, number[]>();
  for (const r of ours()) frames.set(ports.get(r.port)!, [...(frames.get(ports.get(r.port)!) ?? []), r.data[0]!]);
  const wrong = senders.flatMap((_, i) => ((frames.get(i) ?? []).join() === '0,1,2,3,4' ? [] : [`${i}: ${(frames.get(i) ?? []).join()}`]));
  t.same(wrong, [], 'every sender: its own first five frames, in order, nothing more');
  for (const s of [...cancelling, marker, rx]) await s.socket.close();
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

t.test('ioThread: the socket reads and sends on its own thread while the JS thread is blocked; without it nothing is read', async (t) => {
  for (const ioThread of [true, false]) {
    const rx = await open(native, '127.0.0.1', 0, { ioThread, recvBufferSize: 1 << 22 });
    const tx = await open(native, '127.0.0.1', 0, { ioThread });
    rx.onlyFrom = tx.socket.local.port;
    for (let i = 0; i < 500; i++) tx.socket.send(Buffer.from(`d${i}`), rx.socket.local.port, '127.0.0.1');
    tx.socket.flush();
    // the JS thread does nothing for 300 ms: no poll callback, no prepare handle runs
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    const sent = tx.socket.stats().sent;
    const received = rx.socket.stats().received;
    t.equal(sent, 500, `ioThread ${ioThread}: all sent (flush() hands over or sends)`);
    t.equal(received, ioThread ? 500 : 0, `ioThread ${ioThread}: ${received} read before the JS thread ran again`);
    t.equal(rx.got.length, 0, 'nothing delivered to JS while it was blocked');
    await rx.until(500);
    t.same(rx.got.map((r) => r.data.toString()), Array.from({ length: 500 }, (_, i) => `d${i}`), 'all delivered, in order, intact');
    t.equal(rx.got[0]!.port, tx.socket.local.port);
    t.same(tx.socket.stats(), { received: 0, sent: 500, sendErrors: 0, dropped: 0, scheduled: 0 });
    for (const c of [rx, tx]) await c.socket.close();
  }
});

t.test('ioThread: a send the kernel refuses on the thread is counted and reported on the JS thread', async (t) => {
  const tx = await open(native, '127.0.0.1', 0, { ioThread: true });
  tx.socket.send(Buffer.from('x'), 9, '255.255.255.255');
  tx.socket.flush();
  await tx.untilErrors(1);
  t.match(tx.errors[0], { code: 'EACCES', syscall: 'sendmmsg', address: '255.255.255.255', port: 9 });
  t.equal(tx.socket.stats().sendErrors, 1);
  // the socket goes on working after the error
  const rx = await open(native, '127.0.0.1');
  rx.onlyFrom = tx.socket.local.port;
  tx.socket.send(Buffer.from('after'), rx.socket.local.port, '127.0.0.1');
  await rx.until(1);
  t.equal(rx.got[0]!.data.toString(), 'after');
  for (const c of [rx, tx]) await c.socket.close();
});

for (const ioThread of [false, true]) {
  t.test(`a worker thread runs its own sockets on its own loop, and terminating it with traffic in flight closes them${ioThread ? ' (and joins their I/O thread)' : ''}`, async (t) => {
    const code = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(moduleUrl)}).then(async ({ openUdpSocket }) => {
        const s = await openUdpSocket({ engine: 'native', address: '127.0.0.1', port: 0, ioThread: ${ioThread} });
        s.onMessage((d, a, p) => s.send(Buffer.concat([Buffer.from('echo:'), d]), p, a));
        parentPort.postMessage(s.local.port);
      });`;
    for (let round = 0; round < 3; round++) {
      const worker = new Worker(code, { eval: true });
      const port = await new Promise<number>((resolve) => worker.once('message', resolve));
      const tx = await open(native, '127.0.0.1');
      tx.onlyFrom = port;
      for (let i = 0; i < 200; i++) tx.socket.send(Buffer.from(`r${round}.${i}`), port, '127.0.0.1');
      await tx.until(200);
      t.equal(tx.got[199]!.data.toString(), `echo:r${round}.199`);
      // more traffic in flight while the worker goes away
      for (let i = 0; i < 200; i++) tx.socket.send(Buffer.from('late'), port, '127.0.0.1');
      t.equal(await worker.terminate(), 1, 'terminated with its socket still open');
      const again = await openUdpSocket({ ...native, address: '127.0.0.1', port });
      t.equal(again.local.port, port, 'the thread teardown released the port');
      await again.close();
      await tx.socket.close();
    }
  });
}

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
  // the addon file the engine itself loaded (the repository's build, or one beside this build's output)
  const addon = nativeUdpAddon() as unknown as {
    open(o?: unknown): { send(...a: unknown[]): boolean; sendAt(...a: unknown[]): boolean; cancelScheduled(): number; local(): unknown; close(): void; stats(): unknown };
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
    [{ length: 1 }, 9, '127.0.0.1'],
    ['x'.repeat(70_000), 9, '127.0.0.1'],
    ['text', 0, '127.0.0.1'],
    [new Uint16Array(2), 9, '127.0.0.1'],
    [Buffer.alloc(1), 0, '127.0.0.1'],
    [Buffer.alloc(1), 65536, '127.0.0.1'],
    [Buffer.alloc(1), NaN, '127.0.0.1'],
    [Buffer.alloc(1), 9, 127],
    [Buffer.alloc(1), 9, 'x'.repeat(1000)],
    [Buffer.alloc(70_000), 9, '127.0.0.1'],
  ];
  for (const a of badSends) t.throws(() => h.send(...a), Error, `send(${a.length} args)`);
  // a string is only for send(): the pacer takes bytes
  const badSendAts: unknown[][] = [...badSends.map((a) => [...a, 0]), ['text', 9, '127.0.0.1', 0], [Buffer.alloc(1), 9, '127.0.0.1'], [Buffer.alloc(1), 9, '127.0.0.1', NaN], [Buffer.alloc(1), 9, '127.0.0.1', -Infinity], [Buffer.alloc(1), 9, '127.0.0.1', '1']];
  for (const a of badSendAts) t.throws(() => h.sendAt(...a), Error, `sendAt(${a.length} args)`);
  t.throws(() => h.cancelScheduled.call({}), TypeError);
  t.equal(h.sendAt(Buffer.alloc(1), 9, '127.0.0.1', 60000), true);
  t.equal(h.cancelScheduled(), 1);
  t.throws(() => h.send.call({}, Buffer.alloc(1), 9, '127.0.0.1'), TypeError);
  t.throws(() => h.stats.call(null));
  h.close();
  h.close();
  t.throws(() => h.local(), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
  t.equal(h.send(Buffer.alloc(1), 9, '127.0.0.1'), false, 'a send after close is refused quietly');
  t.equal(h.sendAt(Buffer.alloc(1), 9, '127.0.0.1', 0), false, 'a sendAt after close is refused quietly');
  t.equal(h.cancelScheduled(), 0);
});
