import { type Kysely, type Migration, sql } from 'kysely';
import { hashPrefix } from './sqlite-records.js';
import { quantiseFunctionName } from './sqlite-vector-storage.js';

/**
 * 0010: vectors on disk become int8 with a per-vector scale (`sqlite-vector-storage.ts`): 388
 * bytes a 384-d vector instead of 1,536. Every float32 blob of `memory_embeddings` (and of an
 * unfinished re-embedding's staging table) is rewritten in one statement, through a function
 * `migrateToLatest` registers on the connection.
 *
 * And `memory_vector_codes` goes: each connection's mirror computes a vector's binary code from
 * the stored vector when it loads it (~20 µs), and the snapshot beside the file keeps the codes
 * for the next process, so the table only duplicated them (141 bytes a memory). The change-log
 * triggers move to `memory_embeddings`.
 *
 * The file keeps its size until a VACUUM (the freed pages are reused by later writes; an erasure
 * runs one).
 */
export const int8VectorsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    const meta = await sql<{ value: string }>`SELECT value FROM engram_meta WHERE key = 'vectors'`.execute(db);
    const row = meta.rows[0];
    const dimensions = row ? Number((JSON.parse(row.value) as { dimensions?: unknown }).dimensions) : Number.NaN;
    const quantise = sql.raw(quantiseFunctionName);
    if (Number.isInteger(dimensions) && dimensions > 0) {
      await sql`UPDATE memory_embeddings SET vector = ${quantise}(vector) WHERE length(vector) = ${dimensions * 4}`.execute(db);
    }
    const staging = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'memory_reembed'`.execute(
      db,
    );
    if (staging.rows.length > 0) {
      // Staged vectors may have another dimension; all were written as float32 before this.
      await sql`UPDATE memory_reembed SET vector = ${quantise}(vector)`.execute(db);
    }

    for (const trigger of [
      'memory_vector_codes_after_insert',
      'memory_vector_codes_after_update',
      'memory_vector_codes_after_delete',
      'memories_after_vector_field_update',
      'memories_after_vector_soft_delete',
      'memories_after_vector_delete',
      'memory_embeddings_after_insert',
      'memory_embeddings_after_update',
      'memory_embeddings_after_delete',
    ]) {
      await sql.raw(`DROP TRIGGER IF EXISTS ${trigger}`).execute(db);
    }
    await sql`DROP TABLE IF EXISTS memory_vector_codes`.execute(db);
    const triggers = [
      `CREATE TRIGGER memory_embeddings_after_insert AFTER INSERT ON memory_embeddings BEGIN
        INSERT INTO memory_vector_log (memory_rowid) VALUES (new.rowid);
      END`,
      `CREATE TRIGGER memory_embeddings_after_update AFTER UPDATE ON memory_embeddings BEGIN
        INSERT INTO memory_vector_log (memory_rowid) VALUES (new.rowid);
      END`,
      `CREATE TRIGGER memory_embeddings_after_delete AFTER DELETE ON memory_embeddings BEGIN
        INSERT INTO memory_vector_log (memory_rowid) VALUES (old.rowid);
      END`,
      // As in 0003, with the vectors' own table: the filterable fields that can change.
      `CREATE TRIGGER memories_after_vector_field_update AFTER UPDATE OF type, subtype, superseded_by, valid_to ON memories
      WHEN old.type IS NOT new.type OR old.subtype IS NOT new.subtype
        OR old.superseded_by IS NOT new.superseded_by OR old.valid_to IS NOT new.valid_to BEGIN
        INSERT INTO memory_vector_log (memory_rowid) SELECT new.rowid WHERE EXISTS (SELECT 1 FROM memory_embeddings WHERE rowid = new.rowid);
      END`,
      `CREATE TRIGGER memories_after_vector_soft_delete AFTER UPDATE OF deleted_at ON memories WHEN new.deleted_at IS NOT NULL BEGIN
        DELETE FROM memory_embeddings WHERE rowid = new.rowid;
      END`,
      `CREATE TRIGGER memories_after_vector_delete AFTER DELETE ON memories BEGIN
        DELETE FROM memory_embeddings WHERE rowid = old.rowid;
      END`,
    ];
    for (const trigger of triggers) await sql.raw(trigger).execute(db);
  },
};

/** The columns of a `memories` row when 0011 was written (the `MemoryRow` fields but the decay score, which history ignores). */
const rowColumnsAt0011 = [
  'rowid',
  'id',
  'content',
  'context',
  'content_hash',
  'type',
  'subtype',
  'tags',
  'metadata',
  'user_id',
  'agent_id',
  'run_id',
  'conversation_id',
  'importance',
  'quality',
  'access_count',
  'last_accessed_at',
  'created_at',
  'updated_at',
  'valid_from',
  'valid_to',
  'superseded_by',
  'deleted_at',
  'key',
  'source',
  'confidence',
  'attributes',
];

/**
 * Columns of `memories` that a history entry records (all but access statistics, the decay
 * score, `updated_at` and `content_hash`: see core's `diffRecords`).
 */
export const recordedColumns = [
  'id',
  'content',
  'context',
  'type',
  'subtype',
  'tags',
  'metadata',
  'user_id',
  'agent_id',
  'run_id',
  'scope_key',
  'conversation_id',
  'importance',
  'quality',
  'created_at',
  'valid_from',
  'valid_to',
  'superseded_by',
  'deleted_at',
  'key',
  'source',
  'confidence',
  'attributes',
];

/**
 * 0011: `memory_history` is rebuilt with `seq INTEGER PRIMARY KEY AUTOINCREMENT`, so sequence
 * numbers are never reused: before, erasing the newest entries (`purge`) let the next write take
 * numbers that a sync cursor had already passed, and its peer never saw that write.
 *
 * `changes` becomes nullable: a `created` entry is written without a copy of the record (~690
 * bytes a memory at 1M) while the memory row still holds it — its changes are read from the row
 * (`sqlite-history.ts`). Before a recorded column of the row changes, or the row is deleted, a
 * trigger copies the row as it was (`{"engram:row": {column: value, …}}`) into the entry, in
 * SQL: whoever writes the row — the store, a raw UPDATE, a later migration, an older engram —
 * history keeps the version that was created.
 * Existing `created` entries keep their copy.
 *
 * And the exact-duplicate index (`memories_scope_hash`) keys on the first 16 characters of the
 * content hash (64 bits) instead of all 64: 48 bytes a memory less. Lookups still compare the
 * whole hash on the row (`hashPrefix` in the queries), so a prefix collision costs one row read.
 */
export const compactRowsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    // (A trigger that names the log would stop the rename below.)
    await sql`DROP TRIGGER IF EXISTS memory_history_created_kept`.execute(db);
    await sql`DROP TRIGGER IF EXISTS memory_history_created_kept_on_delete`.execute(db);
    await sql`CREATE TABLE memory_history_next (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      memory_id TEXT NOT NULL,
      event TEXT NOT NULL,
      at INTEGER NOT NULL,
      changes TEXT,
      reason TEXT
    )`.execute(db);
    await sql`INSERT INTO memory_history_next (seq, memory_id, event, at, changes, reason)
      SELECT seq, memory_id, event, at, changes, reason FROM memory_history ORDER BY seq`.execute(db);
    await sql`DROP TABLE memory_history`.execute(db);
    await sql`ALTER TABLE memory_history_next RENAME TO memory_history`.execute(db);
    await sql`CREATE INDEX memory_history_memory ON memory_history(memory_id, seq)`.execute(db);
    await sql`DROP INDEX IF EXISTS memories_scope_hash`.execute(db);
    await sql
      .raw(`CREATE INDEX memories_scope_hash ON memories (scope_key, ${hashPrefix('content_hash')}) WHERE deleted_at IS NULL`)
      .execute(db);
    // The row as it was, in the form `sqlite-history.ts` reads back (every column of a memory row
    // up to this migration, so this trigger never changes with later ones).
    const row = `json_object('engram:row', json_object(${rowColumnsAt0011.map((column) => `'${column}', old.${column}`).join(', ')}))`;
    const pending = 'EXISTS (SELECT 1 FROM memory_history WHERE memory_id = old.id AND changes IS NULL)';
    const fill = `UPDATE memory_history SET changes = ${row} WHERE memory_id = old.id AND changes IS NULL;`;
    await sql
      .raw(
        `CREATE TRIGGER memory_history_created_kept AFTER UPDATE OF ${recordedColumns.join(', ')} ON memories WHEN ${pending} BEGIN ${fill} END`,
      )
      .execute(db);
    await sql
      .raw(`CREATE TRIGGER memory_history_created_kept_on_delete AFTER DELETE ON memories WHEN ${pending} BEGIN ${fill} END`)
      .execute(db);
  },
};
