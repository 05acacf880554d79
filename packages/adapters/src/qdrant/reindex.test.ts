import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import {
  type Embedder,
  EmbedderMismatchError,
  hashEmbedder,
  inMemoryStore,
  inMemoryVectorIndex,
  Memory,
  type VectorIndex,
} from '@engram/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresStore } from '../postgres/index.js';
import { reindex } from './reindex.js';

const embedder = hashEmbedder({ dimensions: 32 });

async function seed(memory: Memory): Promise<string[]> {
  const ids: string[] = [];
  for (const content of [
    'postgres pool exhausted',
    'qdrant collection created',
    'lunch was pizza',
    'deploy failed on friday',
    'the office is in Paris',
    'the office is in Berlin',
  ]) {
    ids.push((await memory.add({ content, scope: { userId: 'u' } })).memory.id);
  }
  return ids;
}

describe('reindex', () => {
  it('rebuilds an external index from the store: live and superseded memories in, deleted ones out', async () => {
    const store = inMemoryStore();
    const original = inMemoryVectorIndex();
    const memory = new Memory({ store, vectors: original, embedder, logger: false });
    const ids = await seed(memory);
    await memory.resolve(ids[5] as string, ids[4] as string);
    await memory.delete(ids[2] as string);
    await memory.close();

    // A fresh index that also holds a stale point for the deleted memory.
    const rebuilt = inMemoryVectorIndex();
    await rebuilt.open(32);
    const deletedRecord = (await store.list({ includeSuperseded: true }, { limit: 10, includeDeleted: true })).items.find(
      (record) => record.id === ids[2],
    );
    await rebuilt.upsert([
      { id: ids[2] as string, vector: (await embedder.embed(['lunch was pizza']))[0] as Float32Array, payload: deletedRecord as never },
    ]);

    const progress: number[] = [];
    const result = await reindex({ store, vectors: rebuilt, embedder, batchSize: 2, onProgress: (step) => progress.push(step.indexed) });
    expect(result).toEqual({ indexed: 5, removed: 1, total: 5 });
    expect(progress.at(-1)).toBe(5);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(await rebuilt.count()).toBe(5);

    const again = new Memory({ store, vectors: rebuilt, embedder, logger: false });
    // Current payloads: the superseded memory is hidden unless asked for, the deleted one is gone.
    // minScore 0: every live memory, related or not (the relevance floor would keep only the close ones).
    const after = await again.search('office berlin', { mode: 'vector', scope: { userId: 'u' }, minScore: 0 });
    expect(after[0]?.memory.id).toBe(ids[5]);
    expect(after.map((hit) => hit.memory.id).sort()).toEqual([ids[0], ids[1], ids[3], ids[5]].sort());
    expect((await again.search('office paris', { mode: 'vector', includeSuperseded: true })).some((hit) => hit.memory.id === ids[4])).toBe(
      true,
    );
    await again.close();
  });

  it('refuses an embedder other than the one the store was built with', async () => {
    const store = inMemoryStore();
    await store.setEmbedder({ id: 'another-model', dimensions: 32 });
    await expect(reindex({ store, vectors: inMemoryVectorIndex(), embedder })).rejects.toBeInstanceOf(EmbedderMismatchError);
  });

  it('respects the embedder batch size', async () => {
    const store = inMemoryStore();
    const memory = new Memory({ store, embedder, logger: false });
    await seed(memory);
    const sizes: number[] = [];
    const small: Embedder = {
      ...embedder,
      id: embedder.id,
      dimensions: embedder.dimensions,
      maxBatchSize: 2,
      embed: (texts, options) => {
        sizes.push(texts.length);
        return embedder.embed(texts, options);
      },
    };
    await reindex({ store, vectors: inMemoryVectorIndex(), embedder: small, batchSize: 5 });
    expect(Math.max(...sizes)).toBe(2);
    await memory.close();
  });

  describe("on a store's own index (Postgres + pgvector on PGlite)", () => {
    let database: PGlite;
    beforeAll(async () => {
      database = await PGlite.create({ extensions: { vector } });
    }, 60_000);
    afterAll(() => database?.close());

    it('refills vectors that went missing', async () => {
      const store = postgresStore({ pglite: database, schema: 'reindex', vectors: true });
      const memory = new Memory({ store, embedder, logger: false });
      await seed(memory);
      const index = store.vectors as VectorIndex;
      expect(await index.count()).toBe(6);
      await database.query('UPDATE reindex.memories SET embedding = NULL');
      expect(await index.count()).toBe(0);
      expect(await reindex({ store, vectors: index, embedder })).toMatchObject({ indexed: 6, removed: 0 });
      expect(await index.count()).toBe(6);
      const [best] = await memory.search('postgres pool', { mode: 'vector' });
      expect(best?.memory.content).toBe('postgres pool exhausted');
      await memory.close();
    });
  });
});
