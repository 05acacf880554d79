import type { MemoryStore, StoreStatistics, StoreStatisticsOptions } from '../contracts/memory-store.js';
import type { MemoryFilter } from '../contracts/model.js';

const DAY_MS = 86_400_000;

/** Entries of `counts` as objects with `field`. */
function entries<Field extends string, Key>(counts: Map<Key, number>, field: Field): Array<Record<Field, Key> & { count: number }> {
  return [...counts].map(([key, count]) => ({ [field]: key, count }) as Record<Field, Key> & { count: number });
}

function increment<Key>(counts: Map<Key, number>, key: Key): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** The tags counted at least as often as the `limit`-th most frequent one (`StoreStatistics.tags`). */
export function frequentTags(counts: Array<{ tag: string; count: number }>, limit: number): Array<{ tag: string; count: number }> {
  if (counts.length <= limit) return counts;
  const threshold = counts.map((entry) => entry.count).sort((a, b) => b - a)[Math.max(limit, 1) - 1] as number;
  return counts.filter((entry) => entry.count >= threshold);
}

/**
 * `StoreStatistics` by reading every matching record, a page at a time, and the relations leaving
 * each page: what core does for a store without `statistics`, and the reference a store's
 * aggregate queries are tested against (store conformance).
 */
export async function scanStatistics(store: MemoryStore, filter: MemoryFilter, options: StoreStatisticsOptions): Promise<StoreStatistics> {
  const byType = new Map<string, number>();
  const bySubtype = new Map<string, number>();
  const byUser = new Map<string | null, number>();
  const byAgent = new Map<string | null, number>();
  const tags = new Map<string, number>();
  const perDay = new Map<string, { day: number; type: string; count: number }>();
  const since = options.createdSince.getTime();
  let total = 0;
  let superseded = 0;
  let relations = 0;
  let cursor: string | undefined;
  do {
    const page = await store.list(filter, { limit: 2000, ...(cursor !== undefined ? { cursor } : {}) });
    for (const record of page.items) {
      total += 1;
      if (record.supersededBy !== null) superseded += 1;
      increment(byType, record.type);
      if (record.subtype) increment(bySubtype, record.subtype);
      increment(byUser, record.scope.userId ?? null);
      increment(byAgent, record.scope.agentId ?? null);
      for (const tag of record.tags) increment(tags, tag);
      const created = record.createdAt.getTime();
      if (created >= since) {
        const day = Math.floor(created / DAY_MS);
        const key = `${day}\u0000${record.type}`;
        const slot = perDay.get(key) ?? { day, type: record.type, count: 0 };
        slot.count += 1;
        perDay.set(key, slot);
      }
    }
    // Each edge once, from its source.
    const ids = new Set(page.items.map((record) => record.id));
    if (ids.size > 0)
      relations += (await store.relationsOf([...ids], { direction: 'out' })).filter((edge) => ids.has(edge.sourceId)).length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return {
    total,
    superseded,
    byType: entries(byType, 'type'),
    bySubtype: entries(bySubtype, 'subtype'),
    byUser: entries(byUser, 'userId'),
    byAgent: entries(byAgent, 'agentId'),
    tags: frequentTags(entries(tags, 'tag'), options.tagLimit),
    createdPerDay: [...perDay.values()],
    relations,
  };
}
