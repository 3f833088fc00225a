import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError, UnavailableError, describeError, httpStatusFor, type Logger } from '../lib/index.js';
import { checkDomain } from './credentials.js';
import { ForbiddenError, InvalidFieldError, UnauthorizedError } from './errors.js';
import { requireApiKeys } from './api-key-scope.js';
import type { ProvisioningStore } from './provisioning-store.js';
import * as s from './rest-schemas.js';

/** One binding as the REST API shows it; the lead adapts the SIP registrar's location store to it. */
export interface RegistrationView {
  /** address-of-record, e.g. "sip:alice@example.com" */
  aor: string;
  contact: string;
  /** ISO 8601 */
  expiresAt: string;
  userAgent?: string;
  /** source address the REGISTER came from (RFC 3581 received/rport), "transport:host:port" */
  received?: string;
  /** +sip.instance (RFC 5626 §4.1) */
  instanceId?: string;
}

export interface RegistrationsPort {
  /** all bindings, or only those of one AOR */
  list(aor?: string): Promise<RegistrationView[]>;
  /** removes every binding of the AOR; resolves to how many were removed */
  remove(aor: string): Promise<number>;
  /** number of AORs with at least one live binding (the list is capped; this is not) */
  count?(): Promise<number>;
}

export interface ProvisioningRoutesOptions {
  store: ProvisioningStore;
  registrations?: RegistrationsPort | undefined;
  logger: Logger;
  /**
   * register @fastify/swagger (/openapi.json) and @fastify/swagger-ui (/docs); default true.
   * Pass false when the composition root registers them itself for several layers.
   */
  documentation?: boolean | undefined;
}

const MAX_ERRORS_IN_REPORT = 1000;

/**
 * The provisioning REST API under /api/v1, documented at /openapi.json and /docs. Every /api/
 * route needs `Authorization: Bearer <API key>`: 401 without a valid key; a tenant's key sees only
 * its tenant (403 elsewhere), an operator key (no tenant) sees everything.
 */
export async function registerProvisioningRoutes(app: FastifyInstance, options: ProvisioningRoutesOptions): Promise<void> {
  if (options.documentation !== false) {
    // swagger hooks onRoute, so it must be registered before any route it should describe
    await app.register(fastifySwagger, {
      openapi: {
        openapi: '3.0.3',
        info: { title: 'opencx provisioning API', version: '1' },
        components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
        security: [{ bearerAuth: [] }],
      },
    });
    await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  }
  await app.register(async (api) => provisioningApi(api, options), { prefix: '/api/v1' });
}

