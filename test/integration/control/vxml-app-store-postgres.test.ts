import t from 'tap';
import { controlMigrations } from '../../../src/control/index.js';
import { openDatabase, runMigrations } from '../../../src/platform/index.js';
import { vxmlAppStoreContract } from '../../helpers/contract/vxml-app-store-contract.js';
import { startPostgresServer } from '../../helpers/postgres-server.js';

const server = await startPostgresServer();
t.teardown(() => server.stop());

t.test('VoiceXML application store contract on PostgreSQL', async (t) => {
  const db = await openDatabase({ url: server.url, dataDir: '/nonexistent-unused' });
  t.teardown(() => db.close());
  t.same(
    (await runMigrations(db, controlMigrations)).filter((id) => id.startsWith('vxml-apps-')),
    ['vxml-apps-0001-applications', 'vxml-apps-0002-files'],
    'the application migrations apply after the control and telephony ones',
  );
  t.same(await runMigrations(db, controlMigrations), [], 'and only once');
  vxmlAppStoreContract(t, { db: () => db });
});
