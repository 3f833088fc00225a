/**
 * The media engine over the bus: a RemoteMediaEngine drives a MediaNode. First in one process on
 * the in-memory bus, then the real thing: `opencx start --role media` in its own process on a real
 * redis-server, driven from this test process, and SIGKILLed to see the loss reported.
 */
import t, { type Test } from 'tap';
import { SystemScheduler, silentLogger } from '../../../src/lib/index.js';
import { LocalMediaEngine, MediaNode, RemoteMediaEngine, dominantFrequency, type MediaEvent } from '../../../src/media/index.js';
import { createMemoryBus, createRedisBus } from '../../../src/platform/index.js';
import { startOpencx } from '../../helpers/opencx-process.js';
import { startRedisServer } from '../../helpers/redis-server.js';
import { RtpPeer, sleep } from '../../helpers/rtp-peer.js';

const scheduler = new SystemScheduler();

async function bridgeThrough(engine: RemoteMediaEngine, t: Test): Promise<void> {
  const a = await RtpPeer.open({ codec: 'PCMU' });
  const b = await RtpPeer.open({ codec: 'PCMA' });
  const legA = await engine.createEndpoint({ kind: 'rtp', remoteSdp: a.sdp() });
  a.useRemoteSdp(legA.localSdp);
  const legB = await engine.createEndpoint({ kind: 'rtp', near: legA.id });
  b.useRemoteSdp(legB.localSdp);
  await engine.updateEndpoint(legB.id, { remoteSdp: b.sdp() });
  const bridge = await engine.bridge(legA.id, legB.id);
  t.equal(bridge.transcoding, true, 'PCMU ↔ PCMA transcodes on the media node');
  a.startTone(600);
  b.startTone(1000);
  await sleep(800);
  a.stop();
  b.stop();
  t.equal(dominantFrequency(b.recentAudio(300), 8000, [600, 1000]).frequencyHz, 600, 'B hears A through the remote node');
  t.equal(dominantFrequency(a.recentAudio(300), 8000, [600, 1000]).frequencyHz, 1000, 'A hears B through the remote node');
  const stats = await engine.endpointStats(legA.id);
  t.ok(stats.packetsReceived > 20, `the node counted ${stats.packetsReceived} packets in on leg A`);
  await engine.deleteEndpoint(legA.id);
  await engine.deleteEndpoint(legB.id);
  a.close();
  b.close();
}

t.test('in one process on the memory bus: calls, errors and events cross; a closed node is reported lost', async (t) => {
  const bus = createMemoryBus({ scheduler, logger: silentLogger });
  const local = new LocalMediaEngine({ bindAddress: '127.0.0.1', portMin: 30000 + Math.floor(Math.random() * 5000) * 2, portMax: 64000, idPrefix: 'n1~' });
  const node = new MediaNode({ nodeId: 'n1', bus, engine: local, scheduler, logger: silentLogger, load: () => ({ endpoints: local.load().endpoints, portsFree: local.load().portsFree }) });
  await node.start();
  const remote = new RemoteMediaEngine({ bus, scheduler, logger: silentLogger, requestTimeoutMs: 2000 });
  const events: MediaEvent[] = [];
  remote.onEvent((e) => events.push(e));
  t.teardown(async () => {
    await remote.close();
    await node.close();
    await local.close();
    await bus.close();
  });

  t.same((await remote.nodes()).map((n) => n.nodeId), ['n1'], 'the node announced itself');
  await bridgeThrough(remote, t);
  t.ok(events.some((e) => e.type === 'endpoint.closed'), 'endpoint events reach the client');

  const missing = await remote.stopRecord('n1~rec-none').catch((e: unknown) => e);
  t.match(missing, { name: 'NotFoundError' }, 'a NotFoundError on the node is a NotFoundError here');
  const foreign = await remote.deleteEndpoint('no-node-prefix').catch((e: unknown) => e);
  t.match(foreign, { name: 'InvalidInputError' }, 'an id no node made is refused before it is sent');

  const kept = await remote.createEndpoint({ kind: 'rtp' });
  await node.close();
  const lost = await waitFor(() => events.find((e) => e.type === 'engine.lost'), 6000);
  t.match(lost, { type: 'engine.lost', endpointIds: [kept.id] }, 'the endpoint on the closed node is reported lost');
  const after = await remote.endpointStats(kept.id).catch((e: unknown) => e);
  t.match(after, { name: /TimeoutError|UnavailableError/ }, 'calls to the gone node fail instead of hanging');
});

t.test('`opencx start --role media` in another process, over a real Redis bus', async (t) => {
  const redis = await startRedisServer();
  t.teardown(() => redis.stop());
  const media = await startOpencx(['--role', 'media', '--http-port', '0'], {
    env: {
      OPENCX_BUS__KIND: 'redis',
      OPENCX_BUS__URL: redis.url,
      OPENCX_MEDIA__BIND: '127.0.0.1',
      OPENCX_MEDIA__NODE_ID: 'media-a',
      OPENCX_MEDIA__PORT_MIN: String(30000 + Math.floor(Math.random() * 5000) * 2),
      OPENCX_MEDIA__PORT_MAX: '64000',
    },
  });
  t.teardown(() => media.stop('SIGKILL'));
  const bus = createRedisBus({ url: redis.url, logger: silentLogger, scheduler });
  await bus.whenConnected(5000);
  const remote = new RemoteMediaEngine({ bus, scheduler, logger: silentLogger, requestTimeoutMs: 3000 });
  t.teardown(async () => {
    await remote.close();
    await bus.close();
  });
  const events: MediaEvent[] = [];
  remote.onEvent((e) => events.push(e));

  const nodes = await waitFor(async () => ((await remote.nodes()).length > 0 ? remote.nodes() : undefined), 10_000);
  t.same(nodes?.map((n) => n.nodeId), ['media-a'], 'the media process announced itself on Redis');
  await bridgeThrough(remote, t);

  const held = await remote.createEndpoint({ kind: 'rtp' });
  t.match(held.id, /^media-a~/, 'ids carry the node');
  await media.stop('SIGKILL');
  const lost = await waitFor(() => events.find((e) => e.type === 'engine.lost'), 12_000);
  t.match(lost, { type: 'engine.lost', endpointIds: [held.id] }, 'SIGKILL of the media node is reported as engine.lost');
  const after = await remote.createEndpoint({ kind: 'rtp' }).catch((e: unknown) => e);
  t.match(after, { name: 'UnavailableError' }, 'with no node left, a new endpoint is a clear 503-class error');
});

async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(100);
  }
  return undefined;
}
