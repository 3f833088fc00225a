import { VXML_APP_DESCRIPTION_MAX, VXML_FILE_PATH_MAX } from './vxml-app-types.js';

/**
 * JSON schemas of the hosted-application API. fastify validates requests with them and
 * serialises responses through them; @fastify/swagger publishes them at /openapi.json. The
 * store checks the finer rules (path segments, extensions, sizes) and names the field.
 */
export const appNameParams = {
  type: 'object',
  properties: { name: { type: 'string', pattern: '^[a-z0-9-]{1,64}$', description: 'the application name' } },
  required: ['name'],
} as const;

export const appFileParams = {
  type: 'object',
  properties: {
    name: appNameParams.properties.name,
    '*': { type: 'string', maxLength: VXML_FILE_PATH_MAX, description: 'the file path inside the application, e.g. grammars/yesno.grxml' },
  },
  required: ['name', '*'],
} as const;

export const appTenantQuery = {
  type: 'object',
  properties: { tenantId: { type: 'string', maxLength: 100, description: 'operator keys only; default: every tenant when listing, else the default tenant' } },
  additionalProperties: false,
} as const;

const appFields = {
  description: { type: 'string', maxLength: VXML_APP_DESCRIPTION_MAX },
  entry: { type: 'string', minLength: 1, maxLength: VXML_FILE_PATH_MAX, description: 'the document a call starts with; default main.vxml' },
} as const;

export const createAppBody = {
  type: 'object',
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9-]{1,64}$', description: '1 to 64 characters of a-z, 0-9 and "-"' },
    ...appFields,
    tenantId: { type: 'string', minLength: 1, maxLength: 100, description: 'operator keys only; default: the default tenant' },
  },
  required: ['name'],
  additionalProperties: false,
} as const;

export const patchAppBody = { type: 'object', properties: appFields, additionalProperties: false } as const;

export const appSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    tenantId: { type: 'string' },
    tenantName: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    entry: { type: 'string' },
    fileCount: { type: 'integer' },
    totalBytes: { type: 'integer' },
    entryUrl: { type: 'string', description: 'where this server serves the entry document (GET /vxml/{tenant}/{app}/{entry})' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'tenantId', 'tenantName', 'name', 'description', 'entry', 'fileCount', 'totalBytes', 'createdAt', 'updatedAt'],
} as const;

export const appFileSchema = {
  type: 'object',
  properties: {
    path: { type: 'string' },
    contentType: { type: 'string' },
    size: { type: 'integer' },
    etag: { type: 'string', description: 'SHA-256 of the content, hexadecimal' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  required: ['path', 'contentType', 'size', 'etag', 'createdAt', 'updatedAt'],
} as const;

export const servedFileParams = {
  type: 'object',
  properties: {
    tenant: { type: 'string', minLength: 1, maxLength: 100, description: 'the tenant name' },
    app: { type: 'string', minLength: 1, maxLength: 64 },
    '*': { type: 'string', maxLength: VXML_FILE_PATH_MAX },
  },
  required: ['tenant', 'app', '*'],
} as const;
