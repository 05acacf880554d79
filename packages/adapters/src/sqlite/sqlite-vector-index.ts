import { AdapterError, type MemoryFilter, ValidationError, type VectorIndex, type VectorItem, type VectorMatch } from '@engram/core';
import { compileFilter } from './sqlite-filter.js';
import type { MemoryRow } from './sqlite-records.js';
import { withRetry } from './sqlite-retry.js';
import type { SqliteSession } from './sqlite-session.js';
import { vectorConstraints } from './sqlite-vector-filter.js';

/** sqlite-vec refuses a larger `k` in one KNN query. */
export const maxNeighbours = 4096;

/** With an `ids` filter this short, distances are computed row by row instead of scanning. */
const pointLookupLimit = 64;

const vectorTable = 'memory_vectors';

/**
 * The store's own vector index: a sqlite-vec `vec0` table keyed by `memories.rowid`.
 *
 * The table carries the filterable scalar fields as vec0 metadata columns, kept in step with
 * `memories` by triggers (type, subtype and supersession changes; soft and hard deletes drop the
 * vector). Every search is exact (vec0 is a brute-force scan) and filtered *during* the scan:
 * - a filter that only uses metadata columns becomes KNN constraints;
 * - any other filter (tags, `where`, `ids`…) adds `rowid IN (SELECT rowid FROM memories m WHERE
 *   <full filter>)`, which vec0 also applies before ranking, so the result is still the k best
 *   vectors that match, never "top k, then filter";
 * - a short `ids` list skips the scan: distances of just those rows are computed directly.
 */
export class SqliteVectorIndex implements VectorIndex {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'sqlite-vec';

  constructor(private readonly session: () => Promise<SqliteSession>) {}

  async open(dimensions: number): Promise<void> {
    if (!Number.isInteger(dimensions) || dimensions <= 0 || dimensions > 8192) {
      throw new ValidationError([{ field: 'dimensions', message: `must be an integer from 1 to 8192 (got ${dimensions})` }]);
    }
    const session = await this.session();
    await withRetry('vectors.open', () => {
      const existing = readVectorDimensions(session);
      if (existing === null) session.write(() => createVectorTable(session, dimensions));
      const stored = readVectorDimensions(session);
      if (stored !== dimensions) {
        throw new AdapterError(
          'sqlite',
          'vectors.open',
          new Error(`the vector table in ${session.location} holds ${stored}-dimensional vectors, not ${dimensions}`),
          'Open the store with the embedder it was built with, or re-embed everything into a new store ' +
            '(`engram export --path <old> > memories.jsonl`, then `engram import memories.jsonl --path <new>`)',
        );
      }
    });
  }

  /**
   * Replaces the vectors of existing live memories (a re-index). Ids that are unknown or deleted
   * are skipped: this index lives inside the store, and its filterable fields come from the
   * memory rows, so a vector without a memory has nothing to be found by.
   */
  async upsert(items: VectorItem[]): Promise<void> {
    if (items.length === 0) return;
    const session = await this.session();
    await withRetry('vectors.upsert', () => {
      const dimensions = requireVectorTable(session);
      for (const item of items) checkVector(item.vector, dimensions, `vector of ${item.id}`);
      const find = session.statement(`SELECT rowid, ${vectorFieldColumns} FROM memories WHERE id = ? AND deleted_at IS NULL`);
      session.write(() => {
        for (const item of items) {
          const row = find.get(item.id) as (VectorFields & { rowid: number }) | undefined;
          if (row) replaceVector(session, row.rowid, item.vector, row);
        }
      });
    });
  }

