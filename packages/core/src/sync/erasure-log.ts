import type { ErasureLogEntry, ErasureOrigin, MemoryStore } from '../contracts/memory-store.js';
import { EngramError } from '../model/errors.js';

export type { ErasureLogEntry, ErasureOrigin };

type LogStore = Required<Pick<MemoryStore, 'appendErasures' | 'erasuresAfter' | 'compactErasures'>>;

/** Ids per entry: a `forget` of 100,000 ids is 100 entries. */
export const ERASURE_ENTRY_IDS = 1000;

/** Entries read per store call. */
const PAGE_ENTRIES = 100;

/** The erasure log's store methods, or a clear error naming what is missing. */
export function erasureLogStore(store: MemoryStore): LogStore {
  if (!store.appendErasures || !store.erasuresAfter || !store.compactErasures) {
    throw new EngramError(
      'UNSUPPORTED',
      `The ${store.name} store keeps no erasure log (appendErasures, erasuresAfter, compactErasures): sync needs SQLite, Postgres or the in-memory store.`,
    );
  }
  return store as LogStore;
}

/**
 * The erasure log sync keeps beside the store's change log: `purge` removes a memory's change-log
 * entries with it, so an erasure leaves no trace there to push or to pull. Each `forget` (and each
 * retention purge) of a store that syncs — a replica, or a store that has served replicas — appends
 * the erased ids here before the bytes go. Ids only: nothing else about an erased memory is kept.
 * A replica pushes its 'local' entries after its erasure push mark; a server serves every entry
 * after a replica's erasure cursor; and both refuse to bring back a memory whose id is here
 * (the tombstones). The store numbers the entries atomically (`appendErasures`), so processes
 * sharing a store never overwrite one another's entries; entries older than the retention are
 * compacted away (`compact`), and a replica whose cursor fell behind the horizon resyncs in full.
 */
export class ErasureLog {
  private loaded = 0;
  private readonly erased = new Set<string>();

  constructor(private readonly store: () => LogStore) {}

  /** Appends `ids` in entries of at most 1000 ids, in one store transaction. */
  async append(ids: string[], origin: ErasureOrigin, at: Date): Promise<void> {
    const entries: Array<{ ids: string[]; origin: ErasureOrigin }> = [];
    for (let start = 0; start < ids.length; start += ERASURE_ENTRY_IDS)
      entries.push({ ids: ids.slice(start, start + ERASURE_ENTRY_IDS), origin });
    if (entries.length > 0) await this.store().appendErasures(entries, at);
  }

  /**
   * Entries after `after`, oldest first, until about `maxIds` ids (at least one entry when any),
   * with the log's head and horizon (entries up to the horizon were compacted away).
   */
  async after(after: number, maxIds: number): Promise<{ entries: ErasureLogEntry[]; head: number; horizon: number }> {
    const store = this.store();
    const entries: ErasureLogEntry[] = [];
    let count = 0;
    let position = after;
    for (;;) {
      const page = await store.erasuresAfter(position, PAGE_ENTRIES);
      for (const entry of page.entries) {
        if (entries.length > 0 && count >= maxIds) return { entries, head: page.head, horizon: page.horizon };
        entries.push(entry);
        count += entry.ids.length;
        position = entry.seq;
      }
      if (page.entries.length < PAGE_ENTRIES || count >= maxIds) return { entries, head: page.head, horizon: page.horizon };
    }
  }

  /** The ids among `ids` that this store's erasure log holds (erased here, or told to erase). */
  async tombstoned(ids: Iterable<string>): Promise<Set<string>> {
    const store = this.store();
    for (;;) {
      const page = await store.erasuresAfter(this.loaded, PAGE_ENTRIES);
      for (const entry of page.entries) {
        for (const id of entry.ids) this.erased.add(id);
        this.loaded = entry.seq;
      }
      if (page.entries.length < PAGE_ENTRIES) break;
    }
    const found = new Set<string>();
    for (const id of ids) if (this.erased.has(id)) found.add(id);
    return found;
  }

  /** Removes the entries numbered up to `through` appended before `before`; answers how many. */
  compact(through: number, before: Date): Promise<number> {
    return this.store().compactErasures(through, before);
  }
}
