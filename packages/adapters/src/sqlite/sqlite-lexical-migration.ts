import { type Kysely, type Migration, sql } from 'kysely';

/**
 * 0004: lexical search moves from FTS5 to an in-memory BM25 index each connection keeps
 * (`sqlite-lexical-index.ts`), fed by the same change log as the vector mirror.
 *
 * FTS5 scores every row that holds any query word before it can sort: with a common word in the
 * query that is most of the table (10 ms at 100k memories, 170 ms at 1M), and keeping it in step
 * cost about a fifth of each insert. The FTS table, its source view and the triggers that fed it
 * are dropped; `memory_vector_log` now also records every memory inserted or deleted and every
 * change to its text (content, tags, context), type, subtype, supersession, validity or deletion,
 * whether or not it has a vector. A new row's tags are written by the store (the insert trigger
 * no longer expands them).
 */
export const lexicalIndexMigration: Migration = {
  async up(db: Kysely<unknown>) {
    for (const trigger of [
      'memories_after_insert',
      'memories_after_text_update',
      'memories_after_soft_delete',
      'memories_after_restore',
      'memories_after_delete',
      'memories_after_vector_field_update',
    ]) {
      await sql.raw(`DROP TRIGGER IF EXISTS ${trigger}`).execute(db);
    }
    await sql`DROP TABLE IF EXISTS memories_fts`.execute(db);
    await sql`DROP VIEW IF EXISTS memories_fts_source`.execute(db);

    const triggers = [
      // The tags of a new row are written by the store with the row (`json_each` in a trigger
      // cost ~24 µs an insert); changed tags still go through `memories_after_tags_update`.
      `CREATE TRIGGER memories_after_insert AFTER INSERT ON memories BEGIN
        INSERT INTO memory_vector_log (memory_rowid) VALUES (new.rowid);
      END`,
      `CREATE TRIGGER memories_after_search_field_update
      AFTER UPDATE OF content, tags, context, type, subtype, superseded_by, valid_to, deleted_at ON memories
      WHEN old.content IS NOT new.content OR old.tags IS NOT new.tags OR old.context IS NOT new.context
        OR old.type IS NOT new.type OR old.subtype IS NOT new.subtype OR old.superseded_by IS NOT new.superseded_by
        OR old.valid_to IS NOT new.valid_to OR old.deleted_at IS NOT new.deleted_at BEGIN
        INSERT INTO memory_vector_log (memory_rowid) VALUES (new.rowid);
      END`,
      `CREATE TRIGGER memories_after_delete AFTER DELETE ON memories BEGIN
        INSERT INTO memory_vector_log (memory_rowid) VALUES (old.rowid);
      END`,
    ];
    for (const trigger of triggers) await sql.raw(trigger).execute(db);
  },
};
