import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { NotFoundError, type Logger } from '../lib/index.js';
import type { CdrStore } from './cdr-store.js';
import { DialPlanInvalidError, type DialPlanStore } from './dial-plan-store.js';
import type { DidStore } from './did-store.js';
import { requireApiKeys } from './api-key-scope.js';
import type { ProvisioningStore } from './provisioning-store.js';
import { sendError } from './rest-api.js';
import * as s from './rest-telephony-schemas.js';
import type { CdrKind, DidChanges, NewDid, NewTrunk, TrunkChanges } from './telephony-types.js';
import type { TrunkStore } from './trunk-store.js';

export interface TelephonyRoutesOptions {
  /** API keys and tenants */
  provisioning: ProvisioningStore;
  trunks: TrunkStore;
  dids: DidStore;
  dialPlans: DialPlanStore;
  cdrs: CdrStore;
  logger: Logger;
}

/**
 * Trunks, DIDs, the dial plan and CDRs under /api/v1, with the provisioning API's rules: every
 * route needs `Authorization: Bearer <API key>` (401 otherwise); a tenant's key acts for its
 * tenant only (403 elsewhere); an operator key acts for the tenant named by `tenantId` (query or
 * body), for the default tenant when it writes without one, and lists every tenant's records.
 *
 * Register it after registerProvisioningRoutes() so that @fastify/swagger, which that registers,
 * documents these routes too.
 */
export async function registerTelephonyRoutes(app: FastifyInstance, options: TelephonyRoutesOptions): Promise<void> {
  await app.register(async (api) => telephonyApi(api, options), { prefix: '/api/v1' });
}

const errors = { 400: s.telephonyErrorSchema, 401: s.telephonyErrorSchema, 403: s.telephonyErrorSchema, 404: s.telephonyErrorSchema, 409: s.telephonyErrorSchema };
const idParams = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 100 } }, required: ['id'] } as const;

