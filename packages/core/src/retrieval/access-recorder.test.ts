import { afterEach, describe, expect, it, vi } from 'vitest';
import { hashEmbedder } from '../embedding/hash-embedder.js';
import { Memory } from '../memory.js';
import { inMemoryStore } from '../stores/in-memory-store.js';

afterEach(() => {
  vi.useRealTimers();
});

function counted() {
  const store = inMemoryStore();
  const calls: Array<{ ids: string[]; at: Date }> = [];
  const original = store.recordAccess.bind(store);
  store.recordAccess = async (ids, at) => {
    calls.push({ ids: [...ids], at });
    return original(ids, at);
  };
  return { store, calls };
}

describe('access statistics', () => {
  it('gathers the searches of an interval into one write, counts of one memory added together', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { store, calls } = counted();
    const memory = new Memory({ store, embedder: hashEmbedder(), logger: false });
    const { memory: stored } = await memory.add({ content: 'coalesced access statistics' });
    for (let index = 0; index < 40; index++) await memory.search('coalesced access');
    expect(calls).toHaveLength(0);
    // Reads in this process already see them, without a write.
    expect((await memory.get(stored.id))?.accessCount).toBe(40);
    expect((await memory.list()).items[0]?.accessCount).toBe(40);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.ids).toHaveLength(40);
    expect((await store.get([stored.id]))[0]?.accessCount).toBe(40);
    expect((await memory.get(stored.id))?.accessCount).toBe(40);
    await memory.close();
  });

  it('writes what is pending on close: nothing gathered is lost', async () => {
    const { store, calls } = counted();
    const memory = new Memory({ store, embedder: hashEmbedder(), logger: false, accessStatistics: { flushIntervalMs: 3_600_000 } });
    const { memory: stored } = await memory.add({ content: 'flushed on close' });
    await memory.search('flushed on close');
    await memory.search('flushed on close');
    expect(calls).toHaveLength(0);
    await memory.close();
    expect(calls).toHaveLength(1);
    expect((await store.get([stored.id]))[0]?.accessCount).toBe(2);
  });

  it('writes them before consolidation reads them, and right after each search with flushIntervalMs 0', async () => {
    const { store, calls } = counted();
    const memory = new Memory({ store, embedder: hashEmbedder(), logger: false, accessStatistics: { flushIntervalMs: 3_600_000 } });
    await memory.add({ content: 'consolidation sees access' });
    await memory.search('consolidation sees access');
    await memory.consolidate({ steps: ['relevance'] });
    expect(calls).toHaveLength(1);
    await memory.close();

    const immediate = counted();
    const eager = new Memory({ store: immediate.store, embedder: hashEmbedder(), logger: false, accessStatistics: { flushIntervalMs: 0 } });
    await eager.add({ content: 'written at once' });
    await eager.search('written at once');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(immediate.calls).toHaveLength(1);
    await eager.close();
  });

  it('refuses a bad interval, naming the option', () => {
    for (const flushIntervalMs of [-1, 1.5, Number.NaN, 7_200_000]) {
      expect(
        () => new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false, accessStatistics: { flushIntervalMs } }),
      ).toThrow(/accessStatistics\.flushIntervalMs/);
    }
  });
});