async function provisioningApi(api: FastifyInstance, options: ProvisioningRoutesOptions): Promise<void> {
  const { store } = options;
  const log = options.logger.child({ component: 'provisioning-api' });
  api.setErrorHandler((err: FastifyError, request, reply) => sendError(err, request, reply, log));
  const { principal, requireOperator, requireTenant, listScope, actingTenant } = requireApiKeys(api, store);

  // the import body is streamed line by line, so a large file never sits in memory whole
  api.addContentTypeParser('text/csv', (_request, payload, done) => done(null, payload));

  const errors = { 400: s.errorSchema, 401: s.errorSchema, 403: s.errorSchema, 404: s.errorSchema, 409: s.errorSchema };

  // --- tenants
  api.get('/tenants', { schema: { tags: ['tenants'], response: { 200: { type: 'array', items: s.tenantSchema } } } }, async (request) => {
    const own = principal(request).tenantId;
    return own === null ? store.listTenants() : [await store.getTenant(own)];
  });
  api.post<{ Body: { name: string } }>(
    '/tenants',
    { schema: { tags: ['tenants'], body: s.createTenantBody, response: { 201: s.tenantSchema, ...errors } } },
    async (request, reply) => {
      requireOperator(request);
      return reply.status(201).send(await store.createTenant(request.body.name));
    },
  );
  api.get<{ Params: { id: string } }>('/tenants/:id', { schema: { tags: ['tenants'], params: s.idParams, response: { 200: s.tenantSchema, ...errors } } }, async (request) => {
    requireTenant(request, request.params.id);
    return store.getTenant(request.params.id);
  });
  api.delete<{ Params: { id: string } }>('/tenants/:id', { schema: { tags: ['tenants'], params: s.idParams, response: errors } }, async (request, reply) => {
    requireOperator(request);
    await store.deleteTenant(request.params.id);
    return reply.status(204).send();
  });

  // --- domains
  api.get<{ Querystring: { tenantId?: string } }>(
    '/domains',
    { schema: { tags: ['domains'], querystring: { type: 'object', properties: { tenantId: { type: 'string', maxLength: 100 } } }, response: { 200: { type: 'array', items: s.domainSchema }, ...errors } } },
    async (request) => store.listDomains(listScope(request, request.query.tenantId)),
  );
  api.post<{ Body: { name: string; tenantId?: string } }>(
    '/domains',
    { schema: { tags: ['domains'], body: s.createDomainBody, response: { 201: s.domainSchema, ...errors } } },
    async (request, reply) => {
      // an operator without tenantId means the single-tenant case: the default tenant
      const tenantId = await actingTenant(request, request.body.tenantId);
      if (request.body.tenantId !== undefined && principal(request).tenantId === null && (await store.findTenant(tenantId)) === undefined) {
        throw new InvalidFieldError('tenantId', `unknown tenant ${tenantId}`);
      }
      return reply.status(201).send(await store.createDomain(request.body.name, tenantId));
    },
  );
  api.get<{ Params: { name: string } }>('/domains/:name', { schema: { tags: ['domains'], params: s.nameParams, response: { 200: s.domainSchema, ...errors } } }, async (request) => {
    const domain = await store.getDomain(request.params.name);
    requireTenant(request, domain.tenantId);
    return domain;
  });
  api.delete<{ Params: { name: string } }>('/domains/:name', { schema: { tags: ['domains'], params: s.nameParams, response: errors } }, async (request, reply) => {
    const domain = await store.getDomain(request.params.name);
    requireTenant(request, domain.tenantId);
    await store.deleteDomain(domain.name);
    return reply.status(204).send();
  });

  // --- users
  api.get<{ Querystring: { domain?: string; tenantId?: string; limit: number; offset: number } }>(
    '/users',
    {
      schema: {
        tags: ['users'],
        querystring: s.userListQuery,
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: s.userSchema }, total: { type: 'integer' }, limit: { type: 'integer' }, offset: { type: 'integer' } } }, ...errors },
      },
    },
    async (request) => {
      const { domain, tenantId, limit, offset } = request.query;
      return store.listUsers({ tenantId: listScope(request, tenantId), domain, limit, offset });
    },
  );
  api.post<{ Body: { username: string; domain: string; password: string; displayName?: string; enabled?: boolean } }>(
    '/users',
    { schema: { tags: ['users'], body: s.createUserBody, response: { 201: s.userSchema, ...errors } } },
    async (request, reply) => {
      const domainName = checkDomain(request.body.domain);
      const domain = await store.findDomain(domainName);
      if (domain === undefined) throw new InvalidFieldError('domain', `unknown domain ${domainName}`);
      requireTenant(request, domain.tenantId);
      return reply.status(201).send(await store.createUser(request.body));
    },
  );
  api.post<{ Querystring: { update: boolean; tenantId?: string } }>(
    '/users/import',
    {
      schema: {
        tags: ['users'],
        description: 'Body (text/csv): one `user@domain;password[;display name]` per line. Unknown domains are created under the tenant.',
        consumes: ['text/csv'],
        querystring: s.importQuery,
        response: { 200: s.importReportSchema, ...errors },
      },
    },
    async (request) => {
      if (!(request.body instanceof Readable)) throw new InvalidFieldError('body', 'send the users as Content-Type: text/csv');
      const tenantId = listScope(request, request.query.tenantId);
      if (tenantId !== undefined && (await store.findTenant(tenantId)) === undefined) throw new InvalidFieldError('tenantId', `unknown tenant ${tenantId}`);
      const lines = createInterface({ input: request.body, crlfDelay: Infinity });
      const report = await store.importUsers(lines, { tenantId, update: request.query.update });
      return { ...report, errorCount: report.errors.length, errors: report.errors.slice(0, MAX_ERRORS_IN_REPORT) };
    },
  );
  api.get<{ Params: { id: string } }>('/users/:id', { schema: { tags: ['users'], params: s.idParams, response: { 200: s.userSchema, ...errors } } }, async (request) => {
    const user = await store.getUser(request.params.id);
    requireTenant(request, user.tenantId);
    return user;
  });
  api.patch<{ Params: { id: string }; Body: { password?: string; displayName?: string | null; enabled?: boolean } }>(
    '/users/:id',
    { schema: { tags: ['users'], params: s.idParams, body: s.patchUserBody, response: { 200: s.userSchema, ...errors } } },
    async (request) => {
      const user = await store.getUser(request.params.id);
      requireTenant(request, user.tenantId);
      return store.updateUser(user.id, request.body);
    },
  );
  api.delete<{ Params: { id: string } }>('/users/:id', { schema: { tags: ['users'], params: s.idParams, response: errors } }, async (request, reply) => {
    const user = await store.getUser(request.params.id);
    requireTenant(request, user.tenantId);
    await store.deleteUser(user.id);
    return reply.status(204).send();
  });

  // --- registrations
  const registrations = (): RegistrationsPort => {
    if (options.registrations === undefined) throw new UnavailableError('registrations are not available on this node (no SIP role)');
    return options.registrations;
  };
  /** domains of the caller's tenant, or undefined for an operator who sees every AOR */
  const visibleDomains = async (request: FastifyRequest): Promise<Set<string> | undefined> => {
    const own = principal(request).tenantId;
    if (own === null) return undefined;
    return new Set((await store.listDomains(own)).map((d) => d.name));
  };
  api.get<{ Querystring: { aor?: string } }>(
    '/registrations',
    { schema: { tags: ['registrations'], querystring: { type: 'object', properties: { aor: { type: 'string', maxLength: 512 } } }, response: { 200: { type: 'array', items: s.registrationSchema }, ...errors } } },
    async (request) => {
      const port = registrations();
      const visible = await visibleDomains(request);
      const all = await port.list(request.query.aor);
      return visible === undefined ? all : all.filter((r) => visible.has(domainOfAor(r.aor) ?? ''));
    },
  );
  // operators only: a tenant's count would have to leave out other tenants' AORs
  api.get(
    '/registrations/count',
    { schema: { tags: ['registrations'], response: { 200: { type: 'object', properties: { aors: { type: 'integer' } }, required: ['aors'] }, ...errors } } },
    async (request) => {
      const port = registrations();
      if ((await visibleDomains(request)) !== undefined) throw new ForbiddenError('counting registrations needs an operator key');
      if (port.count === undefined) throw new UnavailableError('this node cannot count registrations');
      return { aors: await port.count() };
    },
  );
  api.delete<{ Params: { aor: string } }>(
    '/registrations/:aor',
    { schema: { tags: ['registrations'], params: s.aorParams, response: { 200: { type: 'object', properties: { removed: { type: 'integer' } } }, ...errors } } },
    async (request) => {
      const port = registrations();
      const visible = await visibleDomains(request);
      const domain = domainOfAor(request.params.aor);
      if (domain === undefined) throw new InvalidFieldError('aor', 'expected sip:user@domain');
      if (visible !== undefined && !visible.has(domain)) throw new ForbiddenError('this API key belongs to another tenant');
      const removed = await port.remove(request.params.aor);
      if (removed === 0) throw new NotFoundError(`no registration for ${request.params.aor}`);
      return { removed };
    },
  );
}

