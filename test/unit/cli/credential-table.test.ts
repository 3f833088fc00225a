import { createHash } from 'node:crypto';
import t from 'tap';
import { CredentialTable } from '../../../src/cli/credential-table.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

t.test('HA1s come back as the lower-case hex they went in as', async (t) => {
  const table = new CredentialTable(2);
  for (let i = 0; i < 100; i++) table.add(`u${i}@example.com`, md5(`u${i}`), sha256(`u${i}`), true);
  t.equal(table.size, 100);
  t.equal(table.ha1('u7@example.com', 'MD5'), md5('u7'));
  t.equal(table.ha1('u99@example.com', 'SHA-256'), sha256('u99'));
  t.equal(table.ha1('nobody@example.com', 'MD5'), undefined);
  t.equal(table.has('u0@example.com'), true);
  t.equal(table.has('nobody@example.com'), false);
});

t.test('a disabled user exists but has no HA1; adding again replaces', async (t) => {
  const table = new CredentialTable();
  table.add('a@x', md5('a'), sha256('a'), false);
  t.equal(table.has('a@x'), true);
  t.equal(table.ha1('a@x', 'MD5'), undefined);
  table.add('a@x', md5('b'), sha256('b'), true);
  t.equal(table.size, 1);
  t.equal(table.ha1('a@x', 'MD5'), md5('b'));
  t.equal(table.ha1('a@x', 'SHA-256'), sha256('b'));
});

t.test('an HA1 that is not lower-case hex of the right length is kept as given', async (t) => {
  const table = new CredentialTable();
  table.add('odd@x', md5('a').toUpperCase(), 'short', true);
  t.equal(table.ha1('odd@x', 'MD5'), md5('a').toUpperCase());
  t.equal(table.ha1('odd@x', 'SHA-256'), 'short');
  table.add('odd@x', md5('c'), sha256('c'), true);
  t.equal(table.size, 1);
  t.equal(table.ha1('odd@x', 'MD5'), md5('c'));
});

t.test('an exported table is rebuilt with the same answers in another process', async (t) => {
  const table = new CredentialTable(4);
  for (let i = 0; i < 50; i++) table.add(`u${i}@example.com`, md5(`u${i}`), sha256(`u${i}`), i % 7 !== 0);
  table.add('odd@example.com', 'NOT-HEX', 'ALSO-NOT', true);
  // through JSON, as over the cluster IPC channel
  const copy = CredentialTable.fromExport(JSON.parse(JSON.stringify(table.export())));
  t.equal(copy.size, table.size);
  for (const key of ['u1@example.com', 'u7@example.com', 'u49@example.com', 'odd@example.com', 'nobody@example.com']) {
    t.equal(copy.has(key), table.has(key), `has ${key}`);
    t.equal(copy.ha1(key, 'MD5'), table.ha1(key, 'MD5'), `MD5 of ${key}`);
    t.equal(copy.ha1(key, 'SHA-256'), table.ha1(key, 'SHA-256'), `SHA-256 of ${key}`);
  }
  t.equal(copy.ha1('u7@example.com', 'MD5'), undefined, 'a disabled user stays disabled');
  t.equal(copy.ha1('odd@example.com', 'MD5'), 'NOT-HEX');
  // the copy is a table of its own: adding to it grows it
  copy.add('new@example.com', md5('n'), sha256('n'), true);
  t.equal(copy.ha1('new@example.com', 'SHA-256'), sha256('n'));
  t.equal(table.has('new@example.com'), false);
});

t.test('an export whose parts do not add up is refused', async (t) => {
  const table = new CredentialTable();
  table.add('a@x', md5('a'), sha256('a'), true);
  const data = table.export();
  t.throws(() => CredentialTable.fromExport({ ...data, keys: ['a@x', 'b@x'] }), /does not add up/);
  t.throws(() => CredentialTable.fromExport({ ...data, enabled: '' }), /does not add up/);
});
