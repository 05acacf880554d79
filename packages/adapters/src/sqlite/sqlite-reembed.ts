import type { EmbedderInfo, ReembedOptions, ReembedResult } from '@engram/core';
import type { SqliteSession } from './sqlite-session.js';
import { removeSnapshots } from './sqlite-snapshot.js';
import { switchVectors } from './sqlite-vector-index.js';
import { encodeStoredVector } from './sqlite-vector-storage.js';

const STAGING = 'memory_reembed';

function readTarget(session: SqliteSession): EmbedderInfo | null {
  const value = session.statement("SELECT value FROM engram_meta WHERE key = 'reembed'").pluck().get() as string | undefined;
  return value === undefined ? null : (JSON.parse(value) as EmbedderInfo);
}

const stagingExists = (session: SqliteSession) =>
  session.statement("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").pluck().get(STAGING) !== undefined;

/**
 * Re-embeds every live memory into a staging table (`memory_reembed`: rowid, content hash,
 * vector), batch by batch, each batch committed on its own — so a crash loses at most one batch
 * and the next run resumes where it stopped. Searches keep using the old vectors meanwhile. When
 * every live memory has a staged vector for its current content, one write transaction swaps
 * them in, rebuilds the codes and records the new embedder: readers see the old store or the
 * new one, never a mix. Memories written or changed during the run are staged by a later pass.
 */
export async function reembedSqlite(
  session: SqliteSession,
  target: EmbedderInfo,
  embed: (texts: string[]) => Promise<Float32Array[]>,
  options: ReembedOptions = {},
): Promise<ReembedResult> {
  const batchSize = options.batchSize ?? 256;
  const previous = session.statement("SELECT value FROM engram_meta WHERE key = 'embedder'").pluck().get() as string | undefined;
  const from = previous === undefined ? null : (JSON.parse(previous) as EmbedderInfo);

  // A run for another embedder (or none yet): start a clean staging table.
  let resumed = 0;
  session.write(() => {
    const staged = readTarget(session);
    if (staged && staged.id === target.id && staged.dimensions === target.dimensions && stagingExists(session)) {
      resumed = session.statement(`SELECT count(*) FROM ${STAGING}`).pluck().get() as number;
      return;
    }
    session.db.exec(`DROP TABLE IF EXISTS ${STAGING}`);
    session.db.exec(`CREATE TABLE ${STAGING} (rowid INTEGER PRIMARY KEY, content_hash TEXT NOT NULL, vector BLOB NOT NULL)`);
    session
      .statement("INSERT INTO engram_meta (key, value) VALUES ('reembed', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .run(JSON.stringify({ id: target.id, dimensions: target.dimensions }));
  });

  const pending = session.db.prepare(
    `SELECT m.rowid AS rowid, m.content AS content, m.content_hash AS hash FROM memories m LEFT JOIN ${STAGING} s ON s.rowid = m.rowid
     WHERE m.deleted_at IS NULL AND m.content NOT LIKE 'engram:enc:v1:%' AND (s.rowid IS NULL OR s.content_hash <> m.content_hash) AND m.rowid > ? ORDER BY m.rowid LIMIT ?`,
  );
  // Sensitive memories (encrypted envelopes) get no vector here: the text is not readable to the store.
  const countLive = () =>
    session
      .statement("SELECT count(*) FROM memories WHERE deleted_at IS NULL AND content NOT LIKE 'engram:enc:v1:%'")
      .pluck()
      .get() as number;
  const countDone = () =>
    session.db
      .prepare(
        `SELECT count(*) FROM ${STAGING} s JOIN memories m ON m.rowid = s.rowid WHERE m.deleted_at IS NULL AND s.content_hash = m.content_hash`,
      )
      .pluck()
      .get() as number;
  const store = session.db.prepare(
    `INSERT INTO ${STAGING} (rowid, content_hash, vector) VALUES (?, ?, ?) ON CONFLICT (rowid) DO UPDATE SET content_hash = excluded.content_hash, vector = excluded.vector`,
  );

  let embedded = 0;
  for (;;) {
    // One pass over what is missing or stale, in rowid order.
    let after = -1;
    for (;;) {
      options.signal?.throwIfAborted();
      const rows = pending.all(after, batchSize) as Array<{ rowid: number; content: string; hash: string }>;
      if (rows.length === 0) break;
      const vectors = await embed(rows.map((row) => row.content));
      for (const vector of vectors) {
        if (vector.length !== target.dimensions) {
          throw new Error(`the embedder returned a ${vector.length}-dimensional vector, not ${target.dimensions}`);
        }
      }
      session.write(() => {
        rows.forEach((row, index) => {
          const vector = vectors[index] as Float32Array;
          store.run(row.rowid, row.hash, encodeStoredVector(vector));
        });
      });
      embedded += rows.length;
      after = (rows.at(-1) as { rowid: number }).rowid;
      options.onProgress?.({ embedded: countDone(), total: countLive() });
    }
    // The switch, if nothing was written meanwhile; else another pass for the newcomers.
    const switched = session.write(() => {
      if ((pending.all(-1, 1) as unknown[]).length > 0) return false;
      session.db.exec(
        `DELETE FROM memory_embeddings;
         INSERT INTO memory_embeddings (rowid, vector)
           SELECT s.rowid, s.vector FROM ${STAGING} s JOIN memories m ON m.rowid = s.rowid WHERE m.deleted_at IS NULL;
         DROP TABLE ${STAGING};`,
      );
      switchVectors(session, target.dimensions);
      session
        .statement("INSERT INTO engram_meta (key, value) VALUES ('embedder', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .run(JSON.stringify({ id: target.id, dimensions: target.dimensions }));
      session.statement("DELETE FROM engram_meta WHERE key = 'reembed'").run();
      return true;
    });
    if (switched) break;
  }
  removeSnapshots(session);
  const total = countLive();
  options.onProgress?.({ embedded: total, total });
  return { from, to: { id: target.id, dimensions: target.dimensions }, embedded, resumed, total };
}
