import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { NotFoundError, type Logger } from '../lib/index.js';
import { requireApiKeys } from './api-key-scope.js';
import { InvalidFieldError } from './errors.js';
import type { ProvisioningStore } from './provisioning-store.js';
import { sendError } from './rest-api.js';
import { telephonyErrorSchema } from './rest-telephony-schemas.js';
import * as s from './rest-vxml-apps-schemas.js';
import type { VxmlAppStore } from './vxml-app-store.js';
import { VXML_FILE_MAX_BYTES, type NewVxmlApp, type VxmlApp, type VxmlAppChanges } from './vxml-app-types.js';
import { checkFilePath, hostedAppUrl } from './vxml-app-validation.js';

export interface VxmlAppRoutesOptions {
  /** API keys and tenants */
  provisioning: ProvisioningStore;
  vxmlApps: VxmlAppStore;
  logger: Logger;
  /**
   * the base URL entryUrl is built on (e.g. behind a reverse proxy); default: the scheme and
   * Host of the request that asks
   */
  publicBaseUrl?: string | undefined;
}

/** how long a fetching platform may reuse a served file without asking again */
export const SERVED_MAX_AGE_SECONDS = 60;

const errors = { 400: telephonyErrorSchema, 401: telephonyErrorSchema, 403: telephonyErrorSchema, 404: telephonyErrorSchema, 409: telephonyErrorSchema, 413: telephonyErrorSchema };

/**
 * Hosted VoiceXML applications under /api/v1/apps, with the provisioning API's rules: every
 * route needs `Authorization: Bearer <API key>` (401 otherwise); a tenant's key acts for its
 * tenant only (403 elsewhere); an operator key acts for the tenant named by `tenantId`, for
 * the default tenant when it names none, and lists every tenant's applications.
 *
 * A file is uploaded as the raw request body (PUT, any content type, at most 10 MiB); the type
 * it is served with comes from its extension. Register after registerProvisioningRoutes() so
 * that @fastify/swagger documents these routes too.
 */
export async function registerVxmlAppRoutes(app: FastifyInstance, options: VxmlAppRoutesOptions): Promise<void> {
  await app.register(async (api) => appsApi(api, options), { prefix: '/api/v1' });
}

async function appsApi(api: FastifyInstance, options: VxmlAppRoutesOptions): Promise<void> {
  const { provisioning, vxmlApps } = options;
  const log = options.logger.child({ component: 'vxml-apps-api' });
  api.setErrorHandler((err: FastifyError, request, reply) => sendError(err, request, reply, log));
  const { listScope, actingTenant } = requireApiKeys(api, provisioning);
  const withUrl = (request: FastifyRequest, app: VxmlApp): VxmlApp & { entryUrl: string } => ({
    ...app,
    entryUrl: hostedAppUrl(options.publicBaseUrl ?? `${request.protocol}://${request.host}`, app.tenantName, app.name, app.entry),
  });

  type Scoped = { Querystring: { tenantId?: string } };
  type Named = Scoped & { Params: { name: string } };
  type FileRoute = Scoped & { Params: { name: string; '*': string } };

  api.get<Scoped>(
    '/apps',
    { schema: { tags: ['apps'], querystring: s.appTenantQuery, response: { 200: { type: 'array', items: s.appSchema }, ...errors } } },
    async (request) => (await vxmlApps.list(listScope(request, request.query.tenantId))).map((a) => withUrl(request, a)),
  );
  api.post<{ Body: NewVxmlApp & { tenantId?: string } }>(
    '/apps',
    { schema: { tags: ['apps'], body: s.createAppBody, response: { 201: s.appSchema, ...errors } } },
    async (request, reply) => {
      const { tenantId, ...input } = request.body;
      return reply.status(201).send(withUrl(request, await vxmlApps.create(await actingTenant(request, tenantId), input)));
    },
  );
  api.get<Named>(
    '/apps/:name',
    { schema: { tags: ['apps'], params: s.appNameParams, querystring: s.appTenantQuery, response: { 200: s.appSchema, ...errors } } },
    async (request) => withUrl(request, await vxmlApps.get(await actingTenant(request, request.query.tenantId), request.params.name)),
  );
  api.patch<Named & { Body: VxmlAppChanges }>(
    '/apps/:name',
    { schema: { tags: ['apps'], params: s.appNameParams, querystring: s.appTenantQuery, body: s.patchAppBody, response: { 200: s.appSchema, ...errors } } },
    async (request) => withUrl(request, await vxmlApps.update(await actingTenant(request, request.query.tenantId), request.params.name, request.body)),
  );
  api.delete<Named>(
    '/apps/:name',
    { schema: { tags: ['apps'], description: 'Deletes the application with all its files.', params: s.appNameParams, querystring: s.appTenantQuery, response: errors } },
    async (request, reply) => {
      await vxmlApps.delete(await actingTenant(request, request.query.tenantId), request.params.name);
      return reply.status(204).send();
    },
  );
  api.get<Named>(
    '/apps/:name/files',
    { schema: { tags: ['apps'], params: s.appNameParams, querystring: s.appTenantQuery, response: { 200: { type: 'array', items: s.appFileSchema }, ...errors } } },
    async (request) => vxmlApps.listFiles(await actingTenant(request, request.query.tenantId), request.params.name),
  );

  // file bodies are bytes whatever their Content-Type says (a .json file is stored, not parsed)
  await api.register(async (files) => {
    files.removeAllContentTypeParsers();
    files.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: VXML_FILE_MAX_BYTES }, (_request, body, done) => done(null, body));

    files.put<FileRoute & { Body: Buffer | undefined }>(
      '/apps/:name/files/*',
      {
        schema: {
          tags: ['apps'],
          description: 'Creates (201) or replaces (200) one file; the raw request body is the content (at most 10 MiB, any Content-Type). The extension picks the type it is served with: .vxml .grxml .gram .js .wav .ssml .xml .json .txt.',
          params: s.appFileParams,
          querystring: s.appTenantQuery,
          response: { 200: s.appFileSchema, 201: s.appFileSchema, ...errors },
        },
      },
      async (request, reply) => {
        const body = request.body;
        if (!Buffer.isBuffer(body)) throw new InvalidFieldError('body', 'send the file content as the request body');
        const tenantId = await actingTenant(request, request.query.tenantId);
        const { file, created } = await vxmlApps.putFile(tenantId, request.params.name, request.params['*'], body);
        return reply.status(created ? 201 : 200).send(file);
      },
    );
    files.get<FileRoute>(
      '/apps/:name/files/*',
      { schema: { tags: ['apps'], description: 'The file\'s content, with its content type and ETag.', params: s.appFileParams, querystring: s.appTenantQuery, response: errors } },
      async (request, reply) => {
        const file = await vxmlApps.getFile(await actingTenant(request, request.query.tenantId), request.params.name, request.params['*']);
        return reply.type(file.contentType).header('etag', `"${file.etag}"`).header('x-content-type-options', 'nosniff').send(file.content);
      },
    );
    files.delete<FileRoute>(
      '/apps/:name/files/*',
      { schema: { tags: ['apps'], params: s.appFileParams, querystring: s.appTenantQuery, response: errors } },
      async (request, reply) => {
        await vxmlApps.deleteFile(await actingTenant(request, request.query.tenantId), request.params.name, request.params['*']);
        return reply.status(204).send();
      },
    );
  });
}

