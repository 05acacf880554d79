import { type Kysely, type Migration, sql } from 'kysely';
import { tagBucketShift } from './sqlite-records.js';

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
