import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../lib/index.js';
import { InvalidInputError, NotFoundError, describeError, httpStatusFor } from '../lib/index.js';
import type { B2bua, CallView } from './b2bua/b2bua.js';

/** Who an API key belongs to: an operator (tenantId null) or one tenant. */
export interface ApiPrincipal {
  tenantId: string | null;
}

export interface CallRoutesOptions {
  b2bua: B2bua;
  /** checks a bearer token (the control layer's API keys, injected: calls does not import control) */
  verifyApiKey: (token: string) => Promise<ApiPrincipal | undefined>;
  logger: Logger;
}

const errorSchema = { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] } as const;
const callSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    state: { type: 'string', enum: ['routing', 'ringing', 'answered', 'held', 'transferring', 'ended'] },
    tenant: { type: 'string' },
    direction: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    createdAt: { type: 'number' },
    answeredAt: { type: 'number' },
    bridgeId: { type: 'string' },
    recordingId: { type: 'string' },
    heldBy: { type: 'string' },
    legs: {
      type: 'array',
      items: { type: 'object', properties: { id: { type: 'string' }, role: { type: 'string' }, label: { type: 'string' }, endpointId: { type: 'string' }, trunk: { type: 'string' } } },
    },
  },
} as const;
const idParams = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 100 } }, required: ['id'] } as const;
const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema };

/**
 * REST call control (OpenAPI-documented with the rest of /api/v1): list and read active calls,
 * click-to-dial, hang up, hold, record, send DTMF. A tenant's API key sees only its calls.
 */
export async function registerCallRoutes(app: FastifyInstance, options: CallRoutesOptions): Promise<void> {
  await app.register(async (api) => callsApi(api, options), { prefix: '/api/v1' });
}

class UnauthorizedCallError extends Error {}
class ForbiddenCallError extends Error {}

