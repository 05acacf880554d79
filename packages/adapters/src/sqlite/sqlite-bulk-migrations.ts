import { type Kysely, type Migration, sql } from 'kysely';
import { hashPrefix, tagBucketShift } from './sqlite-records.js';

/**
 * 0015: `memory_tags` becomes rowid-major, and its tag lookup an index grouped by rowid bucket.
 *
 * Before, the table was keyed (tag, memory_rowid): a new memory's tags went to the end of each
 * tag's range, one random page a tag — 1,151 of the 2,469 write-ahead-log pages an `addMany` of
 * 1,000 wrote at 1M memories (2,124 tags), each page written again by the checkpoint. Now the
 * table is keyed (memory_rowid, tag), so new rows append, and `memory_tags_tag` keys on
 * (`memory_rowid >> 12`, tag): new entries land in the newest bucket's few dozen pages. A tag
 * lookup reads each bucket's range for the tag (one index seek a bucket: ~250 at 1M memories),
 * see `taggedRowidsSql`. The columns keep their names, so any writer's
 * `INSERT INTO memory_tags (tag, memory_rowid)` still fills both.
 */
export const rowidMajorTagsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    // The trigger names the table, which would stop the rename below; it is recreated as it was.
    await sql`DROP TRIGGER IF EXISTS memories_after_tags_update`.execute(db);
    await sql`CREATE TABLE memory_tags_next (
      memory_rowid INTEGER NOT NULL REFERENCES memories(rowid) ON DELETE CASCADE,
      tag TEXT NOT NULL,
      PRIMARY KEY (memory_rowid, tag)
    ) WITHOUT ROWID`.execute(db);
    await sql`INSERT INTO memory_tags_next (memory_rowid, tag) SELECT memory_rowid, tag FROM memory_tags ORDER BY memory_rowid, tag`.execute(
      db,
    );
    await sql`DROP TABLE memory_tags`.execute(db);
    await sql`ALTER TABLE memory_tags_next RENAME TO memory_tags`.execute(db);
    await sql.raw(`CREATE INDEX memory_tags_tag ON memory_tags (memory_rowid >> ${tagBucketShift}, tag)`).execute(db);
    await sql`CREATE TRIGGER memories_after_tags_update AFTER UPDATE OF tags ON memories BEGIN
      DELETE FROM memory_tags WHERE memory_rowid = old.rowid;
      INSERT OR IGNORE INTO memory_tags (tag, memory_rowid) SELECT value, new.rowid FROM json_each(new.tags);
    END`.execute(db);
  },
};

/** The hash-index entry of a memory row (`new` or `old` in a trigger): scope, hash prefix, rowid. */
const hashEntry = (row: 'new' | 'old') => `${row}.scope_key, ${hashPrefix(`${row}.content_hash`)}, ${row}.rowid`;
const removeHashEntry = (table: string) =>
  `DELETE FROM ${table} WHERE scope_key = old.scope_key AND hash_prefix = ${hashPrefix('old.content_hash')} AND memory_rowid = old.rowid;`;

/**
 * 0016: the exact-duplicate index leaves `memories` for two tables of (scope_key, hash_prefix,
 * memory_rowid), one entry per live memory: `memory_hashes` and a small `memory_hashes_recent`.
 *
 * A content hash is random, so each new memory's entry in the old index (`memories_scope_hash`,
 * ~7,000 pages at 1M memories) landed on a page of its own: 1,089 of the 2,469 write-ahead-log
 * pages an `addMany` of 1,000 wrote. New entries now go to the recent table, whose few hundred
 * pages a batch shares; once it holds `recentHashLimit` entries, a writer moves them to
 * `memory_hashes` in one sorted insert, which touches each page of the large table at most once
 * for all of them (`foldRecentHashes`). A lookup probes both tables (two seeks).
 *
 * Triggers keep the entries exactly those of the live rows, whoever writes the rows: an insert of
 * a live row adds one to the recent table; a change of scope, hash or deletion removes the old
 * entry from either table and adds the new one while the row is live; a delete removes it.
 */
export const appendingHashIndexMigration: Migration = {
  async up(db: Kysely<unknown>) {
    for (const table of ['memory_hashes', 'memory_hashes_recent']) {
      await sql
        .raw(`CREATE TABLE ${table} (
          scope_key TEXT NOT NULL,
          hash_prefix TEXT NOT NULL,
          memory_rowid INTEGER NOT NULL,
          PRIMARY KEY (scope_key, hash_prefix, memory_rowid)
        ) WITHOUT ROWID`)
        .execute(db);
    }
    await sql
      .raw(
        `INSERT INTO memory_hashes (scope_key, hash_prefix, memory_rowid)
         SELECT scope_key, ${hashPrefix('content_hash')}, rowid FROM memories WHERE deleted_at IS NULL ORDER BY 1, 2, 3`,
      )
      .execute(db);
    await sql`DROP INDEX IF EXISTS memories_scope_hash`.execute(db);
    const triggers = [
      `CREATE TRIGGER memory_hashes_after_insert AFTER INSERT ON memories WHEN new.deleted_at IS NULL BEGIN
        INSERT OR IGNORE INTO memory_hashes_recent (scope_key, hash_prefix, memory_rowid) VALUES (${hashEntry('new')});
      END`,
      `CREATE TRIGGER memory_hashes_after_update AFTER UPDATE OF scope_key, content_hash, deleted_at ON memories
      WHEN old.scope_key IS NOT new.scope_key OR old.content_hash IS NOT new.content_hash OR old.deleted_at IS NOT new.deleted_at BEGIN
        ${removeHashEntry('memory_hashes')}
        ${removeHashEntry('memory_hashes_recent')}
        INSERT OR IGNORE INTO memory_hashes_recent (scope_key, hash_prefix, memory_rowid) SELECT ${hashEntry('new')} WHERE new.deleted_at IS NULL;
      END`,
      `CREATE TRIGGER memory_hashes_after_delete AFTER DELETE ON memories BEGIN
        ${removeHashEntry('memory_hashes')}
        ${removeHashEntry('memory_hashes_recent')}
      END`,
    ];
    for (const trigger of triggers) await sql.raw(trigger).execute(db);
  },
};
