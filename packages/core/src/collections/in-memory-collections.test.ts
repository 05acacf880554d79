import { expect, it } from 'vitest';
import { inMemoryStore } from '../stores/in-memory-store.js';
import { runVectorCollectionsConformance } from '../testing/vector-collections-conformance.js';
import { inMemoryVectorCollections } from './in-memory-collections.js';

runVectorCollectionsConformance({ name: 'memory', create: () => inMemoryVectorCollections() });

it('the in-memory store carries its own collections', async () => {
  const store = inMemoryStore();
  const collections = store.collections;
  expect(collections?.name).toBe('memory');
  await collections?.createCollection('docs', { dimensions: 2 });
  expect(await collections?.listCollections()).toEqual(['docs']);
  expect(await inMemoryStore().collections?.listCollections()).toEqual([]);
});
