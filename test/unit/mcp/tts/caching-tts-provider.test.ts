import t from 'tap';
import { FakeScheduler, NotFoundError } from '../../../../src/lib/index.js';
import type { BlobStore } from '../../../../src/platform/index.js';
import { CachingTtsProvider, TtsError, createTtsProvider, type TtsAudio, type TtsProvider, type TtsRequest } from '../../../../src/mcp/tts/index.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

interface Call {
  request: TtsRequest;
  resolve: (audio: TtsAudio) => void;
  reject: (err: unknown) => void;
}

/** An engine whose answers the test hands out one by one. */
class FakeEngine implements TtsProvider {
  readonly name = 'fake';
  readonly calls: Call[] = [];
  closed = 0;
  /** answer at once with `samples` samples instead of waiting for the test */
  autoSamples: number | undefined;

  synthesize(request: TtsRequest): Promise<TtsAudio> {
    return new Promise<TtsAudio>((resolve, reject) => {
      this.calls.push({ request, resolve, reject });
      if (this.autoSamples !== undefined) resolve(audioOf(this.autoSamples, request.sampleRate));
    });
  }

  close(): Promise<void> {
    this.closed++;
    return Promise.resolve();
  }
}

/** A BlobStore in a Map, with switches for failures. */
class MemoryBlobs implements BlobStore {
  readonly kind = 'local' as const;
  readonly data = new Map<string, Uint8Array>();
  failGets = false;
  hangGets = false;
  failPuts = false;
  puts = 0;

