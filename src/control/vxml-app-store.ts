import { createHash, randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, silentLogger, type Logger } from '../lib/index.js';
import type { Bus, Database, Queryable } from '../platform/index.js';
import { publishChange } from './change-notice.js';
import { InvalidFieldError } from './errors.js';
import { isoTimestamp, type Row } from './telephony-store-support.js';
import { requireTenant } from './trunk-store.js';
import { checkAppName, checkDescription, checkFilePath, contentTypeFor } from './vxml-app-validation.js';
import {
  DEFAULT_VXML_ENTRY,
  VXML_APPS_CHANGED_TOPIC,
  VXML_APP_MAX_BYTES,
  VXML_FILE_MAX_BYTES,
  type NewVxmlApp,
  type VxmlApp,
  type VxmlAppChange,
  type VxmlAppChanges,
  type VxmlAppFile,
  type VxmlAppFileContent,
} from './vxml-app-types.js';

export interface VxmlAppStoreOptions {
  db: Database;
  /** when given, every change is announced on `vxml-apps.changed` */
  bus?: Bus | undefined;
  logger?: Logger | undefined;
  /** default VXML_FILE_MAX_BYTES (10 MiB); lower for tests */
  maxFileBytes?: number | undefined;
  /** default VXML_APP_MAX_BYTES (100 MiB); lower for tests */
  maxAppBytes?: number | undefined;
}

const APP_SELECT = `
  SELECT a.id, a.tenant_id, t.name AS tenant_name, a.name, a.description, a.entry, a.created_at, a.updated_at,
    (SELECT count(*) FROM vxml_app_files f WHERE f.app_id = a.id) AS file_count,
    (SELECT coalesce(sum(f.size), 0) FROM vxml_app_files f WHERE f.app_id = a.id) AS total_bytes
  FROM vxml_apps a JOIN tenants t ON t.id = a.tenant_id`;

const FILE_COLUMNS = 'path, content_type, size, etag, created_at, updated_at';

/**
 * VoiceXML applications of each tenant and their files, over the Database port. Every write
 * is one transaction: an upload that breaks a limit, or fails half-way, leaves the application
 * as it was. A file's ETag is the SHA-256 of its content, so it changes exactly when the content
 * does. Applications are named within their tenant; another tenant's application is as unknown
 * as a missing one.
 */
export class VxmlAppStore {
  private readonly db: Database;
  private readonly bus: Bus | undefined;
  private readonly log: Logger;
  private readonly maxFileBytes: number;
  private readonly maxAppBytes: number;

  constructor(options: VxmlAppStoreOptions) {
    this.db = options.db;
    this.bus = options.bus;
    this.maxFileBytes = Math.min(options.maxFileBytes ?? VXML_FILE_MAX_BYTES, VXML_FILE_MAX_BYTES);
    this.maxAppBytes = Math.min(options.maxAppBytes ?? VXML_APP_MAX_BYTES, VXML_APP_MAX_BYTES);
    this.log = (options.logger ?? silentLogger).child({ component: 'vxml-apps' });
  }

  async create(tenantId: string, input: NewVxmlApp): Promise<VxmlApp> {
    if (typeof input !== 'object' || input === null) throw new InvalidFieldError('body', 'must be an object');
    const name = checkAppName(input.name);
    const description = input.description === undefined ? '' : checkDescription(input.description);
    const entry = input.entry === undefined ? DEFAULT_VXML_ENTRY : checkFilePath(input.entry, 'entry');
    await requireTenant(this.db, tenantId);
    const inserted = await this.db.query(
      `INSERT INTO vxml_apps (id, tenant_id, name, description, entry) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, name) DO NOTHING RETURNING id`,
      [randomUUID(), tenantId, name, description, entry],
    );
    if (inserted.rows.length === 0) throw new ConflictError(`application ${name} already exists`);
    await this.announce({ action: 'created', tenantId, app: name });
    return this.get(tenantId, name);
  }

  /** one tenant's applications, or every tenant's, by name */
  async list(tenantId?: string): Promise<VxmlApp[]> {
    const result =
      tenantId === undefined
        ? await this.db.query(`${APP_SELECT} ORDER BY a.name, t.name`)
        : await this.db.query(`${APP_SELECT} WHERE a.tenant_id = $1 ORDER BY a.name`, [tenantId]);
    return result.rows.map(toApp);
  }

