import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { ClosedError, InvalidInputError, NotFoundError } from '../../../src/lib/index.js';
import type { BlobStore } from '../../../src/platform/index.js';

/** The behaviour both blob store adapters must show; each test gets a fresh store. */
export function blobStoreContract(t: Test, make: () => Promise<BlobStore>): void {
  const withStore = (name: string, fn: (t: Test, store: BlobStore) => Promise<void>): void => {
    t.test(name, async (t) => {
      const store = await make();
      t.teardown(() => store.close());
      await fn(t, store);
    });
  };

  withStore('put, get, exists, overwrite', async (t, store) => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
    t.equal(await store.exists('a/b/c.bin'), false);
    await store.put('a/b/c.bin', bytes);
    t.equal(await store.exists('a/b/c.bin'), true);
    t.same(Array.from(await store.get('a/b/c.bin')), Array.from(bytes), 'bytes come back unchanged');
    await store.put('a/b/c.bin', Uint8Array.from([1, 2, 3]));
    t.same(Array.from(await store.get('a/b/c.bin')), [1, 2, 3], 'a second put replaces the blob');
    await store.put('empty', new Uint8Array(0));
    t.equal((await store.get('empty')).length, 0, 'an empty blob is a blob');
    t.equal(await store.exists('empty'), true);
  });

  withStore('get of a missing key is NotFoundError; exists is false', async (t, store) => {
    await t.rejects(store.get('nope/missing.wav'), NotFoundError);
    t.equal(await store.exists('nope/missing.wav'), false);
  });

  withStore('delete is idempotent', async (t, store) => {
    await store.put('d/x', Uint8Array.from([9]));
    await store.delete('d/x');
    t.equal(await store.exists('d/x'), false);
    await t.rejects(store.get('d/x'), NotFoundError);
    await store.delete('d/x');
    await store.delete('never/was');
    t.pass('deleting twice and deleting a missing key do not fail');
  });

  withStore('list by prefix, sorted, no partial or temporary files', async (t, store) => {
    for (const key of ['rec/2026/b.wav', 'rec/2026/a.wav', 'rec/2025/z.wav', 'recx', 'other/q', 'rec/top.wav']) {
      await store.put(key, Uint8Array.from([1]));
    }
    t.same(await store.list('rec/'), ['rec/2025/z.wav', 'rec/2026/a.wav', 'rec/2026/b.wav', 'rec/top.wav']);
    t.same(await store.list('rec/2026/'), ['rec/2026/a.wav', 'rec/2026/b.wav']);
    t.same(await store.list('rec/2026/a'), ['rec/2026/a.wav'], 'a prefix need not end at a slash');
    t.same(await store.list('rec'), ['rec/2025/z.wav', 'rec/2026/a.wav', 'rec/2026/b.wav', 'rec/top.wav', 'recx']);
    t.same(await store.list('none/'), []);
    t.same(await store.list(''), ['other/q', 'rec/2025/z.wav', 'rec/2026/a.wav', 'rec/2026/b.wav', 'rec/top.wav', 'recx']);
  });

  withStore('putFile uploads a file from disk', async (t, store) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'opencx-blob-src-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'big.bin');
    // 3 MiB: more than one stream chunk and one socket write
    const bytes = Uint8Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 31 + (i >> 11)) & 0xff);
    await writeFile(file, bytes);
    await store.putFile('uploads/big.bin', file);
    const back = await store.get('uploads/big.bin');
    t.equal(back.length, bytes.length);
    t.ok(Buffer.from(back).equals(Buffer.from(bytes)), 'content identical');
    await t.rejects(store.putFile('uploads/none.bin', path.join(dir, 'missing.bin')), NotFoundError);
    t.equal(await store.exists('uploads/none.bin'), false, 'a failed upload leaves nothing behind');
  });

  withStore('bad keys are InvalidInputError', async (t, store) => {
    for (const key of ['', '/etc/passwd', '../x', 'a/../../x', 'a/./b', 'a//b', 'a\\b', 'dir/', 'C:/x', 'a\u0000b', '.tmp/x']) {
      await t.rejects(store.put(key, Uint8Array.from([1])), InvalidInputError, `put ${JSON.stringify(key)}`);
      await t.rejects(store.get(key), InvalidInputError, `get ${JSON.stringify(key)}`);
    }
    await t.rejects(store.list('../'), InvalidInputError);
    await t.rejects(store.list('/abs'), InvalidInputError);
  });

  withStore('close is idempotent; a closed store refuses work', async (t, store) => {
    await store.close();
    await store.close();
    await t.rejects(store.get('x'), ClosedError);
    await t.rejects(store.put('x', new Uint8Array(1)), ClosedError);
  });
}
