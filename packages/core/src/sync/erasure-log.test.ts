import { describe, expect, it } from 'vitest';
import { inMemoryStore } from '../stores/in-memory-store.js';
import { ErasureLog, erasureLogStore } from './erasure-log.js';

const ids = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}-${index}`);

describe('ErasureLog.tombstoned (the erased ids it keeps in memory are a cache of the store log)', () => {
  it('keeps at most the newest entries’ ids in memory, and still finds older ids in the store', async () => {
    const store = inMemoryStore();
    const log = new ErasureLog(() => erasureLogStore(store), 2500);
    const at = new Date('2026-01-01T00:00:00Z');
    for (const batch of ['a', 'b', 'c', 'd', 'e']) await log.append(ids(batch, 1000), 'local', at);
    const asked = ['a-0', 'b-999', 'c-500', 'e-1', 'never-erased'];
    expect([...(await log.tombstoned(asked))].sort()).toEqual(['a-0', 'b-999', 'c-500', 'e-1']);
    expect(log.cachedIds).toBeLessThanOrEqual(2500);
    // More erasures later: the cache moves to the newest, and older ids are still tombstones.
    for (const batch of ['f', 'g']) await log.append(ids(batch, 1000), 'local', at);
    expect([...(await log.tombstoned(['a-1', 'd-2', 'g-3', 'nope']))].sort()).toEqual(['a-1', 'd-2', 'g-3']);
    expect(log.cachedIds).toBeLessThanOrEqual(2500);
  });

  it('forgets what the store compacted away, whichever log instance compacted it', async () => {
    const store = inMemoryStore();
    const reader = new ErasureLog(() => erasureLogStore(store));
    const compactor = new ErasureLog(() => erasureLogStore(store));
    await reader.append(['old-1', 'old-2'], 'local', new Date('2026-01-01T00:00:00Z'));
    await reader.append(['new-1'], 'local', new Date('2026-03-01T00:00:00Z'));
    expect([...(await reader.tombstoned(['old-1', 'new-1']))].sort()).toEqual(['new-1', 'old-1']);
    expect(await compactor.compact(Number.MAX_SAFE_INTEGER, new Date('2026-02-01T00:00:00Z'))).toBe(1);
    expect([...(await reader.tombstoned(['old-1', 'old-2', 'new-1']))]).toEqual(['new-1']);
    expect(reader.cachedIds).toBe(1);
  });

  it('an id in several entries stays a tombstone until the last of them leaves the cache', async () => {
    const store = inMemoryStore();
    const log = new ErasureLog(() => erasureLogStore(store), 2);
    const at = new Date('2026-01-01T00:00:00Z');
    await log.append(['x', 'y'], 'local', at);
    await log.append(['x'], 'sync', at);
    await log.append(['z'], 'local', at);
    expect([...(await log.tombstoned(['x', 'y', 'z']))].sort()).toEqual(['x', 'y', 'z']);
    expect(log.cachedIds).toBeLessThanOrEqual(2);
  });
});
