/**
 * Mastra's vector store expectations, re-expressed (written anew) as a conformance suite for
 * `EngramVector`. Read from mastra-ai/mastra `stores/_test-utils/src/domains/vector/`:
 * basic-operations.ts (2b450b85), filter-operators.ts (20514909), advanced-operations.ts
 * (0860f4d0), error-handling.ts (49a0a52d) and edge-cases.ts (4ab172d4) — Mastra's private
 * test-utils, not on npm — against the `MastraVector` contract of the installed @mastra/core 0.24.9
 * (`dist/vector/vector.d.ts`, `types.d.ts`: the eight methods plus `deleteVectors`, `upsert`'s
 * `deleteFilter`, `updateVector` by filter).
 *
 * Where Mastra's suite accepts either behaviour ("some stores may…"), the case here pins the one
 * EngramVector chose, and says so. Operators Mastra marks optional and Engram does not support
 * (`$regex`, `$elemMatch`, `$size`) are checked to be rejected with a clear error.
 */
import { ConflictError, NotFoundError, ValidationError } from '@engram/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EngramVector, EngramVectorFilter } from '../engram-vector.js';

export interface MastraVectorConformanceOptions {
  name: string;
  /** A fresh EngramVector over empty collections, for each test. */
  create: () => EngramVector | Promise<EngramVector>;
  cleanup?: (vector: EngramVector) => void | Promise<void>;
  skip?: string;
}

const DIMENSION = 16;

/** A deterministic unit-length vector per seed, as Mastra's `createVector` helper. */
function createVector(seed: number, dimension = DIMENSION): number[] {
  const values = Array.from({ length: dimension }, (_, index) => Math.sin(seed * 12.9898 + index * 78.233) + 0.01 * index);
  const norm = Math.hypot(...values);
  return values.map((value) => value / norm);
}

/** 1 at `position`, 0 elsewhere, as Mastra's `createUnitVector`. */
function createUnitVector(position: number, dimension = DIMENSION): number[] {
  return Array.from({ length: dimension }, (_, index) => (index === position ? 1 : 0));
}

const products = [
  { name: 'Product A', price: 10, rating: 4.5, category: 'electronics', tags: ['new', 'sale'], available: true },
  { name: 'Product B', price: 25, rating: 3.8, category: 'electronics', tags: ['featured'], available: true },
  { name: 'Product C', price: 50, rating: 4.9, category: 'home', tags: ['premium', 'sale'], available: false },
  { name: 'Product D', price: 100, rating: 4.2, category: 'home', tags: ['premium'], available: true },
  { name: 'Product E', price: 15, rating: 3.5, category: 'books', tags: ['new'], available: true },
  { name: 'Product F', price: 75, rating: 4.7, category: 'electronics', tags: ['featured', 'premium'], available: true },
  {
    name: 'Product G',
    price: 30,
    rating: 4.1,
    category: 'books',
    tags: ['sale'],
    available: false,
    description: 'Classic novel',
    reviews: [
      { score: 3, author: 'user1' },
      { score: 5, author: 'user2' },
    ],
  },
  { name: 'Product H', price: 200, rating: 4.95, category: 'home', tags: ['premium', 'luxury'], available: true },
  { name: 'Product I', price: null, category: 'test', tags: [], available: true },
];

