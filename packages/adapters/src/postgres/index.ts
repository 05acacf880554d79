export type { PGliteLike, PgPoolClientLike, PgPoolLike } from './postgres-client.js';
export type { PostgresStoreOptions } from './postgres-store.js';
export { postgresStore } from './postgres-store.js';
