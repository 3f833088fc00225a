import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ForbiddenError, InvalidFieldError, UnauthorizedError } from './errors.js';
import { DEFAULT_TENANT_NAME, type ProvisioningStore } from './provisioning-store.js';
import type { ApiKeyInfo } from './types.js';

/**
 * The tenant rules every /api/v1 route group shares: who the API key is, and which tenant a
 * request may act for. A tenant's key acts for its tenant only (403 elsewhere); an operator key
 * (no tenant) acts for the tenant it names, or for every tenant when it lists.
 */
export interface ApiKeyScope {
  /** the key that authenticated the request (401 when there is none) */
  principal(request: FastifyRequest): ApiKeyInfo;
  /** 403 unless the key is an operator key */
  requireOperator(request: FastifyRequest): void;
  /** 403 when a tenant's key reaches for a record of another tenant */
  requireTenant(request: FastifyRequest, tenantId: string): void;
  /** the tenant to list for: the key's, the one an operator asked for, or every tenant (undefined) */
  listScope(request: FastifyRequest, asked: string | undefined): string | undefined;
  /** the one tenant a write acts for: listScope(), or for an operator who names none the default tenant */
  actingTenant(request: FastifyRequest, asked: string | undefined): Promise<string>;
}

/**
 * Adds the `Authorization: Bearer <API key>` check to every route of `api` (401 without a valid
 * key) and answers the tenant questions for its handlers.
 */
export function requireApiKeys(api: FastifyInstance, provisioning: Pick<ProvisioningStore, 'verifyApiKey' | 'findTenantByName'>): ApiKeyScope {
  const principals = new WeakMap<FastifyRequest, ApiKeyInfo>();
  api.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    const key = match?.[1] === undefined ? undefined : await provisioning.verifyApiKey(match[1]);
    if (key === undefined) throw new UnauthorizedError(header === undefined ? 'missing Authorization: Bearer <API key>' : 'invalid API key');
    principals.set(request, key);
  });

  const principal = (request: FastifyRequest): ApiKeyInfo => {
    const key = principals.get(request);
    if (key === undefined) throw new UnauthorizedError('missing Authorization: Bearer <API key>');
    return key;
  };
  const listScope = (request: FastifyRequest, asked: string | undefined): string | undefined => {
    const own = principal(request).tenantId;
    if (own === null) return asked;
    if (asked !== undefined && asked !== own) throw new ForbiddenError('this API key belongs to another tenant');
    return own;
  };
  return {
    principal,
    requireOperator: (request) => {
      if (principal(request).tenantId !== null) throw new ForbiddenError('this needs an operator API key');
    },
    requireTenant: (request, tenantId) => {
      const own = principal(request).tenantId;
      if (own !== null && own !== tenantId) throw new ForbiddenError('this API key belongs to another tenant');
    },
    listScope,
    actingTenant: async (request, asked) => {
      const scoped = listScope(request, asked);
      if (scoped !== undefined) return scoped;
      const fallback = await provisioning.findTenantByName(DEFAULT_TENANT_NAME);
      if (fallback === undefined) throw new InvalidFieldError('tenantId', 'required (there is no default tenant)');
      return fallback.id;
    },
  };
}
