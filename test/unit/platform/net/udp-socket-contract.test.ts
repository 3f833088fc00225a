// The contract both UDP engines (native batched, node:dgram) pass, on real sockets over
// 127.0.0.1 and ::1. The native half FAILS, never skips, when the addon is not built.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import t from 'tap';
import { recordingLogger } from '../../../../src/lib/index.js';
import { nativeUdpAvailable, openUdpSocket } from '../../../../src/platform/index.js';
import { ENGINE_CASES, open, turn, type Collector } from './udp-test-support.js';

const BIG = 4 * 1024 * 1024;

function pattern(length: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + seed) & 255;
  return b;
}

async function closeAll(...cs: Collector[]): Promise<void> {
  for (const c of cs) await c.socket.close();
}

for (const engine of ENGINE_CASES) {
  t.test(engine.name, async (t) => {
    if (engine.options.engine === 'native') {
      const status = nativeUdpAvailable();
      if (!status.ok) {
        t.fail(`the native UDP addon is not available: ${status.reason}`);
        return;
      }
    }
    const o = engine.options;
    const expectEngine = o.engine === 'native' ? 'native' : 'dgram';

    for (const [family, loopback] of [[4, '127.0.0.1'], [6, '::1']] as const) {
      t.test(`send and receive over IPv${family}, with the right addresses and ports`, async (t) => {
        const a = await open(o, loopback);
        const b = await open(o, loopback);
        a.onlyFrom = b.socket.local.port;
        b.onlyFrom = a.socket.local.port;
        t.equal(a.socket.engine, expectEngine);
        t.same(a.socket.local.family, family);
        t.equal(a.socket.local.address, loopback);
        t.ok(a.socket.local.port > 0, 'port 0 gives a real port');
        a.socket.send(Buffer.from('hello'), b.socket.local.port, loopback);
        await b.until(1);
        t.equal(b.got[0]!.data.toString(), 'hello');
        t.equal(b.got[0]!.address, loopback);
        t.equal(b.got[0]!.port, a.socket.local.port);
        b.socket.send(new Uint8Array([1, 2, 3]), b.got[0]!.port, b.got[0]!.address);
        b.socket.send(new Uint8Array(0), a.socket.local.port, loopback);
        await a.until(2);
        t.same([...a.got[0]!.data], [1, 2, 3]);
        t.equal(a.got[1]!.data.length, 0, 'an empty datagram arrives as an empty buffer');
        t.equal(a.got[0]!.port, b.socket.local.port);
        t.same(a.socket.stats(), { received: 2, sent: 1, sendErrors: 0, dropped: 0, scheduled: 0 });
        t.same(b.socket.stats(), { received: 1, sent: 2, sendErrors: 0, dropped: 0, scheduled: 0 });
        await closeAll(a, b);
      });
    }

    t.test('an IPv6 socket bound to :: reports IPv4 senders as ::ffff:a.b.c.d', async (t) => {
      const v6 = await open(o, '::');
      const v4 = await open(o, '127.0.0.1');
      v6.onlyFrom = v4.socket.local.port;
      v4.socket.send(Buffer.from('x'), v6.socket.local.port, '127.0.0.1');
      await v6.until(1);
      t.equal(v6.got[0]!.address, '::ffff:127.0.0.1');
      t.equal(v6.got[0]!.port, v4.socket.local.port);
      await closeAll(v6, v4);
    });

    t.test('thousands of datagrams at a moderate rate: none lost, none changed, all kept intact', async (t) => {
      const count = 6000;
      const rx = await open(o, '127.0.0.1', 0, { recvBufferSize: BIG });
      const tx = await open(o, '127.0.0.1', 0, { sendBufferSize: BIG });
      rx.onlyFrom = tx.socket.local.port;
      for (let i = 0; i < count; i++) {
        const d = pattern(20 + (i % 300), i);
        d.writeUInt32BE(i, 0);
        tx.socket.send(d, rx.socket.local.port, '127.0.0.1');
        if (i % 200 === 199) await turn();
      }
      await rx.until(count);
      // every buffer is checked only now, after later batches reused the receive area
      const seen = new Set<number>();
      let intact = 0;
      for (const r of rx.got) {
        const i = r.data.readUInt32BE(0);
        seen.add(i);
        const want = pattern(20 + (i % 300), i);
        want.writeUInt32BE(i, 0);
        if (want.equals(r.data) && r.port === tx.socket.local.port && r.address === '127.0.0.1') intact++;
      }
      t.equal(seen.size, count, 'each sequence number once');
      t.equal(intact, count, 'each datagram byte-for-byte as sent, after the handler returned');
      t.equal(rx.socket.stats().received, count);
      t.equal(tx.socket.stats().sent, count);
      await closeAll(rx, tx);
    });

    for (const [family, loopback, max] of [[4, '127.0.0.1', 65507], [6, '::1', 65527]] as const) {
      t.test(`the largest IPv${family} datagram (${max} bytes) arrives whole`, async (t) => {
        const rx = await open(o, loopback, 0, { recvBufferSize: BIG });
        const tx = await open(o, loopback, 0, { sendBufferSize: BIG });
        rx.onlyFrom = tx.socket.local.port;
        const sizes = [max, 1, 9000, max - 1];
        sizes.forEach((n, i) => tx.socket.send(pattern(n, i), rx.socket.local.port, loopback));
        await rx.until(sizes.length);
        t.same(rx.got.map((r) => r.data.length), sizes);
        t.ok(rx.got.every((r, i) => r.data.equals(pattern(sizes[i]!, i))), 'contents intact');
        await closeAll(rx, tx);
      });
    }

    t.test('a string is sent as its UTF-8 bytes, mixed with Buffers in call order, up to the largest datagram', async (t) => {
      const rx = await open(o, '127.0.0.1', 0, { recvBufferSize: BIG });
      const tx = await open(o, '127.0.0.1', 0, { sendBufferSize: BIG });
      rx.onlyFrom = tx.socket.local.port;
      const port = rx.socket.local.port;
      const texts = ['SIP/2.0 200 OK\r\nCall-ID: a\r\n\r\n', '', 'Très bien ☎ 𝄞', 'x'.repeat(65_507), 'é'.repeat(32_753)];
      for (const [i, text] of texts.entries()) {
        tx.socket.send(text, port, '127.0.0.1');
        tx.socket.send(Buffer.from([i]), port, '127.0.0.1');
      }
      await rx.until(texts.length * 2);
      t.same(
        rx.got.map((r) => r.data.length),
        texts.flatMap((text) => [Buffer.byteLength(text), 1]),
      );
      texts.forEach((text, i) => {
        t.ok(rx.got[2 * i]!.data.equals(Buffer.from(text, 'utf8')), `text ${i} arrives as its UTF-8 bytes`);
        t.equal(rx.got[2 * i + 1]!.data[0], i, 'then the Buffer sent after it');
      });
      t.equal(tx.socket.stats().sent, texts.length * 2);
      // a text over the largest datagram once encoded (65,508 bytes from 32,754 characters) is refused, not cut
      tx.socket.send('é'.repeat(32_754), port, '127.0.0.1');
      tx.socket.send('after', port, '127.0.0.1');
      await rx.until(texts.length * 2 + 1);
      t.equal(rx.got.at(-1)!.data.toString(), 'after');
      t.equal(rx.got.length, texts.length * 2 + 1, 'the oversized one never arrives');
      if (expectEngine === 'native') {
        // (node:dgram without a callback loses it silently, as it does an oversized Buffer)
        await tx.untilErrors(1);
        t.match(tx.errors[0]!.message, /EMSGSIZE/, 'the native engine reports it');
      }
      await closeAll(rx, tx);
    });

    t.test('sendAt: datagrams leave in due order (ties in call order), never before their time, and count as sent', async (t) => {
      const rx = await open(o, '127.0.0.1');
      const tx = await open(o, '127.0.0.1');
      rx.onlyFrom = tx.socket.local.port;
      t.equal(tx.socket.schedulesOffThread, o.engine === 'native');
      // [id, delayMs]; ≤ 0 means as soon as possible
      const plan: [number, number][] = [[0, 45], [1, 10], [2, 25], [3, 0], [4, 10], [5, -5], [6, 25], [7, 45], [8, 1.5], [9, 30], [10, 5]];
      // then the same delay from a tight loop: due times equal or increasing with the call order
      for (let i = 0; i < 20; i++) plan.push([100 + i, 35]);
      // each one's due time lies in [called + delay, returned + delay]
      const due = new Map<number, { from: number; to: number; delay: number }>();
      for (const [id, delay] of plan) {
        const called = performance.now();
        // id 9 is larger than the native engine's reused entries (512 bytes): its own allocation
        tx.socket.sendAt(id === 9 ? Buffer.alloc(9000, 9) : Buffer.from([id]), rx.socket.local.port, '127.0.0.1', delay);
        due.set(id, { from: called + Math.max(0, delay), to: performance.now() + Math.max(0, delay), delay });
      }
      await rx.until(plan.length);
      const ids = rx.got.map((r) => r.data[0]!);
      t.same([...ids].sort((a, b) => a - b), plan.map(([id]) => id).sort((a, b) => a - b), 'each arrived once');
      // out of order = one arrived after another that was certainly due later (exact in a normal
      // run, where the calls take microseconds and the due times are at least 1.5 ms apart)
      const outOfOrder = ids.flatMap((later, j) => ids.slice(0, j).flatMap((earlier) => (due.get(later)!.to < due.get(earlier)!.from ? [`${earlier} before ${later}`] : [])));
      t.same(outOfOrder, [], 'in the order of their due times');
      t.same(
        ids.filter((id) => id >= 100),
        plan.filter(([id]) => id >= 100).map(([id]) => id),
        'equal delays in call order',
      );
      const early = rx.got.flatMap((r) => {
        const d = due.get(r.data[0]!)!;
        return r.at >= d.from - 1 ? [] : [`${r.data[0]!}: delay ${d.delay} ms, arrived ${(d.from - r.at).toFixed(2)} ms before its time`];
      });
      t.same(early, [], 'none arrived before its time');
      t.ok(rx.got.find((r) => r.data[0] === 9)?.data.equals(Buffer.alloc(9000, 9)), 'the large one arrived whole');
      t.same(tx.socket.stats(), { received: 0, sent: plan.length, sendErrors: 0, dropped: 0, scheduled: 0 });
      await closeAll(rx, tx);
    });

    t.test('sendAt is independent of send(): a send() overtakes what is scheduled', async (t) => {
      const rx = await open(o, '127.0.0.1');
      const tx = await open(o, '127.0.0.1');
      rx.onlyFrom = tx.socket.local.port;
      tx.socket.sendAt(Buffer.from('later'), rx.socket.local.port, '127.0.0.1', 200);
      tx.socket.send(Buffer.from('now'), rx.socket.local.port, '127.0.0.1');
      t.equal(tx.socket.stats().scheduled, 1);
      await rx.until(2);
      t.same(rx.got.map((r) => r.data.toString()), ['now', 'later']);
      t.equal(tx.socket.stats().sent, 2);
      await closeAll(rx, tx);
    });

    t.test('cancelScheduled drops what has not left, says how many, and those never arrive', async (t) => {
      const rx = await open(o, '127.0.0.1');
      const tx = await open(o, '127.0.0.1');
      rx.onlyFrom = tx.socket.local.port;
      t.equal(tx.socket.cancelScheduled(), 0, 'nothing scheduled yet');
      for (let i = 0; i < 5; i++) tx.socket.sendAt(Buffer.from(`cancelled ${i}`), rx.socket.local.port, '127.0.0.1', 300 + i);
      t.equal(tx.socket.stats().scheduled, 5);
      t.equal(tx.socket.cancelScheduled(), 5);
      t.equal(tx.socket.stats().scheduled, 0);
      t.equal(tx.socket.cancelScheduled(), 0, 'a second cancel finds nothing');
      // due after the cancelled ones: had any of them left, it would be received first
      tx.socket.sendAt(Buffer.from('marker'), rx.socket.local.port, '127.0.0.1', 350);
      await rx.until(1);
      t.same(rx.got.map((r) => r.data.toString()), ['marker']);
      t.match(tx.socket.stats(), { sent: 1, dropped: 0, scheduled: 0 });
      await closeAll(rx, tx);
    });

    t.test('close drops the datagrams still scheduled (counted), and later sendAt calls', async (t) => {
      const rx = await open(o, '127.0.0.1');
      const tx = await open(o, '127.0.0.1');
      const other = await open(o, '127.0.0.1');
      const ours = new Set([tx.socket.local.port, other.socket.local.port]);
      for (let i = 0; i < 7; i++) tx.socket.sendAt(Buffer.from(`dropped ${i}`), rx.socket.local.port, '127.0.0.1', 300);
      // due after the dropped ones, from another socket: had any of them left, it would be received first
      other.socket.sendAt(Buffer.from('marker'), rx.socket.local.port, '127.0.0.1', 350);
      t.equal(tx.socket.stats().scheduled, 7);
      await tx.socket.close();
      t.match(tx.socket.stats(), { sent: 0, dropped: 7, scheduled: 0 });
      t.doesNotThrow(() => tx.socket.sendAt(Buffer.from('late'), rx.socket.local.port, '127.0.0.1', 0));
      t.equal(tx.socket.stats().dropped, 8, 'a sendAt after close is dropped');
      t.equal(tx.socket.cancelScheduled(), 0);
      while (!rx.got.some((r) => r.port === other.socket.local.port)) await rx.until(rx.got.length + 1);
      t.same(rx.got.filter((r) => ours.has(r.port)).map((r) => r.data.toString()), ['marker']);
      await closeAll(rx, other);
    });

    t.test('at most scheduleLimit datagrams wait per socket; more are dropped and counted', async (t) => {
      const rx = await open(o, '127.0.0.1');
      const tx = await open(o, '127.0.0.1', 0, { scheduleLimit: 5 });
      const free = await open(o, '127.0.0.1');
      rx.onlyFrom = tx.socket.local.port;
      for (let i = 0; i < 8; i++) tx.socket.sendAt(Buffer.from([i]), rx.socket.local.port, '127.0.0.1', 200);
      t.match(tx.socket.stats(), { scheduled: 5, dropped: 3 });
      // the limit is per socket
      for (let i = 0; i < 8; i++) free.socket.sendAt(Buffer.from([i]), rx.socket.local.port, '127.0.0.1', 200);
      t.match(free.socket.stats(), { scheduled: 8, dropped: 0 });
      t.equal(free.socket.cancelScheduled(), 8);
      await rx.until(5);
      t.same(rx.got.map((r) => r.data[0]), [0, 1, 2, 3, 4]);
      t.same(tx.socket.stats(), { received: 0, sent: 5, sendErrors: 0, dropped: 3, scheduled: 0 });
      await closeAll(rx, tx, free);
    });

    t.test('bad sendAt calls are errors on the error handler, not throws', async (t) => {
      const a = await open(o, '127.0.0.1');
      const b = await open(o, '127.0.0.1');
      b.onlyFrom = a.socket.local.port;
      const port = b.socket.local.port;
      const bad: [unknown, unknown, unknown, unknown][] = [
        [Buffer.from('x'), port, 'not-an-ip', 0],
        [Buffer.from('x'), port, '::1', 0],
        [Buffer.from('x'), 0, '127.0.0.1', 0],
        [Buffer.from('x'), 1.5, '127.0.0.1', 0],
        [Buffer.from('x'), port, '127.0.0.1', Number.NaN],
        [Buffer.from('x'), port, '127.0.0.1', Infinity],
        [Buffer.from('x'), port, '127.0.0.1', '10'],
        [Buffer.from('x'), port, '127.0.0.1', 2 ** 31],
        ['x', port, '127.0.0.1', 0],
      ];
      for (const [data, p, address, delay] of bad) {
        t.doesNotThrow(() => a.socket.sendAt(data as Uint8Array, p as number, address as string, delay as number));
      }
      await a.untilErrors(bad.length);
      t.equal(a.errors.length, bad.length);
      t.ok(a.errors.every((e) => typeof (e as { code?: unknown }).code === 'string'), 'each error has a code');
      t.match(a.errors[0]!.message, /not-an-ip/);
      t.match(a.errors[4], { code: 'ERR_OUT_OF_RANGE' });
      t.match(a.socket.stats(), { sendErrors: bad.length, scheduled: 0 });
      a.socket.sendAt(Buffer.from('still here'), port, '127.0.0.1', 1);
      await b.until(1);
      t.equal(b.got[0]!.data.toString(), 'still here');
      await closeAll(a, b);
    });

    t.test('bad sends are errors on the error handler, not throws, and the socket goes on working', async (t) => {
      const a = await open(o, '127.0.0.1');
      const b = await open(o, '127.0.0.1');
      b.onlyFrom = a.socket.local.port;
      const port = b.socket.local.port;
      const bad: [unknown, unknown][] = [
        ['not-an-ip', port],
        ['256.1.1.1', port],
        ['::1', port], // IPv6 target on an IPv4 socket
        ['127.0.0.1', 0],
        ['127.0.0.1', 70000],
        ['127.0.0.1', 1.5],
        [undefined, port],
      ];
      for (const [address, p] of bad) {
        t.doesNotThrow(() => a.socket.send(Buffer.from('x'), p as number, address as string));
      }
      await a.untilErrors(bad.length);
      t.equal(a.errors.length, bad.length);
      t.ok(a.errors.every((e) => typeof (e as { code?: unknown }).code === 'string'), 'each error has a code');
      t.match(a.errors[0]!.message, /not-an-ip/);
      t.equal(a.socket.stats().sendErrors, bad.length);
      a.socket.send(Buffer.from('still here'), port, '127.0.0.1');
      await b.until(1);
      t.equal(b.got[0]!.data.toString(), 'still here');
      await closeAll(a, b);
    });

    t.test('a handler that throws is reported and does not stop the next datagram', async (t) => {
      const rx = await open(o, '127.0.0.1');
      const tx = await open(o, '127.0.0.1');
      const got: string[] = [];
      rx.socket.onMessage((d, _a, port) => {
        if (port !== tx.socket.local.port) return;
        got.push(d.toString());
        if (d.toString() === 'boom') throw new Error('handler bug');
      });
      tx.socket.send(Buffer.from('boom'), rx.socket.local.port, '127.0.0.1');
      tx.socket.send(Buffer.from('after'), rx.socket.local.port, '127.0.0.1');
      await rx.untilErrors(1);
      while (got.length < 2) await turn();
      t.same(got, ['boom', 'after']);
      t.equal(rx.errors[0]!.message, 'handler bug');
      await closeAll(rx, tx);
    });

    t.test('close from inside the message handler: no more deliveries, no crash, replies already queued still leave', async (t) => {
      const rx = await open(o, '127.0.0.1', 0, { recvBufferSize: BIG });
      const tx = await open(o, '127.0.0.1');
      tx.onlyFrom = rx.socket.local.port;
      const seen: number[] = [];
      rx.socket.onMessage((d, address, port) => {
        if (port !== tx.socket.local.port) return;
        seen.push(d[0]!);
        rx.socket.send(Buffer.from('bye'), port, address);
        void rx.socket.close();
      });
      // one burst: on the native engine these arrive in the same batch
      for (let i = 0; i < 50; i++) tx.socket.send(Buffer.from([i]), rx.socket.local.port, '127.0.0.1');
      tx.socket.flush();
      await tx.until(1);
      await turn();
      t.same(seen, [0], 'nothing delivered after close()');
      t.equal(tx.got[0]!.data.toString(), 'bye');
      await rx.socket.close();
      await tx.socket.close();
    });

    t.test('close while data is queued: what was sent leaves, later sends are dropped, the port is free', async (t) => {
      const rx = await open(o, '127.0.0.1', 0, { recvBufferSize: BIG });
      const tx = await open(o, '127.0.0.1');
      const txPort = tx.socket.local.port;
      rx.onlyFrom = txPort;
      for (let i = 0; i < 200; i++) tx.socket.send(pattern(100, i), rx.socket.local.port, '127.0.0.1');
      const closing = tx.socket.close();
      t.doesNotThrow(() => tx.socket.send(Buffer.from('late'), rx.socket.local.port, '127.0.0.1'));
      await closing;
      await tx.socket.close();
      await rx.until(200);
      t.equal(rx.got.length, 200);
      t.equal(tx.socket.stats().dropped, 1, 'the send after close is counted as dropped');
      const again = await openUdpSocket({ ...o, address: '127.0.0.1', port: txPort });
      t.equal(again.local.port, txPort, 'the closed socket released its port');
      await again.close();
      await closeAll(rx);
    });

    t.test('2,000 sockets open at once, each receiving', async (t) => {
      const n = 2000;
      const sockets: Collector[] = [];
      for (let i = 0; i < n; i++) sockets.push(await open(o, '127.0.0.1'));
      const tx = await open(o, '127.0.0.1', 0, { sendBufferSize: BIG });
      for (const s of sockets) s.onlyFrom = tx.socket.local.port;
      for (let i = 0; i < n; i++) {
        tx.socket.send(Buffer.from(`to ${i}`), sockets[i]!.socket.local.port, '127.0.0.1');
        if (i % 200 === 199) await turn();
      }
      await Promise.all(sockets.map((s) => s.until(1)));
      const wrong = sockets.flatMap((s, i) => (s.got.length === 1 && s.got[0]!.data.toString() === `to ${i}` ? [] : [`${i}: ${s.got.map((g) => g.data.toString()).join('|')}`]));
      t.same(wrong, [], 'each socket got its own datagram');
      t.equal(new Set(sockets.map((s) => s.socket.local.port)).size, n, 'distinct ports');
      await closeAll(...sockets, tx);
    });

    t.test('bad options are refused without a crash', async (t) => {
      await t.rejects(openUdpSocket({ ...o, address: 'localhost', port: 0 }), { message: /IP literal/ });
      await t.rejects(openUdpSocket({ ...o, address: '127.0.0.1', port: 70000 }), { message: /out of range/ });
      await t.rejects(openUdpSocket({ ...o, address: '127.0.0.1', port: 0, recvBufferSize: -1 }));
      const a = await openUdpSocket({ ...o, address: '127.0.0.1', port: 0 });
      await t.rejects(openUdpSocket({ ...o, address: '127.0.0.1', port: a.local.port }), { message: /EADDRINUSE|address already in use/i });
      await a.close();
    });
  });
}

