import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, silentLogger, type Logger } from '../lib/index.js';
import type { Bus, Database, Queryable } from '../platform/index.js';
import { ha1Pair } from './credentials.js';
import { InvalidFieldError } from './errors.js';
import { announceChange, isoTimestamp, jsonValue, optionalNumber, optionalString, type Row, type TelephonyChange } from './telephony-store-support.js';
import type { NewTrunk, Trunk, TrunkChanges, TrunkGateway, TrunkInboundCredentials, TrunkOutboundCredentials } from './telephony-types.js';
import {
  DEFAULT_TRUNK_REALM,
  checkAcl,
  checkAuthUsername,
  checkBalancing,
  checkCallerIdStyle,
  checkCountryCode,
  checkDirection,
  checkGateways,
  checkHa1,
  checkInteger,
  checkNumberFormat,
  checkRealm,
  checkSecret,
  checkTrunkName,
  addressInAcl,
} from './telephony-validation.js';

export interface TrunkStoreOptions {
  db: Database;
  /** when given, every change is announced on `telephony.changed` */
  bus?: Bus | undefined;
  logger?: Logger | undefined;
}

export const MAX_CALLS_PER_SECOND = 10_000;
export const MAX_CONCURRENT_CALLS = 1_000_000;
export const MAX_OPTIONS_PING_SECONDS = 86_400;

/** A trunk as stored: the public view plus its secrets (internal to the stores; never sent out). */
export interface StoredTrunk extends Omit<Trunk, 'id' | 'tenantId' | 'createdAt' | 'updatedAt' | 'inboundAuth' | 'outboundAuth'> {
  inbound: TrunkInboundCredentials | null;
  outbound: TrunkOutboundCredentials | null;
}

const COLUMNS = `id, tenant_id, name, direction, acl, inbound_username, inbound_realm, inbound_ha1_md5, inbound_ha1_sha256,
  gateways, balancing, outbound_username, outbound_password, outbound_realm, caller_id_style, number_format, country_code,
  options_ping_seconds, max_concurrent_calls, calls_per_second, enabled, created_at, updated_at`;

/**
 * SIP trunks of each tenant over the Database port. Writes are committed before the promise
 * resolves. Inbound digest credentials are kept as HA1 only; the outbound password is kept in
 * clear because answering a carrier's challenge needs it, and only outboundCredentials() reads it.
 */
export class TrunkStore {
  private readonly db: Database;
  private readonly bus: Bus | undefined;
  private readonly log: Logger;

  constructor(options: TrunkStoreOptions) {
    this.db = options.db;
    this.bus = options.bus;
    this.log = (options.logger ?? silentLogger).child({ component: 'trunks' });
  }

  async create(tenantId: string, input: NewTrunk): Promise<Trunk> {
    const t = normalizeTrunk(input, undefined);
    await requireTenant(this.db, tenantId);
    const params = [randomUUID(), tenantId, ...storedParams(t)];
    const result = await this.db.query(
      `INSERT INTO trunks (id, tenant_id, ${WRITABLE.join(', ')})
       VALUES (${params.map((_, i) => `$${i + 1}`).join(', ')})
       ON CONFLICT (tenant_id, name) DO NOTHING RETURNING ${COLUMNS}`,
      params,
    );
    const row = result.rows[0];
    if (row === undefined) throw new ConflictError(`trunk ${t.name} already exists`);
    const trunk = toTrunk(row);
    await this.announce({ kind: 'trunk', action: 'created', tenantId, id: trunk.id });
    return trunk;
  }

  /** one tenant's trunks, or every tenant's, by name */
  async list(tenantId?: string): Promise<Trunk[]> {
    const result =
      tenantId === undefined
        ? await this.db.query(`SELECT ${COLUMNS} FROM trunks ORDER BY name, tenant_id`)
        : await this.db.query(`SELECT ${COLUMNS} FROM trunks WHERE tenant_id = $1 ORDER BY name`, [tenantId]);
    return result.rows.map(toTrunk);
  }

  async find(id: string): Promise<Trunk | undefined> {
    const row = (await this.db.query(`SELECT ${COLUMNS} FROM trunks WHERE id = $1`, [id])).rows[0];
    return row === undefined ? undefined : toTrunk(row);
  }

