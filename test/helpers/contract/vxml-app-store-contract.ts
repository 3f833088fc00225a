import { createHash, randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import { ConflictError, NotFoundError } from '../../../src/lib/index.js';
import {
  ProvisioningStore,
  VXML_APPS_CHANGED_TOPIC,
  VXML_APP_MAX_BYTES,
  VXML_FILE_MAX_BYTES,
  VxmlAppStore,
  createTelephonyStores,
  type VxmlAppChange,
} from '../../../src/control/index.js';
import type { Bus, Database } from '../../../src/platform/index.js';
import { rejectsField, unique } from './store-contract-support.js';

/**
 * What the hosted-application store must do on both database adapters. The harness hands over
 * one migrated database shared by every test of the file, so each test makes its own tenants.
 */
export interface VxmlAppStoreHarness {
  db(): Database;
}

/** a bus that only records what is published */
function recordingBus(): { bus: Bus; changes: VxmlAppChange[] } {
  const changes: VxmlAppChange[] = [];
  const bus = {
    publish: async (topic: string, message: string) => {
      if (topic === VXML_APPS_CHANGED_TOPIC) changes.push(JSON.parse(message) as VxmlAppChange);
    },
  } as unknown as Bus;
  return { bus, changes };
}

export function vxmlAppStoreContract(t: Test, h: VxmlAppStoreHarness): void {
  const setup = async () => {
    const db = h.db();
    const provisioning = new ProvisioningStore({ db });
    const { bus, changes } = recordingBus();
    const apps = new VxmlAppStore({ db, bus });
    const tenant = await provisioning.createTenant(unique('acme'));
    const other = await provisioning.createTenant(unique('other'));
    return { db, provisioning, apps, changes, tenant, tenantId: tenant.id, otherId: other.id };
  };

  t.test('applications: create with defaults, list, get, update, delete', async (t) => {
    const s = await setup();
    const app = await s.apps.create(s.tenantId, { name: 'support-ivr', description: 'main menu' });
    t.match(app, { tenantId: s.tenantId, tenantName: s.tenant.name, name: 'support-ivr', description: 'main menu', entry: 'main.vxml', fileCount: 0, totalBytes: 0 });
    t.match(app.id, /^[0-9a-f-]{36}$/);
    await s.apps.create(s.tenantId, { name: 'billing', entry: 'start/index.vxml' });
    t.same(
      (await s.apps.list(s.tenantId)).map((a) => [a.name, a.entry]),
      [
        ['billing', 'start/index.vxml'],
        ['support-ivr', 'main.vxml'],
      ],
    );
    t.ok((await s.apps.list()).some((a) => a.tenantId === s.tenantId && a.name === 'billing'), 'every tenant\'s list holds it');
    await t.rejects(s.apps.create(s.tenantId, { name: 'billing' }), ConflictError);
    const updated = await s.apps.update(s.tenantId, 'billing', { description: 'pay by phone', entry: 'pay.vxml' });
    t.match(updated, { description: 'pay by phone', entry: 'pay.vxml' });
    t.equal((await s.apps.update(s.tenantId, 'billing', {})).entry, 'pay.vxml', 'an empty change keeps everything');
    await s.apps.delete(s.tenantId, 'billing');
    await t.rejects(s.apps.get(s.tenantId, 'billing'), NotFoundError);
    await t.rejects(s.apps.delete(s.tenantId, 'billing'), NotFoundError);
    await t.rejects(s.apps.update(s.tenantId, 'billing', { description: 'x' }), NotFoundError);
    t.same(
      s.changes.map((c) => [c.action, c.app]),
      [
        ['created', 'support-ivr'],
        ['created', 'billing'],
        ['updated', 'billing'],
        ['updated', 'billing'],
        ['deleted', 'billing'],
      ],
      'every change is announced',
    );
  });

  t.test('application fields are validated, naming the field', async (t) => {
    const s = await setup();
    for (const name of ['', 'Upper', 'under_score', 'a'.repeat(65), 'dot.ted', 'sp ace']) await rejectsField(t, s.apps.create(s.tenantId, { name }), 'name', `name "${name}"`);
    await rejectsField(t, s.apps.create(s.tenantId, { name: 'x', entry: '../main.vxml' }), 'entry');
    await rejectsField(t, s.apps.create(s.tenantId, { name: 'x', entry: 'main.html' }), 'entry', 'an entry with an unknown extension');
    await rejectsField(t, s.apps.create(s.tenantId, { name: 'x', description: 'd'.repeat(1001) }), 'description');
    await rejectsField(t, s.apps.create(s.tenantId, { name: 'x', description: 7 } as unknown as { name: string }), 'description');
    await rejectsField(t, s.apps.create('no-such-tenant', { name: 'x' }), 'tenantId');
    t.equal(await s.apps.find(s.tenantId, 'x'), undefined, 'nothing was created');
    t.ok((await s.apps.create(s.tenantId, { name: 'a'.repeat(64) })).id, '64 characters are fine');
  });

  t.test('files: binary content round-trips byte-exact, with type, size and ETag', async (t) => {
    const s = await setup();
    await s.apps.create(s.tenantId, { name: 'demo' });
    const wav = randomBytes(70_000);
    wav.set([0, 0xff, 0x00, 0x5c, 0x27], 0); // NUL, high bytes, backslash, quote
    const vxml = Buffer.from('<?xml version="1.0"?><vxml version="2.1"><form><block>héllo</block></form></vxml>');
    const put = await s.apps.putFile(s.tenantId, 'demo', 'audio/welcome.wav', wav);
    t.equal(put.created, true);
    t.match(put.file, { path: 'audio/welcome.wav', contentType: 'audio/x-wav', size: 70_000, etag: createHash('sha256').update(wav).digest('hex') });
    await s.apps.putFile(s.tenantId, 'demo', 'main.vxml', vxml);
    const got = await s.apps.getFile(s.tenantId, 'demo', 'audio/welcome.wav');
    t.ok(Buffer.isBuffer(got.content), 'content is a Buffer');
    t.ok(got.content.equals(wav), 'byte-exact');
    t.equal((await s.apps.getFile(s.tenantId, 'demo', 'main.vxml')).content.toString('utf8'), vxml.toString('utf8'));
    t.same(
      (await s.apps.listFiles(s.tenantId, 'demo')).map((f) => [f.path, f.contentType, f.size]),
      [
        ['audio/welcome.wav', 'audio/x-wav', 70_000],
        ['main.vxml', 'application/voicexml+xml', vxml.length],
      ],
    );
    t.match(await s.apps.get(s.tenantId, 'demo'), { fileCount: 2, totalBytes: 70_000 + vxml.length });
    t.match(await s.apps.fileInfo(s.tenantId, 'demo', 'main.vxml'), { path: 'main.vxml', size: vxml.length });
    t.notOk('content' in (await s.apps.fileInfo(s.tenantId, 'demo', 'main.vxml')), 'fileInfo reads no content');
    const empty = await s.apps.putFile(s.tenantId, 'demo', 'empty.txt', new Uint8Array(0));
    t.equal(empty.file.size, 0, 'an empty file is a file');
    t.equal((await s.apps.getFile(s.tenantId, 'demo', 'empty.txt')).content.length, 0);
  });

  t.test('every extension maps to its content type', async (t) => {
    const s = await setup();
    await s.apps.create(s.tenantId, { name: 'types' });
    const expected: Record<string, string> = {
      'a.vxml': 'application/voicexml+xml',
      'a.grxml': 'application/srgs+xml',
      'a.gram': 'application/srgs',
      'a.js': 'application/javascript',
      'a.wav': 'audio/x-wav',
      'a.ssml': 'application/ssml+xml',
      'a.xml': 'text/xml',
      'a.json': 'application/json',
      'a.txt': 'text/plain',
      'UPPER.VXML': 'application/voicexml+xml',
    };
    for (const [path, type] of Object.entries(expected)) t.equal((await s.apps.putFile(s.tenantId, 'types', path, Buffer.from('x'))).file.contentType, type, path);
  });

  t.test('replacing a file changes its ETag only when the content changes', async (t) => {
    const s = await setup();
    await s.apps.create(s.tenantId, { name: 'demo' });
    const first = await s.apps.putFile(s.tenantId, 'demo', 'main.vxml', Buffer.from('<vxml/>'));
    const same = await s.apps.putFile(s.tenantId, 'demo', 'main.vxml', Buffer.from('<vxml/>'));
    t.equal(same.created, false, 'a second put replaces');
    t.equal(same.file.etag, first.file.etag, 'same content, same ETag');
    const changed = await s.apps.putFile(s.tenantId, 'demo', 'main.vxml', Buffer.from('<vxml version="2.1"/>'));
    t.not(changed.file.etag, first.file.etag, 'new content, new ETag');
    t.equal(changed.file.createdAt, first.file.createdAt, 'created stays');
    t.equal((await s.apps.getFile(s.tenantId, 'demo', 'main.vxml')).content.toString(), '<vxml version="2.1"/>');
    t.equal((await s.apps.listFiles(s.tenantId, 'demo')).length, 1);
    t.same(
      s.changes.filter((c) => c.path !== undefined).map((c) => [c.action, c.path]),
      [
        ['created', 'main.vxml'],
        ['updated', 'main.vxml'],
        ['updated', 'main.vxml'],
      ],
    );
  });

  t.test('file paths are validated', async (t) => {
    const s = await setup();
    await s.apps.create(s.tenantId, { name: 'paths' });
    const refused: [string, string][] = [
      ['', 'empty'],
      ['../x.vxml', 'parent'],
      ['a/../../x.vxml', 'parent inside'],
      ['/abs.vxml', 'absolute'],
      ['a//b.vxml', 'empty segment'],
      ['a/./b.vxml', 'dot segment'],
      ['dir/', 'trailing slash'],
      [`${'d/'.repeat(127)}ab.vxml`, 'longer than 256'],
      ['a\\b.vxml', 'backslash'],
      ['a%2fb.vxml', 'percent'],
      ['a?.vxml', 'question mark'],
      ['a\u0000.vxml', 'NUL'],
      ['page.html', 'unknown extension'],
      ['noext', 'no extension'],
      ['.vxml', 'only an extension'],
    ];
    for (const [path, why] of refused) await rejectsField(t, s.apps.putFile(s.tenantId, 'paths', path, Buffer.from('x')), 'path', `${why}: ${JSON.stringify(path.slice(0, 40))}`);
    const accepted = ['main.vxml', 'a/b/c/deep.grxml', 'hello world.wav', 'v1.2/x_y-z~@+.js', `${'d/'.repeat(124)}abc.vxml`];
    for (const path of accepted) t.equal((await s.apps.putFile(s.tenantId, 'paths', path, Buffer.from('x'))).file.path, path, `accepts ${path.slice(0, 40)}`);
    t.equal((await s.apps.listFiles(s.tenantId, 'paths')).length, accepted.length, 'refused paths left nothing behind');
    await rejectsField(t, s.apps.getFile(s.tenantId, 'paths', '../main.vxml'), 'path', 'reads are checked too');
    await rejectsField(t, s.apps.putFile(s.tenantId, 'paths', 'x.txt', 'text' as unknown as Uint8Array), 'content', 'content must be bytes');
  });

  t.test('size limits: 10 MiB per file, 100 MiB per application; a refused upload leaves nothing', async (t) => {
    const s = await setup();
    await s.apps.create(s.tenantId, { name: 'big' });
    await rejectsField(t, s.apps.putFile(s.tenantId, 'big', 'huge.wav', new Uint8Array(VXML_FILE_MAX_BYTES + 1)), 'content', 'a file over 10 MiB');
    const full = await s.apps.putFile(s.tenantId, 'big', 'full.wav', new Uint8Array(VXML_FILE_MAX_BYTES).fill(7));
    t.equal(full.file.size, VXML_FILE_MAX_BYTES, 'exactly 10 MiB fits');
    t.equal((await s.apps.getFile(s.tenantId, 'big', 'full.wav')).content.length, VXML_FILE_MAX_BYTES);
    await s.apps.delete(s.tenantId, 'big');

    // the application limit, scaled down (100 MiB of test data would only be slow)
    const small = new VxmlAppStore({ db: s.db, maxFileBytes: 100, maxAppBytes: 250 });
    await small.create(s.tenantId, { name: 'small' });
    await rejectsField(t, small.putFile(s.tenantId, 'small', 'a.wav', new Uint8Array(101)), 'content', 'over the file limit');
    await small.putFile(s.tenantId, 'small', 'a.wav', new Uint8Array(100));
    await small.putFile(s.tenantId, 'small', 'b.wav', new Uint8Array(100));
    await small.putFile(s.tenantId, 'small', 'c.wav', new Uint8Array(50));
    t.equal((await small.get(s.tenantId, 'small')).totalBytes, 250, 'exactly the limit fits');
    await rejectsField(t, small.putFile(s.tenantId, 'small', 'd.txt', Buffer.from('x')), 'content', 'one byte more does not');
    t.equal(await small.fileInfo(s.tenantId, 'small', 'd.txt').catch((e: unknown) => e instanceof NotFoundError), true, 'the refused file is not there');
    await rejectsField(t, small.putFile(s.tenantId, 'small', 'c.wav', new Uint8Array(51)), 'content', 'nor a replacement one byte larger');
    t.equal((await small.fileInfo(s.tenantId, 'small', 'c.wav')).size, 50, 'which left the old content');
    t.equal((await small.putFile(s.tenantId, 'small', 'a.wav', new Uint8Array(10))).file.size, 10, 'a replacement counts its new size, not both');
    t.equal((await small.get(s.tenantId, 'small')).totalBytes, 160);
    t.equal(VXML_APP_MAX_BYTES, 100 * 1024 * 1024);
    t.equal(new VxmlAppStore({ db: s.db, maxAppBytes: 10 * VXML_APP_MAX_BYTES }) instanceof VxmlAppStore, true, 'limits can only be lowered');
  });

  t.test('files of unknown applications and unknown files are not found; delete', async (t) => {
    const s = await setup();
    await t.rejects(s.apps.putFile(s.tenantId, 'ghost', 'main.vxml', Buffer.from('x')), NotFoundError);
    await t.rejects(s.apps.listFiles(s.tenantId, 'ghost'), NotFoundError);
    await t.rejects(s.apps.getFile(s.tenantId, 'ghost', 'main.vxml'), { message: /application ghost/ });
    await s.apps.create(s.tenantId, { name: 'demo' });
    await t.rejects(s.apps.getFile(s.tenantId, 'demo', 'main.vxml'), { message: /file main\.vxml/ });
    await s.apps.putFile(s.tenantId, 'demo', 'main.vxml', Buffer.from('<vxml/>'));
    await s.apps.deleteFile(s.tenantId, 'demo', 'main.vxml');
    await t.rejects(s.apps.getFile(s.tenantId, 'demo', 'main.vxml'), NotFoundError);
    await t.rejects(s.apps.deleteFile(s.tenantId, 'demo', 'main.vxml'), NotFoundError);
    await s.apps.putFile(s.tenantId, 'demo', 'a.vxml', Buffer.from('<vxml/>'));
    await s.apps.delete(s.tenantId, 'demo');
    const rows = await s.db.query('SELECT count(*) AS n FROM vxml_app_files f LEFT JOIN vxml_apps a ON a.id = f.app_id WHERE a.id IS NULL');
    t.equal(Number(rows.rows[0]?.n), 0, 'deleting an application deletes its files');
  });

  t.test('tenant isolation: tenant A cannot see or touch B\'s applications', async (t) => {
    const s = await setup();
    await s.apps.create(s.otherId, { name: 'secret' });
    await s.apps.putFile(s.otherId, 'secret', 'main.vxml', Buffer.from('<vxml/>'));
    t.same(await s.apps.list(s.tenantId), [], 'A lists nothing');
    await t.rejects(s.apps.get(s.tenantId, 'secret'), NotFoundError);
    await t.rejects(s.apps.getFile(s.tenantId, 'secret', 'main.vxml'), NotFoundError);
    await t.rejects(s.apps.listFiles(s.tenantId, 'secret'), NotFoundError);
    await t.rejects(s.apps.putFile(s.tenantId, 'secret', 'x.vxml', Buffer.from('x')), NotFoundError);
    await t.rejects(s.apps.deleteFile(s.tenantId, 'secret', 'main.vxml'), NotFoundError);
    await t.rejects(s.apps.delete(s.tenantId, 'secret'), NotFoundError);
    const mine = await s.apps.create(s.tenantId, { name: 'secret' });
    t.equal(mine.tenantId, s.tenantId, 'the same name is free in another tenant');
    t.equal((await s.apps.get(s.otherId, 'secret')).fileCount, 1, 'B\'s application is untouched');
    await s.provisioning.deleteTenant(s.otherId);
    await t.rejects(s.apps.get(s.otherId, 'secret'), NotFoundError, 'a deleted tenant takes its applications along');
  });

  t.test('createTelephonyStores includes the application store; a failing bus never fails a write', async (t) => {
    const db = h.db();
    const failing = { publish: async () => Promise.reject(new Error('bus down')) } as unknown as Bus;
    const stores = createTelephonyStores({ db, bus: failing });
    t.ok(stores.vxmlApps instanceof VxmlAppStore);
    const tenant = await new ProvisioningStore({ db }).createTenant(unique('bus'));
    t.equal((await stores.vxmlApps.create(tenant.id, { name: 'ok' })).name, 'ok');
    t.equal((await stores.vxmlApps.putFile(tenant.id, 'ok', 'main.vxml', Buffer.from('<vxml/>'))).created, true);
  });
}
