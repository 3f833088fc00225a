/**
 * The sample VoiceXML applications (apps/samples) are installed in the default tenant on the
 * first start, with extensions 8000 and 8001 in its dial plan, so a new user can call them at
 * once. An application or a dial plan the operator already has is never touched.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeError, type Logger } from '../lib/index.js';
import { DEFAULT_TENANT_NAME, type ProvisioningStore, type TelephonyStores } from '../control/index.js';

export const SAMPLE_APPS = [
  { name: 'dtmf-menu', extension: '8000', description: 'Sample: account number by DTMF, a menu, a recorded message, a submit' },
  { name: 'speech-demo', extension: '8001', description: 'Sample: say a city, hear its weather (speech recognition)' },
] as const;

/** apps/samples of this installation (dist/src/cli → repo root) */
export function samplesDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'apps', 'samples');
}

export async function installSamples(stores: TelephonyStores, provisioning: ProvisioningStore, logger: Logger, dir = samplesDir()): Promise<string[]> {
  const tenant = await provisioning.findTenantByName(DEFAULT_TENANT_NAME);
  if (tenant === undefined) return [];
  const installed: string[] = [];
  for (const sample of SAMPLE_APPS) {
    try {
      if ((await stores.vxmlApps.find(tenant.id, sample.name)) !== undefined) continue;
      const files = await listFiles(path.join(dir, sample.name));
      if (files.length === 0) continue;
      await stores.vxmlApps.create(tenant.id, { name: sample.name, description: sample.description, entry: 'main.vxml' });
      for (const file of files) await stores.vxmlApps.putFile(tenant.id, sample.name, file, await readFile(path.join(dir, sample.name, file)));
      installed.push(sample.name);
    } catch (err) {
      logger.warn({ err: describeError(err), app: sample.name }, 'sample application not installed');
    }
  }
  try {
    const plan = await stores.dialPlans.get(tenant.id);
    if (plan.version === 0) {
      await stores.dialPlans.put(tenant.id, {
        timezone: 'UTC',
        rules: SAMPLE_APPS.map((s) => ({ name: `sample-${s.name}`, match: { number: s.extension }, target: { type: 'vxml', app: s.name } })),
      });
      logger.info({ extensions: SAMPLE_APPS.map((s) => `${s.extension} → ${s.name}`) }, 'sample VoiceXML applications are on the default dial plan');
    }
  } catch (err) {
    logger.warn({ err: describeError(err) }, 'sample extensions not added to the dial plan');
  }
  return installed;
}

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(path.join(root, prefix), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...(await listFiles(root, rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out.sort();
}