  async get(id: string): Promise<Trunk> {
    const trunk = await this.find(id);
    if (trunk === undefined) throw new NotFoundError(`trunk ${id} not found`);
    return trunk;
  }

  async findByName(tenantId: string, name: string): Promise<Trunk | undefined> {
    const row = (await this.db.query(`SELECT ${COLUMNS} FROM trunks WHERE tenant_id = $1 AND name = $2`, [tenantId, name.trim()])).rows[0];
    return row === undefined ? undefined : toTrunk(row);
  }

  /** applies the changes to the stored trunk and checks the result as a whole */
  async update(id: string, changes: TrunkChanges): Promise<Trunk> {
    const trunk = await this.db.transaction(async (tx) => {
      const row = (await tx.query(`SELECT ${COLUMNS} FROM trunks WHERE id = $1 FOR UPDATE`, [id])).rows[0];
      if (row === undefined) throw new NotFoundError(`trunk ${id} not found`);
      const merged = normalizeTrunk(changes, toStored(row));
      const values = storedParams(merged);
      const sets = WRITABLE.map((column, i) => `${column} = $${i + 1}`).join(', ');
      const updated = await tx.query(`UPDATE trunks SET ${sets}, updated_at = now() WHERE id = $${values.length + 1} RETURNING ${COLUMNS}`, [...values, id]);
      const out = updated.rows[0];
      if (out === undefined) throw new NotFoundError(`trunk ${id} not found`);
      return toTrunk(out);
    });
    await this.announce({ kind: 'trunk', action: 'updated', tenantId: trunk.tenantId, id });
    return trunk;
  }

  /** refused (ConflictError) while DIDs are restricted to this trunk */
  async delete(id: string): Promise<void> {
    const tenantId = await this.db.transaction(async (tx) => {
      const dids = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM dids WHERE trunk_id = $1', [id]);
      const n = Number(dids.rows[0]?.n ?? 0);
      if (n > 0) throw new ConflictError(`trunk ${id} is used by ${n} DID(s); move or delete them first`);
      const row = (await tx.query('DELETE FROM trunks WHERE id = $1 RETURNING tenant_id', [id])).rows[0];
      if (row === undefined) throw new NotFoundError(`trunk ${id} not found`);
      return String(row.tenant_id);
    });
    await this.announce({ kind: 'trunk', action: 'deleted', tenantId, id });
  }

  /**
   * Enabled trunks, of any tenant, whose source ACL holds the address: how a request from a
   * carrier is recognised before any digest. Reads every trunk with an ACL; the calls layer caches
   * the answer and drops it on `telephony.changed`.
   */
  async findBySource(address: string): Promise<Trunk[]> {
    const result = await this.db.query(`SELECT ${COLUMNS} FROM trunks WHERE enabled AND direction <> 'outbound' AND jsonb_array_length(acl) > 0 ORDER BY name, tenant_id`);
    return result.rows.map(toTrunk).filter((t) => addressInAcl(address, t.acl));
  }

  /** what a digest response from the trunk's peer is checked against; undefined when it has none */
  async inboundCredentials(id: string): Promise<TrunkInboundCredentials | undefined> {
    const row = (await this.db.query(`SELECT ${COLUMNS} FROM trunks WHERE id = $1`, [id])).rows[0];
    return row === undefined ? undefined : (toStored(row).inbound ?? undefined);
  }

  /** the only reader of the outbound password: the SIP layer answering a carrier's 401/407 */
  async outboundCredentials(id: string): Promise<TrunkOutboundCredentials | undefined> {
    const row = (await this.db.query(`SELECT ${COLUMNS} FROM trunks WHERE id = $1`, [id])).rows[0];
    return row === undefined ? undefined : (toStored(row).outbound ?? undefined);
  }

  private announce(change: TelephonyChange): Promise<void> {
    return announceChange(this.bus, this.log, change);
  }
}

export async function requireTenant(db: Queryable, tenantId: string): Promise<void> {
  const found = await db.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId]);
  if (found.rows.length === 0) throw new InvalidFieldError('tenantId', `unknown tenant ${tenantId}`);
}

/** columns written by create and update, in the order of storedParams() */
const WRITABLE = [
  'name',
  'direction',
  'acl',
  'inbound_username',
  'inbound_realm',
  'inbound_ha1_md5',
  'inbound_ha1_sha256',
  'gateways',
  'balancing',
  'outbound_username',
  'outbound_password',
  'outbound_realm',
  'caller_id_style',
  'number_format',
  'country_code',
  'options_ping_seconds',
  'max_concurrent_calls',
  'calls_per_second',
  'enabled',
];

