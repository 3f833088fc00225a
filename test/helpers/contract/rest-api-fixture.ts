import type { FastifyInstance } from 'fastify';
import type { ProvisioningStore } from '../../../src/control/index.js';

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
