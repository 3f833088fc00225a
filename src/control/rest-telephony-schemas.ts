import { CDR_PAGE_MAX } from './cdr-store.js';
import { BALANCING_MODES, CALLER_ID_STYLES, GATEWAY_TRANSPORTS, NUMBER_FORMATS, TARGET_TYPES, TRUNK_DIRECTIONS } from './telephony-types.js';
import { MAX_ACL_ENTRIES, MAX_GATEWAYS, TRUNK_NAME_MAX } from './telephony-validation.js';

/**
 * JSON schemas of the telephony API (trunks, DIDs, dial plan, CDRs). fastify validates requests
 * with them and serialises responses through them, so a property missing here (a password) can
 * never leave the server; @fastify/swagger publishes them at /openapi.json. The stores check
 * the finer rules (CIDRs, host names, cross-field rules) and name the field on failure.
 */
export const telephonyErrorSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    field: { type: 'string' },
    reason: { type: 'string' },
    errors: {
      type: 'array',
      description: 'every problem of a refused dial plan',
      items: { type: 'object', properties: { rule: { type: 'string' }, path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
  required: ['error'],
} as const;

const nullable = (schema: Record<string, unknown>) => ({ ...schema, nullable: true });

const gatewaySchema = {
  type: 'object',
  properties: {
    host: { type: 'string', minLength: 1, maxLength: 255, description: 'host name, IPv4 or IPv6 address' },
    port: { type: 'integer', minimum: 1, maximum: 65535, description: 'default 5060, 5061 for TLS' },
    transport: { type: 'string', enum: GATEWAY_TRANSPORTS, description: 'default udp' },
    weight: { type: 'integer', minimum: 0, maximum: 65535, description: 'share under weighted balancing; default 1' },
    priority: { type: 'integer', minimum: 0, maximum: 65535, description: 'lower first under failover; default 0' },
    responseTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 32, description: 'seconds without any response to an INVITE (not even 100 Trying) before the next gateway is tried; default Timer B (32 s)' },
  },
  required: ['host'],
  additionalProperties: false,
} as const;

const gatewayOut = { ...gatewaySchema, required: ['host', 'port', 'transport', 'weight', 'priority'] } as const;

const inboundAuthBody = nullable({
  type: 'object',
  description: 'digest credentials the peer authenticates with; stored as HA1 only',
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 128 },
    realm: { type: 'string', minLength: 1, maxLength: 255, description: 'default "opencx"' },
    password: { type: 'string', minLength: 1, maxLength: 256 },
    ha1Md5: { type: 'string', pattern: '^[0-9a-fA-F]{32}$' },
    ha1Sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
  },
  required: ['username'],
  additionalProperties: false,
});

const outboundAuthBody = nullable({
  type: 'object',
  description: 'credentials for answering the carrier\'s challenges; the password is never returned',
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 128 },
    password: { type: 'string', minLength: 1, maxLength: 256 },
    realm: { type: 'string', minLength: 1, maxLength: 255, nullable: true },
  },
  required: ['username', 'password'],
  additionalProperties: false,
});

const trunkFields = {
  name: { type: 'string', minLength: 1, maxLength: TRUNK_NAME_MAX },
  direction: { type: 'string', enum: TRUNK_DIRECTIONS },
  acl: { type: 'array', maxItems: MAX_ACL_ENTRIES, items: { type: 'string', minLength: 1, maxLength: 64 }, description: 'source CIDRs (IPv4/IPv6) allowed in' },
  inboundAuth: inboundAuthBody,
  gateways: { type: 'array', maxItems: MAX_GATEWAYS, items: gatewaySchema },
  balancing: { type: 'string', enum: BALANCING_MODES },
  outboundAuth: outboundAuthBody,
  callerIdStyle: { type: 'string', enum: CALLER_ID_STYLES },
  numberFormat: { type: 'string', enum: NUMBER_FORMATS },
  countryCode: { type: 'string', pattern: '^\\+?[1-9][0-9]{0,2}$', nullable: true },
  optionsPingSeconds: { type: 'integer', minimum: 0, maximum: 86400, description: '0 = no OPTIONS pings' },
  maxConcurrentCalls: { type: 'integer', minimum: 1, nullable: true, description: 'null = unlimited' },
  callsPerSecond: { type: 'number', exclusiveMinimum: 0, maximum: 10000, nullable: true, description: 'null = unlimited' },
  enabled: { type: 'boolean' },
} as const;

export const createTrunkBody = { type: 'object', properties: trunkFields, required: ['name'], additionalProperties: false } as const;
export const patchTrunkBody = { type: 'object', properties: trunkFields, additionalProperties: false } as const;

export const trunkSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    tenantId: { type: 'string' },
    name: { type: 'string' },
    direction: { type: 'string', enum: TRUNK_DIRECTIONS },
    acl: { type: 'array', items: { type: 'string' } },
    inboundAuth: nullable({ type: 'object', properties: { username: { type: 'string' }, realm: { type: 'string' } } }),
    gateways: { type: 'array', items: gatewayOut },
    balancing: { type: 'string', enum: BALANCING_MODES },
    outboundAuth: nullable({ type: 'object', properties: { username: { type: 'string' }, realm: { type: 'string', nullable: true } } }),
    callerIdStyle: { type: 'string', enum: CALLER_ID_STYLES },
    numberFormat: { type: 'string', enum: NUMBER_FORMATS },
    countryCode: { type: 'string', nullable: true },
    optionsPingSeconds: { type: 'integer' },
    maxConcurrentCalls: { type: 'integer', nullable: true },
    callsPerSecond: { type: 'number', nullable: true },
    enabled: { type: 'boolean' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'tenantId', 'name', 'direction', 'acl', 'inboundAuth', 'gateways', 'balancing', 'outboundAuth', 'callerIdStyle', 'numberFormat', 'enabled', 'createdAt', 'updatedAt'],
} as const;

