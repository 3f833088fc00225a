/** Records of the provisioning store, as the REST API returns them (timestamps in ISO 8601). */
export interface Tenant {
  id: string;
  name: string;
  createdAt: string;
}

export interface Domain {
  name: string;
  tenantId: string;
  createdAt: string;
}

export interface User {
  id: string;
  tenantId: string;
  username: string;
  domain: string;
  displayName: string | null;
  enabled: boolean;
  createdAt: string;
}

/** What a registrar needs to check a digest response (RFC 7616 §3.4.2): never the password. */
export interface UserCredentials {
  ha1Md5: string;
  ha1Sha256: string;
  enabled: boolean;
}

export interface ApiKeyInfo {
  id: string;
  /** null: an operator key */
  tenantId: string | null;
  label: string;
}

export interface CreatedApiKey extends ApiKeyInfo {
  /** the bearer token; shown once, only its SHA-256 is stored */
  token: string;
}

export interface NewUser {
  username: string;
  domain: string;
  password: string;
  displayName?: string | undefined;
  enabled?: boolean | undefined;
}

export interface UserChanges {
  password?: string | undefined;
  displayName?: string | null | undefined;
  enabled?: boolean | undefined;
}

export interface UserQuery {
  tenantId?: string | undefined;
  domain?: string | undefined;
  /** default 50, at most 1000 */
  limit?: number | undefined;
  offset?: number | undefined;
}

export interface UserPage {
  items: User[];
  total: number;
  limit: number;
  offset: number;
}

export interface ImportOptions {
  /** tenant that owns domains the import creates; default: the 'default' tenant */
  tenantId?: string | undefined;
  /** replace the password (and display name, when given) of users that already exist; otherwise they are skipped */
  update?: boolean | undefined;
  /** called after each committed batch with the running totals */
  onProgress?: ((progress: ImportProgress) => void) | undefined;
  /** rows per INSERT; default 1000 */
  batchSize?: number | undefined;
}

export interface ImportProgress {
  lines: number;
  imported: number;
  updated: number;
  skipped: number;
  errors: number;
}

export interface ImportError {
  /** 1-based line number in the input */
  line: number;
  reason: string;
}

export interface ImportReport {
  imported: number;
  updated: number;
  skipped: number;
  errors: ImportError[];
  /** domains that did not exist and were created under the import's tenant */
  createdDomains: string[];
}

/** The message published on the bus topic `provisioning.changed` (JSON). */
export interface ProvisioningChange {
  kind: 'tenant' | 'domain' | 'user' | 'users';
  action: 'created' | 'updated' | 'deleted' | 'imported';
  tenantId?: string;
  domain?: string;
  username?: string;
  /** several domains at once: those an import touched, or those ensureDefaultTenant added */
  domains?: string[];
}

export const PROVISIONING_CHANGED_TOPIC = 'provisioning.changed';
