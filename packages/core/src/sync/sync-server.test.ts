import { describe, expect, it } from 'vitest';
import type { ChangeLogPage } from '../contracts/memory-store.js';
import { hashEmbedder } from '../embedding/hash-embedder.js';
import { Memory } from '../memory.js';
import { inMemoryStore } from '../stores/in-memory-store.js';

describe('SyncServer.changes', () => {
  it('holds the cursor at a missing sequence number until it is filled or 10 s old (Postgres commits out of order)', async () => {
    let clock = Date.UTC(2026, 0, 1);
    const store = inMemoryStore();
    const memory = new Memory({ store, embedder: hashEmbedder(), logger: false, now: () => clock });
    for (const content of ['first', 'second', 'third', 'fourth']) await memory.add({ content });
    // Entry 2 is "not committed yet": the log skips it.
    const read = store.changesSince?.bind(store) as NonNullable<typeof store.changesSince>;
    let hidden = true;
    store.changesSince = async (after, limit): Promise<ChangeLogPage> => {
      const page = await read(after, limit);
      return { ...page, entries: page.entries.filter((entry) => !(hidden && entry.seq === 2)) };
    };
    const first = await memory.sync.changes({ since: 0 });
    expect(first.changes.map((change) => change.seq)).toEqual([1, 3, 4]);
    expect(first.cursor).toBe(1);
    clock += 5_000;
    hidden = false;
    const filled = await memory.sync.changes({ since: first.cursor });
    expect(filled.changes.map((change) => change.seq)).toEqual([2, 3, 4]);
    expect(filled.cursor).toBe(4);

    // A gap that never fills (a rolled-back transaction) is stepped over after 10 s.
    await memory.add({ content: 'fifth' });
    await memory.add({ content: 'sixth' });
    store.changesSince = async (after, limit) => {
      const page = await read(after, limit);
      return { ...page, entries: page.entries.filter((entry) => entry.seq !== 5) };
    };
    expect((await memory.sync.changes({ since: 4 })).cursor).toBe(4);
    clock += 10_001;
    expect((await memory.sync.changes({ since: 4 })).cursor).toBe(6);
    await memory.close();
  });

  it('refuses a bad cursor or limit, naming the field', async () => {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false });
    await expect(memory.sync.changes({ since: -1 })).rejects.toThrow(/since/);
    await expect(memory.sync.changes({ since: 0, limit: 0 })).rejects.toThrow(/limit/);
    await expect(memory.sync.now()).rejects.toThrow(/does not sync/);
    await memory.close();
  });
});
