import type { MemoryStore } from '../contracts/memory-store.js';

/** Where an erasure came from: this store's own `forget`/retention, or another side of sync. */
export type ErasureOrigin = 'local' | 'sync';

export interface ErasureLogEntry {
  /** The entry's number in this store's erasure log (1, 2, …). */
  seq: number;
  ids: string[];
  origin: ErasureOrigin;
}

type Meta = Required<Pick<MemoryStore, 'getMeta' | 'setMeta'>>;

/** Ids per entry: a `forget` of 100,000 ids is 100 entries. */
export const ERASURE_ENTRY_IDS = 1000;

const HEAD = 'sync:erasure:head';
const entryName = (seq: number) => `sync:erasure:${seq}`;

/**
 * The erasure log sync keeps beside the store's change log: `purge` removes a memory's change-log
 * entries with it, so an erasure leaves no trace there to push or to pull. Each `forget` (and each
 * retention purge) of a store that syncs — a replica, or a store that has served replicas — appends
 * the erased ids here before the bytes go. Ids only: nothing else about an erased memory is kept.
 * A replica pushes its 'local' entries after its erasure push mark; a server serves every entry
 * after a replica's erasure cursor; and both refuse to bring back a memory whose id is here
 * (the tombstones). Kept in the store's meta values (`getMeta`/`setMeta`).
 */
export class ErasureLog {
  private loaded = 0;
  private readonly erased = new Set<string>();
  private appending: Promise<unknown> = Promise.resolve();

  constructor(private readonly meta: () => Meta) {}

  async head(): Promise<number> {
    return Number((await this.meta().getMeta(HEAD)) ?? 0);
  }

  /** Appends `ids` (in entries of at most 1000 ids); appends of this process run one at a time. */
  append(ids: string[], origin: ErasureOrigin): Promise<void> {
    const next = this.appending.then(async () => {
      const meta = this.meta();
      for (let start = 0; start < ids.length; start += ERASURE_ENTRY_IDS) {
        const seq = (await this.head()) + 1;
        await meta.setMeta(entryName(seq), JSON.stringify({ ids: ids.slice(start, start + ERASURE_ENTRY_IDS), origin }));
        await meta.setMeta(HEAD, String(seq));
      }
    });
    this.appending = next.catch(() => {});
    return next;
  }

  /** Entries after `after`, oldest first, until about `maxIds` ids (at least one entry when any). */
  async after(after: number, maxIds: number): Promise<{ entries: ErasureLogEntry[]; head: number }> {
    const head = await this.head();
    const entries: ErasureLogEntry[] = [];
    let count = 0;
    for (let seq = after + 1; seq <= head && (entries.length === 0 || count < maxIds); seq++) {
      const entry = await this.read(seq);
      if (!entry) continue;
      entries.push(entry);
      count += entry.ids.length;
    }
    return { entries, head };
  }

  /** The ids among `ids` that this store's erasure log holds (erased here, or told to erase). */
  async tombstoned(ids: Iterable<string>): Promise<Set<string>> {
    const head = await this.head();
    for (let seq = this.loaded + 1; seq <= head; seq++) {
      const entry = await this.read(seq);
      for (const id of entry?.ids ?? []) this.erased.add(id);
    }
    this.loaded = Math.max(this.loaded, head);
    const found = new Set<string>();
    for (const id of ids) if (this.erased.has(id)) found.add(id);
    return found;
  }

  private async read(seq: number): Promise<ErasureLogEntry | null> {
    const text = await this.meta().getMeta(entryName(seq));
    if (text === null) return null;
    const parsed = JSON.parse(text) as { ids: string[]; origin: ErasureOrigin };
    return { seq, ids: parsed.ids, origin: parsed.origin };
  }
}
