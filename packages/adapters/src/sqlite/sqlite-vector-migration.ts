import { type Kysely, type Migration, sql } from 'kysely';

/**
 * 0003: vectors move out of the sqlite-vec `vec0` table into plain tables.
 *
 * vec0 is a brute-force scan whose top-k selection costs k × rows, so it cannot over-fetch
 * candidates for re-ranking cheaply, and its inserts are ~10x those of a plain row. Instead:
 * - `memory_embeddings`: the float32 vectors, by memory rowid (exact similarity);
 * - `memory_vector_codes`: a binary code per vector, which every connection mirrors in memory
 *   and scans (`sqlite-vector-cache.ts`, `sqlite-vector-codes.ts`);
 * - `memory_vector_log`: the rowids whose vector or filterable fields changed, in order, so each
 *   connection's mirror catches up with writes from any process.
 *
 * A store from before: its vectors are copied out of vec0 (read through the sqlite-vec extension,
 * loaded on every connection) and the vec0 table is dropped; the codes are written by the next
 * `VectorIndex.open(dimensions)`, which finds none recorded in `engram_meta`.
 */
export const vectorCodesMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`CREATE TABLE memory_embeddings (rowid INTEGER PRIMARY KEY, vector BLOB NOT NULL)`.execute(db);
    await sql`CREATE TABLE memory_vector_codes (rowid INTEGER PRIMARY KEY, code BLOB NOT NULL)`.execute(db);
    // AUTOINCREMENT: sequence numbers are never reused, even after old entries are pruned.
    await sql`CREATE TABLE memory_vector_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, memory_rowid INTEGER NOT NULL)`.execute(db);
    const triggers = [
      // The log keeps its last 100,000 entries: each new entry drops the one that falls out of
      // that window, whoever writes (a connection further behind reloads everything).
      `CREATE TRIGGER memory_vector_log_after_insert AFTER INSERT ON memory_vector_log BEGIN
        DELETE FROM memory_vector_log WHERE seq = new.seq - 100000;
      END`,
      `CREATE TRIGGER memory_vector_codes_after_insert AFTER INSERT ON memory_vector_codes BEGIN
        INSERT INTO memory_vector_log (memory_rowid) VALUES (new.rowid);
      END`,
      `CREATE TRIGGER memory_vector_codes_after_update AFTER UPDATE ON memory_vector_codes BEGIN
        INSERT INTO memory_vector_log (memory_rowid) VALUES (new.rowid);
      END`,
      `CREATE TRIGGER memory_vector_codes_after_delete AFTER DELETE ON memory_vector_codes BEGIN
        INSERT INTO memory_vector_log (memory_rowid) VALUES (old.rowid);
      END`,
      // The fields a vector search filters on in memory that can change (scope, conversation and
      // creation time never do).
      `CREATE TRIGGER memories_after_vector_field_update AFTER UPDATE OF type, subtype, superseded_by, valid_to ON memories
      WHEN old.type IS NOT new.type OR old.subtype IS NOT new.subtype
        OR old.superseded_by IS NOT new.superseded_by OR old.valid_to IS NOT new.valid_to BEGIN
        INSERT INTO memory_vector_log (memory_rowid) SELECT new.rowid WHERE EXISTS (SELECT 1 FROM memory_vector_codes WHERE rowid = new.rowid);
      END`,
      // A deleted memory keeps no vector (a restore does not bring it back: re-embed it).
      `CREATE TRIGGER memories_after_vector_soft_delete AFTER UPDATE OF deleted_at ON memories WHEN new.deleted_at IS NOT NULL BEGIN
        DELETE FROM memory_embeddings WHERE rowid = new.rowid;
        DELETE FROM memory_vector_codes WHERE rowid = new.rowid;
      END`,
      `CREATE TRIGGER memories_after_vector_delete AFTER DELETE ON memories BEGIN
        DELETE FROM memory_embeddings WHERE rowid = old.rowid;
        DELETE FROM memory_vector_codes WHERE rowid = old.rowid;
      END`,
    ];
    for (const trigger of triggers) await sql.raw(trigger).execute(db);

    const legacy = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'memory_vectors'`.execute(db);
    if (legacy.rows.length === 0) return;
    await sql`INSERT INTO memory_embeddings (rowid, vector) SELECT rowid, embedding FROM memory_vectors`.execute(db);
    for (const trigger of ['memory_vectors_after_filterable_update', 'memory_vectors_after_soft_delete', 'memory_vectors_after_delete']) {
      await sql.raw(`DROP TRIGGER IF EXISTS ${trigger}`).execute(db);
    }
    await sql`DROP TABLE memory_vectors`.execute(db);
    await sql`UPDATE engram_meta SET value = json_object('dimensions', json_extract(value, '$.dimensions'), 'metric', 'cosine', 'codes', NULL)
      WHERE key = 'vectors'`.execute(db);
  },
};
