import { describe, expect, it } from 'vitest';
import type { MemoryRecord, Scope } from '../contracts/model.js';
import { hashEmbedder } from '../embedding/hash-embedder.js';
import { Memory } from '../memory.js';
import { inMemoryStore } from '../stores/in-memory-store.js';

/** An in-memory store that counts its hash look-ups, with `findByHashesInScopes` when `grouped`. */
function counted(grouped: boolean) {
  const store = inMemoryStore();
  const calls = { single: 0, grouped: [] as number[] };
  const findByHashes = store.findByHashes.bind(store);
  store.findByHashes = async (scope, hashes) => {
    calls.single++;
    return findByHashes(scope, hashes);
  };
  if (grouped) {
    store.findByHashesInScopes = async (groups: Array<{ scope: Scope; hashes: string[] }>) => {
      calls.grouped.push(groups.length);
      const answers: MemoryRecord[][] = [];
      for (const group of groups) answers.push(await findByHashes(group.scope, group.hashes));
      return answers;
    };
  }
  return { store, calls };
}

describe("addMany's exact-duplicate pre-check", () => {
  const inputs = (suffix: string) =>
    ['u1', 'u2', 'u3'].flatMap((userId) => [
      { content: `shared words ${suffix}`, scope: { userId } },
      { content: `${userId} alone ${suffix}`, scope: { userId } },
    ]);

  for (const grouped of [true, false]) {
    it(`asks the store ${grouped ? 'once for every scope (findByHashesInScopes)' : 'once a scope (findByHashes)'} and answers stored duplicates`, async () => {
      const { store, calls } = counted(grouped);
      const memory = new Memory({ store, embedder: hashEmbedder({ dimensions: 16 }), logger: false });
      const first = await memory.addMany([...inputs('a'), { content: 'keyed one', key: 'k', scope: { userId: 'u1' } }]);
      expect(first.map((result) => result.status)).toEqual(Array(7).fill('created'));
      expect(calls).toEqual(grouped ? { single: 0, grouped: [3] } : { single: 3, grouped: [] });

      const again = await memory.addMany([...inputs('a'), ...inputs('b')]);
      expect(again.map((result) => result.status)).toEqual([...Array(6).fill('duplicate'), ...Array(6).fill('created')]);
      // Each duplicate is the record of its own scope.
      expect(again.slice(0, 6).map((result) => result.memory.id)).toEqual(first.slice(0, 6).map((result) => result.memory.id));
      expect(calls).toEqual(grouped ? { single: 0, grouped: [3, 3] } : { single: 6, grouped: [] });

      // Only keyed items: nothing to look up.
      await memory.addMany([{ content: 'keyed two', key: 'k2' }]);
      expect(calls).toEqual(grouped ? { single: 0, grouped: [3, 3] } : { single: 6, grouped: [] });
      await memory.close();
    });
  }
});
