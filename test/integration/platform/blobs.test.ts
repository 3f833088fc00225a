import { mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ConfigError, UnavailableError } from '../../../src/lib/index.js';
import { LocalBlobStore, S3BlobStore, defaultConfig, openBlobStore } from '../../../src/platform/index.js';
import { blobStoreContract } from '../../helpers/contract/blob-store-contract.js';
import { startS3rver } from '../../helpers/s3rver.js';

const tmp = await mkdtemp(path.join(os.tmpdir(), 'opencx-blobs-'));
t.teardown(() => rm(tmp, { recursive: true, force: true }));

const s3 = await startS3rver();
t.teardown(() => s3.stop());

let n = 0;
t.test('blob store contract (local)', async (t) => {
  blobStoreContract(t, async () => new LocalBlobStore(path.join(tmp, `local-${n++}`)));
});

t.test('blob store contract (s3rver)', async (t) => {
  // the tests share one bucket, so each starts by emptying it
  blobStoreContract(t, async () => {
    const store = new S3BlobStore({ bucket: s3.bucket, endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
    for (const key of await store.list('')) await store.delete(key);
    return store;
  });
});

t.test('local store writes atomically: no temporary file left, none listed', async (t) => {
  const dir = path.join(tmp, 'atomic');
  const store = new LocalBlobStore(dir);
  t.teardown(() => store.close());
  await store.put('k/one', Uint8Array.from([1, 2]));
  await t.rejects(store.putFile('k/two', path.join(tmp, 'missing')));
  t.same(await readdir(path.join(dir, '.tmp')), [], 'the temporary directory is empty after a success and a failure');
  t.same(await store.list(''), ['k/one']);
});

t.test('S3 down: UnavailableError within seconds, not a hang', async (t) => {
  const down = await startS3rver();
  await down.stop();
  const store = new S3BlobStore({ bucket: down.bucket, endpoint: down.endpoint, forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', connectTimeoutMs: 1000 });
  t.teardown(() => store.close());
  const started = Date.now();
  for (const op of [() => store.get('a'), () => store.put('a', new Uint8Array(1)), () => store.list(''), () => store.exists('a')]) {
    const err = await op().then(
      () => undefined,
      (e: unknown) => e,
    );
    t.type(err, UnavailableError);
    t.match(String((err as Error).message), /S3 bucket "bucket" at http:\/\/127\.0\.0\.1:\d+/, 'the message says which store');
  }
  // the test runner's timeout is the real guard against a hang; this only reports how long it took
  t.comment(`four failed calls took ${Date.now() - started} ms`);
});

t.test('S3 that accepts connections but never answers: UnavailableError after the request timeout', async (t) => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        silent.close(() => resolve());
      }),
  );
  const { port } = silent.address() as net.AddressInfo;
  const store = new S3BlobStore({
    bucket: 'b',
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    accessKeyId: 'k',
    secretAccessKey: 's',
    requestTimeoutMs: 300,
  });
  t.teardown(() => store.close());
  await t.rejects(store.get('stalled'), UnavailableError);
  await t.rejects(store.put('stalled', Uint8Array.from([1])), UnavailableError);
});

t.test('S3 with an unknown bucket: UnavailableError naming the bucket', async (t) => {
  const store = new S3BlobStore({ bucket: 'no-such-bucket', endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
  t.teardown(() => store.close());
  await t.rejects(store.put('x', Uint8Array.from([1])), { name: 'UnavailableError', message: /no-such-bucket/ });
  await t.rejects(store.get('x'), UnavailableError);
});

t.test('openBlobStore picks the adapter from configuration', async (t) => {
  const config = defaultConfig();
  const local = openBlobStore(config.blobs, tmp);
  t.equal(local.kind, 'local');
  t.equal((local as LocalBlobStore).dir, path.join(tmp, 'blobs'), 'default directory is <dataDir>/blobs');
  const explicit = openBlobStore({ ...config.blobs, dir: path.join(tmp, 'elsewhere') }, tmp);
  t.equal((explicit as LocalBlobStore).dir, path.join(tmp, 'elsewhere'));
  const remote = openBlobStore(
    { kind: 's3', bucket: s3.bucket, endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    tmp,
  );
  t.teardown(() => remote.close());
  t.equal(remote.kind, 's3');
  await remote.put('via-config', Uint8Array.from([7]));
  t.same(Array.from(await remote.get('via-config')), [7]);
  await remote.delete('via-config');
  t.throws(() => openBlobStore({ kind: 's3' }, tmp), ConfigError);
  t.throws(() => openBlobStore({ kind: 's3', bucket: 'b', accessKeyId: 'only-half' }, tmp), ConfigError);
});