export interface VxmlServingOptions {
  provisioning: ProvisioningStore;
  vxmlApps: VxmlAppStore;
  logger: Logger;
}

/**
 * GET and HEAD /vxml/{tenant}/{app}/{path}: the files of hosted applications, served without an
 * API key, as any web server serves VoiceXML to the platforms that fetch it (VoiceXML 2.1
 * fetches carry no credentials). Anyone who knows a tenant's and an application's names can
 * read its files, so they must hold nothing secret. A path that no application can hold ("..",
 * an extension not hosted) is 404 like a missing file. Each answer carries the content type of the
 * extension, the ETag (SHA-256 of the content) and Cache-Control max-age=60; If-None-Match with
 * a current tag answers 304 (RFC 9110 §13.1.2), without reading the content.
 */
export async function registerVxmlServingRoutes(app: FastifyInstance, options: VxmlServingOptions): Promise<void> {
  await app.register(async (served) => servingRoutes(served, options), { prefix: '/vxml' });
}

async function servingRoutes(served: FastifyInstance, options: VxmlServingOptions): Promise<void> {
  const { provisioning, vxmlApps } = options;
  const log = options.logger.child({ component: 'vxml-serving' });
  served.setErrorHandler((err: FastifyError, request, reply) => sendError(err, request, reply, log));

  served.get<{ Params: { tenant: string; app: string; '*': string } }>(
    '/:tenant/:app/*',
    {
      schema: {
        tags: ['apps'],
        summary: 'A hosted application\'s file (no API key)',
        description: 'What a VoiceXML platform fetches. ETag, Cache-Control: max-age=60; If-None-Match → 304.',
        security: [],
        params: s.servedFileParams,
        response: { 400: telephonyErrorSchema, 404: telephonyErrorSchema },
      },
    },
    async (request, reply) => {
      const { tenant: tenantName, app, '*': path } = request.params;
      // a path no application can hold (a dot segment, an extension not hosted) is simply not there
      if (!isServablePath(path)) throw new NotFoundError(`no file ${path}`);
      const tenant = await provisioning.findTenantByName(tenantName);
      if (tenant === undefined) throw new NotFoundError(`tenant ${tenantName} not found`);
      void reply.header('cache-control', `max-age=${SERVED_MAX_AGE_SECONDS}`).header('x-content-type-options', 'nosniff');
      const info = await vxmlApps.fileInfo(tenant.id, app, path);
      const tag = `"${info.etag}"`;
      if (etagMatches(request.headers['if-none-match'], tag)) return reply.status(304).header('etag', tag).send();
      const file = await vxmlApps.getFile(tenant.id, app, path);
      return reply.type(file.contentType).header('etag', `"${file.etag}"`).send(file.content);
    },
  );
}

function isServablePath(path: string): boolean {
  try {
    checkFilePath(path);
    return true;
  } catch (err) {
    if (err instanceof InvalidFieldError) return false;
    throw err;
  }
}

/** If-None-Match's weak comparison (RFC 9110 §13.1.2): "*" or any listed tag, W/ ignored */
export function etagMatches(header: string | undefined, tag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === tag);
}
