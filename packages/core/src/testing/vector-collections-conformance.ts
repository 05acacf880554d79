import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CollectionInfo, VectorCollections } from '../contracts/vector-collections.js';
import { parseWhere } from '../filter/where.js';
import { ConflictError, NotFoundError, ValidationError } from '../model/errors.js';
import { seededVector } from './records.js';

export interface VectorCollectionsConformanceOptions {
  name: string;
  /** Fresh, empty collections for each test. */
  create: () => VectorCollections | Promise<VectorCollections>;
  cleanup?: (collections: VectorCollections) => void | Promise<void>;
  /** Set to a reason to skip the whole suite (e.g. 'PostgreSQL is not installed'). */
  skip?: string;
}

const where = (condition: Record<string, unknown>) => parseWhere(condition);

function vector(values: number[]): Float32Array {
  return Float32Array.from(values);
}

/** The `VectorCollections` contract as executable cases, run against every implementation. */
export function runVectorCollectionsConformance(options: VectorCollectionsConformanceOptions): void {
  const suite = options.skip ? describe.skip : describe;
  suite(`VectorCollections conformance: ${options.name}${options.skip ? ` (skipped: ${options.skip})` : ''}`, () => {
    let collections: VectorCollections;
    beforeEach(async () => {
      collections = await options.create();
    });
    afterEach(async () => {
      await options.cleanup?.(collections);
    });

    it('declares its contract', () => {
      expect(collections.specificationVersion).toBe('v1');
      expect(collections.name).toMatch(/\S/);
      expect(['exact', 'approximate']).toContain(collections.search);
    });

    describe('collections', () => {
      it('creates, lists (sorted), describes and deletes collections', async () => {
        expect(await collections.listCollections()).toEqual([]);
        expect(await collections.createCollection('zeta', { dimensions: 3 })).toBe(true);
        expect(await collections.createCollection('alpha.docs-v2', { dimensions: 4, metric: 'euclidean' })).toBe(true);
        expect(await collections.listCollections()).toEqual(['alpha.docs-v2', 'zeta']);
        expect(await collections.describeCollection('zeta')).toEqual<CollectionInfo>({
          name: 'zeta',
          dimensions: 3,
          metric: 'cosine',
          count: 0,
        });
        expect(await collections.deleteCollection('zeta')).toBe(true);
        expect(await collections.deleteCollection('zeta')).toBe(false);
        expect(await collections.listCollections()).toEqual(['alpha.docs-v2']);
      });

      it('creating an existing collection with the same shape is a no-op; another shape is a conflict', async () => {
        await collections.createCollection('docs', { dimensions: 3, metric: 'dotproduct' });
        await collections.upsert('docs', [{ id: 'a', vector: [1, 0, 0] }]);
        expect(await collections.createCollection('docs', { dimensions: 3, metric: 'dotproduct' })).toBe(false);
        expect((await collections.describeCollection('docs')).count).toBe(1);
        await expect(collections.createCollection('docs', { dimensions: 4, metric: 'dotproduct' })).rejects.toSatisfy(
          (error: unknown) => ConflictError.isInstance(error) && /3 dimensions/.test((error as Error).message),
        );
        await expect(collections.createCollection('docs', { dimensions: 3, metric: 'cosine' })).rejects.toSatisfy(ConflictError.isInstance);
      });

      it('rejects bad names, dimensions and metrics with the field named', async () => {
        for (const name of ['', 'has space', '-leading', 'x'.repeat(129), 'quote"d', 'semi;colon']) {
          await expect(collections.createCollection(name, { dimensions: 3 })).rejects.toSatisfy(
            (error: unknown) => ValidationError.isInstance(error) && error.field === 'name',
          );
        }
        for (const dimensions of [0, -3, 1.5, Number.NaN, 16_001]) {
          await expect(collections.createCollection('docs', { dimensions })).rejects.toSatisfy(
            (error: unknown) => ValidationError.isInstance(error) && error.field === 'dimensions',
          );
        }
        await expect(collections.createCollection('docs', { dimensions: 3, metric: 'manhattan' as 'cosine' })).rejects.toSatisfy(
          (error: unknown) => ValidationError.isInstance(error) && error.field === 'metric',
        );
        expect(await collections.listCollections()).toEqual([]);
      });

      it('every operation on an unknown collection is a NotFoundError', async () => {
        const missing = 'missing';
        const attempts = [
          () => collections.describeCollection(missing),
          () => collections.upsert(missing, [{ id: 'a', vector: [1] }]),
          () => collections.query(missing, { vector: [1], topK: 1 }),
          () => collections.get(missing, ['a']),
          () => collections.update(missing, { ids: ['a'] }, { metadata: {} }),
          () => collections.delete(missing, { ids: ['a'] }),
        ];
        for (const attempt of attempts) await expect(attempt()).rejects.toSatisfy(NotFoundError.isInstance);
      });

      it('deleting a collection deletes its vectors; the name can be reused with another shape', async () => {
        await collections.createCollection('docs', { dimensions: 2 });
        await collections.upsert('docs', [{ id: 'a', vector: [1, 0] }]);
        await collections.deleteCollection('docs');
        await collections.createCollection('docs', { dimensions: 3 });
        expect((await collections.describeCollection('docs')).count).toBe(0);
        expect(await collections.get('docs', ['a'])).toEqual([]);
      });

      it('keeps collections apart: the same id in two collections is two items', async () => {
        await collections.createCollection('one', { dimensions: 2 });
        await collections.createCollection('two', { dimensions: 2 });
        await collections.upsert('one', [{ id: 'a', vector: [1, 0], metadata: { in: 'one' } }]);
        await collections.upsert('two', [{ id: 'a', vector: [0, 1], metadata: { in: 'two' } }]);
        await collections.delete('one', { ids: ['a'] });
        expect(await collections.get('two', ['a'])).toEqual([{ id: 'a', metadata: { in: 'two' } }]);
        expect((await collections.describeCollection('one')).count).toBe(0);
      });
    });

    describe('writes', () => {
      beforeEach(async () => {
        await collections.createCollection('docs', { dimensions: 8 });
      });

      it('round-trips vectors (float32) and JSON metadata; get answers in the order asked, without unknown ids', async () => {
        const first = seededVector(1, 8);
        const metadata = {
          text: 'Zürich — 東京 🚀',
          page: 3,
          ratio: 0.125,
          draft: false,
          missing: null,
          tags: ['a', 'b'],
          nested: { deep: { level: [1, { two: 2 }] } },
        };
        await collections.upsert('docs', [
          { id: 'first', vector: first, metadata },
          { id: 'second', vector: Array.from(seededVector(2, 8)) },
        ]);
        const got = await collections.get('docs', ['second', 'unknown', 'first'], { includeVectors: true });
        expect(got.map((item) => item.id)).toEqual(['second', 'first']);
        expect(got[1]?.metadata).toEqual(metadata);
        expect(got[0]?.metadata).toEqual({});
        expect(Array.from(got[1]?.vector ?? [])).toEqual(Array.from(first));
        expect(Array.from(got[0]?.vector ?? [])).toEqual(Array.from(seededVector(2, 8)));
        const [withoutVector] = await collections.get('docs', ['first']);
        expect(withoutVector).not.toHaveProperty('vector');
      });

      it('upserting an existing id replaces its vector and metadata', async () => {
        await collections.upsert('docs', [{ id: 'a', vector: seededVector(1, 8), metadata: { version: 1, old: true } }]);
        await collections.upsert('docs', [{ id: 'a', vector: seededVector(2, 8), metadata: { version: 2 } }]);
        expect((await collections.describeCollection('docs')).count).toBe(1);
        const [item] = await collections.get('docs', ['a'], { includeVectors: true });
        expect(item?.metadata).toEqual({ version: 2 });
        expect(Array.from(item?.vector ?? [])).toEqual(Array.from(seededVector(2, 8)));
      });

      it('rejects a vector of another dimension, naming the item, and writes nothing of that call', async () => {
        await expect(
          collections.upsert('docs', [
            { id: 'good', vector: seededVector(1, 8) },
            { id: 'short', vector: [1, 2, 3] },
          ]),
        ).rejects.toSatisfy(
          (error: unknown) =>
            ValidationError.isInstance(error) && error.field === 'items[1].vector' && /3 dimensions.*8-dimensional/.test(error.message),
        );
        await expect(collections.upsert('docs', [{ id: 'long', vector: new Float32Array(9) }])).rejects.toSatisfy(
          ValidationError.isInstance,
        );
        expect((await collections.describeCollection('docs')).count).toBe(0);
      });

      it('rejects non-finite numbers, non-arrays, bad ids and metadata JSON cannot hold', async () => {
        const base = Array.from(seededVector(1, 8));
        const circular: Record<string, unknown> = { name: 'loop' };
        circular.self = circular;
        const bad: Array<[unknown, string]> = [
          [{ id: 'a', vector: [...base.slice(0, 7), Number.NaN] }, 'items[0].vector[7]'],
          [{ id: 'a', vector: [Number.POSITIVE_INFINITY, ...base.slice(1)] }, 'items[0].vector[0]'],
          [{ id: 'a', vector: [1e40, ...base.slice(1)] }, 'items[0].vector[0]'],
          [{ id: 'a', vector: ['1', ...base.slice(1)] }, 'items[0].vector[0]'],
          [{ id: 'a', vector: 'not a vector' }, 'items[0].vector'],
          [{ id: '', vector: base }, 'items[0].id'],
          [{ id: 7, vector: base }, 'items[0].id'],
          [{ id: 'a', vector: base, metadata: circular }, 'items[0].metadata'],
          [{ id: 'a', vector: base, metadata: { run: () => 1 } }, 'items[0].metadata.run'],
          [{ id: 'a', vector: base, metadata: ['array'] }, 'items[0].metadata'],
        ];
        for (const [item, field] of bad) {
          await expect(collections.upsert('docs', [item as never])).rejects.toSatisfy(
            (error: unknown) => ValidationError.isInstance(error) && error.field === field,
          );
        }
        expect((await collections.describeCollection('docs')).count).toBe(0);
      });

      it('upsert with replace deletes the matching items and writes the new ones together', async () => {
        await collections.upsert('docs', [
          { id: 'guide-0', vector: seededVector(1, 8), metadata: { source: 'guide.pdf' } },
          { id: 'guide-1', vector: seededVector(2, 8), metadata: { source: 'guide.pdf' } },
          { id: 'faq-0', vector: seededVector(3, 8), metadata: { source: 'faq.md' } },
        ]);
        await collections.upsert('docs', [{ id: 'guide-new', vector: seededVector(4, 8), metadata: { source: 'guide.pdf' } }], {
          replace: where({ source: 'guide.pdf' }),
        });
        const all = await collections.get('docs', ['guide-0', 'guide-1', 'faq-0', 'guide-new']);
        expect(all.map((item) => item.id)).toEqual(['faq-0', 'guide-new']);
        // A bad item: neither the delete nor the write happens.
        await expect(collections.upsert('docs', [{ id: 'bad', vector: [1] }], { replace: where({ source: 'faq.md' }) })).rejects.toSatisfy(
          ValidationError.isInstance,
        );
        expect((await collections.describeCollection('docs')).count).toBe(2);
      });

      it('updates by id or by filter: the vector, the metadata (replaced as a whole), or both', async () => {
        await collections.upsert('docs', [
          { id: 'a', vector: seededVector(1, 8), metadata: { user: 'u1', status: 'active' } },
          { id: 'b', vector: seededVector(2, 8), metadata: { user: 'u1', status: 'active' } },
          { id: 'c', vector: seededVector(3, 8), metadata: { user: 'u2', status: 'active' } },
        ]);
        expect(await collections.update('docs', { ids: ['a', 'unknown'] }, { vector: seededVector(9, 8) })).toBe(1);
        const [a] = await collections.get('docs', ['a'], { includeVectors: true });
        expect(Array.from(a?.vector ?? [])).toEqual(Array.from(seededVector(9, 8)));
        expect(a?.metadata).toEqual({ user: 'u1', status: 'active' });

        expect(await collections.update('docs', { filter: where({ user: 'u1' }) }, { metadata: { user: 'u1', status: 'archived' } })).toBe(
          2,
        );
        const items = await collections.get('docs', ['a', 'b', 'c']);
        expect(items.map((item) => item.metadata.status)).toEqual(['archived', 'archived', 'active']);
        expect(await collections.update('docs', { filter: where({ user: 'nobody' }) }, { metadata: {} })).toBe(0);

        await expect(collections.update('docs', { ids: ['a'] }, { vector: [1, 2] })).rejects.toSatisfy(
          (error: unknown) => ValidationError.isInstance(error) && error.field === 'changes.vector',
        );
        await expect(collections.update('docs', { ids: ['a'] }, {})).rejects.toSatisfy(ValidationError.isInstance);
        await expect(
          collections.update('docs', { ids: ['a'], filter: where({ user: 'u1' }) } as never, { metadata: {} }),
        ).rejects.toSatisfy((error: unknown) => ValidationError.isInstance(error) && /mutually exclusive/.test(error.message));
      });

      it('deletes by id or by filter and answers how many went', async () => {
        await collections.upsert('docs', [
          { id: 'a', vector: seededVector(1, 8), metadata: { tenant: 'acme', env: 'prod' } },
          { id: 'b', vector: seededVector(2, 8), metadata: { tenant: 'acme', env: 'dev' } },
          { id: 'c', vector: seededVector(3, 8), metadata: { tenant: 'globex', env: 'prod' } },
          { id: 'd', vector: seededVector(4, 8), metadata: { tenant: 'acme', env: 'staging' } },
        ]);
        expect(await collections.delete('docs', { filter: where({ tenant: 'acme', env: 'prod' }) })).toBe(1);
        expect(await collections.delete('docs', { ids: ['b', 'b', 'unknown'] })).toBe(1);
        expect(await collections.delete('docs', { ids: [] })).toBe(0);
        expect((await collections.get('docs', ['a', 'b', 'c', 'd'])).map((item) => item.id)).toEqual(['c', 'd']);
        await expect(collections.delete('docs', {} as never)).rejects.toSatisfy(ValidationError.isInstance);
      });
    });

    describe('queries', () => {
      it('ranks by each metric, best first, with its score', async () => {
        const query = vector([1, 0]);
        const items = [
          { id: 'same', vector: [2, 0] },
          { id: 'close', vector: [1, 1] },
          { id: 'orthogonal', vector: [0, 3] },
          { id: 'opposite', vector: [-1, 0] },
        ];
        await collections.createCollection('cosine', { dimensions: 2, metric: 'cosine' });
        await collections.createCollection('euclidean', { dimensions: 2, metric: 'euclidean' });
        await collections.createCollection('dot', { dimensions: 2, metric: 'dotproduct' });
        for (const name of ['cosine', 'euclidean', 'dot']) await collections.upsert(name, items);

        const cosine = await collections.query('cosine', { vector: query, topK: 4 });
        expect(cosine.map((match) => match.id)).toEqual(['same', 'close', 'orthogonal', 'opposite']);
        expect(cosine.map((match) => match.score)).toEqual([
          expect.closeTo(1, 5),
          expect.closeTo(Math.SQRT1_2, 5),
          expect.closeTo(0, 5),
          expect.closeTo(-1, 5),
        ]);

        const euclidean = await collections.query('euclidean', { vector: query, topK: 4 });
        // Distances: same 1, close 1, opposite 2, orthogonal √10; equal scores are ordered by id.
        expect(euclidean.map((match) => match.id)).toEqual(['close', 'same', 'opposite', 'orthogonal']);
        expect(euclidean.map((match) => match.score)).toEqual([
          expect.closeTo(0.5, 5),
          expect.closeTo(0.5, 5),
          expect.closeTo(1 / 3, 5),
          expect.closeTo(1 / (1 + Math.sqrt(10)), 5),
        ]);

        const dot = await collections.query('dot', { vector: query, topK: 4 });
        expect(dot.map((match) => match.id)).toEqual(['same', 'close', 'orthogonal', 'opposite']);
        expect(dot.map((match) => match.score)).toEqual([
          expect.closeTo(2, 5),
          expect.closeTo(1, 5),
          expect.closeTo(0, 5),
          expect.closeTo(-1, 5),
        ]);
      });

      it('answers at most topK, metadata always and vectors when asked', async () => {
        await collections.createCollection('docs', { dimensions: 8 });
        await collections.upsert(
          'docs',
          Array.from({ length: 5 }, (_, index) => ({ id: `v${index}`, vector: seededVector(index + 1, 8), metadata: { index } })),
        );
        const one = await collections.query('docs', { vector: seededVector(3, 8), topK: 1 });
        expect(one).toEqual([{ id: 'v2', score: expect.closeTo(1, 5), metadata: { index: 2 } }]);
        const all = await collections.query('docs', { vector: seededVector(3, 8), topK: 1000, includeVectors: true });
        expect(all).toHaveLength(5);
        for (const match of all)
          expect(Array.from(match.vector ?? [])).toEqual(Array.from(seededVector(Number(match.metadata.index) + 1, 8)));
        for (let index = 1; index < all.length; index++) {
          expect((all[index - 1] as { score: number }).score).toBeGreaterThanOrEqual((all[index] as { score: number }).score);
        }
      });

      it('rejects a query vector of another dimension and a topK that is not a positive integer', async () => {
        await collections.createCollection('docs', { dimensions: 8 });
        await expect(collections.query('docs', { vector: [1, 2, 3], topK: 3 })).rejects.toSatisfy(
          (error: unknown) => ValidationError.isInstance(error) && error.field === 'vector',
        );
        for (const topK of [0, -5, 2.5, Number.NaN]) {
          await expect(collections.query('docs', { vector: seededVector(1, 8), topK })).rejects.toSatisfy(
            (error: unknown) => ValidationError.isInstance(error) && error.field === 'topK',
          );
        }
      });

      it('applies the filter before the top k: a rare match far from the query still comes back', async () => {
        await collections.createCollection('docs', { dimensions: 8 });
        const query = seededVector(1, 8);
        const near = Array.from({ length: 300 }, (_, index) => ({
          id: `near-${String(index).padStart(3, '0')}`,
          vector: Array.from(query, (value, position) => value + (position === index % 8 ? 0.01 : 0)),
          metadata: { kind: 'common' },
        }));
        const far = [1, 2, 3].map((index) => ({
          id: `far-${index}`,
          vector: Array.from(query, (value) => -value + index * 0.001),
          metadata: { kind: 'rare' },
        }));
        await collections.upsert('docs', [...near, ...far]);
        const matches = await collections.query('docs', { vector: query, topK: 3, filter: where({ kind: 'rare' }) });
        expect(matches.map((match) => match.id).sort()).toEqual(['far-1', 'far-2', 'far-3']);
        expect(await collections.query('docs', { vector: query, topK: 5, filter: where({ kind: 'none' }) })).toEqual([]);
      });

      it('filters on metadata as Condition defines it (types, missing fields, arrays, nesting, and/or/not)', async () => {
        await collections.createCollection('products', { dimensions: 2 });
        await collections.upsert('products', [
          { id: 'a', vector: [1, 0], metadata: { price: 10, category: 'electronics', tags: ['new', 'sale'], stock: { count: 3 } } },
          { id: 'b', vector: [1, 0.1], metadata: { price: 9, category: 'books', tags: ['featured'], description: 'Classic' } },
          { id: 'c', vector: [1, 0.2], metadata: { price: '10', category: 'home', tags: [], stock: { count: 0 } } },
          { id: 'd', vector: [1, 0.3], metadata: { price: 100, category: 'home', available: null } },
        ]);
        const ids = async (condition: Record<string, unknown>) =>
          (await collections.query('products', { vector: [1, 0], topK: 10, filter: where(condition) })).map((match) => match.id).sort();
        expect(await ids({ price: 10 })).toEqual(['a']); // the string '10' is not the number 10
        expect(await ids({ price: { gt: 9 } })).toEqual(['a', 'd']); // numeric, not lexicographic
        expect(await ids({ price: { gte: 9, lte: 10 } })).toEqual(['a', 'b']);
        expect(await ids({ category: { ne: 'home' } })).toEqual(['a', 'b']);
        expect(await ids({ description: { ne: 'Classic' } })).toEqual(['a', 'c', 'd']); // a missing field is "not equal"
        expect(await ids({ category: { in: ['books', 'home'] } })).toEqual(['b', 'c', 'd']);
        expect(await ids({ category: { nin: ['books', 'home'] } })).toEqual(['a']);
        expect(await ids({ tags: { contains: 'sale' } })).toEqual(['a']);
        expect(await ids({ description: { exists: true } })).toEqual(['b']);
        expect(await ids({ available: { exists: true } })).toEqual(['d']); // present, even if null
        expect(await ids({ available: null })).toEqual(['d']);
        expect(await ids({ 'stock.count': { gt: 0 } })).toEqual(['a']);
        expect(await ids({ or: [{ category: 'books' }, { price: { gte: 100 } }] })).toEqual(['b', 'd']);
        expect(await ids({ not: { category: 'home' } })).toEqual(['a', 'b']);
        expect(await ids({ category: 'home', not: { price: 100 } })).toEqual(['c']);
      });
    });
  });
}
