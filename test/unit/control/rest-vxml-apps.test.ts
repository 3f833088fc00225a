import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { silentLogger } from '../../../src/lib/index.js';
import {
  VxmlAppStore,
  etagMatches,
  hostedAppUrl,
  registerVxmlAppRoutes,
  registerVxmlServingRoutes,
  type VxmlApp,
  type VxmlAppFile,
} from '../../../src/control/index.js';
import { auth, telephonyApiFixture } from '../../helpers/contract/rest-api-fixture.js';
import { openControlDb, tempDataDir } from './control-db.js';

async function setup(t: Test) {
  const db = await openControlDb(t, tempDataDir(t));
  const vxmlApps = new VxmlAppStore({ db });
  return telephonyApiFixture(t, db, {
    otherTenant: 'other corp',
    more: async (app, provisioning) => {
      await registerVxmlAppRoutes(app, { provisioning, vxmlApps, logger: silentLogger });
      await registerVxmlServingRoutes(app, { provisioning, vxmlApps, logger: silentLogger });
    },
  });
}

t.test('REST API of hosted VoiceXML applications', async (t) => {
  const c = await setup(t);
  const { app, acme, other, ops } = c;

  t.test('401 without or with a wrong key on every /api/v1/apps route', async (t) => {
    const routes: [string, string][] = [
      ['GET', '/api/v1/apps'],
      ['POST', '/api/v1/apps'],
      ['GET', '/api/v1/apps/demo'],
      ['PATCH', '/api/v1/apps/demo'],
      ['DELETE', '/api/v1/apps/demo'],
      ['GET', '/api/v1/apps/demo/files'],
      ['PUT', '/api/v1/apps/demo/files/main.vxml'],
      ['GET', '/api/v1/apps/demo/files/main.vxml'],
      ['DELETE', '/api/v1/apps/demo/files/main.vxml'],
    ];
    for (const [method, url] of routes) {
      const none = await app.inject({ method: method as 'GET', url });
      t.equal(none.statusCode, 401, `${method} ${url}`);
      t.equal(none.headers['www-authenticate'], 'Bearer');
      t.equal((await app.inject({ method: method as 'GET', url, headers: auth('wrong') })).statusCode, 401, `${method} ${url} with a wrong key`);
    }
  });

  t.test('applications: create, list, get, patch; 409, 400 naming the field, 404', async (t) => {
    const created = await acme.post('/api/v1/apps', { name: 'demo', description: 'the demo' });
    t.equal(created.statusCode, 201, created.body);
    const demo = created.json<VxmlApp & { entryUrl: string }>();
    t.match(demo, { tenantId: c.acmeId, tenantName: 'acme', name: 'demo', description: 'the demo', entry: 'main.vxml', fileCount: 0, totalBytes: 0 });
    t.equal(demo.entryUrl, 'http://localhost:80/vxml/acme/demo/main.vxml', 'entryUrl from the request\'s Host');
    t.equal((await acme.post('/api/v1/apps', { name: 'demo' })).statusCode, 409);
    const badName = await acme.post('/api/v1/apps', { name: 'Not_Valid' });
    t.equal(badName.statusCode, 400);
    t.equal(badName.json<{ field: string }>().field, 'name');
    const badEntry = await acme.post('/api/v1/apps', { name: 'x', entry: '../main.vxml' });
    t.equal(badEntry.statusCode, 400);
    t.equal(badEntry.json<{ field: string }>().field, 'entry');
    // like the rest of the API, unknown properties are dropped (fastify's removeAdditional)
    const extra = await acme.post('/api/v1/apps', { name: 'x', colour: 'red' });
    t.equal(extra.statusCode, 201);
    t.notOk('colour' in extra.json<object>());
    t.equal((await acme.del('/api/v1/apps/x')).statusCode, 204);
    const missing = await acme.post('/api/v1/apps', { description: 'no name' });
    t.equal(missing.json<{ field: string }>().field, 'name');

    t.same((await acme.get('/api/v1/apps')).json<VxmlApp[]>().map((a) => a.name), ['demo']);
    t.equal((await acme.get('/api/v1/apps/demo')).json<VxmlApp>().id, demo.id);
    t.equal((await acme.get('/api/v1/apps/nope')).statusCode, 404);
    t.equal((await acme.get('/api/v1/apps/BAD')).statusCode, 400, 'a malformed name in the path');
    const patched = await acme.patch('/api/v1/apps/demo', { entry: 'start.vxml', description: '' });
    t.equal(patched.statusCode, 200, patched.body);
    t.match(patched.json(), { entry: 'start.vxml', description: '' });
    const badPatch = await acme.patch('/api/v1/apps/demo', { entry: 'start.exe' });
    t.equal(badPatch.statusCode, 400);
    t.equal(badPatch.json<{ field: string }>().field, 'entry');
    t.equal((await acme.patch('/api/v1/apps/demo', { name: 'renamed' })).json<VxmlApp>().name, 'demo', 'the name cannot be patched');
    t.equal((await acme.patch('/api/v1/apps/nope', {})).statusCode, 404);
    t.equal((await acme.patch('/api/v1/apps/demo', { entry: 'main.vxml' })).statusCode, 200);
  });

  const wav = randomBytes(48_000);
  wav.set([0x52, 0x49, 0x46, 0x46, 0, 0xff], 0);
  const vxml = '<?xml version="1.0"?>\n<vxml version="2.1" xmlns="http://www.w3.org/2001/vxml"><form><block><audio src="audio/hello.wav"/></block></form></vxml>\n';

  t.test('files: raw uploads of any content type, binary byte-exact, nested paths', async (t) => {
    const put = await acme.put('/api/v1/apps/demo/files/audio/hello.wav', wav, 'audio/wav');
    t.equal(put.statusCode, 201, put.body);
    t.match(put.json<VxmlAppFile>(), { path: 'audio/hello.wav', contentType: 'audio/x-wav', size: wav.length, etag: createHash('sha256').update(wav).digest('hex') });
    t.equal((await acme.put('/api/v1/apps/demo/files/main.vxml', vxml, 'application/voicexml+xml')).statusCode, 201);
    t.equal((await acme.put('/api/v1/apps/demo/files/main.vxml', vxml, 'text/plain; charset=utf-8')).statusCode, 200, 'a replacement answers 200');
    const json = await acme.put('/api/v1/apps/demo/files/data/menu.json', '{"options": [1, 2]}', 'application/json');
    t.equal(json.statusCode, 201, 'a JSON file is stored, not parsed');
    t.equal((await acme.get('/api/v1/apps/demo/files/data/menu.json')).body, '{"options": [1, 2]}');
    t.equal((await acme.put('/api/v1/apps/demo/files/grammars/yesno.grxml', '<grammar/>', 'application/srgs+xml')).statusCode, 201);
    t.equal((await acme.put('/api/v1/apps/demo/files/x.gram', '#ABNF 1.0;', 'application/srgs')).statusCode, 201);
    t.equal((await acme.put('/api/v1/apps/demo/files/lib.js', 'var x = 1;', 'application/javascript')).statusCode, 201);
    const twoMiB = randomBytes(2 * 1024 * 1024);
    const large = await acme.put('/api/v1/apps/demo/files/audio/long.wav', twoMiB, 'audio/x-wav');
    t.equal(large.statusCode, 201, 'over fastify\'s default 1 MiB body limit, under the 10 MiB one');
    t.ok((await acme.get('/api/v1/apps/demo/files/audio/long.wav')).rawPayload.equals(twoMiB));
    t.equal((await acme.del('/api/v1/apps/demo/files/audio/long.wav')).statusCode, 204);
    const noType = await app.inject({ method: 'PUT', url: '/api/v1/apps/demo/files/notes.txt', headers: auth(c.acmeKey), payload: Buffer.from('hello') });
    t.equal(noType.statusCode, 201, 'no content type at all');

    const got = await acme.get('/api/v1/apps/demo/files/audio/hello.wav');
    t.equal(got.statusCode, 200);
    t.equal(got.headers['content-type'], 'audio/x-wav');
    t.ok(got.rawPayload.equals(wav), 'byte-exact');
    t.equal(got.headers.etag, `"${createHash('sha256').update(wav).digest('hex')}"`);
    t.same(
      (await acme.get('/api/v1/apps/demo/files')).json<VxmlAppFile[]>().map((f) => f.path),
      ['audio/hello.wav', 'data/menu.json', 'grammars/yesno.grxml', 'lib.js', 'main.vxml', 'notes.txt', 'x.gram'],
    );
    t.match((await acme.get('/api/v1/apps/demo')).json(), { fileCount: 7 });
  });

  t.test('file errors: bad paths 400 naming path, empty body, too large 413, unknown 404', async (t) => {
    // (dot segments never get here: HTTP clients resolve them; the raw-socket test below sends them)
    for (const path of ['a//b.vxml', 'page.html', 'dir/', 'a%5Cb.vxml', 'a%00.vxml']) {
      const res = await acme.put(`/api/v1/apps/demo/files/${path}`, 'x');
      t.equal(res.statusCode, 400, path);
      t.equal(res.json<{ field: string }>().field, 'path', `${path} names path`);
    }
    const long = await acme.put(`/api/v1/apps/demo/files/${'a'.repeat(300)}.vxml`, 'x');
    t.equal(long.statusCode, 400);
    t.match(long.json<{ field: string }>().field, /\*|path/);
    const empty = await app.inject({ method: 'PUT', url: '/api/v1/apps/demo/files/a.vxml', headers: auth(c.acmeKey) });
    t.equal(empty.statusCode, 400, 'no body');
    t.equal(empty.json<{ field: string }>().field, 'body');
    const big = await acme.put('/api/v1/apps/demo/files/big.wav', Buffer.alloc(10 * 1024 * 1024 + 1));
    t.equal(big.statusCode, 413, 'over 10 MiB');
    t.equal((await acme.put('/api/v1/apps/nope/files/a.vxml', 'x')).statusCode, 404, 'unknown application');
    t.equal((await acme.get('/api/v1/apps/demo/files/missing.vxml')).statusCode, 404);
    t.equal((await acme.get('/api/v1/apps/nope/files')).statusCode, 404);
    t.equal((await acme.del('/api/v1/apps/demo/files/missing.vxml')).statusCode, 404);
  });

  t.test('tenants: another tenant\'s key sees nothing; an operator acts by tenantId or for the default tenant', async (t) => {
    t.same((await other.get('/api/v1/apps')).json(), []);
    t.equal((await other.get('/api/v1/apps/demo')).statusCode, 404, 'B cannot see A\'s application');
    t.equal((await other.get('/api/v1/apps/demo/files/main.vxml')).statusCode, 404);
    t.equal((await other.get(`/api/v1/apps/demo?tenantId=${c.acmeId}`)).statusCode, 403);
    t.equal((await other.put(`/api/v1/apps/demo/files/x.vxml?tenantId=${c.acmeId}`, 'x')).statusCode, 403);
    t.equal((await other.post('/api/v1/apps', { name: 'demo', tenantId: c.acmeId })).statusCode, 403);
    t.equal((await other.post('/api/v1/apps', { name: 'demo' })).statusCode, 201, 'the same name in another tenant');

    t.same((await ops.get('/api/v1/apps')).json<VxmlApp[]>().map((a) => a.tenantName).sort(), ['acme', 'other corp'], 'an operator lists every tenant');
    t.same((await ops.get(`/api/v1/apps?tenantId=${c.acmeId}`)).json<VxmlApp[]>().map((a) => a.tenantName), ['acme']);
    t.equal((await ops.get(`/api/v1/apps/demo/files/main.vxml?tenantId=${c.acmeId}`)).body, vxml);
    const mine = await ops.post('/api/v1/apps', { name: 'ops-app' });
    t.equal(mine.json<VxmlApp>().tenantId, c.defaultId, 'an operator without tenantId writes to the default tenant');
    t.equal((await ops.get('/api/v1/apps/demo')).statusCode, 404, 'and reads from it');
  });

  t.test('GET /vxml/{tenant}/{app}/{path}: no key, content type, ETag, Cache-Control, 304, 404, HEAD', async (t) => {
    const url = '/vxml/acme/demo/audio/hello.wav';
    const res = await app.inject({ method: 'GET', url });
    t.equal(res.statusCode, 200);
    t.equal(res.headers['content-type'], 'audio/x-wav');
    t.equal(res.headers['cache-control'], 'max-age=60');
    t.equal(res.headers['x-content-type-options'], 'nosniff');
    t.ok(res.rawPayload.equals(wav), 'byte-exact');
    const etag = String(res.headers.etag);
    t.match(etag, /^"[0-9a-f]{64}"$/);

    const doc = await app.inject({ method: 'GET', url: '/vxml/acme/demo/main.vxml' });
    t.match(doc.headers['content-type'], /^application\/voicexml\+xml/);
    t.equal(doc.body, vxml);

    const notModified = await app.inject({ method: 'GET', url, headers: { 'if-none-match': etag } });
    t.equal(notModified.statusCode, 304);
    t.equal(notModified.rawPayload.length, 0);
    t.equal(notModified.headers.etag, etag);
    t.equal((await app.inject({ method: 'GET', url, headers: { 'if-none-match': `"other", W/${etag}` } })).statusCode, 304, 'a weak tag in a list matches');
    t.equal((await app.inject({ method: 'GET', url, headers: { 'if-none-match': '"stale"' } })).statusCode, 200);

    const head = await app.inject({ method: 'HEAD', url });
    t.equal(head.statusCode, 200);
    t.equal(head.headers['content-type'], 'audio/x-wav');
    t.equal(head.headers.etag, etag);
    t.equal(head.rawPayload.length, 0, 'HEAD has no body');
    t.equal((await app.inject({ method: 'HEAD', url: '/vxml/acme/demo/nope.wav' })).statusCode, 404);

    t.equal((await app.inject({ method: 'GET', url: '/vxml/acme/demo/nope.vxml' })).statusCode, 404, 'unknown file');
    t.equal((await app.inject({ method: 'GET', url: '/vxml/acme/demo/index.html' })).statusCode, 404, 'a type that is never hosted');
    t.equal((await app.inject({ method: 'GET', url: '/vxml/acme/nope/main.vxml' })).statusCode, 404, 'unknown application');
    t.equal((await app.inject({ method: 'GET', url: '/vxml/nobody/demo/main.vxml' })).statusCode, 404, 'unknown tenant');
    t.equal((await app.inject({ method: 'GET', url: '/vxml/other%20corp/demo/main.vxml' })).statusCode, 404, 'B\'s demo has no files');

    // a changed file has a new tag: the old one no longer answers 304
    await acme.put('/api/v1/apps/demo/files/audio/hello.wav', Buffer.from('RIFF-changed'), 'audio/wav');
    const changed = await app.inject({ method: 'GET', url, headers: { 'if-none-match': etag } });
    t.equal(changed.statusCode, 200);
    t.not(changed.headers.etag, etag);
    t.equal(changed.body, 'RIFF-changed');

    const served = new URL(hostedAppUrl('http://localhost', 'other corp', 'demo', 'dir/a b.vxml'));
    await other.put('/api/v1/apps/demo/files/dir/a b.vxml', '<vxml/>');
    t.equal((await app.inject({ method: 'GET', url: served.pathname })).body, '<vxml/>', 'hostedAppUrl encodes what the route decodes');
  });

  t.test('dot segments sent raw (no client normalising them) are refused', async (t) => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const raw = (method: string, path: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(method === 'PUT' ? 'x' : undefined);
      });
    t.equal(await raw('GET', '/vxml/acme/demo/../../acme/demo/main.vxml'), 404, 'GET /vxml with .. (no application holds such a path)');
    t.equal(await raw('GET', '/vxml/acme/demo/%2E%2E/main.vxml'), 404, 'GET /vxml with an encoded ..');
    t.equal(await raw('GET', '/vxml/acme/demo/./main.vxml'), 404, 'GET /vxml with .');
    t.equal(await raw('PUT', '/api/v1/apps/demo/files/../x.vxml', { ...auth(c.acmeKey), 'content-type': 'text/plain' }), 400, 'PUT with ..');
    t.equal(await raw('GET', '/vxml/acme/demo/main.vxml'), 200, 'the same server serves a plain path');
  });

  t.test('deletes: a file, then the application with its files', async (t) => {
    t.equal((await acme.del('/api/v1/apps/demo/files/notes.txt')).statusCode, 204);
    t.equal((await acme.get('/api/v1/apps/demo/files/notes.txt')).statusCode, 404);
    t.equal((await other.del('/api/v1/apps/demo')).statusCode, 204, 'B deletes its own demo');
    t.equal((await acme.get('/api/v1/apps/demo')).statusCode, 200, 'A\'s is still there');
    t.equal((await acme.del('/api/v1/apps/demo')).statusCode, 204);
    t.equal((await acme.get('/api/v1/apps/demo')).statusCode, 404);
    t.equal((await acme.del('/api/v1/apps/demo')).statusCode, 404);
    t.equal((await app.inject({ method: 'GET', url: '/vxml/acme/demo/main.vxml' })).statusCode, 404, 'no longer served');
  });

  t.test('DID targets: {type: vxml, app} as well as {type: vxml, url}', async (t) => {
    const byApp = await acme.post('/api/v1/dids', { number: '+15550100001', target: { type: 'vxml', app: 'demo' } });
    t.equal(byApp.statusCode, 201, byApp.body);
    t.same(byApp.json<{ target: unknown }>().target, { type: 'vxml', app: 'demo' });
    t.equal((await acme.post('/api/v1/dids', { number: '+15550100002', target: { type: 'vxml', url: 'https://ivr.example/a.vxml' } })).statusCode, 201);
    const bad = await acme.post('/api/v1/dids', { number: '+15550100003', target: { type: 'vxml', app: 'Bad App' } });
    t.equal(bad.statusCode, 400);
    t.equal(bad.json<{ field: string }>().field, 'target.app');
    const both = await acme.post('/api/v1/dids', { number: '+15550100004', target: { type: 'vxml', app: 'demo', url: 'https://x.example/' } });
    t.equal(both.json<{ field: string }>().field, 'target.app');
    const neither = await acme.post('/api/v1/dids', { number: '+15550100005', target: { type: 'vxml' } });
    t.equal(neither.json<{ field: string }>().field, 'target.url');
  });

  t.test('the OpenAPI document describes the routes', async (t) => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>();
    for (const p of ['/api/v1/apps', '/api/v1/apps/{name}', '/api/v1/apps/{name}/files', '/vxml/{tenant}/{app}/{*}']) t.ok(Object.keys(doc.paths).includes(p), p);
  });
});

t.test('etagMatches and hostedAppUrl', async (t) => {
  t.equal(etagMatches(undefined, '"a"'), false);
  t.equal(etagMatches('*', '"a"'), true);
  t.equal(etagMatches('"b", "a"', '"a"'), true);
  t.equal(etagMatches('W/"a"', '"a"'), true);
  t.equal(etagMatches('"ab"', '"a"'), false);
  t.equal(hostedAppUrl('http://127.0.0.1:8080/', 'default', 'demo', 'main.vxml'), 'http://127.0.0.1:8080/vxml/default/demo/main.vxml');
  t.equal(hostedAppUrl('https://ivr.example', 'a/b c', 'demo'), 'https://ivr.example/vxml/a%2Fb%20c/demo/');
  t.equal(hostedAppUrl('http://h', 't', 'app', 'dir/a b.wav'), 'http://h/vxml/t/app/dir/a%20b.wav');
});
