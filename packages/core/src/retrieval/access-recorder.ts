import type { MemoryStore } from '../contracts/memory-store.js';
import type { MemoryRecord } from '../contracts/model.js';
import type { EventHub } from '../events/event-hub.js';

/** How access statistics reach the store. */
export interface AccessStatisticsOptions {
  /**
   * Milliseconds searches' access statistics are gathered before one write stores them all
   * (counts of one memory added together). Default 1,000. `0` writes them right after each search,
   * as soon as the event loop is free. `close()` always writes what is pending.
   */
  flushIntervalMs?: number;
}

export const DEFAULT_ACCESS_FLUSH_MS = 1000;

/**
 * Distinct memories one write stores. A server doing hundreds of searches a second gathers
 * thousands a second, and one statement for all of them held SQLite (and the event loop, which
 * better-sqlite3 runs on) for 20–50 ms, which every request in flight waited out. A flush writes
 * its memories in id order (ids are time-ordered, like the rows), 256 at a time, with the event
 * loop free between chunks: each chunk touches its own run of pages, so the chunks together
 * cost no more than one statement did (measured on SQLite, 3,000 memories: 16–18 ms of CPU
 * against 18–22 in one statement, and 36 ms in unordered chunks of 1,024, which rewrite shared
 * pages). Below 256 a second nothing changes: one write.
 */
export const ACCESS_WRITE_CHUNK = 256;

const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

/**
 * Access statistics (count, last accessed) of the memories search returns. A search only counts
 * them in memory; one `store.recordAccess` per interval writes everything gathered since the last
 * (a memory found by 40 searches is one row updated by 40), so searches never wait on a write and
 * processes sharing a store do not take its write lock once per search. Reads in this process
 * add what is pending to the records they return, so they see current counts without a write.
 * `flush()` writes now (close, backup and consolidation call it). A failed write is a warning.
 */
export class AccessRecorder {
  private pending = new Map<string, number>();
  /** Counts taken out of `pending` by a flush whose write has not finished yet (reads still add them). */
  private writingCounts = new Map<string, number>();
  private latest = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private stopped = false;
  readonly flushIntervalMs: number;

  constructor(
    private readonly store: MemoryStore,
    private readonly events: EventHub,
    private readonly now: () => number,
    options: AccessStatisticsOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_ACCESS_FLUSH_MS;
  }

  record(ids: string[]): void {
    if (ids.length === 0 || this.stopped) return;
    for (const id of ids) this.pending.set(id, (this.pending.get(id) ?? 0) + 1);
    this.latest = this.now();
    if (this.timer !== undefined) return;
    const write = () => {
      this.timer = undefined;
      void this.flush();
    };
    if (this.flushIntervalMs === 0) {
      this.timer = setTimeout(write, 0);
    } else {
      this.timer = setTimeout(write, this.flushIntervalMs);
      // A pending write never keeps a process alive; close() writes what is left.
      this.timer.unref();
    }
  }

  /** How many searches' statistics wait to be written (ids counted with repeats). */
  get pendingCount(): number {
    let total = 0;
    for (const count of this.pending.values()) total += count;
    for (const count of this.writingCounts.values()) total += count;
    return total;
  }

  /** A record as it will be once pending statistics are written (the same object when none are). */
  overlay(record: MemoryRecord): MemoryRecord {
    const count = (this.pending.get(record.id) ?? 0) + (this.writingCounts.get(record.id) ?? 0);
    if (count === 0) return record;
    const at = new Date(this.latest);
    const lastAccessedAt = record.lastAccessedAt && record.lastAccessedAt > at ? record.lastAccessedAt : at;
    return { ...record, accessCount: record.accessCount + count, lastAccessedAt };
  }

  /** Writes pending statistics now, after any write already under way. */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // In id order: ids are time-ordered, so neighbouring ids are neighbouring rows (see ACCESS_WRITE_CHUNK).
    const batch = [...this.pending].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const at = new Date(this.latest);
    this.pending = new Map();
    for (const [id, count] of batch) this.writingCounts.set(id, (this.writingCounts.get(id) ?? 0) + count);
    this.writing = this.writing.then(() => (batch.length > 0 ? this.write(batch, at) : undefined));
    return this.writing;
  }

  /** Drops what is recorded from now on: the store is closing (call flush() first). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    this.writingCounts.clear();
  }

  /** Writes `ACCESS_WRITE_CHUNK` memories at a time; after a failed write, drops the rest (one warning). */
  private async write(batch: Array<[string, number]>, at: Date): Promise<void> {
    let failed = false;
    for (let start = 0; start < batch.length; start += ACCESS_WRITE_CHUNK) {
      const chunk = batch.slice(start, start + ACCESS_WRITE_CHUNK);
      if (!failed) {
        if (start > 0) await yieldToEventLoop();
        const ids: string[] = [];
        for (const [id, count] of chunk) for (let index = 0; index < count; index++) ids.push(id);
        try {
          await this.store.recordAccess(ids, at);
        } catch (error) {
          failed = true;
          this.events.warn(`could not record access statistics: ${(error as Error).message}`);
        }
      }
      for (const [id, count] of chunk) {
        const left = (this.writingCounts.get(id) ?? 0) - count;
        if (left > 0) this.writingCounts.set(id, left);
        else this.writingCounts.delete(id);
      }
    }
  }
}