async function callsApi(api: FastifyInstance, options: CallRoutesOptions): Promise<void> {
  const { b2bua } = options;
  const log = options.logger.child({ component: 'calls-api' });
  const principals = new WeakMap<FastifyRequest, ApiPrincipal>();

  api.setErrorHandler((err: FastifyError, request, reply) => sendError(err, request, reply, log));
  api.addHook('onRequest', async (request) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    const principal = match?.[1] === undefined ? undefined : await options.verifyApiKey(match[1]);
    if (principal === undefined) throw new UnauthorizedCallError('missing or invalid Authorization: Bearer <API key>');
    principals.set(request, principal);
  });
  const visible = (request: FastifyRequest, call: CallView | undefined): CallView => {
    const tenant = principals.get(request)?.tenantId ?? null;
    if (call === undefined || (tenant !== null && call.tenant !== tenant)) throw new NotFoundError('no such active call');
    return call;
  };

  api.get('/calls', { schema: { tags: ['calls'], summary: 'active calls', response: { 200: { type: 'object', properties: { items: { type: 'array', items: callSchema } } }, ...errors } } }, async (request) => {
    const tenant = principals.get(request)?.tenantId ?? null;
    return { items: b2bua.list().filter((c) => tenant === null || c.tenant === tenant) };
  });

  api.get<{ Params: { id: string } }>('/calls/:id', { schema: { tags: ['calls'], summary: 'one active call', params: idParams, response: { 200: callSchema, ...errors } } }, async (request) =>
    visible(request, b2bua.get(request.params.id)),
  );

  api.post<{ Body: { from: string; to: string; ringSeconds?: number } }>(
    '/calls',
    {
      schema: {
        tags: ['calls'],
        summary: 'click-to-dial: ring `from` (a local user), then connect it to `to` (a user or a number, routed by the dial plan)',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['from', 'to'],
          properties: {
            from: { type: 'string', minLength: 3, maxLength: 256, pattern: '^[^@\\s]+@[^@\\s]+$' },
            to: { type: 'string', minLength: 1, maxLength: 256 },
            ringSeconds: { type: 'integer', minimum: 5, maximum: 300 },
          },
        },
        response: { 201: callSchema, ...errors },
      },
    },
    async (request, reply) => {
      const tenant = principals.get(request)?.tenantId ?? null;
      const call = await b2bua.originate({ from: request.body.from, to: request.body.to, ...(tenant !== null ? { tenant } : {}), ...(request.body.ringSeconds !== undefined ? { ringSeconds: request.body.ringSeconds } : {}) });
      return reply.status(201).send(call);
    },
  );

  api.delete<{ Params: { id: string } }>('/calls/:id', { schema: { tags: ['calls'], summary: 'hang up', params: idParams, response: { 204: { type: 'null' }, ...errors } } }, async (request, reply) => {
    visible(request, b2bua.get(request.params.id));
    await b2bua.hangup(request.params.id);
    return reply.status(204).send();
  });

  api.post<{ Params: { id: string }; Body: { hold: boolean } }>(
    '/calls/:id/hold',
    {
      schema: {
        tags: ['calls'],
        summary: 'hold (the called party hears music) or retrieve',
        params: idParams,
        body: { type: 'object', additionalProperties: false, required: ['hold'], properties: { hold: { type: 'boolean' } } },
        response: { 200: callSchema, ...errors },
      },
    },
    async (request) => {
      visible(request, b2bua.get(request.params.id));
      return b2bua.holdFromApi(request.params.id, request.body.hold);
    },
  );

  api.post<{ Params: { id: string }; Body: { record: boolean } }>(
    '/calls/:id/recording',
    {
      schema: {
        tags: ['calls'],
        summary: 'start or stop a stereo recording (one channel per party) into the blob store',
        params: idParams,
        body: { type: 'object', additionalProperties: false, required: ['record'], properties: { record: { type: 'boolean' } } },
        response: { 200: { type: 'object', properties: { recordingId: { type: 'string' }, key: { type: 'string' } } }, ...errors },
      },
    },
    async (request) => {
      visible(request, b2bua.get(request.params.id));
      return b2bua.record(request.params.id, request.body.record);
    },
  );

  api.post<{ Params: { id: string }; Body: { digits: string; leg?: 'a' | 'b' } }>(
    '/calls/:id/dtmf',
    {
      schema: {
        tags: ['calls'],
        summary: 'send RFC 4733 DTMF digits into a leg (default the called party)',
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['digits'],
          properties: { digits: { type: 'string', pattern: '^[0-9A-Da-d*#]{1,32}$' }, leg: { type: 'string', enum: ['a', 'b'] } },
        },
        response: { 200: { type: 'object', properties: { sent: { type: 'string' } } }, ...errors },
      },
    },
    async (request) => {
      visible(request, b2bua.get(request.params.id));
      await b2bua.sendDtmf(request.params.id, request.body.leg ?? 'b', request.body.digits);
      return { sent: request.body.digits };
    },
  );
}

function sendError(err: FastifyError, request: FastifyRequest, reply: FastifyReply, log: Logger): FastifyReply {
  if (err.validation !== undefined && err.validation.length > 0) {
    const first = err.validation[0];
    const field = (first?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.') || String((first?.params as { missingProperty?: unknown } | undefined)?.missingProperty ?? 'body');
    return reply.status(400).send({ error: `invalid ${err.validationContext ?? 'request'}: ${field} ${first?.message ?? 'invalid'}`, field, reason: first?.message ?? 'invalid' });
  }
  if (err instanceof UnauthorizedCallError) return reply.status(401).header('www-authenticate', 'Bearer').send({ error: err.message });
  if (err instanceof ForbiddenCallError) return reply.status(403).send({ error: err.message });
  if (err instanceof InvalidInputError) return reply.status(400).send({ error: err.message });
  const status = httpStatusFor(err);
  if (status >= 500) log.error({ err: describeError(err), url: request.url }, 'call control request failed');
  return reply.status(status).send({ error: status >= 500 && status !== 503 ? 'internal error' : describeError(err) });
}
