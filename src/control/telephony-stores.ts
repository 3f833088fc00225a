import type { Logger } from '../lib/index.js';
import type { Bus, Database } from '../platform/index.js';
import { CdrStore } from './cdr-store.js';
import { DialPlanStore } from './dial-plan-store.js';
import { DidStore } from './did-store.js';
import type { DialPlanValidator } from './telephony-types.js';
import { TrunkStore } from './trunk-store.js';
import { VxmlAppStore } from './vxml-app-store.js';

export interface TelephonyStores {
  trunks: TrunkStore;
  dids: DidStore;
  dialPlans: DialPlanStore;
  cdrs: CdrStore;
  /** hosted VoiceXML applications (vxml-app-migrations.ts, also part of controlMigrations) */
  vxmlApps: VxmlAppStore;
}

/** The four telephony stores over one database (its migrations: telephonyMigrations, part of controlMigrations). */
export function createTelephonyStores(options: { db: Database; bus?: Bus | undefined; logger?: Logger | undefined; validateDialPlan?: DialPlanValidator | undefined }): TelephonyStores {
  const common = { db: options.db, bus: options.bus, logger: options.logger };
  return {
    trunks: new TrunkStore(common),
    dids: new DidStore(common),
    dialPlans: new DialPlanStore({ ...common, validateDialPlan: options.validateDialPlan }),
    cdrs: new CdrStore({ db: options.db }),
    vxmlApps: new VxmlAppStore(common),
  };
}
