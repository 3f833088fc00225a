import { randomBytes, randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, silentLogger, type Logger } from '../lib/index.js';
import type { Bus, Database } from '../platform/index.js';
import { apiKeyHash, checkDomain, checkPassword, checkUsername, ha1Pair, normalizeDomain, DISPLAY_NAME_MAX } from './credentials.js';
import { publishChange } from './change-notice.js';
import { InvalidFieldError } from './errors.js';
import { importUsers } from './user-import.js';
import {
  PROVISIONING_CHANGED_TOPIC,
  type ApiKeyInfo,
  type CreatedApiKey,
  type Domain,
  type ImportOptions,
  type ImportReport,
  type NewUser,
  type ProvisioningChange,
  type Tenant,
  type User,
  type UserChanges,
  type UserCredentials,
  type UserPage,
  type UserQuery,
} from './types.js';

export interface ProvisioningStoreOptions {
  db: Database;
  /** when given, every change to domains and users is announced on `provisioning.changed` */
  bus?: Bus | undefined;
  logger?: Logger | undefined;
}

/** The tenant a single-tenant installation runs under without configuring anything. */
export const DEFAULT_TENANT_NAME = 'default';

type Row = Record<string, unknown>;

const USER_COLUMNS = 'id, tenant_id, username, domain, display_name, enabled, created_at';

/**
 * Tenants, domains, users and API keys over the Database port. Writes are committed before the
 * promise resolves (DESIGN.md: provisioning must never be lost); the bus event that follows is a
 * cache hint only, so a failing bus is logged and never fails the write.
 */
export class ProvisioningStore {
  private readonly db: Database;
  private readonly bus: Bus | undefined;
  private readonly log: Logger;

  constructor(options: ProvisioningStoreOptions) {
    this.db = options.db;
    this.bus = options.bus;
    this.log = (options.logger ?? silentLogger).child({ component: 'provisioning' });
  }

  // --- tenants