export const targetSchema = {
  type: 'object',
  description:
    'where calls go: {type: user, user: "alice@example.com"} | {type: ring-group, strategy: simultaneous|sequential, members: [..]} | {type: trunk, trunk} | {type: vxml, url} | {type: vxml, app: "name"} (a hosted application of the same tenant) | {type: voicemail, mailbox} | {type: number, number} | {type: reject, status, reason?}',
  properties: { type: { type: 'string', enum: TARGET_TYPES } },
  required: ['type'],
  additionalProperties: true,
} as const;

export const createDidBody = {
  type: 'object',
  properties: {
    number: { type: 'string', minLength: 1, maxLength: 32, description: 'E.164, e.g. +15551234567' },
    target: targetSchema,
    tenantId: { type: 'string', minLength: 1, maxLength: 100, description: 'operator keys only; default: the default tenant' },
    trunkId: { type: 'string', minLength: 1, maxLength: 100, nullable: true, description: 'match only calls from this trunk' },
  },
  required: ['number', 'target'],
  additionalProperties: false,
} as const;

export const patchDidBody = {
  type: 'object',
  properties: { target: targetSchema, trunkId: createDidBody.properties.trunkId },
  additionalProperties: false,
} as const;

export const didSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    tenantId: { type: 'string' },
    number: { type: 'string' },
    target: targetSchema,
    trunkId: { type: 'string', nullable: true },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'tenantId', 'number', 'target', 'trunkId', 'createdAt', 'updatedAt'],
} as const;

export const dialPlanSchema = {
  type: 'object',
  properties: {
    tenantId: { type: 'string' },
    version: { type: 'integer', description: '0 when no plan was ever set' },
    document: { description: 'the rules document as it was stored' },
    updatedAt: { type: 'string', format: 'date-time', nullable: true },
  },
  required: ['tenantId', 'version', 'document', 'updatedAt'],
} as const;

export const dialPlanQuery = {
  type: 'object',
  properties: {
    tenantId: { type: 'string', maxLength: 100 },
    expectedVersion: { type: 'integer', minimum: 0, description: 'PUT only: refuse (409) unless the stored plan is at this version' },
  },
  additionalProperties: false,
} as const;

export const tenantQuery = {
  type: 'object',
  properties: { tenantId: { type: 'string', maxLength: 100 } },
  additionalProperties: false,
} as const;

export const didListQuery = {
  type: 'object',
  properties: { tenantId: { type: 'string', maxLength: 100 }, number: { type: 'string', maxLength: 32 } },
  additionalProperties: false,
} as const;

export const cdrSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    tenantId: { type: 'string' },
    kind: { type: 'string', enum: ['call', 'leg'] },
    callId: { type: 'string' },
    legId: { type: 'string', nullable: true },
    direction: { type: 'string', enum: ['inbound', 'outbound', 'internal'] },
    fromNumber: { type: 'string', nullable: true },
    toNumber: { type: 'string', nullable: true },
    trunkId: { type: 'string', nullable: true },
    setupAt: { type: 'string', format: 'date-time' },
    answerAt: { type: 'string', format: 'date-time', nullable: true },
    endAt: { type: 'string', format: 'date-time', nullable: true },
    durationSeconds: { type: 'integer' },
    billableSeconds: { type: 'integer' },
    sipStatus: { type: 'integer', nullable: true },
    reason: { type: 'string', nullable: true },
    hangupBy: { type: 'string', enum: ['caller', 'callee', 'system'], nullable: true },
    codec: { type: 'string', nullable: true },
    packetsLost: { type: 'integer', nullable: true },
    jitterMs: { type: 'number', nullable: true },
    rttMs: { type: 'number', nullable: true },
    recordingKey: { type: 'string', nullable: true },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'tenantId', 'kind', 'callId', 'direction', 'setupAt', 'durationSeconds', 'billableSeconds'],
} as const;

export const cdrListQuery = {
  type: 'object',
  properties: {
    tenantId: { type: 'string', maxLength: 100 },
    since: { type: 'string', format: 'date-time', description: 'setup time at or after' },
    until: { type: 'string', format: 'date-time', description: 'setup time before' },
    number: { type: 'string', maxLength: 128, description: 'from or to number' },
    trunkId: { type: 'string', maxLength: 100 },
    kind: { type: 'string', enum: ['call', 'leg'] },
    order: { type: 'string', enum: ['asc', 'desc'], default: 'desc' },
    limit: { type: 'integer', minimum: 1, maximum: CDR_PAGE_MAX, default: 100 },
    cursor: { type: 'string', maxLength: 1000, description: 'nextCursor of the previous page' },
  },
  additionalProperties: false,
} as const;

export const cdrPageSchema = {
  type: 'object',
  properties: { items: { type: 'array', items: cdrSchema }, nextCursor: { type: 'string', nullable: true } },
  required: ['items', 'nextCursor'],
} as const;

export const callIdParams = {
  type: 'object',
  properties: { callId: { type: 'string', minLength: 1, maxLength: 256 } },
  required: ['callId'],
} as const;
