import t from 'tap';
import { telephonyStoreContract } from '../../helpers/contract/telephony-store-contract.js';
import { openControlDb, tempDataDir } from './control-db.js';

// the telephony stores on PGlite; test/integration/control/telephony-stores-postgres.test.ts runs the same contract on PostgreSQL
t.test('telephony stores contract on PGlite', async (t) => {
  const db = await openControlDb(t, tempDataDir(t));
  telephonyStoreContract(t, { db: () => db });
});
