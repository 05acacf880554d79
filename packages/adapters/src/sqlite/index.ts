export type { RestoreOptions } from './sqlite-backup.js';
export { restoreSqliteBackup } from './sqlite-backup.js';
export type { SqliteCloseStep, SqliteStoreOptions } from './sqlite-store.js';
export { sqliteStore } from './sqlite-store.js';
export type { VectorSearchMode } from './sqlite-vector-index.js';
