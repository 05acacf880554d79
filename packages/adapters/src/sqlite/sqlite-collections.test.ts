import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MemoryStore, parseWhere, type VectorCollections } from '@engram/core';
import { runVectorCollectionsConformance } from '@engram/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteStore } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'engram-sqlite-collections-'));
let counter = 0;
const tempPath = () => join(root, `store-${++counter}`, 'memory.db');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const stores = new Map<VectorCollections, MemoryStore>();
runVectorCollectionsConformance({
  name: 'sqlite',
  create: () => {
    const store = sqliteStore({ path: tempPath() });
    const collections = store.collections as VectorCollections;
    stores.set(collections, store);
    return collections;
  },
  cleanup: (collections) => stores.get(collections)?.close(),
});

describe('sqlite collections', () => {
  it('persist in the file: another store on the same file sees them, with memories beside them', async () => {
    const path = tempPath();
    const first = sqliteStore({ path });
    await first.collections?.createCollection('docs', { dimensions: 3, metric: 'euclidean' });
    await first.collections?.upsert('docs', [{ id: 'a', vector: [1, 2, 3], metadata: { source: 'guide.pdf' } }]);
    await first.close();

    const second = sqliteStore({ path });
    expect(await second.collections?.describeCollection('docs')).toEqual({ name: 'docs', dimensions: 3, metric: 'euclidean', count: 1 });
    const [match] =
      (await second.collections?.query('docs', { vector: [1, 2, 3], topK: 1, filter: parseWhere({ source: 'guide.pdf' }) })) ?? [];
    expect(match).toEqual({ id: 'a', score: 1, metadata: { source: 'guide.pdf' } });
    expect(await second.count({})).toBe(0);
    await second.close();
  });
});
