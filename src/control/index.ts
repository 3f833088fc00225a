/** The control plane's public API: provisioning of tenants, domains, users and API keys. */
export { controlMigrations } from './migrations.js';
export { ProvisioningStore, DEFAULT_TENANT_NAME, type ProvisioningStoreOptions } from './provisioning-store.js';
export { registerProvisioningRoutes, domainOfAor, type ProvisioningRoutesOptions, type RegistrationsPort, type RegistrationView } from './rest-api.js';
export { ensureFirstApiKey, API_KEY_FILE_NAME } from './api-key-file.js';
export { ha1Pair } from './credentials.js';
export { parseImportLine } from './user-import.js';
export { InvalidFieldError, UnauthorizedError, ForbiddenError } from './errors.js';
export * from './types.js';
// telephony provisioning: trunks, DIDs, dial plans, CDRs
export { telephonyMigrations } from './telephony-migrations.js';
export { TrunkStore, type TrunkStoreOptions } from './trunk-store.js';
export { DidStore, type DidStoreOptions } from './did-store.js';
export { DialPlanStore, DialPlanInvalidError, type DialPlanStoreOptions } from './dial-plan-store.js';
export { CdrStore, type CdrStoreOptions } from './cdr-store.js';
export { createTelephonyStores, type TelephonyStores } from './telephony-stores.js';
export { registerTelephonyRoutes, type TelephonyRoutesOptions } from './rest-telephony.js';
export { TELEPHONY_CHANGED_TOPIC, type TelephonyChange } from './telephony-store-support.js';
export { parseGatewaySpec, checkE164, checkTarget, cidrProblem, hostProblem, addressInAcl, DEFAULT_TRUNK_REALM } from './telephony-validation.js';
export * from './telephony-types.js';
// hosted VoiceXML applications: store, REST (/api/v1/apps), serving (/vxml/{tenant}/{app}/{path})
export { vxmlAppMigrations } from './vxml-app-migrations.js';
export { VxmlAppStore, type VxmlAppStoreOptions } from './vxml-app-store.js';
export { registerVxmlAppRoutes, registerVxmlServingRoutes, etagMatches, SERVED_MAX_AGE_SECONDS, type VxmlAppRoutesOptions, type VxmlServingOptions } from './rest-vxml-apps.js';
export { hostedAppUrl, checkAppName, checkFilePath, contentTypeFor } from './vxml-app-validation.js';
export * from './vxml-app-types.js';
