import { DEFAULT_TENANT_NAME, type DialPlanRuleError, type ProvisioningStore } from '../control/index.js';
import { InvalidInputError, NotFoundError, type Logger } from '../lib/index.js';
import { createMemoryBus, type Bus, type Config, type Database } from '../platform/index.js';
import { openProvisioning, type Provisioning } from './subscriber-services.js';

/**
 * What the command backends share: the database of a stopped server opened for one command, and
 * a tenant given by id or name resolved on either side.
 */

/** An error answer of the REST API, with its body's field and dial-plan errors when present. */
export class ApiAnswerError extends InvalidInputError {
  constructor(
    readonly status: number,
    message: string,
    readonly field: string | undefined,
    readonly ruleErrors: DialPlanRuleError[] | undefined,
  ) {
    super(message);
  }
}

export interface LocalProvisioning {
  provisioning: Provisioning;
  bus: Bus;
  /** closes the database, then the bus */
  close(): Promise<void>;
}

/** the provisioning database of a stopped server; nothing is left open when it cannot be opened */
export async function openLocalProvisioning(config: Config, logger: Logger): Promise<LocalProvisioning> {
  // a stopped server has no cache to tell about changes: an in-process bus is enough
  const bus = createMemoryBus({});
  let provisioning: Provisioning;
  try {
    provisioning = await openProvisioning(config, bus, logger, false);
  } catch (err) {
    await bus.close();
    throw err;
  }
  return {
    provisioning,
    bus,
    close: async () => {
      await provisioning.close();
      await bus.close();
    },
  };
}

export interface LocalTenant {
  db: Database;
  bus: Bus;
  tenantId: string;
  close(): Promise<void>;
}

/**
 * The database of a stopped server and the tenant a command acts for: the one given by id or
 * name, or the default tenant. Closed again when the tenant is not found.
 */
export async function openLocalTenant(config: Config, tenant: string | undefined, logger: Logger): Promise<LocalTenant> {
  const local = await openLocalProvisioning(config, logger);
  try {
    const store: ProvisioningStore = local.provisioning.store;
    const found = tenant === undefined ? await store.findTenantByName(DEFAULT_TENANT_NAME) : ((await store.findTenant(tenant)) ?? (await store.findTenantByName(tenant)));
    if (found === undefined) throw new NotFoundError(`tenant ${tenant ?? DEFAULT_TENANT_NAME} not found`);
    return { db: local.provisioning.db, bus: local.bus, tenantId: found.id, close: local.close };
  } catch (err) {
    await local.close();
    throw err;
  }
}

/**
 * The tenant id a remote command scopes its requests to (undefined: the API key's own, or for an
 * operator key the server's default). A tenant given by name is resolved once through /tenants
 * (operator keys see them all).
 */
export function remoteTenantScope(tenant: string | undefined, getJson: <T>(pathname: string) => Promise<T>): () => Promise<string | undefined> {
  let tenantId: Promise<string | undefined> | undefined;
  return () => {
    tenantId ??= (async () => {
      if (tenant === undefined) return undefined;
      const tenants = await getJson<{ id: string; name: string }[]>('/api/v1/tenants');
      const found = tenants.find((t) => t.id === tenant) ?? tenants.find((t) => t.name === tenant);
      if (found === undefined) throw new NotFoundError(`tenant ${tenant} not found`);
      return found.id;
    })();
    return tenantId;
  };
}