function storedParams(t: StoredTrunk): unknown[] {
  return [
    t.name,
    t.direction,
    JSON.stringify(t.acl),
    t.inbound?.username ?? null,
    t.inbound?.realm ?? null,
    t.inbound?.ha1Md5 ?? null,
    t.inbound?.ha1Sha256 ?? null,
    JSON.stringify(t.gateways),
    t.balancing,
    t.outbound?.username ?? null,
    t.outbound?.password ?? null,
    t.outbound?.realm ?? null,
    t.callerIdStyle,
    t.numberFormat,
    t.countryCode,
    t.optionsPingSeconds,
    t.maxConcurrentCalls,
    t.callsPerSecond,
    t.enabled,
  ];
}

function inboundFrom(input: NewTrunk['inboundAuth'], existing: TrunkInboundCredentials | null): TrunkInboundCredentials | null {
  if (input === null) return null;
  if (input === undefined) return existing;
  if (typeof input !== 'object') throw new InvalidFieldError('inboundAuth', 'must be an object or null');
  const username = checkAuthUsername(input.username, 'inboundAuth.username');
  const realm = checkRealm(input.realm ?? DEFAULT_TRUNK_REALM, 'inboundAuth.realm');
  if (input.password !== undefined) {
    // RFC 7616 §3.4.2: HA1 = H(username:realm:password); the password itself is dropped here
    const { ha1Md5, ha1Sha256 } = ha1Pair(username, realm, checkSecret(input.password, 'inboundAuth.password'));
    return { username, realm, ha1Md5, ha1Sha256 };
  }
  if (input.ha1Md5 === undefined || input.ha1Sha256 === undefined) {
    throw new InvalidFieldError('inboundAuth.password', 'is required (or both ha1Md5 and ha1Sha256)');
  }
  return { username, realm, ha1Md5: checkHa1(input.ha1Md5, 'inboundAuth.ha1Md5', false), ha1Sha256: checkHa1(input.ha1Sha256, 'inboundAuth.ha1Sha256', true) };
}

function outboundFrom(input: NewTrunk['outboundAuth'], existing: TrunkOutboundCredentials | null): TrunkOutboundCredentials | null {
  if (input === null) return null;
  if (input === undefined) return existing;
  if (typeof input !== 'object') throw new InvalidFieldError('outboundAuth', 'must be an object or null');
  return {
    username: checkAuthUsername(input.username, 'outboundAuth.username'),
    password: checkSecret(input.password, 'outboundAuth.password'),
    realm: input.realm === undefined || input.realm === null ? null : checkRealm(input.realm, 'outboundAuth.realm'),
  };
}

function nullableInteger(value: number | null | undefined, fallback: number | null, field: string, max: number): number | null {
  if (value === undefined) return fallback;
  if (value === null) return null;
  return checkInteger(value, field, 1, max);
}

function callsPerSecond(value: number | null | undefined, fallback: number | null): number | null {
  if (value === undefined) return fallback;
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_CALLS_PER_SECOND) {
    throw new InvalidFieldError('callsPerSecond', `must be a number above 0 and at most ${MAX_CALLS_PER_SECOND}`);
  }
  return value;
}

/**
 * A complete, checked trunk from new input or from changes over a stored trunk. The checks that
 * span fields run on the result, so a PATCH cannot leave a trunk that a POST would refuse.
 */
