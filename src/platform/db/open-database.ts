import path from 'node:path';
import type { Logger } from '../../lib/index.js';
import type { Database } from './database.js';
import { PgliteDatabase } from './pglite-database.js';
import { PostgresDatabase } from './postgres-database.js';

export interface OpenDatabaseOptions {
  /** postgres:// or postgresql:// URL; when set, PostgreSQL is used and dataDir is ignored */
  url?: string | undefined;
  /** opencx data directory; PGlite keeps its files in <dataDir>/db */
  dataDir: string;
  logger?: Logger;
}

/** The one place that picks the database adapter from configuration (DESIGN.md: database row). */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const logger = options.logger === undefined ? {} : { logger: options.logger };
  if (options.url !== undefined && options.url !== '') {
    return PostgresDatabase.open({ url: options.url, ...logger });
  }
  return PgliteDatabase.open({ dataDir: path.join(options.dataDir, 'db'), ...logger });
}
