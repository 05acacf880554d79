import { AdapterError, type MemoryFilter, ValidationError, type VectorIndex, type VectorItem, type VectorMatch } from '@engram/core';
import type { Queryable } from './postgres-client.js';
import { withErrors } from './postgres-errors.js';
import { compileFilter } from './postgres-filter.js';
import { lockNamespace } from './postgres-migrations.js';
import { maxDimensions, maxIndexedDimensions, type PostgresSession, vectorLiteral } from './postgres-session.js';
import { SqlParameters } from './postgres-sql.js';

/** With an `ids` filter this short, distances are computed for just those rows. */
const pointLookupLimit = 64;

/** Bounds of `hnsw.ef_search` (pgvector accepts 1…1000). */
const minCandidates = 40;
const maxCandidates = 1000;

/**
 * The store's own vector index: a pgvector `embedding vector(d)` column on `memories` with an
 * HNSW index (cosine), so a record and its vector are written in one transaction.
 *
 * Filtered KNN never does "top k, then filter": the filter is in the same query as the
 * `ORDER BY embedding <=> q LIMIT k`, and
 * - on pgvector ≥ 0.8 the HNSW scan runs with `hnsw.iterative_scan = relaxed_order`, so it keeps
 *   walking the graph until k rows pass the filter (results are re-sorted exactly afterwards);
 * - on older pgvector the scan sees `hnsw.ef_search` candidates at most;
 * - either way, when fewer than k rows come back, the query runs again exactly (distances of
 *   every row that passes the filter, through the ordinary indexes), so a filter matching 1 row
 *   in 1,000 still yields its k best matches.
 * The planner may also skip HNSW and compute exact distances for a selective filter on its own.
 */
export class PostgresVectorIndex implements VectorIndex {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'pgvector';

  constructor(private readonly session: () => Promise<PostgresSession>) {}

