import { DISPLAY_NAME_MAX, PASSWORD_MAX, USERNAME_MAX } from './credentials.js';

/**
 * JSON schemas of the provisioning API: fastify's ajv validates requests with them and
 * @fastify/swagger turns them into /openapi.json, so the documentation cannot drift from what
 * the server accepts.
 */
export const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    field: { type: 'string' },
    reason: { type: 'string' },
  },
  required: ['error'],
} as const;

export const tenantSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } },
  required: ['id', 'name', 'createdAt'],
} as const;

export const domainSchema = {
  type: 'object',
  properties: { name: { type: 'string' }, tenantId: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } },
  required: ['name', 'tenantId', 'createdAt'],
} as const;

export const userSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    tenantId: { type: 'string' },
    username: { type: 'string' },
    domain: { type: 'string' },
    displayName: { type: ['string', 'null'] },
    enabled: { type: 'boolean' },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'tenantId', 'username', 'domain', 'displayName', 'enabled', 'createdAt'],
} as const;

export const registrationSchema = {
  type: 'object',
  properties: {
    aor: { type: 'string' },
    contact: { type: 'string' },
    expiresAt: { type: 'string', format: 'date-time' },
    userAgent: { type: 'string' },
    received: { type: 'string' },
    instanceId: { type: 'string' },
  },
  required: ['aor', 'contact', 'expiresAt'],
} as const;

export const createTenantBody = {
  type: 'object',
  properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
  required: ['name'],
  additionalProperties: false,
} as const;

export const createDomainBody = {
  type: 'object',
  properties: { name: { type: 'string', minLength: 1, maxLength: 255 }, tenantId: { type: 'string', minLength: 1, maxLength: 100 } },
  required: ['name'],
  additionalProperties: false,
} as const;

export const createUserBody = {
  type: 'object',
  properties: {
    username: { type: 'string', minLength: 1, maxLength: USERNAME_MAX },
    domain: { type: 'string', minLength: 1, maxLength: 255 },
    password: { type: 'string', minLength: 1, maxLength: PASSWORD_MAX },
    displayName: { type: 'string', maxLength: DISPLAY_NAME_MAX },
    enabled: { type: 'boolean' },
  },
  required: ['username', 'domain', 'password'],
  additionalProperties: false,
} as const;

export const patchUserBody = {
  type: 'object',
  properties: {
    password: { type: 'string', minLength: 1, maxLength: PASSWORD_MAX },
    displayName: { type: ['string', 'null'], maxLength: DISPLAY_NAME_MAX },
    enabled: { type: 'boolean' },
  },
  additionalProperties: false,
} as const;

export const userListQuery = {
  type: 'object',
  properties: {
    domain: { type: 'string', maxLength: 255 },
    tenantId: { type: 'string', maxLength: 100 },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
    offset: { type: 'integer', minimum: 0, default: 0 },
  },
  additionalProperties: false,
} as const;

export const importQuery = {
  type: 'object',
  properties: {
    update: { type: 'boolean', default: false },
    tenantId: { type: 'string', maxLength: 100 },
  },
  additionalProperties: false,
} as const;

export const importReportSchema = {
  type: 'object',
  properties: {
    imported: { type: 'integer' },
    updated: { type: 'integer' },
    skipped: { type: 'integer' },
    errorCount: { type: 'integer' },
    errors: { type: 'array', items: { type: 'object', properties: { line: { type: 'integer' }, reason: { type: 'string' } } } },
    createdDomains: { type: 'array', items: { type: 'string' } },
  },
} as const;

export const idParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 100 } },
  required: ['id'],
} as const;

export const nameParams = {
  type: 'object',
  properties: { name: { type: 'string', minLength: 1, maxLength: 255 } },
  required: ['name'],
} as const;

export const aorParams = {
  type: 'object',
  properties: { aor: { type: 'string', minLength: 1, maxLength: 512 } },
  required: ['aor'],
} as const;
