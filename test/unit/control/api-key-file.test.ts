import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { recordingLogger } from '../../../src/lib/index.js';
import { ProvisioningStore, ensureFirstApiKey } from '../../../src/control/index.js';
import { openControlDb, tempDataDir } from './control-db.js';

t.test('first start writes an operator key to <dataDir>/api-key (0600), once', async (t) => {
  const dataDir = tempDataDir(t);
  const store = new ProvisioningStore({ db: await openControlDb(t, dataDir) });
  const logger = recordingLogger();
  const file = await ensureFirstApiKey(store, dataDir, logger);
  t.equal(file, path.join(dataDir, 'api-key'));
  t.equal(statSync(file).mode & 0o777, 0o600);
  const token = readFileSync(file, 'utf8').trim();
  t.match(await store.verifyApiKey(token), { tenantId: null });
  t.ok(logger.records.some((r) => r.fields.file === file), 'logs where the key is');
  t.notOk(JSON.stringify(logger.records).includes(token), 'never logs the key');

  const again = await ensureFirstApiKey(store, dataDir, recordingLogger());
  t.equal(again, file);
  t.equal(readFileSync(file, 'utf8').trim(), token, 'an existing key is left alone');
  t.equal(await store.countApiKeys(), 1);
});
