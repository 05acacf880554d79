import type { ErasureLogEntry, ErasureOrigin, MemoryStore } from '../contracts/memory-store.js';
import { EngramError } from '../model/errors.js';

export type { ErasureLogEntry, ErasureOrigin };

type LogStore = Required<Pick<MemoryStore, 'appendErasures' | 'erasuresAfter' | 'compactErasures'>>;

/** Ids per entry: a `forget` of 100,000 ids is 100 entries. */
export const ERASURE_ENTRY_IDS = 1000;

/** Ids of the newest erasure-log entries a process keeps in memory to answer `tombstoned`. */
export const TOMBSTONE_CACHE_IDS = 100_000;

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
  /** The newest entry read into the cache. */
  private loaded = 0;
  /** Entries numbered up to this one are not in the cache (dropped for room, or compacted away). */
  private uncachedThrough = 0;
  /** The cached entries, oldest first, and how many cached entries hold each id. */
  private readonly cached: Array<{ seq: number; ids: string[] }> = [];
  private readonly erased = new Map<string, number>();
  private cachedIdCount = 0;

  /**
   * @param cacheIds How many ids of the newest entries `tombstoned` keeps in memory (the log in
   *   the store is the truth; an id older than those is looked up there). Default 100,000.
   */
  constructor(
    private readonly store: () => LogStore,
    private readonly cacheIds = TOMBSTONE_CACHE_IDS,
  ) {}

  /** How many ids the tombstone cache holds now (bounded by `cacheIds` but for the newest entry). */
  get cachedIds(): number {
    return this.cachedIdCount;
  }

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

  /**
   * The ids among `ids` that this store's erasure log holds (erased here, or told to erase). The
   * newest entries' ids are cached (at most `cacheIds`, and never an entry the store compacted
   * away, whichever process compacted it); ids not among them are looked up in the store's older
   * entries, when it keeps entries older than the cache.
   */
  async tombstoned(ids: Iterable<string>): Promise<Set<string>> {
    const store = this.store();
    let horizon = 0;
    for (;;) {
      const page = await store.erasuresAfter(this.loaded, PAGE_ENTRIES);
      horizon = page.horizon;
      for (const entry of page.entries) {
        this.cache(entry);
        this.loaded = entry.seq;
      }
      this.forgetThrough(horizon);
      while (this.cachedIdCount > this.cacheIds && this.cached.length > 1) this.forgetThrough((this.cached[0] as { seq: number }).seq);
      if (page.entries.length < PAGE_ENTRIES) break;
    }

    const found = new Set<string>();
    const missing = new Set<string>();
    for (const id of ids) {
      if (this.erased.has(id)) found.add(id);
      else missing.add(id);
    }
    // Entries the cache let go of that the store still keeps: read them for the ids not found.
    let position = horizon;
    while (missing.size > 0 && position < this.uncachedThrough) {
      const page = await store.erasuresAfter(position, PAGE_ENTRIES);
      for (const entry of page.entries) {
        if (entry.seq > this.uncachedThrough) break;
        for (const id of entry.ids) {
          if (missing.delete(id)) found.add(id);
        }
      }
      const last = page.entries.at(-1);
      if (last === undefined || page.entries.length < PAGE_ENTRIES) break;
      position = last.seq;
    }
    return found;
  }

  private cache(entry: { seq: number; ids: string[] }): void {
    this.cached.push({ seq: entry.seq, ids: entry.ids });
    for (const id of entry.ids) this.erased.set(id, (this.erased.get(id) ?? 0) + 1);
    this.cachedIdCount += entry.ids.length;
  }

  /** Drops the cached entries numbered up to `through`. */
  private forgetThrough(through: number): void {
    while (this.cached.length > 0 && (this.cached[0] as { seq: number }).seq <= through) {
      const entry = this.cached.shift() as { seq: number; ids: string[] };
      for (const id of entry.ids) {
        const holders = (this.erased.get(id) ?? 1) - 1;
        if (holders === 0) this.erased.delete(id);
        else this.erased.set(id, holders);
      }
      this.cachedIdCount -= entry.ids.length;
    }
    if (through > this.uncachedThrough) this.uncachedThrough = through;
  }

  /** Removes the entries numbered up to `through` appended before `before`; answers how many. */
  compact(through: number, before: Date): Promise<number> {
    return this.store().compactErasures(through, before);
  }
}
