import { afterEach, describe, expect, it, vi } from 'vitest';
import { hashEmbedder } from '../embedding/hash-embedder.js';
import { EventHub } from '../events/event-hub.js';
import { Memory } from '../memory.js';
import { inMemoryStore } from '../stores/in-memory-store.js';
import { makeRecord } from '../testing/records.js';
import { ACCESS_IDLE_MS, ACCESS_MAX_DELAY_INTERVALS, ACCESS_WRITE_CHUNK, AccessRecorder } from './access-recorder.js';

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
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
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

  it('writes after the interval only once searching pauses: none in flight, none finished for ACCESS_IDLE_MS', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { store, calls } = counted();
    const recorder = new AccessRecorder(store, new EventHub(false), () => Date.UTC(2026, 0, 1), { flushIntervalMs: 100 });
    const record = makeRecord({ content: 'paused access' });
    const { id } = record;
    await store.write([{ record }]);
    recorder.record([id]);
    await vi.advanceTimersByTimeAsync(90);
    const ended = recorder.searchStarted();
    await vi.advanceTimersByTimeAsync(300);
    expect(calls).toHaveLength(0);
    ended();
    await vi.advanceTimersByTimeAsync(ACCESS_IDLE_MS - 10);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(ACCESS_IDLE_MS);
    expect(calls).toHaveLength(1);
    expect((await store.get([id]))[0]?.accessCount).toBe(1);
  });

  it('writes anyway when searching never pauses, ACCESS_MAX_DELAY_INTERVALS intervals after the oldest count', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { store, calls } = counted();
    const recorder = new AccessRecorder(store, new EventHub(false), () => Date.UTC(2026, 0, 1), { flushIntervalMs: 100 });
    const record = makeRecord({ content: 'busy access' });
    const { id } = record;
    await store.write([{ record }]);
    recorder.searchStarted();
    recorder.record([id]);
    await vi.advanceTimersByTimeAsync(100 * ACCESS_MAX_DELAY_INTERVALS - 20);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(20 + ACCESS_IDLE_MS);
    expect(calls).toHaveLength(1);
  });

  it('does not write while a Memory search is in flight', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { store, calls } = counted();
    const memory = new Memory({ store, embedder: hashEmbedder(), logger: false, accessStatistics: { flushIntervalMs: 100 } });
    await memory.add({ content: 'a slow search holds the access write' });
    await memory.search('slow search');
    // The next search's lexical stage waits until released, as a cold SQLite index load does.
    let release: () => void = () => undefined;
    const lexicalSearch = store.lexicalSearch?.bind(store);
    store.lexicalSearch = async (...args) => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return (lexicalSearch as NonNullable<typeof lexicalSearch>)(...args);
    };
    const slow = memory.search('slow search');
    await vi.advanceTimersByTimeAsync(500);
    expect(calls).toHaveLength(0);
    release();
    await slow;
    await vi.advanceTimersByTimeAsync(ACCESS_IDLE_MS + 10);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.ids).toHaveLength(2);
    await memory.close();
  });

  it('refuses a bad interval, naming the option', () => {
    for (const flushIntervalMs of [-1, 1.5, Number.NaN, 7_200_000]) {
      expect(
        () => new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false, accessStatistics: { flushIntervalMs } }),
      ).toThrow(/accessStatistics\.flushIntervalMs/);
    }
  });

  it('writes a large batch a chunk at a time, freeing the event loop between chunks, while reads still see every count', async () => {
    const { store, calls } = counted();
    const memory = new Memory({ store, embedder: hashEmbedder(), logger: false });
    const added = await memory.addMany(
      Array.from({ length: ACCESS_WRITE_CHUNK * 2 + 10 }, (_, index) => ({ content: `chunked access ${index}` })),
    );
    const ids = added.map((result) => result.memory.id);
    const recorder = new AccessRecorder(store, new EventHub(false), () => Date.UTC(2026, 0, 1), { flushIntervalMs: 3_600_000 });
    recorder.record(ids);
    recorder.record(ids.slice(0, 5));
    const last = ids.at(-1) as string;
    const [before] = await store.get([last]);
    let writesBeforeOtherWork: number | undefined;
    // Between the first chunk's write and the last one, a read still counts the last memory's access.
    let seenMidway: number | undefined;
    const original = store.recordAccess;
    store.recordAccess = async (batch, at) => {
      if (calls.length === 1) {
        // Other work queued as the second chunk is written runs before the third one.
        setImmediate(() => {
          writesBeforeOtherWork = calls.length;
        });
        seenMidway = recorder.overlay((await store.get([last]))[0] as NonNullable<typeof before>).accessCount;
      }
      return original(batch, at);
    };
    await recorder.flush();
    expect(calls.map((call) => new Set(call.ids).size)).toEqual([ACCESS_WRITE_CHUNK, ACCESS_WRITE_CHUNK, 10]);
    expect(calls.reduce((sum, call) => sum + call.ids.length, 0)).toBe(ids.length + 5);
    const written = calls.flatMap((call) => [...new Set(call.ids)]);
    expect(written).toEqual([...ids].sort());
    expect(seenMidway).toBe((before?.accessCount ?? 0) + 1);
    expect(writesBeforeOtherWork).toBe(2);
    expect((await store.get([last]))[0]?.accessCount).toBe((before?.accessCount ?? 0) + 1);
    expect(recorder.pendingCount).toBe(0);
    await memory.close();
  });
});
