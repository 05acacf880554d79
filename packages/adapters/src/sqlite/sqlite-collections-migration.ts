import { type Kysely, type Migration, sql } from 'kysely';

/**
 * 0009: raw-vector collections (`store.collections`, see `sqlite-collections.ts`).
 * - `vector_collections`: one row per collection, with its fixed dimension and metric.
 * - `vector_collection_items`: the vectors (float32 little-endian blobs) and their metadata
 *   (JSON text), one row per (collection, id). Nothing here touches the memories tables, so the
 *   migration is independent of every other one.
 */
export const vectorCollectionsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`CREATE TABLE IF NOT EXISTS vector_collections (
      name TEXT PRIMARY KEY,
      dimensions INTEGER NOT NULL,
      metric TEXT NOT NULL,
      created_at INTEGER NOT NULL
    )`.execute(db);
    await sql`CREATE TABLE IF NOT EXISTS vector_collection_items (
      collection TEXT NOT NULL REFERENCES vector_collections (name) ON DELETE CASCADE,
      id TEXT NOT NULL,
      vector BLOB NOT NULL,
      metadata TEXT NOT NULL DEFAULT '{}'
    )`.execute(db);
    await sql`CREATE UNIQUE INDEX IF NOT EXISTS vector_collection_items_id ON vector_collection_items (collection, id)`.execute(db);
  },
};