export function normalizeTrunk(input: TrunkChanges, existing: StoredTrunk | undefined): StoredTrunk {
  if (typeof input !== 'object' || input === null) throw new InvalidFieldError('body', 'must be an object');
  if (existing === undefined && input.name === undefined) throw new InvalidFieldError('name', 'is required');
  const name = input.name === undefined ? (existing?.name ?? '') : checkTrunkName(input.name);
  const gateways: TrunkGateway[] = input.gateways === undefined ? (existing?.gateways ?? []) : checkGateways(input.gateways);
  const acl = input.acl === undefined ? (existing?.acl ?? []) : checkAcl(input.acl);
  const inbound = inboundFrom(input.inboundAuth, existing?.inbound ?? null);
  const outbound = outboundFrom(input.outboundAuth, existing?.outbound ?? null);
  const direction = input.direction !== undefined ? checkDirection(input.direction) : (existing?.direction ?? (gateways.length > 0 ? 'both' : 'inbound'));
  const balancing = input.balancing !== undefined ? checkBalancing(input.balancing) : (existing?.balancing ?? 'failover');
  const callerIdStyle = input.callerIdStyle !== undefined ? checkCallerIdStyle(input.callerIdStyle) : (existing?.callerIdStyle ?? 'pai');
  const numberFormat = input.numberFormat !== undefined ? checkNumberFormat(input.numberFormat) : (existing?.numberFormat ?? 'e164');
  const countryCode = input.countryCode === undefined ? (existing?.countryCode ?? null) : input.countryCode === null ? null : checkCountryCode(input.countryCode);
  const optionsPingSeconds = input.optionsPingSeconds === undefined ? (existing?.optionsPingSeconds ?? 0) : checkInteger(input.optionsPingSeconds, 'optionsPingSeconds', 0, MAX_OPTIONS_PING_SECONDS);
  const maxConcurrentCalls = nullableInteger(input.maxConcurrentCalls, existing?.maxConcurrentCalls ?? null, 'maxConcurrentCalls', MAX_CONCURRENT_CALLS);
  const cps = callsPerSecond(input.callsPerSecond, existing?.callsPerSecond ?? null);
  if (input.enabled !== undefined && typeof input.enabled !== 'boolean') throw new InvalidFieldError('enabled', 'must be true or false');
  const enabled = input.enabled ?? existing?.enabled ?? true;

  if (direction !== 'inbound' && gateways.length === 0) throw new InvalidFieldError('gateways', `a trunk with direction ${direction} needs at least one gateway`);
  // a 'both' trunk may be recognised by its gateways' addresses; an inbound-only one has nothing else
  if (direction === 'inbound' && acl.length === 0 && inbound === null) throw new InvalidFieldError('acl', 'an inbound trunk needs a source ACL or inboundAuth');
  if (numberFormat === 'national' && countryCode === null) throw new InvalidFieldError('countryCode', 'is required by the national number format');
  if (balancing === 'weighted' && gateways.length > 0 && gateways.every((g) => g.weight === 0)) throw new InvalidFieldError('gateways', 'weighted balancing needs a gateway with a weight above 0');

  return { name, direction, acl, inbound, gateways, balancing, outbound, callerIdStyle, numberFormat, countryCode, optionsPingSeconds, maxConcurrentCalls, callsPerSecond: cps, enabled };
}

function toStored(row: Row): StoredTrunk {
  const inboundUser = optionalString(row.inbound_username);
  const outboundUser = optionalString(row.outbound_username);
  return {
    name: String(row.name),
    direction: row.direction as Trunk['direction'],
    acl: jsonValue(row.acl) as string[],
    inbound:
      inboundUser === null
        ? null
        : { username: inboundUser, realm: String(row.inbound_realm), ha1Md5: String(row.inbound_ha1_md5), ha1Sha256: String(row.inbound_ha1_sha256) },
    gateways: jsonValue(row.gateways) as TrunkGateway[],
    balancing: row.balancing as Trunk['balancing'],
    outbound: outboundUser === null ? null : { username: outboundUser, password: String(row.outbound_password), realm: optionalString(row.outbound_realm) },
    callerIdStyle: row.caller_id_style as Trunk['callerIdStyle'],
    numberFormat: row.number_format as Trunk['numberFormat'],
    countryCode: optionalString(row.country_code),
    optionsPingSeconds: Number(row.options_ping_seconds),
    maxConcurrentCalls: optionalNumber(row.max_concurrent_calls),
    callsPerSecond: optionalNumber(row.calls_per_second),
    enabled: row.enabled === true,
  };
}

/** the public view: secrets stay behind */
function toTrunk(row: Row): Trunk {
  const { inbound, outbound, ...rest } = toStored(row);
  return {
    id: String(row.id),
    tenantId: String(row.tenant_id),
    ...rest,
    inboundAuth: inbound === null ? null : { username: inbound.username, realm: inbound.realm },
    outboundAuth: outbound === null ? null : { username: outbound.username, realm: outbound.realm },
    createdAt: isoTimestamp(row.created_at),
    updatedAt: isoTimestamp(row.updated_at),
  };
}
