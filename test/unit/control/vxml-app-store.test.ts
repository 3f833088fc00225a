import t from 'tap';
import { vxmlAppStoreContract } from '../../helpers/contract/vxml-app-store-contract.js';
import { openControlDb, tempDataDir } from './control-db.js';

// the hosted-application store on PGlite; test/integration/control/vxml-app-store-postgres.test.ts runs the same contract on PostgreSQL
t.test('VoiceXML application store contract on PGlite', async (t) => {
  const db = await openControlDb(t, tempDataDir(t));
  vxmlAppStoreContract(t, { db: () => db });
});
