import t from 'tap';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AddressInfo } from 'node:net';
import { FakeScheduler } from '../../../../src/lib/index.js';
import { FetchCache, FetchError, HttpFetcher } from '../../../../src/mcp/fetch/index.js';

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void;

/** A loopback server whose routes the tests set; it records every request it receives. */
class TestServer {
  readonly seen: Seen[] = [];
  readonly routes = new Map<string, Handler>();
  private readonly server: Server;
  private readonly hung: ServerResponse[] = [];

  constructor() {
    this.server = createServer((req, res) => {
      // the cache tests run on a fake clock: a real Date header would make responses look aged
      res.sendDate = false;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const seen: Seen = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
        this.seen.push(seen);
        const route = this.routes.get((req.url ?? '').split('?')[0] ?? '');
        if (route === undefined) {
          res.writeHead(404).end('no such route');
          return;
        }
        route(req, res, seen);
      });
    });
  }

  hang(res: ServerResponse): void {
    this.hung.push(res);
  }

  hits(path: string): number {
    return this.seen.filter((s) => s.path.split('?')[0] === path).length;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const server = new TestServer();
let base = '';
t.before(async () => {
  base = await server.listen();
});
t.teardown(() => server.close());

async function fetchError(p: Promise<unknown>): Promise<FetchError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof FetchError) return err;
    throw err;
  }
  throw new Error('expected a FetchError');
}

t.test('GET: body, status, content type without parameters, charset decoding', async (t) => {
  server.routes.set('/doc.vxml', (_req, res) => {
    res.writeHead(200, { 'content-type': 'Application/VoiceXML+XML; charset=UTF-8' }).end('<vxml version="2.1">é</vxml>');
  });
  server.routes.set('/latin1.txt', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=ISO-8859-1' }).end(Buffer.from([0x63, 0x61, 0x66, 0xe9]));
  });
  const fetcher = new HttpFetcher({ userAgent: 'test-agent' });
  const r = await fetcher.fetch({ url: `${base}/doc.vxml`, accept: 'application/voicexml+xml' });
  t.equal(r.status, 200);
  t.equal(r.url, `${base}/doc.vxml`);
  t.equal(r.contentType, 'application/voicexml+xml');
  t.equal(r.text(), '<vxml version="2.1">é</vxml>');
  t.equal(r.fromCache, false);
  const seen = server.seen.at(-1)!;
  t.equal(seen.headers['user-agent'], 'test-agent');
  t.equal(seen.headers['accept'], 'application/voicexml+xml');
  const latin = await fetcher.fetch({ url: `${base}/latin1.txt` });
  t.equal(latin.text(), 'café', 'latin1 decoded');
});

