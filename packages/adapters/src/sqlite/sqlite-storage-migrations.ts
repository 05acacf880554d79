import { type Kysely, type Migration, sql } from 'kysely';
import { quantiseFunctionName } from './sqlite-vector-storage.js';

/**
 * 0010: vectors on disk become int8 with a per-vector scale (`sqlite-vector-storage.ts`): 388
 * bytes a 384-d vector instead of 1,536. Every float32 blob of `memory_embeddings` (and of an
 * unfinished re-embedding's staging table) is rewritten in one statement, through a function
 * `migrateToLatest` registers on the connection. The file keeps its size until a VACUUM (the
 * freed pages are reused by later writes; `engram backup` writes a compact copy).
 */
export const int8VectorsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    const meta = await sql<{ value: string }>`SELECT value FROM engram_meta WHERE key = 'vectors'`.execute(db);
    const row = meta.rows[0];
    if (!row) return;
    const dimensions = Number((JSON.parse(row.value) as { dimensions?: unknown }).dimensions);
    if (!Number.isInteger(dimensions) || dimensions <= 0) return;
    const quantise = sql.raw(quantiseFunctionName);
    await sql`UPDATE memory_embeddings SET vector = ${quantise}(vector) WHERE length(vector) = ${dimensions * 4}`.execute(db);
    const staging = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'memory_reembed'`.execute(
      db,
    );
    if (staging.rows.length > 0) {
      // Staged vectors may have another dimension: each blob's own length says which are float32.
      await sql`UPDATE memory_reembed SET vector = ${quantise}(vector) WHERE length(vector) % 4 = 0 AND length(vector) > 4`.execute(db);
    }
  },
};

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
 * (`sqlite-history.ts`). The store copies them into the entry before it changes any recorded
 * column of that row; a trigger refuses such an update while the entry is still empty, so a
 * writer that forgot (or an older engram) fails loudly instead of rewriting history.
 * Existing `created` entries keep their copy.
 */
export const historySequenceMigration: Migration = {
  async up(db: Kysely<unknown>) {
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
    await sql
      .raw(
        `CREATE TRIGGER memory_history_created_kept BEFORE UPDATE OF ${recordedColumns.join(', ')} ON memories
        WHEN EXISTS (SELECT 1 FROM memory_history WHERE memory_id = old.id AND changes IS NULL) BEGIN
          SELECT RAISE(ABORT, 'engram: the created history entry of this memory must be filled in before the row changes');
        END`,
      )
      .execute(db);
  },
};
