/**
 * The digest nonce secret kept in the data directory: on a first start several SIP workers ask
 * for it at once, and they must all end up with the same one. (The race between processes that
 * made a worker read an empty file, 1 start in ~10 here, is closed twice over: the primary makes
 * the file before it forks the workers, and the file is linked into place only once whole.)
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { authSecret } from '../../../src/cli/subscriber-services.js';
import { ConfigError } from '../../../src/lib/index.js';
import { defaultConfig, type Config } from '../../../src/platform/index.js';

function configIn(dir: string, secret?: string): Config {
  const base = defaultConfig();
  return { ...base, dataDir: dir, sip: { ...base.sip, ...(secret !== undefined ? { authSecret: secret } : {}) } };
}

t.test('twenty callers at once on an empty data directory get one secret, written whole, 0600', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'opencx-secret-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const secrets = await Promise.all(Array.from({ length: 20 }, () => authSecret(configIn(dir))));
  t.equal(new Set(secrets).size, 1, 'all twenty got the same secret');
  const file = path.join(dir, 'auth-secret');
  t.equal(readFileSync(file, 'utf8'), secrets[0], 'the file holds it');
  t.ok((secrets[0] ?? '').length >= 40, 'a 32-byte secret');
  t.equal(statSync(file).mode & 0o777, 0o600, 'readable by the owner only');
  t.same(readdirSync(dir), ['auth-secret'], 'no draft file left behind');
  t.equal(await authSecret(configIn(dir)), secrets[0], 'a later start reads the same one');
});

t.test('a configured secret wins; an empty secret file is refused with a clear error', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'opencx-secret-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.equal(await authSecret(configIn(dir, 'configured-secret-of-32-chars-xx')), 'configured-secret-of-32-chars-xx');
  t.same(readdirSync(dir), [], 'nothing written when configured');
  writeFileSync(path.join(dir, 'auth-secret'), '\n');
  await t.rejects(authSecret(configIn(dir)), ConfigError, 'empty file: ConfigError');
  await t.rejects(authSecret(configIn(dir)), /auth-secret is empty: remove it/, 'it says what to do');
});