  /** The k (at most 4096, sqlite-vec's limit) most similar live vectors that match the filter. */
  async search(vector: Float32Array, k: number, filter?: MemoryFilter): Promise<VectorMatch[]> {
    const session = await this.session();
    return withRetry('vectors.search', () => {
      const dimensions = vectorTableDimensions(session);
      if (dimensions === null) return [];
      checkVector(vector, dimensions, 'query vector');
      const limit = Math.min(Math.floor(k), maxNeighbours);
      const constraints = vectorConstraints(filter);
      if (!(limit > 0) || constraints.empty) return [];
      const query = vectorBlob(vector);

      let rows: Array<{ id: string; distance: number | null }>;
      if (filter?.ids && filter.ids.length <= pointLookupLimit) {
        const where = compileFilter(filter);
        rows = session
          .statement(
            `SELECT m.id AS id, vec_distance_cosine(v.embedding, ?) AS distance
             FROM memories m CROSS JOIN ${vectorTable} v ON v.rowid = m.rowid
             WHERE ${where.sql} ORDER BY distance LIMIT ?`,
          )
          .all(query, ...where.params, limit) as typeof rows;
      } else {
        const knn = ['embedding MATCH ?', 'k = ?', ...constraints.conditions];
        const params = [query, limit, ...constraints.params];
        if (!constraints.complete) {
          const where = compileFilter(filter);
          knn.push(`rowid IN (SELECT m.rowid FROM memories m WHERE ${where.sql})`);
          params.push(...where.params);
        }
        rows = session
          .statement(
            `WITH knn AS (SELECT rowid, distance FROM ${vectorTable} WHERE ${knn.join(' AND ')})
             SELECT m.id AS id, knn.distance AS distance FROM knn JOIN memories m ON m.rowid = knn.rowid
             ORDER BY knn.distance`,
          )
          .all(...params) as typeof rows;
      }
      // Cosine distance is 1 - similarity; a zero vector has no direction (distance NULL).
      return rows.map((row) => ({ id: row.id, similarity: row.distance === null ? 0 : 1 - row.distance }));
    });
  }

  async delete(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const session = await this.session();
    await withRetry('vectors.delete', () => {
      if (vectorTableDimensions(session) === null) return;
      const remove = session.statement(`DELETE FROM ${vectorTable} WHERE rowid = (SELECT rowid FROM memories WHERE id = ?)`);
      session.write(() => {
        for (const id of ids) remove.run(id);
      });
    });
  }

  async count(): Promise<number> {
    const session = await this.session();
    return withRetry('vectors.count', () => {
      if (vectorTableDimensions(session) === null) return 0;
      return (session.statement(`SELECT count(*) AS total FROM ${vectorTable}`).get() as { total: number }).total;
    });
  }
}

/** The vec0 table's dimension, or null before any `open(dimensions)` (cached once it exists). */
export function vectorTableDimensions(session: SqliteSession): number | null {
  if (session.vectorDimensions === null) session.vectorDimensions = readVectorDimensions(session);
  return session.vectorDimensions;
}

/** Like `vectorTableDimensions`, for writes: a vector cannot be stored before the table exists. */
export function requireVectorTable(session: SqliteSession): number {
  const dimensions = vectorTableDimensions(session);
  if (dimensions === null) {
    throw new AdapterError(
      'sqlite',
      'vectors',
      new Error('no vector table yet'),
      'Call store.vectors.open(dimensions) once before writing vectors (Memory does this on open)',
    );
  }
  return dimensions;
}

/** Reads the dimension from the table definition, which every process sees. */
function readVectorDimensions(session: SqliteSession): number | null {
  const row = session.db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(vectorTable) as
    | { sql: string }
    | undefined;
  const match = row?.sql.match(/float\[(\d+)\]/);
  const dimensions = match ? Number(match[1]) : null;
  if (dimensions !== null) session.vectorDimensions = dimensions;
  return dimensions;
}

/**
 * Creates the vec0 table for this dimension, and the triggers that keep its metadata columns in
 * step with `memories`. Runs inside a write transaction; a concurrent creator makes it a no-op.
 */