async function telephonyApi(api: FastifyInstance, options: TelephonyRoutesOptions): Promise<void> {
  const { provisioning, trunks, dids, dialPlans, cdrs } = options;
  const log = options.logger.child({ component: 'telephony-api' });
  api.setErrorHandler((err: FastifyError, request, reply) => sendError(err, request, reply, log, refusedDialPlan(reply)));
  const { requireTenant, listScope, actingTenant } = requireApiKeys(api, provisioning);

  // --- trunks
  api.get<{ Querystring: { tenantId?: string } }>(
    '/trunks',
    { schema: { tags: ['trunks'], querystring: s.tenantQuery, response: { 200: { type: 'array', items: s.trunkSchema }, ...errors } } },
    async (request) => trunks.list(listScope(request, request.query.tenantId)),
  );
  api.post<{ Body: NewTrunk; Querystring: { tenantId?: string } }>(
    '/trunks',
    { schema: { tags: ['trunks'], querystring: s.tenantQuery, body: s.createTrunkBody, response: { 201: s.trunkSchema, ...errors } } },
    async (request, reply) => reply.status(201).send(await trunks.create(await actingTenant(request, request.query.tenantId), request.body)),
  );
  api.get<{ Params: { id: string } }>('/trunks/:id', { schema: { tags: ['trunks'], params: idParams, response: { 200: s.trunkSchema, ...errors } } }, async (request) => {
    const trunk = await trunks.get(request.params.id);
    requireTenant(request, trunk.tenantId);
    return trunk;
  });
  api.patch<{ Params: { id: string }; Body: TrunkChanges }>(
    '/trunks/:id',
    { schema: { tags: ['trunks'], params: idParams, body: s.patchTrunkBody, response: { 200: s.trunkSchema, ...errors } } },
    async (request) => {
      requireTenant(request, (await trunks.get(request.params.id)).tenantId);
      return trunks.update(request.params.id, request.body);
    },
  );
  api.delete<{ Params: { id: string } }>('/trunks/:id', { schema: { tags: ['trunks'], params: idParams, response: errors } }, async (request, reply) => {
    requireTenant(request, (await trunks.get(request.params.id)).tenantId);
    await trunks.delete(request.params.id);
    return reply.status(204).send();
  });

  // --- DIDs
  api.get<{ Querystring: { tenantId?: string; number?: string } }>(
    '/dids',
    { schema: { tags: ['dids'], querystring: s.didListQuery, response: { 200: { type: 'array', items: s.didSchema }, ...errors } } },
    async (request) => dids.list({ tenantId: listScope(request, request.query.tenantId), number: request.query.number }),
  );
  api.post<{ Body: NewDid & { tenantId?: string } }>(
    '/dids',
    { schema: { tags: ['dids'], body: s.createDidBody, response: { 201: s.didSchema, ...errors } } },
    async (request, reply) => {
      const { tenantId, ...did } = request.body;
      return reply.status(201).send(await dids.create(await actingTenant(request, tenantId), did));
    },
  );
  api.get<{ Params: { id: string } }>('/dids/:id', { schema: { tags: ['dids'], params: idParams, response: { 200: s.didSchema, ...errors } } }, async (request) => {
    const did = await dids.get(request.params.id);
    requireTenant(request, did.tenantId);
    return did;
  });
  api.patch<{ Params: { id: string }; Body: DidChanges }>(
    '/dids/:id',
    { schema: { tags: ['dids'], params: idParams, body: s.patchDidBody, response: { 200: s.didSchema, ...errors } } },
    async (request) => {
      requireTenant(request, (await dids.get(request.params.id)).tenantId);
      return dids.update(request.params.id, request.body);
    },
  );
  api.delete<{ Params: { id: string } }>('/dids/:id', { schema: { tags: ['dids'], params: idParams, response: errors } }, async (request, reply) => {
    requireTenant(request, (await dids.get(request.params.id)).tenantId);
    await dids.delete(request.params.id);
    return reply.status(204).send();
  });

  // --- dial plan
  api.get<{ Querystring: { tenantId?: string } }>(
    '/dialplan',
    { schema: { tags: ['dialplan'], querystring: s.tenantQuery, response: { 200: s.dialPlanSchema, ...errors } } },
    async (request) => dialPlans.get(await actingTenant(request, request.query.tenantId)),
  );
  api.put<{ Querystring: { tenantId?: string; expectedVersion?: number }; Body: unknown }>(
    '/dialplan',
    {
      schema: {
        tags: ['dialplan'],
        description: 'Replaces the tenant\'s dial plan with the body (a JSON document of rules). A refused plan answers 400 with every error and its rule.',
        querystring: s.dialPlanQuery,
        body: { type: 'object', additionalProperties: true },
        response: { 200: s.dialPlanSchema, ...errors },
      },
    },
    async (request) => dialPlans.put(await actingTenant(request, request.query.tenantId), request.body, { expectedVersion: request.query.expectedVersion }),
  );

  // --- CDRs
  api.get<{ Querystring: { tenantId?: string; since?: string; until?: string; number?: string; trunkId?: string; kind?: CdrKind; order: 'asc' | 'desc'; limit: number; cursor?: string } }>(
    '/cdrs',
    { schema: { tags: ['cdrs'], querystring: s.cdrListQuery, response: { 200: s.cdrPageSchema, ...errors } } },
    async (request) => {
      const { tenantId, ...filters } = request.query;
      return cdrs.query({ ...filters, tenantId: listScope(request, tenantId) });
    },
  );
  api.get<{ Params: { callId: string }; Querystring: { tenantId?: string } }>(
    '/cdrs/:callId',
    { schema: { tags: ['cdrs'], params: s.callIdParams, querystring: s.tenantQuery, response: { 200: { type: 'array', items: s.cdrSchema }, ...errors } } },
    async (request) => {
      const records = await cdrs.forCall(request.params.callId, listScope(request, request.query.tenantId));
      if (records.length === 0) throw new NotFoundError(`no CDR for call ${request.params.callId}`);
      return records;
    },
  );
}

/** the provisioning API's error shape, plus errors[] for a refused dial plan */
function refusedDialPlan(reply: FastifyReply): (err: FastifyError) => FastifyReply | undefined {
  return (err) => (err instanceof DialPlanInvalidError ? reply.status(400).send({ error: err.message, field: 'document', reason: 'refused by the dial-plan validator', errors: err.errors }) : undefined);
}
