export type { Database, Migration, Queryable, QueryResult } from './database.js';
export { PgliteDatabase, type PgliteDatabaseOptions } from './pglite-database.js';
export { PostgresDatabase, type PostgresDatabaseOptions } from './postgres-database.js';
export { openDatabase, type OpenDatabaseOptions } from './open-database.js';
export { runMigrations, MIGRATION_LOCK_KEY, type RunMigrationsOptions } from './migrate.js';
export { mapDatabaseError, type MapErrorContext } from './map-database-error.js';
export { LOCK_FILE_NAME } from './data-dir-lock.js';