  async put(key: string, data: Uint8Array): Promise<void> {
    this.puts++;
    if (this.failPuts) throw new Error('disk full');
    this.data.set(key, data.slice());
  }
  async putFile(): Promise<void> {
    throw new Error('not used');
  }
  get(key: string): Promise<Uint8Array> {
    if (this.hangGets) return new Promise(() => {});
    if (this.failGets) return Promise.reject(new Error('store down'));
    const found = this.data.get(key);
    return found !== undefined ? Promise.resolve(found.slice()) : Promise.reject(new NotFoundError(`no blob ${key}`));
  }
  async exists(key: string): Promise<boolean> {
    return this.data.has(key);
  }
  async delete(key: string): Promise<void> {
    this.data.delete(key);
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async close(): Promise<void> {}
}

function audioOf(samples: number, sampleRate: number, value = 1000): TtsAudio {
  const pcm = new Int16Array(samples);
  for (let i = 0; i < samples; i++) pcm[i] = (value + i) % 30000 - (i % 2 === 0 ? 0 : 20000);
  return { pcm, sampleRate };
}

const request = (ssml: string, extra: Partial<TtsRequest> = {}): TtsRequest => ({ ssml, language: 'en-US', sampleRate: 8000, ...extra });

t.test('a second request for the same prompt is a hit; any difference is a miss', async (t) => {
  const engine = new FakeEngine();
  engine.autoSamples = 800;
  const cache = new CachingTtsProvider(engine);
  t.equal(cache.name, 'fake');
  const first = await cache.synthesize(request('<speak>hi</speak>'));
  const again = await cache.synthesize(request('<speak>hi</speak>'));
  t.equal(again, first, 'the same audio object');
  t.equal(engine.calls.length, 1);
  await cache.synthesize(request('<speak>hi</speak>', { sampleRate: 16000 }));
  await cache.synthesize(request('<speak>hi</speak>', { language: 'en-GB' }));
  await cache.synthesize(request('<speak>hi</speak>', { voice: 'en-us+f3' }));
  await cache.synthesize(request('<speak>hi!</speak>'));
  t.equal(engine.calls.length, 5);
  t.match(cache.stats(), { hits: 1, misses: 5, blobHits: 0, sharedHits: 0, entries: 5 });
  t.not(cache.keyFor(request('a')), cache.keyFor(request('a', { voice: '' + 'x' })));
  t.match(cache.keyFor(request('a')), /^[0-9a-f]{64}$/);
  await cache.close();
});

t.test('memory is bounded in bytes and the least recently used prompt goes first', async (t) => {
  const engine = new FakeEngine();
  engine.autoSamples = 1000; // 2000 bytes of samples + bookkeeping each
  const cache = new CachingTtsProvider(engine, { maxBytes: 7000 });
  await cache.synthesize(request('a'));
  await cache.synthesize(request('b'));
  await cache.synthesize(request('c'));
  t.equal(cache.stats().entries, 3);
  t.ok(cache.stats().bytes <= 7000);
  await cache.synthesize(request('a')); // a is now the most recent
  await cache.synthesize(request('d')); // evicts b, the least recent
  t.equal(cache.stats().entries, 3);
  t.ok(cache.stats().bytes <= 7000, `bytes ${cache.stats().bytes} within the bound`);
  const before = engine.calls.length;
  await cache.synthesize(request('a'));
  await cache.synthesize(request('c'));
  await cache.synthesize(request('d'));
  t.equal(engine.calls.length, before, 'a, c, d still cached');
  await cache.synthesize(request('b'));
  t.equal(engine.calls.length, before + 1, 'b was evicted');
  await cache.close();
});

t.test('audio bigger than the whole cache is returned but not kept; 0 bytes keeps nothing', async (t) => {
  const engine = new FakeEngine();
  engine.autoSamples = 10_000;
  const cache = new CachingTtsProvider(engine, { maxBytes: 5000 });
  const audio = await cache.synthesize(request('long'));
  t.equal(audio.pcm.length, 10_000);
  t.equal(cache.stats().entries, 0);
  await cache.synthesize(request('long'));
  t.equal(engine.calls.length, 2);
  const none = new CachingTtsProvider(engine, { maxBytes: 0 });
  engine.autoSamples = 1;
  await none.synthesize(request('x'));
  await none.synthesize(request('x'));
  t.equal(none.stats().entries, 0);
  t.equal(none.stats().misses, 2);
  await cache.close();
  await none.close();
});

t.test('concurrent requests for the same prompt share one synthesis', async (t) => {
  const engine = new FakeEngine();
  const cache = new CachingTtsProvider(engine);
  const pending = [1, 2, 3].map(() => cache.synthesize(request('<speak>menu</speak>')));
  const other = cache.synthesize(request('<speak>other</speak>'));
  await tick();
  t.equal(engine.calls.length, 2, 'one call per distinct prompt');
  const audio = audioOf(400, 8000);
  engine.calls[0]!.resolve(audio);
  const results = await Promise.all(pending);
  for (const r of results) t.equal(r, audio);
  engine.calls[1]!.resolve(audioOf(10, 8000));
  await other;
  t.match(cache.stats(), { hits: 2, sharedHits: 2, misses: 2 });
  await cache.close();
});

t.test('failures are not cached, and every waiter sees the TtsError', async (t) => {
  const engine = new FakeEngine();
  const cache = new CachingTtsProvider(engine);
  const a = cache.synthesize(request('x'));
  const b = cache.synthesize(request('x'));
  await tick();
  engine.calls[0]!.reject(new TtsError('engine crashed', 'fake'));
  await t.rejects(a, { name: 'TtsError', provider: 'fake' });
  await t.rejects(b, { name: 'TtsError' });
  t.equal(cache.stats().entries, 0);
  const c = cache.synthesize(request('x'));
  await tick();
  t.equal(engine.calls.length, 2, 'tried again after the failure');
  engine.calls[1]!.reject(new Error('not a TtsError'));
  await t.rejects(c, { name: 'TtsError', message: /not a TtsError/ }, 'foreign errors are wrapped');
  const d = cache.synthesize(request('x'));
  await tick();
  engine.calls[2]!.resolve(audioOf(5, 8000));
  t.equal((await d).pcm.length, 5);
  await cache.close();
});

t.test('one caller aborting does not cancel the shared synthesis for the others', async (t) => {
  const engine = new FakeEngine();
  const cache = new CachingTtsProvider(engine);
  const controller = new AbortController();
  const quitter = cache.synthesize(request('x'), controller.signal);
  const stayer = cache.synthesize(request('x'));
  await tick();
  controller.abort();
  await t.rejects(quitter, { name: 'TtsError', message: /aborted/ });
  engine.calls[0]!.resolve(audioOf(3, 8000));
  t.equal((await stayer).pcm.length, 3);
  t.equal(cache.stats().entries, 1, 'the audio is cached all the same');
  await t.rejects(cache.synthesize(request('y'), AbortSignal.abort()), { name: 'TtsError' }, 'already aborted');
  await cache.close();
});

t.test('blob tier: written after synthesis, read by a fresh cache, samples intact', async (t) => {
  const engine = new FakeEngine();
  engine.autoSamples = 321;
  const blobs = new MemoryBlobs();
  const first = new CachingTtsProvider(engine, { blobs });
  const made = await first.synthesize(request('<speak>shared</speak>'));
  await first.close(); // waits for the blob write
  const key = first.keyFor(request('<speak>shared</speak>'));
  t.same([...blobs.data.keys()], [`tts-cache/${key}.pcm`]);
  t.equal(blobs.data.get(`tts-cache/${key}.pcm`)!.length, 642, '16-bit samples, no header');

  const engine2 = new FakeEngine();
  const second = new CachingTtsProvider(engine2, { blobs });
  const read = await second.synthesize(request('<speak>shared</speak>'));
  t.equal(engine2.calls.length, 0, 'no synthesis');
  t.same([...read.pcm], [...made.pcm]);
  t.equal(read.sampleRate, 8000);
  t.match(second.stats(), { hits: 1, blobHits: 1, misses: 0, entries: 1 });
  await second.synthesize(request('<speak>shared</speak>'));
  t.match(second.stats(), { hits: 2, blobHits: 1 }, 'then from memory');
  await second.close();
});

t.test('blob tier failures never fail a synthesis', async (t) => {
  const engine = new FakeEngine();
  engine.autoSamples = 10;
  const blobs = new MemoryBlobs();
  const errors: unknown[] = [];
  const scheduler = new FakeScheduler();
  const cache = new CachingTtsProvider(engine, { blobs, onBlobError: (e) => errors.push(e), scheduler, blobTimeoutMs: 100 });
  blobs.failGets = true;
  blobs.failPuts = true;
  t.equal((await cache.synthesize(request('a'))).pcm.length, 10);
  await tick();
  t.equal(errors.length, 2, 'the failed get and put were reported');

  blobs.failGets = false;
  blobs.failPuts = false;
  blobs.data.set(`tts-cache/${cache.keyFor(request('odd'))}.pcm`, new Uint8Array(3));
  t.equal((await cache.synthesize(request('odd'))).pcm.length, 10, 'a corrupt blob is a miss');

  blobs.hangGets = true;
  const slow = cache.synthesize(request('slow'));
  await tick();
  scheduler.advance(100);
  t.equal((await slow).pcm.length, 10, 'a hanging blob store counts as a miss after blobTimeoutMs');
  t.equal(engine.calls.length, 3);
  await cache.close();
});

t.test('audio with marks stays in memory only', async (t) => {
  const blobs = new MemoryBlobs();
  const engine: TtsProvider = {
    name: 'marky',
    synthesize: async (r) => ({ pcm: new Int16Array(8), sampleRate: r.sampleRate, marks: { m1: 250 } }),
    close: async () => {},
  };
  const cache = new CachingTtsProvider(engine, { blobs });
  const audio = await cache.synthesize(request('<speak>a<mark name="m1"/>b</speak>'));
  t.same(audio.marks, { m1: 250 });
  t.equal(blobs.puts, 0);
  t.same((await cache.synthesize(request('<speak>a<mark name="m1"/>b</speak>'))).marks, { m1: 250 });
  await cache.close();
});

t.test('close is idempotent, closes the engine once, and refuses later requests', async (t) => {
  const engine = new FakeEngine();
  const cache = new CachingTtsProvider(engine);
  await Promise.all([cache.close(), cache.close()]);
  await cache.close();
  t.equal(engine.closed, 1);
  await t.rejects(cache.synthesize(request('x')), { name: 'TtsError', message: /closed/ });
});

t.test('createTtsProvider picks the engine and wraps it in the cache', async (t) => {
  const espeak = createTtsProvider({ provider: 'espeak' });
  t.ok(espeak instanceof CachingTtsProvider);
  t.equal(espeak.name, 'espeak');
  const google = createTtsProvider({ provider: 'google', google: { insecure: true, apiEndpoint: '127.0.0.1', port: 1 }, cacheBytes: 0 });
  t.equal(google.name, 'google');
  t.notOk(google instanceof CachingTtsProvider, 'no cache when both tiers are off');
  t.throws(() => createTtsProvider({ provider: 'nope' as 'espeak' }), { name: 'ConfigError' });
  t.throws(() => createTtsProvider({ provider: 'espeak', cacheBytes: -1 }), { name: 'ConfigError' });
  await espeak.close();
  await google.close();
});
