import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, type Migration, type MigrationProvider, Migrator, SqliteDialect, sql } from 'kysely';
import { appendingHashIndexMigration, rowidMajorTagsMigration } from './sqlite-bulk-migrations.js';
import { changeLogTrimTrigger } from './sqlite-change-log.js';
import { vectorCollectionsMigration } from './sqlite-collections-migration.js';
import { lexicalIndexMigration } from './sqlite-lexical-migration.js';
import { contextMigration } from './sqlite-migration-context.js';
import { migrationTableName, schemaIsCurrent } from './sqlite-migration-names.js';
import { compactRowsMigration, int8VectorsMigration } from './sqlite-storage-migrations.js';
import { vectorCodesMigration } from './sqlite-vector-migration.js';
import { quantiseBlob, quantiseFunctionName } from './sqlite-vector-storage.js';

export { migrationTableName };
const migrationLockTableName = 'engram_migration_lock';

/**
 * The schema, as ordered migrations. Never edit a released migration: add a new one.
 *
 * - `memories`: one row per record. `rowid` is the join key for FTS5, sqlite-vec and tags;
 *   dates are epoch milliseconds; tags and metadata are JSON text; `scope_key` is core's
 *   `scopeKey(scope)` so "same scope" is one indexed equality; the optional SHODH fields live in
 *   the JSON `attributes` column.
 * - `memory_tags`: one row per (tag, memory) for indexed tag filters (rowid-major since 0015).
 * - `memory_relations`: typed edges; `memory_history`: the change log of every memory.
 * - `memories_fts`: FTS5 external-content index over the content, tags and (0002) context of
 *   live rows — until 0004 replaced it with an in-memory BM25 index.
 * - `engram_meta`: the embedder the store was built with, and schema facts.
 *
 * The store writes a new row's tags to `memory_tags`; a trigger keeps them in step when tags change.
 *
 * Vectors (0003, `sqlite-vector-migration.ts`): `memory_embeddings` (float vectors; int8 since
 * 0010), `memory_vector_codes` (binary codes each connection scans in memory; dropped by 0010,
 * which computes them from the vectors) and `memory_vector_log` (what changed, so every
 * connection's in-memory mirrors catch up). See `sqlite-vector-index.ts`.
 * Lexical search (0004, `sqlite-lexical-migration.ts`): each connection's BM25 index, fed by the
 * same log, which triggers append to when a memory's searchable or filterable fields change
 * (never for access statistics). See `sqlite-lexical-index.ts`.
 */