t.test('POST urlencoded: UTF-8 fields the server parses back', async (t) => {
  server.routes.set('/submit', (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  const fetcher = new HttpFetcher();
  const fields: Array<[string, string]> = [
    ['name', 'Zoë & Co'],
    ['amount', '12.50'],
    ['name', 'second=value'],
  ];
  const r = await fetcher.fetch({ url: `${base}/submit`, method: 'POST', body: { kind: 'urlencoded', fields } });
  t.equal(r.text(), 'ok');
  const seen = server.seen.at(-1)!;
  t.equal(seen.method, 'POST');
  t.equal(seen.headers['content-type'], 'application/x-www-form-urlencoded');
  t.same([...new URLSearchParams(seen.body.toString('utf8'))], fields);
});

t.test('GET with a body: the fields go into the query string', async (t) => {
  server.routes.set('/query', (_req, res) => res.writeHead(200).end('ok'));
  const fetcher = new HttpFetcher();
  await fetcher.fetch({ url: `${base}/query?x=1`, method: 'GET', body: { kind: 'urlencoded', fields: [['city', 'São Paulo']] } });
  const seen = server.seen.at(-1)!;
  t.equal(seen.method, 'GET');
  const query = new URL(seen.path, base).searchParams;
  t.equal(query.get('x'), '1');
  t.equal(query.get('city'), 'São Paulo');
  t.equal(seen.body.length, 0);
});

t.test('POST multipart: text fields and a binary file part arrive byte-exact', async (t) => {
  server.routes.set('/upload', (_req, res) => res.writeHead(200).end('stored'));
  const recording = new Uint8Array(4096);
  for (let i = 0; i < recording.length; i++) recording[i] = (i * 37 + 11) & 0xff;
  recording.set([0x0d, 0x0a, 0x2d, 0x2d], 100); // CRLF-- inside the data must not confuse the framing
  const fetcher = new HttpFetcher();
  await fetcher.fetch({
    url: `${base}/upload`,
    method: 'POST',
    body: {
      kind: 'multipart',
      parts: [
        { name: 'caller', value: 'José "J" Ñ' },
        { name: 'msg', filename: 'message.wav', contentType: 'audio/x-wav', data: recording },
      ],
    },
  });
  const seen = server.seen.at(-1)!;
  const contentType = String(seen.headers['content-type']);
  t.match(contentType, /^multipart\/form-data; boundary=/);
  // an independent parser: undici's multipart/form-data reader
  const form = await new Response(seen.body, { headers: { 'content-type': contentType } }).formData();
  t.equal(form.get('caller'), 'José "J" Ñ', 'values are sent as they are');
  const file = form.get('msg');
  t.ok(file instanceof Blob, 'file part');
  const blob = file as File;
  t.equal(blob.name, 'message.wav');
  t.equal(blob.type, 'audio/x-wav');
  t.same(new Uint8Array(await blob.arrayBuffer()), recording, 'binary part byte-exact');
});

t.test('redirects are followed (POST becomes GET on 303) and the final URL reported', async (t) => {
  server.routes.set('/r1', (_req, res) => res.writeHead(302, { location: '/r2' }).end());
  server.routes.set('/r2', (_req, res) => res.writeHead(301, { location: `${base}/final` }).end());
  server.routes.set('/final', (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('landed'));
  server.routes.set('/post-redirect', (_req, res) => res.writeHead(303, { location: '/final' }).end());
  server.routes.set('/loop', (_req, res) => res.writeHead(302, { location: '/loop' }).end());
  const fetcher = new HttpFetcher();
  const r = await fetcher.fetch({ url: `${base}/r1` });
  t.equal(r.url, `${base}/final`);
  t.equal(r.text(), 'landed');
  const p = await fetcher.fetch({ url: `${base}/post-redirect`, method: 'POST', body: { kind: 'urlencoded', fields: [['a', 'b']] } });
  t.equal(p.text(), 'landed');
  t.equal(server.seen.at(-1)!.method, 'GET');
  const before = server.hits('/loop');
  const loop = await fetchError(fetcher.fetch({ url: `${base}/loop` }));
  t.equal(loop.reason, 'network');
  t.equal(server.hits('/loop') - before, 11, 'the first request and 10 redirects');
});

t.test('404 and 500 give FetchError reason http with the status', async (t) => {
  server.routes.set('/boom', (_req, res) => res.writeHead(500).end('oops'));
  const fetcher = new HttpFetcher();
  const missing = await fetchError(fetcher.fetch({ url: `${base}/nowhere` }));
  t.equal(missing.reason, 'http');
  t.equal(missing.status, 404);
  t.equal(missing.url, `${base}/nowhere`);
  const boom = await fetchError(fetcher.fetch({ url: `${base}/boom` }));
  t.equal(boom.reason, 'http');
  t.equal(boom.status, 500);
});

t.test('a server that never answers: timeout; an abort signal: aborted; connection refused: network', async (t) => {
  server.routes.set('/hang', (_req, res) => server.hang(res));
  const fetcher = new HttpFetcher({ timeoutMs: 60_000 });
  const timeout = await fetchError(fetcher.fetch({ url: `${base}/hang`, timeoutMs: 200 }));
  t.equal(timeout.reason, 'timeout', "the request's own timeout wins");
  const short = new HttpFetcher({ timeoutMs: 200 });
  t.equal((await fetchError(short.fetch({ url: `${base}/hang` }))).reason, 'timeout', 'the fetcher default applies');

  const controller = new AbortController();
  const pending = fetcher.fetch({ url: `${base}/hang`, signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  t.equal((await fetchError(pending)).reason, 'aborted');
  t.equal((await fetchError(fetcher.fetch({ url: `${base}/hang`, signal: AbortSignal.abort() }))).reason, 'aborted');

  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  t.equal((await fetchError(fetcher.fetch({ url: `http://127.0.0.1:${port}/` }))).reason, 'network');
});

t.test('a body over maxBytes: too-large (announced and streamed)', async (t) => {
  const big = Buffer.alloc(256 * 1024, 0x41);
  server.routes.set('/big', (_req, res) => res.writeHead(200, { 'content-length': String(big.length) }).end(big));
  server.routes.set('/big-chunked', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    for (let i = 0; i < 8; i++) res.write(big.subarray(0, 32 * 1024));
    res.end();
  });
  const fetcher = new HttpFetcher({ maxBytes: 100_000 });
  t.equal((await fetchError(fetcher.fetch({ url: `${base}/big` }))).reason, 'too-large');
  t.equal((await fetchError(fetcher.fetch({ url: `${base}/big-chunked` }))).reason, 'too-large');
  const roomy = new HttpFetcher({ maxBytes: big.length });
  t.equal((await roomy.fetch({ url: `${base}/big` })).body.length, big.length, 'exactly maxBytes is fine');
});

t.test('bad URLs and schemes', async (t) => {
  const fetcher = new HttpFetcher();
  t.equal((await fetchError(fetcher.fetch({ url: 'not a url' }))).reason, 'bad-url');
  t.equal((await fetchError(fetcher.fetch({ url: 'ftp://example.com/x' }))).reason, 'bad-url');
  t.equal((await fetchError(fetcher.fetch({ url: 'file:///etc/hostname' }))).reason, 'bad-url', 'file: refused by default');
  server.routes.set('/to-file', (_req, res) => res.writeHead(302, { location: 'file:///etc/passwd' }).end());
  const allowing = new HttpFetcher({ allowFile: true });
  t.equal((await fetchError(allowing.fetch({ url: `${base}/to-file` }))).reason, 'bad-url', 'no redirect into file:');
});

t.test('file: URLs only with allowFile, never cached', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'opencx-fetch-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'hello.vxml');
  await writeFile(path, '<vxml/>');
  const url = pathToFileURL(path).href;
  const cache = new FetchCache();
  t.equal((await fetchError(new HttpFetcher({ cache }).fetch({ url }))).reason, 'bad-url');
  const fetcher = new HttpFetcher({ allowFile: true, cache });
  const r = await fetcher.fetch({ url });
  t.equal(r.text(), '<vxml/>');
  t.equal(r.contentType, 'application/voicexml+xml');
  t.equal(r.fromCache, false);
  t.equal(cache.size, 0);
  const missing = await fetchError(fetcher.fetch({ url: pathToFileURL(join(dir, 'none.vxml')).href }));
  t.equal(missing.reason, 'http');
  t.equal(missing.status, 404);
  const small = new HttpFetcher({ allowFile: true, maxBytes: 3 });
  t.equal((await fetchError(small.fetch({ url }))).reason, 'too-large');
});

t.test('cache: hit, miss, expiry, revalidation with 304, counted at the server', async (t) => {
  const clock = new FakeScheduler({ wallStart: Date.now() });
  const cache = new FetchCache({ scheduler: clock });
  let version = 1;
  server.routes.set('/cached', (req, res) => {
    const etag = `"v${version}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag, 'cache-control': 'max-age=60' }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', etag, 'cache-control': 'max-age=60' }).end(`version ${version}`);
  });
  // two sessions share the cache
  const a = new HttpFetcher({ cache });
  const b = new HttpFetcher({ cache });
  const first = await a.fetch({ url: `${base}/cached` });
  t.equal(first.fromCache, false);
  t.equal(server.hits('/cached'), 1);
  const second = await b.fetch({ url: `${base}/cached` });
  t.equal(second.fromCache, true, 'fresh: served without the network');
  t.equal(second.text(), 'version 1');
  t.equal(server.hits('/cached'), 1);

  clock.advance(61_000);
  const revalidated = await a.fetch({ url: `${base}/cached` });
  t.equal(server.hits('/cached'), 2, 'stale: revalidated');
  t.equal(server.seen.at(-1)!.headers['if-none-match'], '"v1"');
  t.equal(revalidated.fromCache, false, 'a round trip happened');
  t.equal(revalidated.text(), 'version 1', 'the 304 kept the stored body');
  t.equal((await a.fetch({ url: `${base}/cached` })).fromCache, true, 'the 304 refreshed the entry');
  t.equal(server.hits('/cached'), 2);

  version = 2;
  clock.advance(61_000);
  const changed = await a.fetch({ url: `${base}/cached` });
  t.equal(changed.text(), 'version 2', 'a changed resource replaces the entry');
  t.equal(server.hits('/cached'), 3);
});

t.test('cache: maxage=0 forces revalidation, maxstale serves a stale entry', async (t) => {
  const clock = new FakeScheduler({ wallStart: Date.now() });
  const cache = new FetchCache({ scheduler: clock });
  server.routes.set('/grammar.grxml', (req, res) => {
    if (req.headers['if-modified-since'] === 'Sat, 01 Nov 2025 00:00:00 GMT') {
      res.writeHead(304).end();
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/srgs+xml', 'last-modified': 'Sat, 01 Nov 2025 00:00:00 GMT', 'cache-control': 'max-age=10' })
      .end('<grammar/>');
  });
  const fetcher = new HttpFetcher({ cache });
  const url = `${base}/grammar.grxml`;
  await fetcher.fetch({ url });
  t.equal((await fetcher.fetch({ url })).fromCache, true);
  const forced = await fetcher.fetch({ url, maxageS: 0 });
  t.equal(forced.fromCache, false, 'maxage=0 went to the server');
  t.equal(server.hits('/grammar.grxml'), 2);
  t.equal(server.seen.at(-1)!.headers['if-modified-since'], 'Sat, 01 Nov 2025 00:00:00 GMT');
  t.equal(forced.text(), '<grammar/>');

  clock.advance(15_000); // 5 s past expiry
  const stale = await fetcher.fetch({ url, maxstaleS: 30 });
  t.equal(stale.fromCache, true, 'maxstale accepts 5 s of staleness');
  t.equal(server.hits('/grammar.grxml'), 2);
  const tooStale = await fetcher.fetch({ url, maxstaleS: 2 });
  t.equal(tooStale.fromCache, false, 'maxstale=2 does not');
  t.equal(server.hits('/grammar.grxml'), 3);
});

t.test('cache: no-store, private, Vary: * and POST responses are never served from the cache', async (t) => {
  const cache = new FetchCache();
  server.routes.set('/no-store', (_req, res) => res.writeHead(200, { 'cache-control': 'no-store, max-age=600' }).end('x'));
  server.routes.set('/vary-star', (_req, res) => res.writeHead(200, { 'cache-control': 'max-age=600', vary: '*' }).end('x'));
  server.routes.set('/no-freshness', (_req, res) => res.writeHead(200).end('x'));
  server.routes.set('/post-target', (_req, res) => res.writeHead(200, { 'cache-control': 'max-age=600' }).end('x'));
  const fetcher = new HttpFetcher({ cache });
  for (const path of ['/no-store', '/vary-star', '/no-freshness']) {
    await fetcher.fetch({ url: `${base}${path}` });
    const again = await fetcher.fetch({ url: `${base}${path}` });
    t.equal(again.fromCache, false, path);
    t.equal(server.hits(path), 2, `${path} hit the server twice`);
  }
  await fetcher.fetch({ url: `${base}/post-target` });
  t.equal((await fetcher.fetch({ url: `${base}/post-target` })).fromCache, true);
  await fetcher.fetch({ url: `${base}/post-target`, method: 'POST', body: { kind: 'urlencoded', fields: [] } });
  t.equal((await fetcher.fetch({ url: `${base}/post-target` })).fromCache, false, 'a POST invalidated the entry');
});

t.test('cookies: set by one response, sent on the next of the same session only', async (t) => {
  server.routes.set('/login', (_req, res) => {
    res.setHeader('set-cookie', ['session=abc123; Path=/; HttpOnly', 'lang=en; Max-Age=3600', 'other=1; Path=/elsewhere']);
    res.writeHead(200).end('welcome');
  });
  server.routes.set('/menu', (_req, res) => res.writeHead(200).end('menu'));
  server.routes.set('/bounce', (_req, res) => {
    res.setHeader('set-cookie', 'hop=1; Path=/');
    res.writeHead(302, { location: '/menu' }).end();
  });
  const clock = new FakeScheduler({ wallStart: Date.now() });
  const session1 = new HttpFetcher({ scheduler: clock });
  const session2 = new HttpFetcher({ scheduler: clock });
  await session1.fetch({ url: `${base}/login` });
  await session1.fetch({ url: `${base}/menu` });
  t.equal(server.seen.at(-1)!.headers['cookie'], 'session=abc123; lang=en');
  await session2.fetch({ url: `${base}/menu` });
  t.equal(server.seen.at(-1)!.headers['cookie'], undefined, 'another session sends none');
  await session2.fetch({ url: `${base}/bounce` });
  t.equal(server.seen.at(-1)!.headers['cookie'], 'hop=1', 'a cookie set on a redirect is sent on the next hop');
  clock.advance(3_601_000);
  await session1.fetch({ url: `${base}/menu` });
  t.equal(server.seen.at(-1)!.headers['cookie'], 'session=abc123', 'lang expired on the injected clock');
});

t.test('close() aborts the fetches in flight and refuses new ones; it is idempotent', async (t) => {
  server.routes.set('/slow', (_req, res) => server.hang(res));
  const fetcher = new HttpFetcher();
  const pending = fetcher.fetch({ url: `${base}/slow` });
  await new Promise((resolve) => setTimeout(resolve, 50));
  fetcher.close();
  fetcher.close();
  t.equal((await fetchError(pending)).reason, 'aborted');
  t.equal((await fetchError(fetcher.fetch({ url: `${base}/doc.vxml` }))).reason, 'aborted');
});

t.test('cache: the fragment is not part of the key, the response keeps the requested URL', async (t) => {
  const cache = new FetchCache();
  server.routes.set('/app.vxml', (_req, res) => res.writeHead(200, { 'cache-control': 'max-age=600', 'content-type': 'application/voicexml+xml' }).end('<vxml/>'));
  const fetcher = new HttpFetcher({ cache });
  await fetcher.fetch({ url: `${base}/app.vxml#main` });
  const again = await fetcher.fetch({ url: `${base}/app.vxml#other` });
  t.equal(again.fromCache, true);
  t.equal(again.url, `${base}/app.vxml#other`);
  t.equal(server.hits('/app.vxml'), 1);
});
