import { PGlite } from '@electric-sql/pglite';
import {
  AdapterError,
  hashEmbedder,
  Memory,
  type MemoryFilter,
  matchesFilter,
  parseWhere,
  ValidationError,
  type VectorIndex,
} from '@engram/core';
import { makeRecord, runVectorIndexConformance, seededVector } from '@engram/core/testing';
import { QdrantClient } from '@qdrant/js-client-rest';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresStore } from '../postgres/index.js';
import { qdrantIndex } from './qdrant-index.js';
import { reindex } from './reindex.js';

// A live Qdrant server: `docker run -p 6333:6333 qdrant/qdrant`, then QDRANT_URL=http://localhost:6333.
const url = process.env.QDRANT_URL;
const apiKey = process.env.QDRANT_API_KEY;
const skip = url
  ? undefined
  : 'QDRANT_URL is not set (start Qdrant, e.g. `docker run -p 6333:6333 qdrant/qdrant`, and set QDRANT_URL=http://localhost:6333)';

let counter = 0;
const collections = new Map<VectorIndex, string>();
const client = url ? new QdrantClient({ url, ...(apiKey ? { apiKey } : {}), checkCompatibility: false }) : undefined;
const create = () => {
  const collection = `engram_test_${process.pid}_${++counter}`;
  const index = qdrantIndex({ url, ...(apiKey ? { apiKey } : {}), collection });
  collections.set(index, collection);
  return index;
};
const drop = async (index: VectorIndex) => {
  await client?.deleteCollection(collections.get(index) as string);
};

runVectorIndexConformance({ name: 'qdrant', skip, create, cleanup: drop });

describe('qdrantIndex without a server', () => {
  it('validates its options', () => {
    expect(() => qdrantIndex()).toThrow(ValidationError);
    expect(() => qdrantIndex({ url: 'http://localhost:6333', collection: 'no spaces' })).toThrow(/collection/);
  });

  it('says where it tried to connect when nothing listens', async () => {
    const index = qdrantIndex({ url: 'http://127.0.0.1:1', timeoutMs: 2000 });
    const error = (await index.open(8).catch((caught: unknown) => caught)) as AdapterError;
    expect(AdapterError.isInstance(error)).toBe(true);
    expect(error.operation).toBe('open');
    expect(error.message).toMatch(/reachable at http:\/\/127\.0\.0\.1:1/);
  });
});

const live = skip ? describe.skip : describe;

live(`qdrant filters and pairing${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const opened: VectorIndex[] = [];
  afterAll(async () => {
    for (const index of opened) await drop(index);
  });
  const fresh = async (dimensions: number) => {
    const index = create();
    opened.push(index);
    await index.open(dimensions);
    return index;
  };

  it('agrees with matchesFilter, including the conditions checked after the search', async () => {
    const index = await fresh(8);
    const records = [
      makeRecord({
        scope: { userId: 'alice' },
        type: 'error',
        tags: ['db'],
        metadata: { priority: 5, status: 'open', note: 'has a Needle', labels: ['x', 'y'], due: '2025-03-01' },
      }),
      makeRecord({
        scope: { userId: 'bob' },
        type: 'learning',
        tags: ['api'],
        metadata: { priority: '5', status: ['open'], note: 'no needle' },
      }),
      makeRecord({ scope: { userId: 'alice' }, metadata: { priority: 2.5, maybe: null, due: '2024-12-31', team: { name: 'core' } } }),
      makeRecord({ scope: {}, metadata: {}, supersededBy: 'x', validTo: new Date(Date.UTC(2030, 0, 1)) }),
    ];
    await index.upsert(records.map((record, position) => ({ id: record.id, vector: seededVector(position + 1, 8), payload: record })));
    const filters: MemoryFilter[] = [
      {},
      { scope: { userId: 'alice' } },
      { where: parseWhere({ priority: 5 }) },
      { where: parseWhere({ status: 'open' }) },
      { where: parseWhere({ status: { ne: 'open' } }) },
      { where: parseWhere({ note: { contains: 'Needle' } }) },
      { where: parseWhere({ labels: { contains: 'y' } }) },
      { where: parseWhere({ due: { lt: '2025-01-01' } }) },
      { where: parseWhere({ maybe: { exists: true } }) },
      { where: parseWhere({ 'team.name': 'core' }) },
      { where: parseWhere({ not: { note: { contains: 'needle' } } }) },
      { asOf: new Date(Date.UTC(2029, 0, 1)) },
      { includeSuperseded: true, types: ['error', 'learning'] },
    ];
    for (const filter of filters) {
      const expected = records
        .filter((record) => matchesFilter(record, filter))
        .map((record) => record.id)
        .sort();
      const found = (await index.search(seededVector(99, 8), 10, filter)).map((match) => match.id).sort();
      expect(found, JSON.stringify(filter)).toEqual(expected);
    }
  });

  it('keeps fetching until k results pass a condition Qdrant cannot check', async () => {
    const index = await fresh(8);
    const query = seededVector(7, 8);
    const records = Array.from({ length: 400 }, (_, position) =>
      makeRecord({ metadata: { note: position % 100 === 0 ? `the Needle ${position}` : `hay ${position}` } }),
    );
    await index.upsert(records.map((record, position) => ({ id: record.id, vector: seededVector(position + 100, 8), payload: record })));
    const found = await index.search(query, 4, { where: parseWhere({ note: { contains: 'Needle' } }) });
    expect(found).toHaveLength(4);
  });

  it('pairs with postgresStore through Memory, and reindex rebuilds it from the store', async () => {
    const database = await PGlite.create();
    try {
      const embedder = hashEmbedder({ dimensions: 32 });
      const store = postgresStore({ pglite: database, schema: 'paired' });
      const vectors = await fresh(32);
      const memory = new Memory({ store, vectors, embedder, logger: false });
      const kept = await memory.add({ content: 'qdrant holds the vectors', tags: ['infra'] });
      const gone = await memory.add({ content: 'this one is deleted' });
      await memory.delete(gone.memory.id);
      expect((await memory.search('qdrant vectors', { mode: 'vector' }))[0]?.memory.id).toBe(kept.memory.id);
      expect(await vectors.count()).toBe(1);
      await memory.close();

      const rebuilt = await fresh(32);
      expect(await reindex({ store, vectors: rebuilt, embedder })).toMatchObject({ indexed: 1, removed: 1 });
      expect(await rebuilt.count()).toBe(1);
      await store.close();
    } finally {
      await database.close();
    }
  });
});
