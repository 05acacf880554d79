import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector as pgvector } from '@electric-sql/pglite/vector';
import { postgresStore } from '@engram/adapters/postgres';
import { sqliteStore } from '@engram/adapters/sqlite';
import { hashEmbedder, inMemoryStore, inMemoryVectorCollections, Memory, type MemoryStore, ValidationError } from '@engram/core';
import { MastraVector } from '@mastra/core/vector';
import { afterAll, describe, expect, it } from 'vitest';
import { EngramVector } from './engram-vector.js';
import { runMastraVectorConformance } from './testing/mastra-vector-conformance.js';

const root = mkdtempSync(join(tmpdir(), 'engram-mastra-vector-'));
let counter = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

const database = await PGlite.create({ extensions: { vector: pgvector } });
afterAll(() => database.close());

const stores = new Map<EngramVector, MemoryStore>();
const over = (store: MemoryStore) => {
  const vector = new EngramVector({ store });
  stores.set(vector, store);
  return vector;
};
const close = (vector: EngramVector) => stores.get(vector)?.close();

runMastraVectorConformance({ name: 'in-memory collections', create: () => new EngramVector({ collections: inMemoryVectorCollections() }) });
runMastraVectorConformance({ name: 'sqlite', create: () => over(sqliteStore({ path: join(root, `${++counter}.db`) })), cleanup: close });
runMastraVectorConformance({
  name: 'postgres on PGlite (pgvector)',
  create: () => over(postgresStore({ pglite: database, schema: `mastra_${++counter}`, vectors: true })),
  cleanup: close,
});

describe('EngramVector', () => {
  it('is a MastraVector over the collections of a store, a Memory or any VectorCollections', async () => {
    const store = inMemoryStore();
    const memory = new Memory({ store, embedder: hashEmbedder() });
    const fromMemory = new EngramVector({ memory });
    expect(fromMemory).toBeInstanceOf(MastraVector);
    expect(fromMemory.collections).toBe(store.collections);
    await fromMemory.createIndex({ indexName: 'docs', dimension: 3 });
    expect(await new EngramVector({ store }).listIndexes()).toEqual(['docs']);
    await memory.close();
  });

  it('needs exactly one source, and one that keeps collections', () => {
    expect(() => new EngramVector({})).toThrow(ValidationError);
    expect(() => new EngramVector({ store: inMemoryStore(), collections: inMemoryVectorCollections() })).toThrow(/exactly one/);
    const { collections: _, ...withoutCollections } = inMemoryStore();
    expect(() => new EngramVector({ store: withoutCollections as MemoryStore })).toThrow(/keeps no vector collections/);
  });
});