  async find(tenantId: string, name: string): Promise<VxmlApp | undefined> {
    const row = (await this.db.query(`${APP_SELECT} WHERE a.tenant_id = $1 AND a.name = $2`, [tenantId, name])).rows[0];
    return row === undefined ? undefined : toApp(row);
  }

  async get(tenantId: string, name: string): Promise<VxmlApp> {
    const app = await this.find(tenantId, name);
    if (app === undefined) throw new NotFoundError(`application ${name} not found`);
    return app;
  }

  async update(tenantId: string, name: string, changes: VxmlAppChanges): Promise<VxmlApp> {
    if (typeof changes !== 'object' || changes === null) throw new InvalidFieldError('body', 'must be an object');
    const current = await this.get(tenantId, name);
    const description = changes.description === undefined ? current.description : checkDescription(changes.description);
    const entry = changes.entry === undefined ? current.entry : checkFilePath(changes.entry, 'entry');
    const updated = await this.db.query('UPDATE vxml_apps SET description = $1, entry = $2, updated_at = now() WHERE id = $3 RETURNING id', [description, entry, current.id]);
    if (updated.rows.length === 0) throw new NotFoundError(`application ${name} not found`);
    await this.announce({ action: 'updated', tenantId, app: name });
    return this.get(tenantId, name);
  }

  /** deletes the application with all its files */
  async delete(tenantId: string, name: string): Promise<void> {
    const deleted = await this.db.query('DELETE FROM vxml_apps WHERE tenant_id = $1 AND name = $2 RETURNING id', [tenantId, name]);
    if (deleted.rows.length === 0) throw new NotFoundError(`application ${name} not found`);
    await this.announce({ action: 'deleted', tenantId, app: name });
  }

  /**
   * Stores (creates or replaces) one file; `created` tells which. Refused whole when the file
   * is over 10 MiB or the application would pass 100 MiB with it (or the lower limits given).
   */
  async putFile(tenantId: string, appName: string, path: string, content: Uint8Array): Promise<{ file: VxmlAppFile; created: boolean }> {
    const filePath = checkFilePath(path);
    if (!(content instanceof Uint8Array)) throw new InvalidFieldError('content', 'must be bytes');
    if (content.byteLength > this.maxFileBytes) throw new InvalidFieldError('content', `must be at most ${this.maxFileBytes} bytes`);
    const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    const etag = createHash('sha256').update(bytes).digest('hex');
    const result = await this.db.transaction(async (tx) => {
      // the row lock queues concurrent uploads to one application, so the size check holds
      const appId = await lockedAppId(tx, tenantId, appName);
      const others = (await tx.query('SELECT coalesce(sum(size), 0) AS total FROM vxml_app_files WHERE app_id = $1 AND path <> $2', [appId, filePath])).rows[0];
      if (Number(others?.total ?? 0) + bytes.byteLength > this.maxAppBytes) {
        throw new InvalidFieldError('content', `the application would exceed ${this.maxAppBytes} bytes`);
      }
      const existed = (await tx.query('SELECT 1 FROM vxml_app_files WHERE app_id = $1 AND path = $2', [appId, filePath])).rows.length > 0;
      const row = (
        await tx.query(
          `INSERT INTO vxml_app_files (app_id, path, content, content_type, size, etag) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (app_id, path) DO UPDATE SET content = EXCLUDED.content, content_type = EXCLUDED.content_type,
             size = EXCLUDED.size, etag = EXCLUDED.etag, updated_at = now()
           RETURNING ${FILE_COLUMNS}`,
          [appId, filePath, bytes, contentTypeFor(filePath), bytes.byteLength, etag],
        )
      ).rows[0];
      if (row === undefined) throw new ConflictError(`file ${filePath} vanished while being written`);
      await tx.query('UPDATE vxml_apps SET updated_at = now() WHERE id = $1', [appId]);
      return { file: toFile(row), created: !existed };
    });
    await this.announce({ action: result.created ? 'created' : 'updated', tenantId, app: appName, path: filePath });
    return result;
  }

