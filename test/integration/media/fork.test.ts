import net from 'node:net';
import t from 'tap';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { AudioFork, type AudioForkOptions } from '../../../src/media/fork/index.js';
import { FakeScheduler, TimeoutError } from '../../../src/lib/index.js';

interface ServerSide {
  port: number;
  /** messages in arrival order: strings for text, Buffers for binary */
  messages: (string | Buffer)[];
  connection: Promise<WebSocket>;
  closed: Promise<void>;
  server: WebSocketServer;
}

async function startServer(): Promise<ServerSide> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const messages: (string | Buffer)[] = [];
  let onClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  const connection = new Promise<WebSocket>((resolve) => {
    server.once('connection', (ws) => {
      ws.on('message', (data: RawData, isBinary: boolean) => {
        const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
        messages.push(isBinary ? buf : buf.toString('utf8'));
      });
      ws.on('close', () => onClosed());
      resolve(ws);
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, messages, connection, closed, server };
}

function stopServer(server: WebSocketServer): Promise<void> {
  for (const client of server.clients) client.terminate();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Poll until `condition` holds; fails the test after 5 s instead of hanging. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function nextEvent<K extends 'open' | 'closed' | 'error'>(fork: AudioFork, event: K): Promise<unknown[]> {
  return new Promise((resolve) => fork.once(event, (...args: unknown[]) => resolve(args)));
}

function frameNumber(i: number, samples: number): Int16Array {
  const frame = new Int16Array(samples);
  for (let k = 0; k < samples; k++) frame[k] = ((i * 7919 + k * 263) % 65536) - 32768;
  frame[0] = i % 2 === 0 ? 32767 : -32768;
  return frame;
}

function fork(options: Partial<AudioForkOptions> & { url: string }): AudioFork {
  return new AudioFork(options);
}

t.test('start message, then frames with the exact samples, then stop', async (t) => {
  const side = await startServer();
  t.teardown(() => stopServer(side.server));
  const f = fork({ url: `ws://127.0.0.1:${side.port}/stream`, sampleRate: 16000, metadata: { callId: 'c-1', tenant: 't' } });
  t.equal(f.state, 'connecting');
  t.notOk(f.write(new Int16Array(320)), 'a frame before open is skipped');
  await nextEvent(f, 'open');
  t.equal(f.state, 'open');
  const N = 50;
  const sent: Int16Array[] = [];
  for (let i = 0; i < N; i++) {
    const frame = frameNumber(i, 320);
    sent.push(frame.slice());
    t.ok(f.write(frame));
    frame.fill(0); // the caller may reuse its buffer at once
  }
  await until(() => side.messages.length >= N + 1, 'the frames');
  t.same(JSON.parse(side.messages[0] as string), { event: 'start', sampleRate: 16000, encoding: 'L16', channels: 1, metadata: { callId: 'c-1', tenant: 't' } }, 'the start message comes first');
  let exact = true;
  for (let i = 0; i < N; i++) {
    const got = side.messages[i + 1];
    if (!Buffer.isBuffer(got) || got.length !== 640) {
      exact = false;
      continue;
    }
    for (let k = 0; k < 320; k++) if (got.readInt16LE(2 * k) !== sent[i]![k]) exact = false;
  }
  t.ok(exact, `${N} binary frames of little-endian samples, exactly as written`);
  t.same(f.stats(), { framesSent: N, bytesSent: N * 640, framesDropped: 0, framesSkipped: 1, playbackSamplesReceived: 0, playbackSamplesQueued: 0, playbackSamplesDropped: 0 });

  const closedEvents: unknown[][] = [];
  f.on('closed', (...args) => closedEvents.push(args));
  const closed = nextEvent(f, 'closed');
  f.close();
  f.close();
  t.same(await closed, ['closed locally']);
  await side.closed;
  t.same(JSON.parse(side.messages.at(-1) as string), { event: 'stop' }, 'the stop message comes last');
  t.equal(f.state, 'closed');
  t.notOk(f.write(new Int16Array(320)), 'nothing is sent after close');
  f.close();
  t.equal(closedEvents.length, 1, "'closed' is emitted once");
});

t.test('audio sent back is queued for playback', async (t) => {
  const side = await startServer();
  t.teardown(() => stopServer(side.server));
  const f = fork({ url: `ws://127.0.0.1:${side.port}` });
  t.teardown(() => f.close());
  await nextEvent(f, 'open');
  t.equal(f.readPlayback(160), undefined, 'nothing yet');
  const ws = await side.connection;
  const samples = new Int16Array(500);
  for (let i = 0; i < samples.length; i++) samples[i] = (i * 131) % 30000 - 15000;
  const bytes = Buffer.alloc(1000);
  samples.forEach((v, i) => bytes.writeInt16LE(v, 2 * i));
  // an odd split: the sample cut in two must be put back together
  ws.send(bytes.subarray(0, 333), { binary: true });
  ws.send(bytes.subarray(333), { binary: true });
  ws.send('{"event":"mark"}'); // text from the far end is not audio
  await until(() => f.stats().playbackSamplesQueued === 500, 'the playback audio');
  const frames = [f.readPlayback(160), f.readPlayback(160), f.readPlayback(160), f.readPlayback(160)];
  t.same(frames.map((x) => x?.length), [160, 160, 160, 160]);
  const joined = new Int16Array(640);
  frames.forEach((x, i) => joined.set(x!, i * 160));
  t.same([...joined.subarray(0, 500)], [...samples], 'the samples sent back, in order');
  t.ok(joined.subarray(500).every((v) => v === 0), 'a partial last frame is padded with silence');
  t.equal(f.readPlayback(160), undefined, 'then nothing');

  ws.send(bytes, { binary: true });
  await until(() => f.stats().playbackSamplesQueued === 500, 'more playback audio');
  f.clearPlayback();
  t.equal(f.readPlayback(160), undefined, 'clearPlayback forgets it');
  t.equal(f.stats().playbackSamplesReceived, 1000);
});

t.test('playback beyond the limit is dropped and counted', async (t) => {
  const side = await startServer();
  t.teardown(() => stopServer(side.server));
  const f = fork({ url: `ws://127.0.0.1:${side.port}`, maxPlaybackMs: 100 });
  t.teardown(() => f.close());
  await nextEvent(f, 'open');
  const ws = await side.connection;
  for (let i = 0; i < 8; i++) ws.send(Buffer.alloc(320), { binary: true });
  await until(() => f.stats().playbackSamplesReceived === 1280, 'the playback audio');
  t.equal(f.stats().playbackSamplesQueued, 800, '100 ms at 8 kHz kept');
  t.equal(f.stats().playbackSamplesDropped, 480);
});

t.test('backpressure: frames are dropped while the socket is backed up', async (t) => {
  const side = await startServer();
  t.teardown(() => stopServer(side.server));
  const f = fork({ url: `ws://127.0.0.1:${side.port}`, maxBufferedBytes: 4000 });
  t.teardown(() => f.close());
  await nextEvent(f, 'open');
  // 32 MB written in one go, far faster than real time, with the far end (in this process)
  // unable to read meanwhile: the kernel buffers fill and ws has to hold the rest
  const total = 2000;
  let accepted = 0;
  const big = frameNumber(1, 8000);
  for (let i = 0; i < total; i++) if (f.write(big)) accepted++;
  const stats = f.stats();
  t.ok(stats.framesDropped > 0, `${stats.framesDropped} frames dropped`);
  t.equal(stats.framesSent, accepted);
  t.equal(stats.framesSent + stats.framesDropped, total);
  await until(() => side.messages.length === accepted + 1, 'the frames that were sent');
  t.equal(side.messages.filter((m) => Buffer.isBuffer(m)).length, accepted, 'the far end gets exactly the frames sent');
});

t.test('the far end closing ends the fork', async (t) => {
  const side = await startServer();
  t.teardown(() => stopServer(side.server));
  const f = fork({ url: `ws://127.0.0.1:${side.port}` });
  await nextEvent(f, 'open');
  const closed = nextEvent(f, 'closed');
  (await side.connection).close(4000, 'bye');
  const [reason] = await closed;
  t.equal(reason, 'remote closed: 4000 bye');
  t.equal(f.state, 'closed');
  f.close();
  t.notOk(f.write(new Int16Array(160)));
});

t.test('the far end going away abruptly ends the fork', async (t) => {
  const side = await startServer();
  const f = fork({ url: `ws://127.0.0.1:${side.port}` });
  await nextEvent(f, 'open');
  const closed = nextEvent(f, 'closed');
  await stopServer(side.server);
  const [reason] = await closed;
  t.match(reason, /^remote closed: 1006/);
});

t.test('connecting to a closed port is an event, not a throw', async (t) => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const f = fork({ url: `ws://127.0.0.1:${port}` });
  const errors: Error[] = [];
  f.on('error', (err) => errors.push(err));
  const [reason] = await nextEvent(f, 'closed');
  t.match(reason, /^connection failed: .*ECONNREFUSED/);
  t.equal(errors.length, 1);
  t.match(errors[0]?.message, /ECONNREFUSED/);
  t.equal(f.state, 'closed');
  f.close();
});

t.test('a far end that accepts TCP but never answers: connect timeout on the injected scheduler', async (t) => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => sockets.add(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  const scheduler = new FakeScheduler();
  const f = fork({ url: `ws://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, scheduler, connectTimeoutMs: 3000 });
  const errors: Error[] = [];
  f.on('error', (err) => errors.push(err));
  const closed = nextEvent(f, 'closed');
  await until(() => sockets.size === 1, 'the TCP connection');
  scheduler.advance(2999);
  t.equal(f.state, 'connecting', 'still waiting before the timeout');
  scheduler.advance(1);
  t.same(await closed, ['connect timeout']);
  t.equal(errors.length, 1);
  t.ok(errors[0] instanceof TimeoutError);
  t.equal(scheduler.pending, 0, 'no timer left behind');
});

t.test('closing while still connecting', async (t) => {
  const side = await startServer();
  t.teardown(() => stopServer(side.server));
  const f = fork({ url: `ws://127.0.0.1:${side.port}` });
  const errors: Error[] = [];
  f.on('error', (err) => errors.push(err));
  const opened: unknown[] = [];
  f.on('open', () => opened.push(1));
  const closed = nextEvent(f, 'closed');
  f.close();
  t.same(await closed, ['closed locally']);
  t.same(errors, [], 'aborting our own handshake is not an error');
  t.same(opened, []);
});

t.test('a bad URL is reported through events', async (t) => {
  for (const url of ['http://127.0.0.1:1/', 'not a url']) {
    const scheduler = new FakeScheduler();
    const f = fork({ url, scheduler });
    const events: string[] = [];
    f.on('error', (err) => events.push(`error: ${err.message}`));
    f.on('closed', (reason) => events.push(`closed: ${reason}`));
    t.equal(f.state, 'closed');
    t.notOk(f.write(new Int16Array(160)));
    scheduler.runAll();
    t.equal(events.length, 2, url);
    t.match(events[0], /^error: audio fork: /);
    t.match(events[1], /^closed: /);
    f.close();
  }
});
