import Fastify, { type FastifyInstance } from 'fastify';
import type { Test } from 'tap';
import { silentLogger } from '../../../src/lib/index.js';
import { ProvisioningStore, createTelephonyStores, registerProvisioningRoutes, registerTelephonyRoutes, type DialPlanValidator } from '../../../src/control/index.js';
import type { Database } from '../../../src/platform/index.js';

/**
 * What the REST route tests share: the tenants and API keys every tenant-scoping check needs,
 * and a client that sends one key's requests through fastify.inject().
 */

export const auth = (token: string) => ({ authorization: `Bearer ${token}` });

/** the default tenant, "acme" and a second tenant, an operator key and one key per tenant */
export async function seedApiTenants(provisioning: ProvisioningStore, otherName: string) {
  const defaultTenant = await provisioning.ensureDefaultTenant([]);
  const acme = await provisioning.createTenant('acme');
  const other = await provisioning.createTenant(otherName);
  return {
    defaultId: defaultTenant.id,
    acmeId: acme.id,
    otherId: other.id,
    operator: (await provisioning.createApiKey('ops')).token,
    acmeKey: (await provisioning.createApiKey('acme', acme.id)).token,
    otherKey: (await provisioning.createApiKey('other', other.id)).token,
  };
}

/**
 * The provisioning and telephony routes on a fastify instance over db (closed when t ends), with
 * the tenants and keys of seedApiTenants(); `more` registers further routes before it is ready.
 */
export async function telephonyApiFixture(
  t: Test,
  db: Database,
  options: { otherTenant: string; validateDialPlan?: DialPlanValidator; more?: (app: FastifyInstance, provisioning: ProvisioningStore) => Promise<void> },
) {
  const provisioning = new ProvisioningStore({ db });
  const stores = createTelephonyStores({ db, ...(options.validateDialPlan !== undefined ? { validateDialPlan: options.validateDialPlan } : {}) });
  const app = Fastify({ logger: false });
  t.teardown(() => app.close());
  await registerProvisioningRoutes(app, { store: provisioning, logger: silentLogger });
  await registerTelephonyRoutes(app, { provisioning, ...stores, logger: silentLogger });
  await options.more?.(app, provisioning);
  await app.ready();
  const seeded = await seedApiTenants(provisioning, options.otherTenant);
  return {
    app,
    stores,
    ...seeded,
    /** clients with acme's key, the other tenant's key and the operator key */
    acme: apiClient(app, seeded.acmeKey),
    other: apiClient(app, seeded.otherKey),
    ops: apiClient(app, seeded.operator),
  };
}

/**
 * Requests made with one API key. PUT sends an object as JSON, and bytes or text as the raw body
 * with the content type given (default application/octet-stream).
 */
export function apiClient(app: FastifyInstance, token: string) {
  return {
    get: (url: string) => app.inject({ method: 'GET', url, headers: auth(token) }),
    post: (url: string, payload: object) => app.inject({ method: 'POST', url, headers: auth(token), payload }),
    patch: (url: string, payload: object) => app.inject({ method: 'PATCH', url, headers: auth(token), payload }),
    put: (url: string, payload: object | Buffer | string, contentType = 'application/octet-stream') =>
      Buffer.isBuffer(payload) || typeof payload === 'string'
        ? app.inject({ method: 'PUT', url, headers: { ...auth(token), 'content-type': contentType }, payload })
        : app.inject({ method: 'PUT', url, headers: auth(token), payload }),
    del: (url: string) => app.inject({ method: 'DELETE', url, headers: auth(token) }),
  };
}