  /** the application's files, by path, without content */
  async listFiles(tenantId: string, appName: string): Promise<VxmlAppFile[]> {
    const appId = await this.appId(tenantId, appName);
    const result = await this.db.query(`SELECT ${FILE_COLUMNS} FROM vxml_app_files WHERE app_id = $1 ORDER BY path`, [appId]);
    return result.rows.map(toFile);
  }

  /** one file without its content (what a conditional GET or a HEAD needs) */
  async fileInfo(tenantId: string, appName: string, path: string): Promise<VxmlAppFile> {
    const row = await this.fileRow(tenantId, appName, path, FILE_COLUMNS);
    return toFile(row);
  }

  async getFile(tenantId: string, appName: string, path: string): Promise<VxmlAppFileContent> {
    const row = await this.fileRow(tenantId, appName, path, `${FILE_COLUMNS}, content`);
    return { ...toFile(row), content: toBuffer(row.content) };
  }

  async deleteFile(tenantId: string, appName: string, path: string): Promise<void> {
    const filePath = checkFilePath(path);
    await this.db.transaction(async (tx) => {
      const appId = await lockedAppId(tx, tenantId, appName);
      const deleted = await tx.query('DELETE FROM vxml_app_files WHERE app_id = $1 AND path = $2 RETURNING path', [appId, filePath]);
      if (deleted.rows.length === 0) throw new NotFoundError(`file ${filePath} not found in application ${appName}`);
      await tx.query('UPDATE vxml_apps SET updated_at = now() WHERE id = $1', [appId]);
    });
    await this.announce({ action: 'deleted', tenantId, app: appName, path: filePath });
  }

  private async appId(tenantId: string, appName: string): Promise<string> {
    const row = (await this.db.query('SELECT id FROM vxml_apps WHERE tenant_id = $1 AND name = $2', [tenantId, appName])).rows[0];
    if (row === undefined) throw new NotFoundError(`application ${appName} not found`);
    return String(row.id);
  }

  private async fileRow(tenantId: string, appName: string, path: string, columns: string): Promise<Row> {
    const filePath = checkFilePath(path);
    const row = (
      await this.db.query(
        `SELECT ${columns} FROM vxml_app_files WHERE path = $3 AND app_id = (SELECT id FROM vxml_apps WHERE tenant_id = $1 AND name = $2)`,
        [tenantId, appName, filePath],
      )
    ).rows[0];
    if (row !== undefined) return row;
    await this.appId(tenantId, appName); // which of the two is missing
    throw new NotFoundError(`file ${filePath} not found in application ${appName}`);
  }

  /** a cache hint sent after the commit: a failing bus is logged and never fails the write */
  private async announce(change: VxmlAppChange): Promise<void> {
    await publishChange(this.bus, this.log, VXML_APPS_CHANGED_TOPIC, change, 'application');
  }
}

async function lockedAppId(tx: Queryable, tenantId: string, appName: string): Promise<string> {
  const row = (await tx.query('SELECT id FROM vxml_apps WHERE tenant_id = $1 AND name = $2 FOR UPDATE', [tenantId, appName])).rows[0];
  if (row === undefined) throw new NotFoundError(`application ${appName} not found`);
  return String(row.id);
}

/** bytea arrives as a Buffer from pg and as a Uint8Array from PGlite */
function toBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError('bytea column did not arrive as bytes');
}

function toApp(row: Row): VxmlApp {
  return {
    id: String(row.id),
    tenantId: String(row.tenant_id),
    tenantName: String(row.tenant_name),
    name: String(row.name),
    description: String(row.description),
    entry: String(row.entry),
    fileCount: Number(row.file_count),
    totalBytes: Number(row.total_bytes),
    createdAt: isoTimestamp(row.created_at),
    updatedAt: isoTimestamp(row.updated_at),
  };
}

function toFile(row: Row): VxmlAppFile {
  return {
    path: String(row.path),
    contentType: String(row.content_type),
    size: Number(row.size),
    etag: String(row.etag),
    createdAt: isoTimestamp(row.created_at),
    updatedAt: isoTimestamp(row.updated_at),
  };
}
