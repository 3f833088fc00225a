import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, silentLogger, type Logger } from '../lib/index.js';
import type { Bus, Database, Queryable } from '../platform/index.js';
import { InvalidFieldError } from './errors.js';
import { announceChange, isoTimestamp, jsonValue, optionalString, type Row } from './telephony-store-support.js';
import type { CallTarget, Did, DidChanges, NewDid } from './telephony-types.js';
import { checkE164, checkTarget } from './telephony-validation.js';
import { requireTenant } from './trunk-store.js';

export interface DidStoreOptions {
  db: Database;
  bus?: Bus | undefined;
  logger?: Logger | undefined;
}

const COLUMNS = 'id, tenant_id, number, target, trunk_id, created_at, updated_at';

/**
 * Inbound numbers (DIDs) of each tenant and where they send calls. A number is unique within a
 * tenant; a DID restricted to a trunk matches only calls that arrived on it.
 */
export class DidStore {
  private readonly db: Database;
  private readonly bus: Bus | undefined;
  private readonly log: Logger;

  constructor(options: DidStoreOptions) {
    this.db = options.db;
    this.bus = options.bus;
    this.log = (options.logger ?? silentLogger).child({ component: 'dids' });
  }

  async create(tenantId: string, input: NewDid): Promise<Did> {
    if (typeof input !== 'object' || input === null) throw new InvalidFieldError('body', 'must be an object');
    if (typeof input.number !== 'string') throw new InvalidFieldError('number', 'is required');
    const number = checkE164(input.number);
    const target = checkTarget(input.target);
    await requireTenant(this.db, tenantId);
    const trunkId = await checkTrunk(this.db, tenantId, input.trunkId ?? null);
    const result = await this.db.query(
      `INSERT INTO dids (id, tenant_id, number, target, trunk_id) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, number) DO NOTHING RETURNING ${COLUMNS}`,
      [randomUUID(), tenantId, number, JSON.stringify(target), trunkId],
    );
    const row = result.rows[0];
    if (row === undefined) throw new ConflictError(`DID ${number} already exists`);
    const did = toDid(row);
    await announceChange(this.bus, this.log, { kind: 'did', action: 'created', tenantId, id: did.id });
    return did;
  }

  /** one tenant's DIDs (or every tenant's), by number; `number` narrows to one number */
  async list(filter: { tenantId?: string | undefined; number?: string | undefined } = {}): Promise<Did[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.tenantId !== undefined) {
      params.push(filter.tenantId);
      where.push(`tenant_id = $${params.length}`);
    }
    if (filter.number !== undefined) {
      params.push(checkE164(filter.number));
      where.push(`number = $${params.length}`);
    }
    const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
    const result = await this.db.query(`SELECT ${COLUMNS} FROM dids ${clause} ORDER BY number, tenant_id`, params);
    return result.rows.map(toDid);
  }

  async find(id: string): Promise<Did | undefined> {
    const row = (await this.db.query(`SELECT ${COLUMNS} FROM dids WHERE id = $1`, [id])).rows[0];
    return row === undefined ? undefined : toDid(row);
  }

  async get(id: string): Promise<Did> {
    const did = await this.find(id);
    if (did === undefined) throw new NotFoundError(`DID ${id} not found`);
    return did;
  }

  async findByNumber(tenantId: string, number: string): Promise<Did | undefined> {
    const row = (await this.db.query(`SELECT ${COLUMNS} FROM dids WHERE tenant_id = $1 AND number = $2`, [tenantId, checkE164(number)])).rows[0];
    return row === undefined ? undefined : toDid(row);
  }

  async update(id: string, changes: DidChanges): Promise<Did> {
    if (typeof changes !== 'object' || changes === null) throw new InvalidFieldError('body', 'must be an object');
    const did = await this.get(id);
    const target = changes.target === undefined ? did.target : checkTarget(changes.target);
    const trunkId = changes.trunkId === undefined ? did.trunkId : await checkTrunk(this.db, did.tenantId, changes.trunkId);
    const row = (
      await this.db.query(`UPDATE dids SET target = $1, trunk_id = $2, updated_at = now() WHERE id = $3 RETURNING ${COLUMNS}`, [JSON.stringify(target), trunkId, id])
    ).rows[0];
    if (row === undefined) throw new NotFoundError(`DID ${id} not found`);
    await announceChange(this.bus, this.log, { kind: 'did', action: 'updated', tenantId: did.tenantId, id });
    return toDid(row);
  }

  async delete(id: string): Promise<void> {
    const row = (await this.db.query('DELETE FROM dids WHERE id = $1 RETURNING tenant_id', [id])).rows[0];
    if (row === undefined) throw new NotFoundError(`DID ${id} not found`);
    await announceChange(this.bus, this.log, { kind: 'did', action: 'deleted', tenantId: String(row.tenant_id), id });
  }
}

/** a trunk of the same tenant, or null; another tenant's trunk is as unknown as a missing one */
async function checkTrunk(db: Queryable, tenantId: string, trunkId: string | null): Promise<string | null> {
  if (trunkId === null) return null;
  if (typeof trunkId !== 'string' || trunkId === '') throw new InvalidFieldError('trunkId', 'must be a trunk id or null');
  const found = await db.query('SELECT 1 FROM trunks WHERE id = $1 AND tenant_id = $2', [trunkId, tenantId]);
  if (found.rows.length === 0) throw new InvalidFieldError('trunkId', `unknown trunk ${trunkId}`);
  return trunkId;
}

function toDid(row: Row): Did {
  return {
    id: String(row.id),
    tenantId: String(row.tenant_id),
    number: String(row.number),
    target: jsonValue(row.target) as CallTarget,
    trunkId: optionalString(row.trunk_id),
    createdAt: isoTimestamp(row.created_at),
    updatedAt: isoTimestamp(row.updated_at),
  };
}
