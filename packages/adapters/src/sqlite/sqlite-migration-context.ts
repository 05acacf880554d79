import { type Kysely, type Migration, sql } from 'kysely';

/**
 * 0002: a memory's optional `context` (text that helps find it without being part of it).
 *
 * Adds the `context` column and rebuilds the FTS5 index with a third column for it, so BM25 can
 * weigh it below the content (`bm25(memories_fts, 1, 1, contextWeight)`). FTS5 cannot add a
 * column to an existing table: the view, the table and the triggers that feed it are recreated
 * and the index is rebuilt from the live rows (one pass over the table, on first open).
 */
export const contextMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`ALTER TABLE memories ADD COLUMN context TEXT`.execute(db);
    for (const trigger of [
      'memories_after_insert',
      'memories_after_text_update',
      'memories_after_soft_delete',
      'memories_after_restore',
      'memories_after_delete',
    ]) {
      await sql.raw(`DROP TRIGGER IF EXISTS ${trigger}`).execute(db);
    }
    await sql`DROP TABLE memories_fts`.execute(db);
    await sql`DROP VIEW memories_fts_source`.execute(db);
    await sql`CREATE VIEW memories_fts_source AS SELECT rowid, content, tags, context FROM memories WHERE deleted_at IS NULL`.execute(db);
    await sql`CREATE VIRTUAL TABLE memories_fts USING fts5(
      content, tags, context,
      content = 'memories_fts_source', content_rowid = 'rowid',
      tokenize = 'porter unicode61 remove_diacritics 2'
    )`.execute(db);
    await sql`INSERT INTO memories_fts (memories_fts) VALUES ('rebuild')`.execute(db);

    const triggers = [
      `CREATE TRIGGER memories_after_insert AFTER INSERT ON memories BEGIN
        INSERT OR IGNORE INTO memory_tags (tag, memory_rowid) SELECT value, new.rowid FROM json_each(new.tags);
        INSERT INTO memories_fts (rowid, content, tags, context) SELECT new.rowid, new.content, new.tags, new.context WHERE new.deleted_at IS NULL;
      END`,
      `CREATE TRIGGER memories_after_text_update AFTER UPDATE OF content, tags, context ON memories
      WHEN old.deleted_at IS NULL AND new.deleted_at IS NULL BEGIN
        INSERT INTO memories_fts (memories_fts, rowid, content, tags, context) VALUES ('delete', old.rowid, old.content, old.tags, old.context);
        INSERT INTO memories_fts (rowid, content, tags, context) VALUES (new.rowid, new.content, new.tags, new.context);
      END`,
      `CREATE TRIGGER memories_after_soft_delete AFTER UPDATE OF deleted_at ON memories
      WHEN old.deleted_at IS NULL AND new.deleted_at IS NOT NULL BEGIN
        INSERT INTO memories_fts (memories_fts, rowid, content, tags, context) VALUES ('delete', old.rowid, old.content, old.tags, old.context);
      END`,
      `CREATE TRIGGER memories_after_restore AFTER UPDATE OF deleted_at ON memories
      WHEN old.deleted_at IS NOT NULL AND new.deleted_at IS NULL BEGIN
        INSERT INTO memories_fts (rowid, content, tags, context) VALUES (new.rowid, new.content, new.tags, new.context);
      END`,
      `CREATE TRIGGER memories_after_delete AFTER DELETE ON memories WHEN old.deleted_at IS NULL BEGIN
        INSERT INTO memories_fts (memories_fts, rowid, content, tags, context) VALUES ('delete', old.rowid, old.content, old.tags, old.context);
      END`,
    ];
    for (const trigger of triggers) await sql.raw(trigger).execute(db);
  },
};