  async open(dimensions: number): Promise<void> {
    if (!Number.isInteger(dimensions) || dimensions <= 0 || dimensions > maxDimensions) {
      throw new ValidationError([{ field: 'dimensions', message: `must be an integer from 1 to ${maxDimensions} (got ${dimensions})` }]);
    }
    const session = await this.session();
    await withErrors('vectors.open', session.errors, async () => {
      if ((await session.vectorDimensions()) === null) {
        await session.client.transaction(async (transaction) => {
          // One process adds the column; the others wait here, then find it.
          await transaction.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [lockNamespace, `vectors:${session.schema}`]);
          if ((await session.vectorDimensions(transaction)) !== null) return;
          await transaction.query(`ALTER TABLE ${session.memories} ADD COLUMN embedding ${session.vectorType()}(${dimensions})`);
          if (dimensions <= maxIndexedDimensions) {
            await transaction.query(
              `CREATE INDEX memories_embedding ON ${session.memories} USING hnsw (embedding ${session.requireVectors().schema}.vector_cosine_ops)`,
            );
          }
          await transaction.query(
            `INSERT INTO ${session.meta} (key, value) VALUES ('vectors', $1::jsonb)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
            [
              JSON.stringify({
                column: 'embedding',
                dimensions,
                metric: 'cosine',
                index: dimensions <= maxIndexedDimensions ? 'hnsw' : 'none',
              }),
            ],
          );
        });
      }
      const stored = await session.vectorDimensions();
      if (stored !== dimensions) {
        throw new AdapterError(
          'postgres',
          'vectors.open',
          new Error(
            `the embedding column of ${session.memories} in ${session.errors.location} holds ${stored}-dimensional vectors, not ${dimensions}`,
          ),
          'Open the store with the embedder it was built with, or move the memories into a store with another `schema` ' +
            '(list or export them, then add them through a Memory built with the new embedder)',
        );
      }
    });
  }

  /**
   * Replaces the vectors of existing live memories (a re-index). Ids that are unknown or deleted
   * are skipped: this index lives inside the store, and its filterable fields are the memory
   * rows themselves, so a vector without a memory has nothing to be found by.
   */
  async upsert(items: VectorItem[]): Promise<void> {
    if (items.length === 0) return;
    const session = await this.session();
    await withErrors('vectors.upsert', session.errors, async () => {
      const dimensions = await session.requireVectorColumn();
      for (const item of items) checkVector(item.vector, dimensions, `vector of ${item.id}`);
      const rows = items.map((item) => ({ id: item.id, embedding: vectorLiteral(item.vector) }));
      await session.client.query(
        `UPDATE ${session.memories} AS m SET embedding = item.embedding::${session.vectorType()}
         FROM json_to_recordset($1::json) AS item(id text, embedding text)
         WHERE m.id = item.id AND m.deleted_at IS NULL`,
        [JSON.stringify(rows)],
      );
    });
  }

  async search(vector: Float32Array, k: number, filter?: MemoryFilter): Promise<VectorMatch[]> {
    const session = await this.session();
    return withErrors('vectors.search', session.errors, async () => {
      const dimensions = await session.vectorDimensions();
      if (dimensions === null) return [];
      checkVector(vector, dimensions, 'query vector');
      const limit = Math.floor(k);
      if (!(limit > 0)) return [];
      const query = vectorLiteral(vector);
      const exactOnly = dimensions > maxIndexedDimensions || (filter?.ids !== undefined && filter.ids.length <= pointLookupLimit);
      if (!exactOnly) {
        const approximate = await session.client.transaction(async (transaction) => {
          const support = session.requireVectors();
          const candidates = Math.min(maxCandidates, Math.max(minCandidates, support.iterativeScan ? limit : limit * 4));
          if (support.iterativeScan) {
            await transaction.query(
              "SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)",
              [String(candidates)],
            );
          } else {
            await transaction.query("SELECT set_config('hnsw.ef_search', $1, true)", [String(candidates)]);
          }
          return this.nearest(session, transaction, query, limit, filter, false);
        });
        if (approximate.length >= limit) return approximate;
      }
      return this.nearest(session, session.client, query, limit, filter, true);
    });
  }

  /**
   * The `limit` nearest live rows that pass the filter. `exact` computes every distance (a
   * materialized CTE cannot be answered from the HNSW index); otherwise the planner may use it.
   * Either way the final order is by exact distance, then id.
   */
  private async nearest(
    session: PostgresSession,
    queryable: Queryable,
    query: string,
    limit: number,
    filter: MemoryFilter | undefined,
    exact: boolean,
  ): Promise<VectorMatch[]> {
    const params = new SqlParameters();
    const target = `${params.add(query)}::${session.vectorType()}`;
    const where = compileFilter(filter, params);
    const distance = `m.embedding ${session.cosineDistance()} ${target}`;
    const candidates = exact
      ? `SELECT m.id, ${distance} AS distance FROM ${session.memories} m WHERE m.embedding IS NOT NULL AND ${where}`
      : `SELECT m.id, ${distance} AS distance FROM ${session.memories} m WHERE m.embedding IS NOT NULL AND ${where}
         ORDER BY ${distance} LIMIT ${params.add(limit)}`;
    // `distance + 0`: sort again for real (relaxed_order returns rows only roughly in order).
    const { rows } = await queryable.query<{ id: string; distance: number }>(
      `WITH candidates AS MATERIALIZED (${candidates})
       SELECT id, distance FROM candidates ORDER BY distance + 0, id LIMIT ${params.add(limit)}`,
      params.values,
    );
    // Cosine distance is 1 - similarity; a zero vector has no direction (distance NaN).
    return rows.map((row) => ({ id: row.id, similarity: Number.isNaN(row.distance) ? 0 : 1 - row.distance }));
  }

  async delete(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const session = await this.session();
    await withErrors('vectors.delete', session.errors, async () => {
      if ((await session.vectorDimensions()) === null) return;
      const params = new SqlParameters();
      await session.client.query(
        `UPDATE ${session.memories} SET embedding = NULL WHERE id = ANY(${params.textArray(ids)}) AND embedding IS NOT NULL`,
        params.values,
      );
    });
  }

  async count(): Promise<number> {
    const session = await this.session();
    return withErrors('vectors.count', session.errors, async () => {
      if ((await session.vectorDimensions()) === null) return 0;
      const { rows } = await session.client.query<{ total: number }>(
        `SELECT count(*) AS total FROM ${session.memories} WHERE embedding IS NOT NULL AND deleted_at IS NULL`,
      );
      return Number(rows[0]?.total ?? 0);
    });
  }
}

export function checkVector(vector: Float32Array, dimensions: number, field: string): void {
  if (!(vector instanceof Float32Array)) throw new ValidationError([{ field, message: 'must be a Float32Array' }]);
  if (vector.length !== dimensions) {
    throw new ValidationError([{ field, message: `has ${vector.length} dimensions; this store holds ${dimensions}-dimensional vectors` }]);
  }
  for (const value of vector) {
    if (!Number.isFinite(value))
      throw new ValidationError([{ field, message: 'holds NaN or Infinity; pgvector stores finite numbers only' }]);
  }
}
