import { describe, expect, it } from 'vitest';
import type { MemoryStore } from '../contracts/memory-store.js';
import { hashEmbedder } from '../embedding/hash-embedder.js';
import { Memory } from '../memory.js';
import { ValidationError } from '../model/errors.js';
import { inMemoryStore } from '../stores/in-memory-store.js';

async function seeded(store: MemoryStore): Promise<Memory> {
  const memory = new Memory({ store, embedder: hashEmbedder() });
  await memory.add({ content: 'Ada likes tea', scope: { userId: 'ada' }, tags: ['prefs'], metadata: { project: { stage: 'alpha' } } });
  await memory.add({ content: 'Ada likes trains', scope: { userId: 'ada' }, metadata: { project: { stage: 'beta' } } });
  await memory.add({ content: 'Ada likes maps', scope: { userId: 'ada' }, tags: ['prefs'], metadata: { project: { stage: 'alpha' } } });
  await memory.add({ content: 'Bob likes code', scope: { userId: 'bob' }, metadata: { project: { stage: 'gamma' } } });
  await memory.add({ content: 'No project here', scope: { userId: 'ada' } });
  return memory;
}

describe('memory.distinct', () => {
  const stores: Array<[string, () => MemoryStore]> = [
    ['with the store method', () => inMemoryStore()],
    [
      'through the fallback scan',
      () => {
        const { distinctMetadata: _, ...store } = inMemoryStore();
        return store as MemoryStore;
      },
    ],
  ];
  for (const [name, create] of stores) {
    it(`answers each value of a metadata field once, within the filter (${name})`, async () => {
      const memory = await seeded(create());
      expect((await memory.distinct('project.stage')).sort()).toEqual(['alpha', 'beta', 'gamma']);
      expect((await memory.distinct('project.stage', { scope: { userId: 'ada' } })).sort()).toEqual(['alpha', 'beta']);
      expect(await memory.distinct('project.stage', { scope: { userId: 'ada' }, tags: ['prefs'] })).toEqual(['alpha']);
      expect(await memory.distinct('project', { scope: { userId: 'bob' } })).toEqual([{ stage: 'gamma' }]);
      await memory.close();
    });
  }

  it('rejects a path that is not a dotted metadata path', async () => {
    const memory = await seeded(inMemoryStore());
    for (const field of ['', 'a..b', '.a']) {
      await expect(memory.distinct(field)).rejects.toSatisfy(
        (error: unknown) => ValidationError.isInstance(error) && error.field === 'field',
      );
    }
    await memory.close();
  });
});
