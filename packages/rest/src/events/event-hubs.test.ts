import { type ChangeLogPage, type HistoryEntry, hashEmbedder, inMemoryStore, Memory, type MemoryStore } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { type StreamEvent, TenantEventHub } from './event-hubs.js';

/**
 * A change log whose entries arrive out of order, as on Postgres when two transactions commit in
 * the opposite order of their sequence numbers: the hub must still announce every entry, once.
 */
describe('TenantEventHub over a change log', () => {
  it('announces an entry that commits after a higher one, exactly once', async () => {
    const store = inMemoryStore() as MemoryStore & { changesSince?: MemoryStore['changesSince'] };
    const committed: Array<HistoryEntry & { seq: number }> = [];
    store.changesSince = async (after: number | null, limit: number): Promise<ChangeLogPage> => {
      const visible = [...committed].sort((a, b) => a.seq - b.seq);
      const head = visible.at(-1)?.seq ?? 0;
      if (after === null) return { head, entries: [] };
      return { head, entries: visible.filter((entry) => entry.seq > after).slice(0, limit) };
    };
    const memory = new Memory({ store, embedder: hashEmbedder(), logger: false });
    const hub = new TenantEventHub(memory, { pollMs: 10_000 });
    const received: StreamEvent[] = [];
    const unsubscribe = await hub.subscribe((event) => received.push(event));
    const entry = (seq: number, memoryId: string): HistoryEntry & { seq: number } => ({
      seq,
      memoryId,
      event: 'created',
      at: new Date(),
      changes: {},
      reason: null,
    });
    committed.push(entry(1, 'a'));
    committed.push(entry(3, 'c')); // 2 is still in flight
    await hub.flush();
    expect(received.map((event) => event.id)).toEqual(['1', '3']);
    committed.push(entry(2, 'b')); // commits late
    committed.push(entry(4, 'd'));
    await hub.flush();
    await hub.flush();
    expect(received.map((event) => event.id)).toEqual(['1', '3', '2', '4']);
    expect(received.map((event) => event.data.id)).toEqual(['a', 'c', 'b', 'd']);
    unsubscribe();
    hub.close();
    await memory.close();
  });
});