export function runMastraVectorConformance(options: MastraVectorConformanceOptions): void {
  const suite = options.skip ? describe.skip : describe;
  suite(`Mastra vector conformance: ${options.name}${options.skip ? ` (skipped: ${options.skip})` : ''}`, () => {
    let vector: EngramVector;
    beforeEach(async () => {
      vector = await options.create();
    });
    afterEach(async () => {
      await options.cleanup?.(vector);
    });
    const createIndex = (indexName: string, dimension = DIMENSION) => vector.createIndex({ indexName, dimension, metric: 'cosine' });

    describe('basic operations', () => {
      it('creates, lists, describes and deletes an index', async () => {
        await createIndex('lifecycle_test');
        expect(await vector.listIndexes()).toContain('lifecycle_test');
        expect(await vector.describeIndex({ indexName: 'lifecycle_test' })).toEqual({ dimension: DIMENSION, count: 0, metric: 'cosine' });
        await vector.deleteIndex({ indexName: 'lifecycle_test' });
        expect(await vector.listIndexes()).not.toContain('lifecycle_test');
      });

      it('creating an existing index again is a no-op; another dimension is rejected (as validateExistingIndex does)', async () => {
        await createIndex('docs');
        await vector.upsert({ indexName: 'docs', vectors: [createVector(1)] });
        await createIndex('docs');
        // Same dimension, other metric: Mastra's base class keeps the index and only warns.
        await vector.createIndex({ indexName: 'docs', dimension: DIMENSION, metric: 'euclidean' });
        expect(await vector.describeIndex({ indexName: 'docs' })).toEqual({ dimension: DIMENSION, count: 1, metric: 'cosine' });
        await expect(vector.createIndex({ indexName: 'docs', dimension: DIMENSION * 2 })).rejects.toSatisfy(ConflictError.isInstance);
      });

      it('upserts one or many vectors, answering one id each; an existing id is updated, not added', async () => {
        await createIndex('upsert_test');
        const [single] = await vector.upsert({ indexName: 'upsert_test', vectors: [createVector(1)], metadata: [{ type: 'single' }] });
        expect(typeof single).toBe('string');
        const batch = await vector.upsert({
          indexName: 'upsert_test',
          vectors: [createVector(2), createVector(3), createVector(4)],
          metadata: [{ index: 2 }, { index: 3 }, { index: 4 }],
        });
        expect(batch).toHaveLength(3);
        expect(new Set([single, ...batch]).size).toBe(4);
        expect((await vector.describeIndex({ indexName: 'upsert_test' })).count).toBe(4);
        await vector.upsert({
          indexName: 'upsert_test',
          vectors: [createVector(11)],
          metadata: [{ type: 'updated' }],
          ids: [single as string],
        });
        expect((await vector.describeIndex({ indexName: 'upsert_test' })).count).toBe(4);
        const [best] = await vector.query({ indexName: 'upsert_test', queryVector: createVector(11), topK: 1 });
        expect(best).toMatchObject({ id: single, metadata: { type: 'updated' } });
        // Without metadata: stored with {} and found by query.
        await vector.upsert({ indexName: 'upsert_test', vectors: [createVector(20)], ids: ['bare'] });
        expect(await vector.query({ indexName: 'upsert_test', queryVector: createVector(20), topK: 1 })).toEqual([
          { id: 'bare', score: expect.closeTo(1, 4), metadata: {} },
        ]);
      });

      it('queries: results carry id and score, best first, at most topK (default 10), vectors only when asked', async () => {
        await createIndex('query_test');
        await vector.upsert({
          indexName: 'query_test',
          vectors: Array.from({ length: 12 }, (_, index) => createVector(index + 1)),
          metadata: Array.from({ length: 12 }, (_, index) => ({ category: 'ABC'[index % 3], value: index + 1 })),
        });
        const results = await vector.query({ indexName: 'query_test', queryVector: createVector(1) });
        expect(results).toHaveLength(10);
        expect(results[0]).toMatchObject({ metadata: { value: 1 }, score: expect.closeTo(1, 4) });
        for (let index = 1; index < results.length; index++) {
          expect((results[index - 1] as { score: number }).score).toBeGreaterThanOrEqual((results[index] as { score: number }).score);
        }
        for (const result of results) expect(result.vector).toBeUndefined();
        expect(await vector.query({ indexName: 'query_test', queryVector: createVector(1), topK: 1 })).toHaveLength(1);
        expect(await vector.query({ indexName: 'query_test', queryVector: createVector(1), topK: 1000 })).toHaveLength(12);
        const withVectors = await vector.query({ indexName: 'query_test', queryVector: createVector(3), topK: 3, includeVector: true });
        for (const result of withVectors) {
          expect(Array.isArray(result.vector)).toBe(true);
          expect(result.vector).toHaveLength(DIMENSION);
        }
        expect(withVectors[0]?.vector?.map((value) => Math.round(value * 1e5))).toEqual(
          createVector(3).map((value) => Math.round(value * 1e5)),
        );
        const filtered = await vector.query({ indexName: 'query_test', queryVector: createVector(3), topK: 10, filter: { category: 'A' } });
        expect(filtered).toHaveLength(4);
        expect(filtered.every((result) => result.metadata?.category === 'A')).toBe(true);
        expect(await vector.query({ indexName: 'query_test', queryVector: createVector(1), filter: { category: 'NonExistent' } })).toEqual(
          [],
        );
      });

      it('an empty index answers no results and a count of 0', async () => {
        await createIndex('empty_test');
        expect(await vector.query({ indexName: 'empty_test', queryVector: createVector(1), topK: 10 })).toEqual([]);
        expect((await vector.describeIndex({ indexName: 'empty_test' })).count).toBe(0);
        await expect(vector.deleteVectors({ indexName: 'empty_test', ids: ['nonexistent-id'] })).resolves.toBeUndefined();
      });

      it('handles 1,000 vectors in one upsert, a large topK and a filtered bulk delete', async () => {
        await createIndex('large_batch_test');
        const ids = await vector.upsert({
          indexName: 'large_batch_test',
          vectors: Array.from({ length: 1000 }, (_, index) => createVector(index)),
          metadata: Array.from({ length: 1000 }, (_, index) => ({ batch: 'large', index })),
        });
        expect(ids).toHaveLength(1000);
        expect((await vector.describeIndex({ indexName: 'large_batch_test' })).count).toBe(1000);
        expect(await vector.query({ indexName: 'large_batch_test', queryVector: createVector(500), topK: 500 })).toHaveLength(500);
        await vector.deleteVectors({ indexName: 'large_batch_test', filter: { batch: 'large', index: { $lt: 500 } } });
        expect((await vector.describeIndex({ indexName: 'large_batch_test' })).count).toBe(500);
      });

      it('runs concurrent upserts and queries without losing writes', async () => {
        await createIndex('concurrent_test');
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, index) =>
            vector.upsert({ indexName: 'concurrent_test', vectors: [createVector(index * 100)], metadata: [{ batch: index }] }),
          ),
        );
        expect(results.every((ids) => ids.length === 1)).toBe(true);
        expect((await vector.describeIndex({ indexName: 'concurrent_test' })).count).toBe(10);
        const queries = await Promise.all(
          Array.from({ length: 10 }, (_, index) =>
            vector.query({ indexName: 'concurrent_test', queryVector: createVector(index), topK: 5 }),
          ),
        );
        expect(queries.every((matches) => matches.length === 5)).toBe(true);
      });
    });

    describe('filter operators', () => {
      beforeEach(async () => {
        await createIndex('filter_ops_test');
        await vector.upsert({
          indexName: 'filter_ops_test',
          vectors: products.map((_, index) => createVector(index + 1)),
          metadata: products,
        });
      });
      const names = async (filter: Record<string, unknown>) =>
        (
          await vector.query({
            indexName: 'filter_ops_test',
            queryVector: createUnitVector(0),
            topK: 20,
            filter: filter as EngramVectorFilter,
          })
        )
          .map((result) => (result.metadata?.name as string).slice(-1))
          .sort()
          .join('');

      it('compares numbers: $gt $gte $lt $lte, ranges', async () => {
        expect(await names({ price: { $gt: 50 } })).toBe('DFH');
        expect(await names({ price: { $gte: 50 } })).toBe('CDFH');
        expect(await names({ price: { $lt: 30 } })).toBe('ABE');
        expect(await names({ price: { $lte: 30 } })).toBe('ABEG');
        expect(await names({ price: { $gte: 20, $lte: 80 } })).toBe('BCFG');
        expect(await names({ rating: { $gte: 4.5 } })).toBe('ACFH');
      });

      it('negates: $ne on strings, booleans and numbers; $not around operators', async () => {
        expect(await names({ category: { $ne: 'electronics' } })).toBe('CDEGHI');
        expect(await names({ available: { $ne: true } })).toBe('CG');
        expect(await names({ price: { $ne: 50 } })).toBe('ABDEFGHI');
        // A missing or null price is "not greater than 50" too.
        expect(await names({ price: { $not: { $gt: 50 } } })).toBe('ABCEGI');
        expect(await names({ category: { $not: { $in: ['electronics', 'books'] } } })).toBe('CDHI');
        expect(await names({ price: { $not: { $gte: 20, $lte: 80 } } })).toBe('ADEHI');
        expect(await names({ category: { $not: { $ne: 'electronics' } } })).toBe('ABF');
        expect(await names({ available: { $not: { $eq: false } } })).toBe('ABDEFHI');
      });

      it('matches lists: $in and $nin on values, $in and $all inside array fields', async () => {
        expect(await names({ category: { $in: ['electronics', 'books'] } })).toBe('ABEFG');
        expect(await names({ category: { $nin: ['electronics', 'books'] } })).toBe('CDHI');
        expect(await names({ price: { $in: [10, 25, 50] } })).toBe('ABC');
        expect(await names({ tags: { $all: ['premium', 'sale'] } })).toBe('C');
        expect(await names({ tags: { $in: ['luxury'] } })).toBe('H');
        expect(await names({ tags: { $nin: ['premium', 'sale'] } })).toBe('BEI');
        // A string field is not an array: 'Classic novel' does not "contain" 'novel' for $in.
        expect(await names({ description: { $in: ['novel'] } })).toBe('');
      });

      it('$exists, null, $contains (substring or element)', async () => {
        expect(await names({ description: { $exists: true } })).toBe('G');
        expect(await names({ description: { $exists: false } })).toBe('ABCDEFHI');
        expect(await names({ price: { $eq: null } })).toBe('I');
        expect(await names({ price: { $ne: null } })).toBe('ABCDEFGH');
        expect(await names({ description: { $contains: 'novel' } })).toBe('G');
        expect(await names({ tags: { $contains: 'featured' } })).toBe('BF');
      });

      it('combines: implicit AND, $and, $or, $nor, $not over filters, nested $nor/$or', async () => {
        expect(await names({ price: { $gte: 20, $lte: 100 }, rating: { $gte: 4.0 } })).toBe('CDFG');
        expect(await names({ category: { $in: ['electronics', 'home'] }, price: { $lt: 100 } })).toBe('ABCF');
        expect(await names({ category: { $ne: 'books' }, description: { $exists: false } })).toBe('ABCDFHI');
        expect(await names({ $and: [{ category: 'home' }, { available: true }] })).toBe('DH');
        expect(await names({ $or: [{ category: 'books' }, { price: { $gt: 150 } }] })).toBe('EGH');
        expect(await names({ $nor: [{ category: 'electronics' }, { category: 'books' }] })).toBe('CDHI');
        expect(await names({ $nor: [{ $or: [{ category: 'electronics' }, { price: { $gt: 150 } }] }] })).toBe('CDEGI');
        expect(await names({ $nor: [{ $and: [{ category: 'electronics' }, { available: true }] }] })).toBe('CDEGHI');
        expect(await names({ $not: { $and: [{ price: { $gt: 50 } }, { rating: { $gte: 4.5 } }] } })).toBe('ABCDEGI');
        expect(await names({ $not: { $or: [{ category: 'electronics' }, { available: false }] } })).toBe('DEHI');
        expect(await names({ $nor: [] })).toBe('ABCDEFGHI');
        expect(await names({ 'reviews.score': { $exists: true } })).toBe('');
      });

      it('walks nested objects by dotted keys or nested filter objects', async () => {
        await vector.upsert({
          indexName: 'filter_ops_test',
          vectors: [createVector(50)],
          metadata: [{ name: 'Product J', details: { color: 'red', size: { cm: 30 } } }],
        });
        expect(await names({ 'details.color': 'red' })).toBe('J');
        expect(await names({ details: { size: { cm: { $gte: 30 } } } })).toBe('J');
      });

      it('rejects what it cannot evaluate, naming the operator: $regex, $elemMatch, $size, misplaced and unknown operators', async () => {
        const rejected: Array<[Record<string, unknown>, RegExp]> = [
          [{ name: { $regex: '^Product [A-C]' } }, /\$regex is not supported/],
          [{ reviews: { $elemMatch: { score: { $gt: 4 } } } }, /\$elemMatch is not supported/],
          [{ tags: { $size: 2 } }, /\$size is not supported/],
          [{ $invalidOperator: 'value' }, /cannot stand at the top/],
          [{ price: { $between: [1, 2] } }, /unknown operator "\$between"/],
          [{ $and: 'not-an-array' }, /must be an array/],
          [{ $or: {} }, /must be an array/],
          [{ tags: ['premium', 'sale'] }, /use \{ \$in/],
        ];
        for (const [filter, message] of rejected) {
          await expect(
            vector.query({ indexName: 'filter_ops_test', queryVector: createUnitVector(0), filter: filter as EngramVectorFilter }),
          ).rejects.toSatisfy((error: unknown) => ValidationError.isInstance(error) && message.test(error.message));
        }
      });

      it('rejects a pathologically deep filter (100 nested $and) instead of recursing into it', async () => {
        let deep: Record<string, unknown> = { category: 'electronics' };
        for (let level = 0; level < 100; level++) deep = { $and: [deep, { price: { $gte: 0 } }] };
        await expect(
          vector.query({ indexName: 'filter_ops_test', queryVector: createUnitVector(0), filter: deep as EngramVectorFilter }),
        ).rejects.toSatisfy((error: unknown) => ValidationError.isInstance(error) && /deeper than/.test(error.message));
      });
    });

    describe('advanced operations: deleteVectors, updateVector, deleteFilter', () => {
      beforeEach(async () => {
        await createIndex('advanced_ops_test', 4);
      });
      const grid = [
        [0.1, 0.2, 0.3, 0.4],
        [0.4, 0.5, 0.6, 0.7],
        [0.7, 0.8, 0.9, 1.0],
        [0.2, 0.3, 0.4, 0.5],
      ];
      const all = () => vector.query({ indexName: 'advanced_ops_test', queryVector: [0.5, 0.5, 0.5, 0.5], topK: 10 });

      it('deletes by simple, $and, $or and $in filters; a filter matching nothing deletes nothing', async () => {
        await vector.upsert({
          indexName: 'advanced_ops_test',
          vectors: grid,
          metadata: [
            { tenant: 'acme', env: 'prod', source_id: 'doc1.pdf' },
            { tenant: 'acme', env: 'dev', source_id: 'doc2.pdf' },
            { tenant: 'globex', env: 'prod', source_id: 'doc1.pdf' },
            { tenant: 'acme', env: 'staging', source_id: 'doc3.pdf' },
          ],
        });
        await vector.deleteVectors({ indexName: 'advanced_ops_test', filter: { $and: [{ tenant: 'acme' }, { env: 'prod' }] } });
        expect((await all()).map((result) => result.metadata?.env).sort()).toEqual(['dev', 'prod', 'staging']);
        await vector.deleteVectors({ indexName: 'advanced_ops_test', filter: { $or: [{ env: 'dev' }, { env: 'staging' }] } });
        expect((await all()).map((result) => result.metadata?.tenant)).toEqual(['globex']);
        await vector.deleteVectors({ indexName: 'advanced_ops_test', filter: { source_id: 'nonexistent' } });
        expect((await vector.describeIndex({ indexName: 'advanced_ops_test' })).count).toBe(1);
        await vector.deleteVectors({ indexName: 'advanced_ops_test', filter: { source_id: { $in: ['doc1.pdf', 'doc9.pdf'] } } });
        expect((await vector.describeIndex({ indexName: 'advanced_ops_test' })).count).toBe(0);
      });

      it('deletes by ids (unknown ids ignored), and deleteVector deletes one', async () => {
        const ids = await vector.upsert({
          indexName: 'advanced_ops_test',
          vectors: grid,
          metadata: [{ name: 'vec1' }, { name: 'vec2' }, { name: 'vec3' }, { name: 'vec4' }],
        });
        await vector.deleteVectors({ indexName: 'advanced_ops_test', ids: [ids[0] as string, ids[2] as string, 'nonexistent-1'] });
        expect((await all()).map((result) => result.metadata?.name).sort()).toEqual(['vec2', 'vec4']);
        await vector.deleteVector({ indexName: 'advanced_ops_test', id: ids[1] as string });
        expect((await all()).map((result) => result.metadata?.name)).toEqual(['vec4']);
      });

      it('rejects ambiguous or empty deletes: both, neither, an empty ids array, an empty filter', async () => {
        await expect(vector.deleteVectors({ indexName: 'advanced_ops_test', filter: { a: 1 }, ids: ['x'] })).rejects.toThrow(
          /mutually exclusive/i,
        );
        await expect(vector.deleteVectors({ indexName: 'advanced_ops_test' })).rejects.toThrow(/Either filter or ids must be provided/i);
        await expect(vector.deleteVectors({ indexName: 'advanced_ops_test', ids: [] })).rejects.toThrow(/empty ids array/i);
        await expect(vector.deleteVectors({ indexName: 'advanced_ops_test', filter: {} })).rejects.toThrow(/empty filter/i);
      });

      it('updates by filter (metadata replaced on every match) and by id (vector, metadata or both)', async () => {
        const ids = await vector.upsert({
          indexName: 'advanced_ops_test',
          vectors: grid,
          metadata: [
            { userId: 'user_1', status: 'active' },
            { userId: 'user_1', status: 'active' },
            { userId: 'user_2', status: 'active' },
            { userId: 'user_2', status: 'active' },
          ],
        });
        await vector.updateVector({
          indexName: 'advanced_ops_test',
          filter: { userId: 'user_1' },
          update: { metadata: { userId: 'user_1', status: 'archived' } },
        });
        const statuses = (await all()).map((result) => `${result.metadata?.userId}:${result.metadata?.status}`).sort();
        expect(statuses).toEqual(['user_1:archived', 'user_1:archived', 'user_2:active', 'user_2:active']);
        await vector.updateVector({
          indexName: 'advanced_ops_test',
          filter: { userId: 'nobody' },
          update: { metadata: { updated: true } },
        });
        expect((await all()).some((result) => result.metadata?.updated)).toBe(false);

        await vector.updateVector({
          indexName: 'advanced_ops_test',
          id: ids[3] as string,
          update: { vector: [1, 0, 0, 0], metadata: { moved: true } },
        });
        const [moved] = await vector.query({ indexName: 'advanced_ops_test', queryVector: [1, 0, 0, 0], topK: 1, includeVector: true });
        expect(moved).toMatchObject({ id: ids[3], metadata: { moved: true }, vector: [1, 0, 0, 0], score: expect.closeTo(1, 5) });
      });

      it('rejects ambiguous or empty updates: both id and filter, neither, an empty filter, a wrong dimension', async () => {
        await expect(
          vector.updateVector({
            indexName: 'advanced_ops_test',
            id: 'vec_1',
            filter: { userId: 'user_1' },
            update: { metadata: {} },
          } as never),
        ).rejects.toThrow(/mutually exclusive/i);
        await expect(vector.updateVector({ indexName: 'advanced_ops_test', update: { metadata: {} } } as never)).rejects.toThrow(
          /Either id or filter must be provided/i,
        );
        await expect(vector.updateVector({ indexName: 'advanced_ops_test', filter: {}, update: { metadata: {} } })).rejects.toThrow(
          /empty filter/i,
        );
        await vector.upsert({ indexName: 'advanced_ops_test', vectors: [grid[0] as number[]], ids: ['a'] });
        await expect(vector.updateVector({ indexName: 'advanced_ops_test', id: 'a', update: { vector: [1, 2] } })).rejects.toSatisfy(
          ValidationError.isInstance,
        );
      });

      it("re-indexes a document: upsert's deleteFilter replaces its old chunks in one step", async () => {
        await vector.upsert({
          indexName: 'advanced_ops_test',
          vectors: grid.slice(0, 3),
          metadata: [0, 1, 2].map((chunk) => ({ source_id: 'user-guide.pdf', chunk })),
        });
        await vector.upsert({
          indexName: 'advanced_ops_test',
          vectors: [grid[3] as number[]],
          metadata: [{ source_id: 'faq.md', chunk: 0 }],
        });
        await vector.upsert({
          indexName: 'advanced_ops_test',
          vectors: grid,
          metadata: [0, 1, 2, 3].map((chunk) => ({ source_id: 'user-guide.pdf', chunk, version: 2 })),
          deleteFilter: { source_id: 'user-guide.pdf' },
        });
        const results = await all();
        expect(results).toHaveLength(5);
        expect(
          results.filter((result) => result.metadata?.source_id === 'user-guide.pdf').every((result) => result.metadata?.version === 2),
        ).toBe(true);
      });
    });

    describe('errors', () => {
      it('an unknown index: query, upsert, describe and deleteVectors reject; deleteIndex is silent', async () => {
        const missing = 'nonexistent_index';
        await expect(vector.query({ indexName: missing, queryVector: createVector(1), topK: 5 })).rejects.toSatisfy(
          NotFoundError.isInstance,
        );
        await expect(vector.upsert({ indexName: missing, vectors: [createVector(1)] })).rejects.toSatisfy(NotFoundError.isInstance);
        await expect(vector.describeIndex({ indexName: missing })).rejects.toSatisfy(NotFoundError.isInstance);
        await expect(vector.deleteVectors({ indexName: missing, filter: { test: true } })).rejects.toSatisfy(NotFoundError.isInstance);
        // Mastra accepts either; EngramVector makes deleting what is not there a no-op (idempotent cleanup).
        await expect(vector.deleteIndex({ indexName: missing })).resolves.toBeUndefined();
      });

      it('rejects bad vectors: wrong dimension, empty, NaN, Infinity, non-numbers, not an array; nothing is written', async () => {
        await createIndex('errors_test');
        const padded = (head: unknown[]) => [...head, ...new Array(DIMENSION - head.length).fill(0)];
        const bad: unknown[] = [
          new Array(512).fill(0.1),
          [],
          new Array(DIMENSION).fill(Number.NaN),
          new Array(DIMENSION).fill(Number.POSITIVE_INFINITY),
          padded(['string', 0.1]),
          padded([0.1, null]),
          padded([0.1, undefined]),
          'not-an-array',
        ];
        for (const candidate of bad) {
          await expect(vector.upsert({ indexName: 'errors_test', vectors: [candidate as number[]] })).rejects.toSatisfy(
            ValidationError.isInstance,
          );
        }
        await expect(vector.query({ indexName: 'errors_test', queryVector: new Array(768).fill(0.1), topK: 5 })).rejects.toSatisfy(
          ValidationError.isInstance,
        );
        expect((await vector.describeIndex({ indexName: 'errors_test' })).count).toBe(0);
      });

      it('rejects bad parameters: topK ≤ 0 or fractional, mismatched metadata or ids lengths, no vectors, bad dimension or metric', async () => {
        await createIndex('errors_test');
        for (const topK of [-5, 0, 5.5]) {
          await expect(vector.query({ indexName: 'errors_test', queryVector: createVector(1), topK })).rejects.toSatisfy(
            ValidationError.isInstance,
          );
        }
        await expect(
          vector.upsert({ indexName: 'errors_test', vectors: [createVector(1), createVector(2)], metadata: [{ test: true }] }),
        ).rejects.toThrow(/one object per vector/);
        await expect(
          vector.upsert({ indexName: 'errors_test', vectors: [createVector(1), createVector(2)], ids: ['id1', 'id2', 'id3'] }),
        ).rejects.toThrow(/one id per vector/);
        await expect(vector.upsert({ indexName: 'errors_test', vectors: [], metadata: [] })).rejects.toSatisfy(ValidationError.isInstance);
        await expect(vector.createIndex({ indexName: 'invalid_dim', dimension: -100 })).rejects.toSatisfy(ValidationError.isInstance);
        await expect(vector.createIndex({ indexName: 'invalid_dim', dimension: 0 })).rejects.toSatisfy(ValidationError.isInstance);
        await expect(
          vector.createIndex({ indexName: 'invalid_metric', dimension: DIMENSION, metric: 'manhattan' as 'cosine' }),
        ).rejects.toSatisfy(ValidationError.isInstance);
        expect(await vector.listIndexes()).toEqual(['errors_test']);
      });

      it('metadata: null is stored as {}; circular, function and symbol values are rejected; large text is kept', async () => {
        await createIndex('errors_test');
        await vector.upsert({ indexName: 'errors_test', vectors: [createVector(100)], metadata: [null as never], ids: ['null-metadata'] });
        const circular: Record<string, unknown> = { name: 'test' };
        circular.self = circular;
        for (const metadata of [circular, { name: 'test', fn: () => 'invalid' }, { name: 'test', sym: Symbol('test') }]) {
          await expect(vector.upsert({ indexName: 'errors_test', vectors: [createVector(201)], metadata: [metadata] })).rejects.toSatisfy(
            ValidationError.isInstance,
          );
        }
        const large = 'x'.repeat(512 * 1024);
        await vector.upsert({ indexName: 'errors_test', vectors: [createVector(203)], metadata: [{ largeField: large }], ids: ['large'] });
        const found = await vector.query({ indexName: 'errors_test', queryVector: createVector(203), topK: 1 });
        expect(found[0]?.metadata?.largeField).toHaveLength(large.length);
        expect((await vector.describeIndex({ indexName: 'errors_test' })).count).toBe(2);
      });

      it('rejects sparse vectors, which it does not support', async () => {
        await createIndex('errors_test');
        await expect(
          vector.upsert({ indexName: 'errors_test', vectors: [createVector(1)], sparseVectors: [{ indices: [1], values: [1] }] }),
        ).rejects.toThrow(/sparseVectors/);
      });
    });
  });
}