function createVectorTable(session: SqliteSession, dimensions: number): void {
  session.db.exec(`
    CREATE VIRTUAL TABLE IF NOT EXISTS ${vectorTable} USING vec0(
      embedding float[${dimensions}] distance_metric=cosine,
      user_id text, agent_id text, run_id text, conversation_id text,
      type text, subtype text, created_at integer, superseded integer
    );
    CREATE TRIGGER IF NOT EXISTS memory_vectors_after_filterable_update
    AFTER UPDATE OF type, subtype, superseded_by ON memories BEGIN
      UPDATE ${vectorTable} SET type = new.type, subtype = ifnull(new.subtype, ''),
        superseded = (new.superseded_by IS NOT NULL)
      WHERE rowid = new.rowid;
    END;
    CREATE TRIGGER IF NOT EXISTS memory_vectors_after_soft_delete
    AFTER UPDATE OF deleted_at ON memories WHEN new.deleted_at IS NOT NULL BEGIN
      DELETE FROM ${vectorTable} WHERE rowid = new.rowid;
    END;
    CREATE TRIGGER IF NOT EXISTS memory_vectors_after_delete AFTER DELETE ON memories BEGIN
      DELETE FROM ${vectorTable} WHERE rowid = old.rowid;
    END;
  `);
  const stored = readVectorDimensions(session) ?? dimensions;
  session
    .statement("INSERT OR REPLACE INTO engram_meta (key, value) VALUES ('vectors', ?)")
    .run(JSON.stringify({ table: vectorTable, dimensions: stored, metric: 'cosine' }));
}

/** The columns of a memory row that the vec0 table mirrors as metadata. */
export type VectorFields = Pick<
  MemoryRow,
  'user_id' | 'agent_id' | 'run_id' | 'conversation_id' | 'type' | 'subtype' | 'created_at' | 'superseded_by'
>;

/** The SELECT list that reads `VectorFields` from `memories`. */
export const vectorFieldColumns = 'user_id, agent_id, run_id, conversation_id, type, subtype, created_at, superseded_by';

const insertVectorSql = `INSERT INTO ${vectorTable}
  (rowid, embedding, user_id, agent_id, run_id, conversation_id, type, subtype, created_at, superseded)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * Stores the vector of a memory row that has none yet, with the row's filterable fields.
 * vec0 wants INTEGER-typed rowids and integer metadata, which JS numbers (bound as REAL by
 * better-sqlite3) are not: integers go in as BigInt. Missing text is '' (vec0 has no NULL).
 * Values are bound directly: `INSERT INTO vec0 … SELECT` measured 2.3x slower (SQLite stages
 * the rows of an INSERT … SELECT into a virtual table in a temporary table first).
 */
export function insertVector(session: SqliteSession, rowid: number | bigint, vector: Float32Array, fields: VectorFields): void {
  session
    .statement(insertVectorSql)
    .run(
      BigInt(rowid),
      vectorBlob(vector),
      fields.user_id ?? '',
      fields.agent_id ?? '',
      fields.run_id ?? '',
      fields.conversation_id ?? '',
      fields.type,
      fields.subtype ?? '',
      BigInt(fields.created_at),
      fields.superseded_by === null ? 0n : 1n,
    );
}

/** Sets the vector of a memory row, whether or not it had one. */
export function replaceVector(session: SqliteSession, rowid: number | bigint, vector: Float32Array, fields: VectorFields): void {
  const updated = session.statement(`UPDATE ${vectorTable} SET embedding = ? WHERE rowid = ?`).run(vectorBlob(vector), BigInt(rowid));
  if (updated.changes === 0) insertVector(session, rowid, vector, fields);
}

/** Drops the vector of a memory row, if the vector table exists. */
export function removeVector(session: SqliteSession, rowid: number | bigint): void {
  if (vectorTableDimensions(session) === null) return;
  session.statement(`DELETE FROM ${vectorTable} WHERE rowid = ?`).run(BigInt(rowid));
}

export function checkVector(vector: Float32Array, dimensions: number, field: string): void {
  if (!(vector instanceof Float32Array)) {
    throw new ValidationError([{ field, message: 'must be a Float32Array' }]);
  }
  if (vector.length !== dimensions) {
    throw new ValidationError([{ field, message: `has ${vector.length} dimensions; this store holds ${dimensions}-dimensional vectors` }]);
  }
}

/** The vector's bytes as little-endian float32, without copying. */
function vectorBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}
