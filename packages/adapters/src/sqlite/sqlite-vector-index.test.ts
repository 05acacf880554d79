import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdapterError,
  cosineSimilarity,
  type MemoryFilter,
  type MemoryRecord,
  type MemoryStore,
  matchesFilter,
  parseWhere,
  ValidationError,
  type VectorIndex,
} from '@engram/core';
import { makeRecord, nearVector, seededVector } from '@engram/core/testing';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteStore } from './sqlite-store.js';
import { vectorConstraints } from './sqlite-vector-filter.js';

const dimensions = 16;
const root = mkdtempSync(join(tmpdir(), 'engram-sqlite-vectors-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let store: MemoryStore;
let vectors: VectorIndex;
let counter = 0;

beforeEach(async () => {
  store = sqliteStore({ path: join(root, `vectors-${++counter}.db`) });
  await store.open();
  vectors = store.vectors as VectorIndex;
  await vectors.open(dimensions);
});
afterEach(() => store.close());

const ids = (matches: Array<{ id: string }>) => matches.map((match) => match.id);

/** 300 near-identical "noise" vectors in another scope, and 3 far-away targets. */
async function noisyFixture() {
  const query = seededVector(42, dimensions);
  const noise = Array.from({ length: 300 }, (_, index) => ({
    record: makeRecord({ content: `noise ${index}`, scope: { userId: 'other' }, tags: ['noise'], type: 'observation' }),
    vector: nearVector(query, 1000 + index, 0.02),
  }));
  const targets = Array.from({ length: 3 }, (_, index) => ({
    record: makeRecord({
      content: `target ${index}`,
      scope: { userId: 'me' },
      tags: ['wanted'],
      type: 'error',
      subtype: 'bug',
      metadata: { rank: index },
    }),
    vector: nearVector(query, 5000 + index, 0.6 + index * 0.4),
  }));
  await store.write([...noise, ...targets]);
  return { query, noise, targets: targets.map((target) => target.record) };
}

describe('sqlite-vec search returns the k best vectors that match the filter', () => {
  it('through vec0 metadata columns (scope, type)', async () => {
    const { query, targets } = await noisyFixture();
    expect(vectorConstraints({ scope: { userId: 'me' } }).complete).toBe(true);
    expect(ids(await vectors.search(query, 3, { scope: { userId: 'me' } }))).toEqual(ids(targets));
    expect(ids(await vectors.search(query, 2, { types: ['error'] }))).toEqual(ids(targets.slice(0, 2)));
    expect(ids(await vectors.search(query, 5, { subtypes: ['bug'] }))).toEqual(ids(targets));
  });

  it('through a rowid pre-filter (tags, where, types OR subtypes, asOf)', async () => {
    const { query, targets } = await noisyFixture();
    expect(vectorConstraints({ tags: { any: ['wanted'] } }).complete).toBe(false);
    expect(ids(await vectors.search(query, 3, { tags: { any: ['wanted'] } }))).toEqual(ids(targets));
    expect(ids(await vectors.search(query, 3, { tags: { all: ['wanted'] } }))).toEqual(ids(targets));
    expect(ids(await vectors.search(query, 2, { where: parseWhere({ rank: { gte: 1 } }) }))).toEqual(ids(targets.slice(1)));
    expect(ids(await vectors.search(query, 3, { types: ['nothing'], subtypes: ['bug'] }))).toEqual(ids(targets));
    const before = targets[0]?.createdAt as Date;
    expect(await vectors.search(query, 3, { asOf: new Date(before.getTime() - 1), scope: { userId: 'me' } })).toEqual([]);
  });

  it('by direct distances for a short ids list, and by scan for a long one', async () => {
    const { query, noise, targets } = await noisyFixture();
    const wanted = [targets[2]?.id, targets[0]?.id, 'unknown'] as string[];
    expect(ids(await vectors.search(query, 5, { ids: wanted }))).toEqual([targets[0]?.id, targets[2]?.id]);
    const many = [...noise.slice(0, 100).map((item) => item.record.id), ...ids(targets)];
    const [best] = await vectors.search(query, 1, { ids: many, tags: { any: ['wanted'] } });
    expect(best?.id).toBe(targets[0]?.id);
    expect(await vectors.search(query, 5, { ids: [] })).toEqual([]);
  });

  it('follows type changes, supersession and deletion (kept in step by triggers)', async () => {
    const { query, targets } = await noisyFixture();
    const [first, second] = targets as [MemoryRecord, MemoryRecord];
    await store.update(first.id, { type: 'decision', subtype: null, updatedAt: new Date() });
    expect(ids(await vectors.search(query, 5, { types: ['decision'] }))).toEqual([first.id]);
    expect(ids(await vectors.search(query, 5, { types: ['error'] }))).not.toContain(first.id);
    await store.update(second.id, { supersededBy: first.id, validTo: new Date(), updatedAt: new Date() });
    expect(ids(await vectors.search(query, 5, { scope: { userId: 'me' } }))).not.toContain(second.id);
    expect(ids(await vectors.search(query, 5, { scope: { userId: 'me' }, includeSuperseded: true }))).toContain(second.id);
    const before = await vectors.count();
    await store.delete(first.id, new Date());
    expect(await vectors.count()).toBe(before - 1);
    expect(ids(await vectors.search(query, 5, { scope: { userId: 'me' } }))).not.toContain(first.id);
  });

  it('follows subtype changes to values longer than vec0 keeps inline (12 bytes)', async () => {
    const { query, targets } = await noisyFixture();
    const first = targets[0] as MemoryRecord;
    await store.update(first.id, { type: 'learning', subtype: 'best_practice_for_long_values', updatedAt: new Date() });
    expect(ids(await vectors.search(query, 5, { subtypes: ['best_practice_for_long_values'] }))).toEqual([first.id]);
    expect(ids(await vectors.search(query, 5, { subtypes: ['bug'] }))).toEqual(ids(targets.slice(1)));
  });

  it('keeps no vector for a record written as already deleted, and ignores a non-finite k', async () => {
    const query = seededVector(5, dimensions);
    await store.write([{ record: makeRecord({ content: 'imported tombstone', deletedAt: new Date() }), vector: query }]);
    expect(await vectors.count()).toBe(0);
    expect(await vectors.search(query, Number.NaN)).toEqual([]);
  });

  it('reports cosine similarity', async () => {
    const record = makeRecord({ content: 'similarity' });
    const stored = seededVector(1, dimensions);
    await store.write([{ record, vector: stored }]);
    const query = seededVector(2, dimensions);
    const [match] = await vectors.search(query, 1);
    expect(match?.similarity).toBeCloseTo(cosineSimilarity(query, stored), 5);
  });

  it('agrees with brute force over matchesFilter on random filters', async () => {
    const base = Date.UTC(2025, 0, 1);
    const records: Array<{ record: MemoryRecord; vector: Float32Array }> = [];
    for (let index = 0; index < 600; index++) {
      const superseded = index % 9 === 0;
      records.push({
        record: makeRecord({
          content: `random ${index}`,
          createdAt: new Date(base + index * 3_600_000),
          scope: index % 4 === 0 ? {} : { userId: `u${index % 3}`, ...(index % 5 === 0 ? { agentId: 'a' } : {}) },
          conversationId: index % 7 === 0 ? 'c' : null,
          type: ['observation', 'error', 'learning'][index % 3] as string,
          subtype: index % 2 === 0 ? null : (['bug', 'insight'][index % 4 === 1 ? 0 : 1] as string),
          tags: ['a', 'b', 'c'].filter((_, position) => (index >> position) % 2 === 1),
          metadata: { n: index % 10, even: index % 2 === 0, label: `L${index % 4}` },
          supersededBy: superseded ? 'x' : null,
          validTo: superseded ? new Date(base + (index + 50) * 3_600_000) : null,
        }),
        vector: seededVector(10_000 + index, dimensions),
      });
    }
    await store.write(records);
    const filters: MemoryFilter[] = [
      {},
      { scope: { userId: 'u1' } },
      { scope: { userId: 'u2', agentId: 'a' }, types: ['error', 'learning'] },
      { conversationId: 'c', includeSuperseded: true },
      { subtypes: ['bug'] },
      { types: ['observation'], subtypes: ['insight'] },
      { tags: { any: ['a', 'c'] } },
      { tags: { all: ['a', 'b'] }, scope: { userId: 'u0' } },
      { after: new Date(base + 100 * 3_600_000), before: new Date(base + 300 * 3_600_000) },
      { asOf: new Date(base + 200 * 3_600_000) },
      { where: parseWhere({ n: { gte: 7 }, even: false }) },
      { where: parseWhere({ or: [{ label: 'L1' }, { n: { lt: 2 } }] }), types: ['error'] },
      { ids: records.filter((_, index) => index % 11 === 0).map((item) => item.record.id) },
      { ids: records.slice(0, 40).map((item) => item.record.id), where: parseWhere({ label: { ne: 'L0' } }) },
    ];
    for (const [position, filter] of filters.entries()) {
      const query = seededVector(77 + position, dimensions);
      for (const k of [1, 10, 1000]) {
        const expected = records
          .filter((item) => matchesFilter(item.record, filter))
          .map((item) => ({ id: item.record.id, similarity: cosineSimilarity(query, item.vector) }))
          .sort((a, b) => b.similarity - a.similarity)
          .slice(0, k);
        const actual = await vectors.search(query, k, filter);
        expect(ids(actual), `${JSON.stringify(filter)} k=${k}`).toEqual(ids(expected));
        for (const [index, match] of actual.entries()) expect(match.similarity).toBeCloseTo(expected[index]?.similarity as number, 5);
      }
    }
  });
});

describe('sqlite-vec index maintenance', () => {
  it('checks dimensions: open, write, update, search and upsert', async () => {
    await expect(vectors.open(dimensions)).resolves.toBeUndefined();
    const error = await vectors.open(dimensions * 2).catch((caught: unknown) => caught);
    expect(AdapterError.isInstance(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(/16-dimensional vectors, not 32/);
    const record = makeRecord({ content: 'sized' });
    await expect(store.write([{ record, vector: seededVector(1, 3) }])).rejects.toSatisfy(ValidationError.isInstance);
    await store.write([{ record, vector: seededVector(1, dimensions) }]);
    await expect(store.update(record.id, { updatedAt: new Date() }, seededVector(1, 3))).rejects.toSatisfy(ValidationError.isInstance);
    await expect(vectors.search(seededVector(1, 3), 1)).rejects.toSatisfy(ValidationError.isInstance);
    await expect(vectors.upsert([{ id: record.id, vector: seededVector(1, 3), payload: record }])).rejects.toSatisfy(
      ValidationError.isInstance,
    );
    await expect(vectors.open(0)).rejects.toSatisfy(ValidationError.isInstance);
  });

  it('upsert replaces vectors of live memories and skips unknown ones', async () => {
    const record = makeRecord({ content: 'reindexed' });
    await store.write([{ record, vector: seededVector(1, dimensions) }]);
    const plain = makeRecord({ content: 'written without a vector' });
    await store.write([{ record: plain }]);
    expect(await vectors.count()).toBe(1);
    await vectors.upsert([
      { id: record.id, vector: seededVector(2, dimensions), payload: record },
      { id: plain.id, vector: seededVector(3, dimensions), payload: plain },
      { id: 'unknown', vector: seededVector(4, dimensions), payload: record },
    ]);
    expect(await vectors.count()).toBe(2);
    expect((await vectors.search(seededVector(2, dimensions), 1))[0]).toMatchObject({ id: record.id });
    expect((await vectors.search(seededVector(3, dimensions), 1, { types: ['observation'] }))[0]).toMatchObject({ id: plain.id });
    await vectors.delete([record.id, 'unknown']);
    expect(await vectors.count()).toBe(1);
  });

  it('drops a vector whose content changed without a new one (it would match the old text)', async () => {
    const record = makeRecord({ content: 'old words' });
    await store.write([{ record, vector: seededVector(1, dimensions) }]);
    await store.update(record.id, { importance: 0.9, updatedAt: new Date() });
    expect(await vectors.count()).toBe(1);
    await store.update(record.id, { content: 'new words', contentHash: 'h2', updatedAt: new Date() });
    expect(await vectors.count()).toBe(0);
  });

  it('writes of a keyed record replace its vector', async () => {
    const first = makeRecord({ content: 'keyed v1', key: 'k' });
    await store.write([{ record: first, vector: seededVector(1, dimensions) }]);
    const [result] = await store.write([{ record: makeRecord({ content: 'keyed v2', key: 'k' }), vector: seededVector(2, dimensions) }]);
    expect(result?.status).toBe('updated');
    expect(await vectors.count()).toBe(1);
    const [match] = await vectors.search(seededVector(2, dimensions), 1);
    expect(match?.id).toBe(first.id);
    expect(match?.similarity).toBeCloseTo(1, 5);
  });

  it('returns nothing for k <= 0 and caps k at what matches', async () => {
    await store.write([{ record: makeRecord({ content: 'only one' }), vector: seededVector(1, dimensions) }]);
    expect(await vectors.search(seededVector(1, dimensions), 0)).toEqual([]);
    expect(await vectors.search(seededVector(1, dimensions), 50)).toHaveLength(1);
  });

  it('is empty (not an error) before any vector table exists', async () => {
    const fresh = sqliteStore({ path: ':memory:' });
    await fresh.open();
    expect(await fresh.vectors?.count()).toBe(0);
    expect(await fresh.vectors?.search(seededVector(1, dimensions), 5)).toEqual([]);
    await expect(fresh.write([{ record: makeRecord({ content: 'no table' }), vector: seededVector(1, dimensions) }])).rejects.toThrow(
      /vectors\.open/,
    );
    await fresh.close();
  });
});
