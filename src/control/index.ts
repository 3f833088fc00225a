/** The control plane's public API: provisioning of tenants, domains, users and API keys. */
export { controlMigrations } from './migrations.js';
export { ProvisioningStore, DEFAULT_TENANT_NAME, type ProvisioningStoreOptions } from './provisioning-store.js';
export { registerProvisioningRoutes, domainOfAor, type ProvisioningRoutesOptions, type RegistrationsPort, type RegistrationView } from './rest-api.js';
export { ensureFirstApiKey, API_KEY_FILE_NAME } from './api-key-file.js';
export { ha1Pair } from './credentials.js';
export { parseImportLine } from './user-import.js';
export { InvalidFieldError, UnauthorizedError, ForbiddenError } from './errors.js';
export * from './types.js';
