export type { Database, Migration, Queryable, QueryResult } from './database.js';