t.test("without the addon, engine 'auto' falls back to dgram and warns once; 'native' refuses with the reason", async (t) => {
  // a copy of the compiled modules outside the repository, where no addon can be found
  const here = path.dirname(fileURLToPath(import.meta.url));
  const srcDir = path.resolve(here, '..', '..', '..', '..', 'src');
  const dir = mkdtempSync(path.join(tmpdir(), 'opencx-net-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(path.join(srcDir, 'lib'), path.join(dir, 'src', 'lib'), { recursive: true });
  cpSync(path.join(srcDir, 'platform', 'net'), path.join(dir, 'src', 'platform', 'net'), { recursive: true });
  // the copies are ES modules: say so, rather than leave it to syntax detection (which depends on
  // whatever package.json happens to sit above the temporary directory)
  writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  const net = (await import(pathToFileURL(path.join(dir, 'src', 'platform', 'net', 'index.js')).href)) as typeof import('../../../../src/platform/net/index.js');
  const status = net.nativeUdpAvailable();
  t.equal(status.ok, false);
  t.match(status.ok ? '' : status.reason, /not built/);
  const logger = recordingLogger();
  const a = await net.openUdpSocket({ address: '127.0.0.1', port: 0, logger });
  const b = await net.openUdpSocket({ address: '127.0.0.1', port: 0, logger });
  t.equal(a.engine, 'dgram');
  t.equal(b.engine, 'dgram');
  t.equal(logger.records.filter((r) => r.level === 'warn').length, 1, 'one warning for the process, not one per socket');
  t.match(logger.records[0], { level: 'warn', fields: { reason: /not built/ } });
  await t.rejects(net.openUdpSocket({ address: '127.0.0.1', port: 0, engine: 'native' }), { message: /not built/ });
  await a.close();
  await b.close();
});
