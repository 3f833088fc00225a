import t from 'tap';
import { controlMigrations } from '../../../src/control/index.js';
import { openDatabase, runMigrations } from '../../../src/platform/index.js';
import { telephonyStoreContract } from '../../helpers/contract/telephony-store-contract.js';
import { startPostgresServer } from '../../helpers/postgres-server.js';

const server = await startPostgresServer();
t.teardown(() => server.stop());

t.test('telephony stores contract on PostgreSQL', async (t) => {
  const db = await openDatabase({ url: server.url, dataDir: '/nonexistent-unused' });
  t.teardown(() => db.close());
  t.same(
    (await runMigrations(db, controlMigrations)).filter((id) => id.startsWith('telephony-')),
    ['telephony-0001-trunks', 'telephony-0002-dids', 'telephony-0003-dial-plans', 'telephony-0004-cdrs'],
    'the telephony migrations apply after the control ones',
  );
  t.same(await runMigrations(db, controlMigrations), [], 'and only once');
  telephonyStoreContract(t, { db: () => db });
});