export const migrations: Record<string, Migration> = {
  '0001-initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('memories')
        .addColumn('rowid', 'integer', (column) => column.primaryKey())
        .addColumn('id', 'text', (column) => column.notNull().unique())
        .addColumn('content', 'text', (column) => column.notNull())
        .addColumn('content_hash', 'text', (column) => column.notNull())
        .addColumn('type', 'text', (column) => column.notNull())
        .addColumn('subtype', 'text')
        .addColumn('tags', 'text', (column) => column.notNull().defaultTo('[]'))
        .addColumn('metadata', 'text', (column) => column.notNull().defaultTo('{}'))
        .addColumn('user_id', 'text')
        .addColumn('agent_id', 'text')
        .addColumn('run_id', 'text')
        .addColumn('scope_key', 'text', (column) => column.notNull())
        .addColumn('conversation_id', 'text')
        .addColumn('importance', 'real', (column) => column.notNull())
        .addColumn('quality', 'real')
        .addColumn('access_count', 'integer', (column) => column.notNull().defaultTo(0))
        .addColumn('last_accessed_at', 'integer')
        .addColumn('created_at', 'integer', (column) => column.notNull())
        .addColumn('updated_at', 'integer', (column) => column.notNull())
        .addColumn('valid_from', 'integer')
        .addColumn('valid_to', 'integer')
        .addColumn('superseded_by', 'text')
        .addColumn('deleted_at', 'integer')
        .addColumn('key', 'text')
        .addColumn('source', 'text')
        .addColumn('confidence', 'real')
        .addColumn('attributes', 'text')
        .execute();

      // Exact-duplicate check on write: live rows by (scope, hash).
      await db.schema
        .createIndex('memories_scope_hash')
        .on('memories')
        .columns(['scope_key', 'content_hash'])
        .where(sql.ref('deleted_at'), 'is', null)
        .execute();
      // Idempotent upserts: at most one live row per (scope, key), enforced across processes.
      await db.schema
        .createIndex('memories_scope_key')
        .unique()
        .on('memories')
        .columns(['scope_key', 'key'])
        .where(sql<boolean>`deleted_at IS NULL AND key IS NOT NULL`)
        .execute();
      // Newest-first listing with a keyset cursor, and time windows.
      await db.schema.createIndex('memories_created').on('memories').columns(['created_at', 'id']).execute();
      await db.schema.createIndex('memories_user').on('memories').columns(['user_id', 'created_at']).execute();
      await db.schema
        .createIndex('memories_conversation')
        .on('memories')
        .column('conversation_id')
        .where(sql.ref('conversation_id'), 'is not', null)
        .execute();

      await sql`CREATE TABLE memory_tags (
        tag TEXT NOT NULL,
        memory_rowid INTEGER NOT NULL REFERENCES memories(rowid) ON DELETE CASCADE,
        PRIMARY KEY (tag, memory_rowid)
      ) WITHOUT ROWID`.execute(db);
      await sql`CREATE INDEX memory_tags_memory ON memory_tags(memory_rowid)`.execute(db);

      // Edges between memories, keyed by (source, target, type). No foreign keys: edges are
      // kept whatever happens to the memories at their ends (core decides what to traverse).
      await sql`CREATE TABLE memory_relations (
        seq INTEGER PRIMARY KEY,
        source_id TEXT NOT NULL,
        target_id TEXT NOT NULL,
        type TEXT NOT NULL,
        weight REAL NOT NULL,
        confidence REAL NOT NULL,
        metadata TEXT NOT NULL DEFAULT '{}',
        inferred INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (source_id, target_id, type)
      )`.execute(db);
      await sql`CREATE INDEX memory_relations_target ON memory_relations(target_id, type)`.execute(db);

      // Append-only change log; `seq` orders the entries of one memory.
      await sql`CREATE TABLE memory_history (
        seq INTEGER PRIMARY KEY,
        memory_id TEXT NOT NULL,
        event TEXT NOT NULL,
        at INTEGER NOT NULL,
        changes TEXT NOT NULL,
        reason TEXT
      )`.execute(db);
      await sql`CREATE INDEX memory_history_memory ON memory_history(memory_id, seq)`.execute(db);

      await sql`CREATE TABLE engram_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID`.execute(db);
      await sql`INSERT INTO engram_meta (key, value) VALUES ('schema', '{"store":"engram-sqlite","version":1}')`.execute(db);

      // The FTS index holds live rows only, so its external content is a view of them: FTS5's
      // 'rebuild' and full 'integrity-check' then agree with the index exactly.
      await sql`CREATE VIEW memories_fts_source AS SELECT rowid, content, tags FROM memories WHERE deleted_at IS NULL`.execute(db);
      await sql`CREATE VIRTUAL TABLE memories_fts USING fts5(
        content, tags,
        content = 'memories_fts_source', content_rowid = 'rowid',
        tokenize = 'porter unicode61 remove_diacritics 2'
      )`.execute(db);

      const triggers = [
        `CREATE TRIGGER memories_after_insert AFTER INSERT ON memories BEGIN
          INSERT OR IGNORE INTO memory_tags (tag, memory_rowid) SELECT value, new.rowid FROM json_each(new.tags);
          INSERT INTO memories_fts (rowid, content, tags) SELECT new.rowid, new.content, new.tags WHERE new.deleted_at IS NULL;
        END`,
        `CREATE TRIGGER memories_after_tags_update AFTER UPDATE OF tags ON memories BEGIN
          DELETE FROM memory_tags WHERE memory_rowid = old.rowid;
          INSERT OR IGNORE INTO memory_tags (tag, memory_rowid) SELECT value, new.rowid FROM json_each(new.tags);
        END`,
        `CREATE TRIGGER memories_after_text_update AFTER UPDATE OF content, tags ON memories
        WHEN old.deleted_at IS NULL AND new.deleted_at IS NULL BEGIN
          INSERT INTO memories_fts (memories_fts, rowid, content, tags) VALUES ('delete', old.rowid, old.content, old.tags);
          INSERT INTO memories_fts (rowid, content, tags) VALUES (new.rowid, new.content, new.tags);
        END`,
        `CREATE TRIGGER memories_after_soft_delete AFTER UPDATE OF deleted_at ON memories
        WHEN old.deleted_at IS NULL AND new.deleted_at IS NOT NULL BEGIN
          INSERT INTO memories_fts (memories_fts, rowid, content, tags) VALUES ('delete', old.rowid, old.content, old.tags);
        END`,
        `CREATE TRIGGER memories_after_restore AFTER UPDATE OF deleted_at ON memories
        WHEN old.deleted_at IS NOT NULL AND new.deleted_at IS NULL BEGIN
          INSERT INTO memories_fts (rowid, content, tags) VALUES (new.rowid, new.content, new.tags);
        END`,
        `CREATE TRIGGER memories_after_delete AFTER DELETE ON memories WHEN old.deleted_at IS NULL BEGIN
          INSERT INTO memories_fts (memories_fts, rowid, content, tags) VALUES ('delete', old.rowid, old.content, old.tags);
        END`,
      ];
      for (const trigger of triggers) await sql.raw(trigger).execute(db);
    },
  },
  '0002-context': contextMigration,
  '0003-vector-codes': vectorCodesMigration,
  '0004-lexical-index': lexicalIndexMigration,
  // The consolidation decay score (`MemoryRecord.decayScore`), written by `recordDecayScores`.
  // No trigger watches it, so storing scores re-indexes nothing.
  '0005-decay-score': {
    async up(db: Kysely<unknown>) {
      await sql`ALTER TABLE memories ADD COLUMN decay_score REAL`.execute(db);
    },
  },
  // Raw-vector collections (`store.collections`), see `sqlite-collections-migration.ts`.
  '0009-vector-collections': vectorCollectionsMigration,
  // Int8 vectors on disk (no codes table); a history whose sequence numbers are never reused and
  // whose created entries keep no copy; a shorter duplicate index (`sqlite-storage-migrations.ts`).
  '0010-int8-vectors': int8VectorsMigration,
  '0011-compact-rows': compactRowsMigration,
  // Access statistics recorded since the row was written, in a narrow table of their own (see
  // `memoryColumns` for how a read adds them to the row's own columns): `recordAccess` rewrites
  // ~20-byte rows here instead of each memory's 4 KB page of `memories` (3,000 memories a flush:
  // 4.5 MB of write-ahead log before, see bench/README "REST"). No trigger watches this table.
  // A purge deletes a memory's entry with its row (ON DELETE CASCADE), so a reused rowid starts afresh.
  '0013-access-statistics': {
    async up(db: Kysely<unknown>) {
      await sql`CREATE TABLE memory_access (
        memory_rowid INTEGER PRIMARY KEY REFERENCES memories(rowid) ON DELETE CASCADE,
        count INTEGER NOT NULL,
        last_accessed_at INTEGER NOT NULL
      )`.execute(db);
    },
  },
  // Tags rowid-major, their lookup grouped by rowid bucket: a batch of adds appends instead of
  // writing one random page a tag (`sqlite-bulk-migrations.ts`).
  '0015-rowid-major-tags': rowidMajorTagsMigration,
  // The exact-duplicate index in two tables, a small one that takes new entries and a large one
  // they move to together (`sqlite-bulk-migrations.ts`).
  '0016-appending-hash-index': appendingHashIndexMigration,
  // Sync's erasure log in a table of its own (it was meta values `capability:sync:erasure:<n>`,
  // whose head was read and then written outside any transaction: two processes erasing at once
  // could both take the same number). An append now takes its numbers from `erasure-head` in
  // the same write transaction as its rows. Existing entries move over with their numbers.
  '0017-erasure-log': {
    async up(db: Kysely<unknown>) {
      await sql`CREATE TABLE sync_erasures (
        seq INTEGER PRIMARY KEY,
        ids TEXT NOT NULL,
        origin TEXT NOT NULL,
        created_at INTEGER NOT NULL
      )`.execute(db);
      await sql`INSERT INTO sync_erasures (seq, ids, origin, created_at)
        SELECT CAST(substr(key, 25) AS INTEGER), json_extract(value, '$.ids'), json_extract(value, '$.origin'),
          CAST(unixepoch('subsec') * 1000 AS INTEGER)
        FROM engram_meta WHERE key GLOB 'capability:sync:erasure:[0-9]*'`.execute(db);
      await sql`INSERT INTO engram_meta (key, value)
        SELECT 'erasure-head', value FROM engram_meta WHERE key = 'capability:sync:erasure:head'`.execute(db);
      await sql`DELETE FROM engram_meta WHERE key GLOB 'capability:sync:erasure:*'`.execute(db);
    },
  },
  // The change log keeps what readers need: every entry after the newest snapshots (bounded by
  // two entries a memory), at least the last 100,000 (`changeLogTrimTrigger`).
  '0018-change-log-horizon': {
    async up(db: Kysely<unknown>) {
      await sql`DROP TRIGGER memory_vector_log_after_insert`.execute(db);
      await sql.raw(changeLogTrimTrigger()).execute(db);
    },
  },
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Brings the schema up to date through Kysely's `Migrator`, over the store's own better-sqlite3
 * connection.
 *
 * The whole run happens inside one `BEGIN IMMEDIATE` transaction (the migrator's own
 * transaction is disabled): several processes opening a new file at once then queue on the
 * write lock instead of deadlocking on a read-to-write lock upgrade, and the later ones find
 * nothing left to do. A quick read first skips the write lock when the schema is current.
 */
export async function migrateToLatest(db: BetterSqlite3.Database): Promise<void> {
  if (schemaIsCurrent(db)) return;
  const connection = new Kysely<unknown>({
    // The store owns the connection: Kysely must never close it.
    dialect: new SqliteDialect({ database: { prepare: (text: string) => db.prepare(text), close() {} } }),
  });
  const migrator = new Migrator({
    db: connection,
    provider,
    migrationTableName,
    migrationLockTableName,
    disableTransactions: true,
    // Migrations are numbered by the branch that wrote them and never depend on one another, so a
    // file that already has a later-numbered one still takes an earlier-numbered newcomer.
    allowUnorderedMigrations: true,
  });
  // 0010 rewrites vectors through a JavaScript function (for this connection only).
  db.function(quantiseFunctionName, { deterministic: true }, quantiseBlob as (blob: unknown) => Buffer);
  db.exec('BEGIN IMMEDIATE');
  try {
    const { error } = await migrator.migrateToLatest();
    if (error) throw error;
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  } finally {
    await connection.destroy();
  }
}
