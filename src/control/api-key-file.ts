import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../lib/index.js';
import type { ProvisioningStore } from './provisioning-store.js';

export const API_KEY_FILE_NAME = 'api-key';

/**
 * At first start (no API key in the database yet) create an operator key and write it to
 * `<dataDir>/api-key`, readable by the owner only, so the operator can call the REST API without
 * any setup. The log names the file, never the key. Returns the file's path either way.
 */
export async function ensureFirstApiKey(store: ProvisioningStore, dataDir: string, logger: Logger): Promise<string> {
  const file = path.join(dataDir, API_KEY_FILE_NAME);
  if ((await store.countApiKeys()) > 0) return file;
  const key = await store.createApiKey('operator (first start)');
  try {
    await mkdir(dataDir, { recursive: true });
    // write then rename: a crash never leaves a half-written key file behind
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, `${key.token}\n`, { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, file);
  } catch (err) {
    // a key nobody can read would block the next start from creating a usable one
    await store.deleteApiKey(key.id).catch(() => {});
    throw err;
  }
  logger.info({ file }, 'created the operator API key; send it as "Authorization: Bearer <contents of the file>"');
  return file;
}