  async createTenant(name: string): Promise<Tenant> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 100) throw new InvalidFieldError('name', 'must be 1 to 100 characters');
    const result = await this.db.query(
      'INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id, name, created_at',
      [randomUUID(), trimmed],
    );
    const row = result.rows[0];
    if (row === undefined) throw new ConflictError(`tenant ${trimmed} already exists`);
    const tenant = toTenant(row);
    await this.announce({ kind: 'tenant', action: 'created', tenantId: tenant.id });
    return tenant;
  }

  async listTenants(): Promise<Tenant[]> {
    const result = await this.db.query('SELECT id, name, created_at FROM tenants ORDER BY name');
    return result.rows.map(toTenant);
  }

  async findTenant(id: string): Promise<Tenant | undefined> {
    const result = await this.db.query('SELECT id, name, created_at FROM tenants WHERE id = $1', [id]);
    const row = result.rows[0];
    return row === undefined ? undefined : toTenant(row);
  }

  async findTenantByName(name: string): Promise<Tenant | undefined> {
    const result = await this.db.query('SELECT id, name, created_at FROM tenants WHERE name = $1', [name]);
    const row = result.rows[0];
    return row === undefined ? undefined : toTenant(row);
  }

  async getTenant(id: string): Promise<Tenant> {
    const tenant = await this.findTenant(id);
    if (tenant === undefined) throw new NotFoundError(`tenant ${id} not found`);
    return tenant;
  }

  /** deletes the tenant with its domains, users and API keys (ON DELETE CASCADE) */
  async deleteTenant(id: string): Promise<void> {
    const result = await this.db.query('DELETE FROM tenants WHERE id = $1 RETURNING id', [id]);
    if (result.rows.length === 0) throw new NotFoundError(`tenant ${id} not found`);
    await this.announce({ kind: 'tenant', action: 'deleted', tenantId: id });
  }

  /**
   * A single-tenant operator configures nothing: the 'default' tenant exists and owns the
   * server's own addresses and host names (the caller passes them), so phones can register
   * against whatever name they were pointed at. Host names already owned by another tenant stay
   * with it. Idempotent.
   */
  async ensureDefaultTenant(hostnames: readonly string[]): Promise<Tenant> {
    let tenant = await this.findTenantByName(DEFAULT_TENANT_NAME);
    if (tenant === undefined) {
      await this.db.query('INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [randomUUID(), DEFAULT_TENANT_NAME]);
      tenant = await this.findTenantByName(DEFAULT_TENANT_NAME);
      if (tenant === undefined) throw new ConflictError('default tenant vanished while being created');
    }
    const added: string[] = [];
    for (const host of hostnames) {
      const name = normalizeDomain(host);
      if (name === '') continue;
      const result = await this.db.query('INSERT INTO domains (name, tenant_id) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING name', [name, tenant.id]);
      if (result.rows.length > 0) added.push(name);
    }
    if (added.length > 0) {
      this.log.info({ tenant: tenant.id, domains: added }, 'default tenant answers for these domains');
      await this.announce({ kind: 'domain', action: 'created', tenantId: tenant.id, domains: added });
    }
    return tenant;
  }

  // --- domains

  async createDomain(name: string, tenantId: string): Promise<Domain> {
    const normalized = checkDomain(name, 'name');
    await this.getTenant(tenantId);
    const result = await this.db.query(
      'INSERT INTO domains (name, tenant_id) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING name, tenant_id, created_at',
      [normalized, tenantId],
    );
    const row = result.rows[0];
    if (row === undefined) throw new ConflictError(`domain ${normalized} already exists`);
    await this.announce({ kind: 'domain', action: 'created', tenantId, domain: normalized });
    return toDomain(row);
  }

  async listDomains(tenantId?: string): Promise<Domain[]> {
    const result =
      tenantId === undefined
        ? await this.db.query('SELECT name, tenant_id, created_at FROM domains ORDER BY name')
        : await this.db.query('SELECT name, tenant_id, created_at FROM domains WHERE tenant_id = $1 ORDER BY name', [tenantId]);
    return result.rows.map(toDomain);
  }

  async findDomain(name: string): Promise<Domain | undefined> {
    const result = await this.db.query('SELECT name, tenant_id, created_at FROM domains WHERE name = $1', [normalizeDomain(name)]);
    const row = result.rows[0];
    return row === undefined ? undefined : toDomain(row);
  }

  async getDomain(name: string): Promise<Domain> {
    const domain = await this.findDomain(name);
    if (domain === undefined) throw new NotFoundError(`domain ${normalizeDomain(name)} not found`);
    return domain;
  }

  /** deletes the domain and its users */
  async deleteDomain(name: string): Promise<void> {
    const normalized = normalizeDomain(name);
    const result = await this.db.query('DELETE FROM domains WHERE name = $1 RETURNING tenant_id', [normalized]);
    const row = result.rows[0];
    if (row === undefined) throw new NotFoundError(`domain ${normalized} not found`);
    await this.announce({ kind: 'domain', action: 'deleted', tenantId: String(row.tenant_id), domain: normalized });
  }

  // --- users

  /** the user's tenant is its domain's tenant; an unknown domain is an invalid field, not a 404 */
  async createUser(input: NewUser): Promise<User> {
    checkUsername(input.username);
    const domainName = checkDomain(input.domain);
    checkPassword(input.password);
    const displayName = checkDisplayName(input.displayName);
    const domain = await this.findDomain(domainName);
    if (domain === undefined) throw new InvalidFieldError('domain', `unknown domain ${domainName}`);
    const { ha1Md5, ha1Sha256 } = ha1Pair(input.username, domainName, input.password);
    const result = await this.db.query(
      `INSERT INTO users (id, tenant_id, domain, username, ha1_md5, ha1_sha256, display_name, enabled)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (username, domain) DO NOTHING RETURNING ${USER_COLUMNS}`,
      [randomUUID(), domain.tenantId, domainName, input.username, ha1Md5, ha1Sha256, displayName ?? null, input.enabled ?? true],
    );
    const row = result.rows[0];
    if (row === undefined) throw new ConflictError(`user ${input.username}@${domainName} already exists`);
    const user = toUser(row);
    await this.announce({ kind: 'user', action: 'created', tenantId: user.tenantId, domain: user.domain, username: user.username });
    return user;
  }

  async findUserById(id: string): Promise<User | undefined> {
    const result = await this.db.query(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
    const row = result.rows[0];
    return row === undefined ? undefined : toUser(row);
  }

  async getUser(id: string): Promise<User> {
    const user = await this.findUserById(id);
    if (user === undefined) throw new NotFoundError(`user ${id} not found`);
    return user;
  }

  async findUser(username: string, domain: string): Promise<User | undefined> {
    const result = await this.db.query(`SELECT ${USER_COLUMNS} FROM users WHERE username = $1 AND domain = $2`, [username, normalizeDomain(domain)]);
    const row = result.rows[0];
    return row === undefined ? undefined : toUser(row);
  }

  /** one page in (domain, username) order, with the total for the same filter */
  async listUsers(query: UserQuery = {}): Promise<UserPage> {
    const limit = Math.min(1000, Math.max(1, Math.trunc(query.limit ?? 50)));
    const offset = Math.max(0, Math.trunc(query.offset ?? 0));
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.tenantId !== undefined) {
      params.push(query.tenantId);
      where.push(`tenant_id = $${params.length}`);
    }
    if (query.domain !== undefined) {
      params.push(normalizeDomain(query.domain));
      where.push(`domain = $${params.length}`);
    }
    const filter = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
    const total = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM users ${filter}`, params);
    const page = await this.db.query(
      `SELECT ${USER_COLUMNS} FROM users ${filter} ORDER BY domain, username LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, limit, offset],
    );
    return { items: page.rows.map(toUser), total: Number(total.rows[0]?.n ?? 0), limit, offset };
  }

  async updateUser(id: string, changes: UserChanges): Promise<User> {
    const user = await this.getUser(id);
    const sets: string[] = [];
    const params: unknown[] = [];
    const set = (column: string, value: unknown): void => {
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    };
    if (changes.password !== undefined) {
      checkPassword(changes.password);
      const { ha1Md5, ha1Sha256 } = ha1Pair(user.username, user.domain, changes.password);
      set('ha1_md5', ha1Md5);
      set('ha1_sha256', ha1Sha256);
    }
    if (changes.displayName !== undefined) set('display_name', changes.displayName === null ? null : checkDisplayName(changes.displayName));
    if (changes.enabled !== undefined) set('enabled', changes.enabled);
    if (sets.length === 0) return user;
    params.push(id);
    const result = await this.db.query(`UPDATE users SET ${sets.join(', ')} WHERE id = $${params.length} RETURNING ${USER_COLUMNS}`, params);
    const row = result.rows[0];
    if (row === undefined) throw new NotFoundError(`user ${id} not found`);
    const updated = toUser(row);
    await this.announce({ kind: 'user', action: 'updated', tenantId: updated.tenantId, domain: updated.domain, username: updated.username });
    return updated;
  }

  async deleteUser(id: string): Promise<void> {
    const result = await this.db.query('DELETE FROM users WHERE id = $1 RETURNING tenant_id, domain, username', [id]);
    const row = result.rows[0];
    if (row === undefined) throw new NotFoundError(`user ${id} not found`);
    await this.announce({ kind: 'user', action: 'deleted', tenantId: String(row.tenant_id), domain: String(row.domain), username: String(row.username) });
  }

  /** What the SIP registrar checks a digest response against (through the lead's adapter). */
  async userCredentials(username: string, domain: string): Promise<UserCredentials | undefined> {
    const result = await this.db.query<{ ha1_md5: string; ha1_sha256: string; enabled: boolean }>(
      'SELECT ha1_md5, ha1_sha256, enabled FROM users WHERE username = $1 AND domain = $2',
      [username, normalizeDomain(domain)],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : { ha1Md5: row.ha1_md5, ha1Sha256: row.ha1_sha256, enabled: row.enabled };
  }

  /**
   * Bulk import of `user@domain;password[;display name]` lines. Unknown domains are created
   * under options.tenantId, or under the 'default' tenant when none is given (created if
   * missing), and listed in the report; a domain owned by another tenant makes its lines errors.
   * Existing users are skipped unless options.update.
   */
  async importUsers(lines: Iterable<string> | AsyncIterable<string>, options: ImportOptions = {}): Promise<ImportReport> {
    const tenant = options.tenantId === undefined ? await this.ensureDefaultTenant([]) : await this.getTenant(options.tenantId);
    const owners = new Map<string, string>();
    for (const row of (await this.db.query<{ name: string; tenant_id: string }>('SELECT name, tenant_id FROM domains')).rows) owners.set(row.name, row.tenant_id);
    const started = performance.now();
    const report = await importUsers(
      {
        db: this.db,
        tenantId: tenant.id,
        domainOwners: owners,
        createDomain: async (name) => {
          await this.db.query('INSERT INTO domains (name, tenant_id) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, tenant.id]);
          const owner = await this.db.query<{ tenant_id: string }>('SELECT tenant_id FROM domains WHERE name = $1', [name]);
          return owner.rows[0]?.tenant_id ?? tenant.id;
        },
      },
      lines,
      options,
    );
    const { touchedDomains, ...result } = report;
    this.log.info(
      { tenant: tenant.id, imported: result.imported, updated: result.updated, skipped: result.skipped, errors: result.errors.length, createdDomains: result.createdDomains, ms: Math.round(performance.now() - started) },
      'users imported',
    );
    if (touchedDomains.size > 0) await this.announce({ kind: 'users', action: 'imported', tenantId: tenant.id, domains: [...touchedDomains] });
    return result;
  }

  // --- API keys

  /** a random 256-bit bearer token, returned once; only its SHA-256 is stored */
  async createApiKey(label: string, tenantId?: string): Promise<CreatedApiKey> {
    if (tenantId !== undefined) await this.getTenant(tenantId);
    const token = randomBytes(32).toString('base64url');
    const id = randomUUID();
    await this.db.query('INSERT INTO api_keys (id, tenant_id, hash, label) VALUES ($1, $2, $3, $4)', [id, tenantId ?? null, apiKeyHash(token), label]);
    return { id, tenantId: tenantId ?? null, label, token };
  }

  /**
   * The key a bearer token belongs to, or undefined. Looking up by hash needs no constant-time
   * compare: an attacker learns at most a prefix of SHA-256(token), which does not help guess it.
   */
  async verifyApiKey(token: string): Promise<ApiKeyInfo | undefined> {
    if (token.length === 0 || token.length > 200) return undefined;
    const result = await this.db.query<{ id: string; tenant_id: string | null; label: string }>('SELECT id, tenant_id, label FROM api_keys WHERE hash = $1', [apiKeyHash(token)]);
    const row = result.rows[0];
    return row === undefined ? undefined : { id: row.id, tenantId: row.tenant_id, label: row.label };
  }

  async countApiKeys(): Promise<number> {
    const result = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys');
    return Number(result.rows[0]?.n ?? 0);
  }

  async deleteApiKey(id: string): Promise<void> {
    const result = await this.db.query('DELETE FROM api_keys WHERE id = $1 RETURNING id', [id]);
    if (result.rows.length === 0) throw new NotFoundError(`API key ${id} not found`);
  }

  private async announce(change: ProvisioningChange): Promise<void> {
    // the change is committed; SIP nodes fall back to their cache TTL
    await publishChange(this.bus, this.log, PROVISIONING_CHANGED_TOPIC, change, 'provisioning');
  }
}

function checkDisplayName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.length > DISPLAY_NAME_MAX) throw new InvalidFieldError('displayName', `must be at most ${DISPLAY_NAME_MAX} characters`);
  return value;
}

function timestamp(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return new Date(String(value)).toISOString();
}

function toTenant(row: Row): Tenant {
  return { id: String(row.id), name: String(row.name), createdAt: timestamp(row.created_at) };
}

function toDomain(row: Row): Domain {
  return { name: String(row.name), tenantId: String(row.tenant_id), createdAt: timestamp(row.created_at) };
}

function toUser(row: Row): User {
  return {
    id: String(row.id),
    tenantId: String(row.tenant_id),
    username: String(row.username),
    domain: String(row.domain),
    displayName: row.display_name === null || row.display_name === undefined ? null : String(row.display_name),
    enabled: row.enabled === true,
    createdAt: timestamp(row.created_at),
  };
}