/** the host of sip:/sips: user@host[:port][;params], lower-cased; undefined when there is none */
export function domainOfAor(aor: string): string | undefined {
  const withoutScheme = aor.replace(/^sips?:/i, '');
  const at = withoutScheme.lastIndexOf('@');
  if (at < 0) return undefined;
  const hostPort = (withoutScheme.slice(at + 1).split(/[;?>]/)[0] ?? '').toLowerCase();
  const host = hostPort.startsWith('[') ? hostPort.slice(0, hostPort.indexOf(']') + 1) : (hostPort.split(':')[0] ?? '');
  return host === '' ? undefined : host;
}

const STATUS_OF: ReadonlyArray<[Function, number]> = [
  [UnauthorizedError, 401],
  [ForbiddenError, 403],
];

/**
 * One JSON error shape for the API: {error, field?, reason?}; validation failures name the field.
 * `special` answers errors only one set of routes knows (a refused dial plan lists its rules).
 */
export function sendError(err: FastifyError, request: FastifyRequest, reply: FastifyReply, log: Logger, special?: (err: FastifyError) => FastifyReply | undefined): FastifyReply {
  if (err.validation !== undefined && err.validation.length > 0) {
    const first = err.validation[0];
    const params = (first?.params ?? {}) as { missingProperty?: unknown; additionalProperty?: unknown };
    const path = (first?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const extra = typeof params.missingProperty === 'string' ? params.missingProperty : typeof params.additionalProperty === 'string' ? params.additionalProperty : '';
    const field = [path, extra].filter((p) => p !== '').join('.') || (err.validationContext ?? 'body');
    const reason = first?.message ?? 'invalid';
    return reply.status(400).send({ error: `invalid ${err.validationContext ?? 'request'}: ${field} ${reason}`, field, reason });
  }
  const answered = special?.(err);
  if (answered !== undefined) return answered;
  if (err instanceof InvalidFieldError) return reply.status(400).send({ error: err.message, field: err.field, reason: err.reason });
  const mapped = STATUS_OF.find(([type]) => err instanceof type)?.[1];
  if (mapped === 401) void reply.header('www-authenticate', 'Bearer');
  const status = mapped ?? (typeof err.statusCode === 'number' ? err.statusCode : httpStatusFor(err));
  if (status >= 500) log.error({ err: describeError(err), url: request.url, method: request.method }, 'API request failed');
  return reply.status(status).send({ error: status >= 500 && status !== 503 ? 'internal error' : describeError(err) });
}
