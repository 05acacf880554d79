import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import {
  cosineSimilarity,
  type MemoryFilter,
  type MemoryRecord,
  type MemoryStore,
  matchesFilter,
  parseWhere,
  type VectorIndex,
} from '@engram/core';
import { makeRecord, seededVector } from '@engram/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresStore } from './index.js';

/**
 * Filtered KNN on pgvector's HNSW index (PGlite: Postgres 17 + pgvector 0.8, in process): a filter
 * matching 1 row in 1,000 must still return its k best matches, in exact order.
 */
const DIMENSIONS = 32;
const ROWS = 4000;
const K = ROWS / 1000;

describe('pgvector filtered KNN (PGlite)', () => {
  let database: PGlite;
  let store: MemoryStore;
  let index: VectorIndex;
  const records: MemoryRecord[] = [];
  const vectors = new Map<string, Float32Array>();

  beforeAll(async () => {
    database = await PGlite.create({ extensions: { vector } });
    store = postgresStore({ pglite: database, schema: 'knn', vectors: true });
    await store.open();
    await store.setEmbedder({ id: 'knn', dimensions: DIMENSIONS });
    index = store.vectors as VectorIndex;
    await index.open(DIMENSIONS);
    for (let start = 0; start < ROWS; start += 500) {
      const batch = Array.from({ length: 500 }, (_, offset) => {
        const position = start + offset;
        const record = makeRecord({
          content: `vector row ${position}`,
          scope: { userId: `user-${position % 50}` },
          tags: position % 1000 === 7 ? ['rare'] : ['common'],
          metadata: { bucket: position % 1000, position },
        });
        const embedding = seededVector(position + 1, DIMENSIONS);
        records.push(record);
        vectors.set(record.id, embedding);
        return { record, vector: embedding };
      });
      await store.write(batch);
    }
    // Autovacuum would do this on a server; PGlite has none.
    await database.query('ANALYZE knn.memories');
  }, 300_000);
  afterAll(async () => {
    await store?.close();
    await database?.close();
  });

  /** The exact answer: every matching row's cosine similarity, best first. */
  const exact = (query: Float32Array, k: number, filter: MemoryFilter) =>
    records
      .filter((record) => matchesFilter(record, filter))
      .map((record) => ({ id: record.id, similarity: cosineSimilarity(query, vectors.get(record.id) as Float32Array) }))
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, k)
      .map((match) => match.id);

  // Each filter matches 1 row in 1,000; the SQL is what the store compiles it to (for EXPLAIN).
  const filters: Array<[string, MemoryFilter, string]> = [
    [
      'a metadata condition',
      { where: parseWhere({ bucket: 7 }) },
      `m.metadata @> '{"bucket":7}' AND coalesce((m.metadata -> 'bucket') = '7'::jsonb, false)`,
    ],
    ['a tag', { tags: { any: ['rare'] } }, `m.tags && ARRAY['rare']`],
    [
      'a metadata range and a scope',
      { where: parseWhere({ bucket: { lt: 1 } }), scope: { userId: 'user-0' } },
      `m.user_id = 'user-0' AND (CASE WHEN jsonb_typeof(m.metadata -> 'bucket') = 'number' THEN (m.metadata -> 'bucket')::numeric < 1 ELSE false END)`,
    ],
  ];

  it.for(filters)('returns the k best of the rows matching %s (planner’s choice)', async ([, filter]) => {
    const query = seededVector(123_456, DIMENSIONS);
    const expected = exact(query, K, filter);
    expect(expected).toHaveLength(K);
    expect((await index.search(query, K, filter)).map((match) => match.id)).toEqual(expected);
    // Asking for more than exist returns all of them (the exact fallback), still in order.
    expect((await index.search(query, K * 3, filter)).map((match) => match.id)).toEqual(exact(query, K * 3, filter));
  });

  it('finds the true nearest neighbours without a filter (HNSW recall)', async () => {
    let overlap = 0;
    for (let query = 0; query < 20; query++) {
      const target = seededVector(900_000 + query, DIMENSIONS);
      const expected = new Set(exact(target, 10, {}));
      const found = await index.search(target, 10);
      expect(found).toHaveLength(10);
      overlap += found.filter((match) => expected.has(match.id)).length;
    }
    expect(overlap / 200).toBeGreaterThanOrEqual(0.9);
  });

  it('returns exact similarities, best first', async () => {
    const query = seededVector(42, DIMENSIONS);
    const found = await index.search(query, 20, { where: parseWhere({ position: { lt: 600 } }) });
    expect(found).toHaveLength(20);
    for (const match of found) expect(match.similarity).toBeCloseTo(cosineSimilarity(query, vectors.get(match.id) as Float32Array), 5);
    expect(found.every((match, position) => position === 0 || (found[position - 1]?.similarity ?? 1) >= match.similarity)).toBe(true);
  });

  // With statistics, Postgres answers such selective filters exactly on its own (an index or a
  // seq scan, then a sort). On a large table it walks the HNSW index instead; that path is forced
  // here by leaving the planner nothing else: the other indexes go and seq scans are priced out.
  describe('when the planner walks the HNSW index', () => {
    const hnswQuery = (where: string) =>
      `SELECT m.id FROM knn.memories m
       WHERE m.embedding IS NOT NULL AND m.deleted_at IS NULL AND m.superseded_by IS NULL AND ${where}
       ORDER BY m.embedding <=> $1::vector LIMIT ${K}`;
    const queryText = (query: Float32Array) => `[${Array.from(query).join(',')}]`;

    beforeAll(async () => {
      for (const name of [
        'memories_tags',
        'memories_metadata',
        'memories_user',
        'memories_created',
        'memories_scope_hash',
        'memories_conversation',
        'memories_search',
        'memories_search_length',
      ]) {
        await database.query(`DROP INDEX knn.${name}`);
      }
      await database.query('SET enable_seqscan = off');
      await database.query('SET enable_bitmapscan = off');
    });
    afterAll(async () => {
      await database.query('RESET ALL');
    });

    it.for(filters)('plans %s on the HNSW index', async ([, , where]) => {
      const plan = await database.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${hnswQuery(where)}`, [queryText(seededVector(1, DIMENSIONS))]);
      expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/Index Scan using memories_embedding/);
    });

    it.for(filters)('the iterative scan returns the k best rows matching %s', async ([, filter, where]) => {
      const query = seededVector(654_321, DIMENSIONS);
      const expected = exact(query, K, filter);
      // Without iterative scans HNSW yields ef_search candidates, and the rare rows are not among them.
      await database.query("SET hnsw.iterative_scan = 'off'");
      expect((await database.query(hnswQuery(where), [queryText(query)])).rows.length).toBeLessThan(K);
      // With them (what the store sets on pgvector ≥ 0.8) the scan goes on until K rows pass.
      await database.query("SET hnsw.iterative_scan = 'relaxed_order'");
      expect((await database.query(hnswQuery(where), [queryText(query)])).rows.length).toBe(K);
      await database.query('RESET hnsw.iterative_scan');
      expect((await index.search(query, K, filter)).map((match) => match.id)).toEqual(expected);
    });

    it.for(filters)('a scan cut short (hnsw.max_scan_tuples) falls back to exact distances for %s', async ([, filter, where]) => {
      const query = seededVector(777, DIMENSIONS);
      await database.query('SET hnsw.max_scan_tuples = 1');
      await database.query("SET hnsw.iterative_scan = 'relaxed_order'");
      expect((await database.query(hnswQuery(where), [queryText(query)])).rows.length).toBeLessThan(K);
      await database.query('RESET hnsw.iterative_scan');
      expect((await index.search(query, K, filter)).map((match) => match.id)).toEqual(exact(query, K, filter));
      await database.query('RESET hnsw.max_scan_tuples');
    });
  });
});
