import type { MemoryStore } from '../contracts/memory-store.js';
import type { MemoryRecord } from '../contracts/model.js';
import type { EventHub } from '../events/event-hub.js';

/** How access statistics reach the store. */
export interface AccessStatisticsOptions {
  /**
   * Milliseconds searches' access statistics are gathered before one write stores them all
   * (counts of one memory added together), made at the next pause in searching (ACCESS_IDLE_MS,
   * at most ACCESS_MAX_DELAY_INTERVALS intervals later). Default 1,000. `0` writes them right after each search,
   * as soon as the event loop is free. `close()` always writes what is pending.
   */
  flushIntervalMs?: number;
}

export const DEFAULT_ACCESS_FLUSH_MS = 1000;

/**
 * Once the interval is up, the write waits for a pause in searching: no search in flight and
 * none finished in the last `ACCESS_IDLE_MS`. SQLite writes on the event loop (better-sqlite3 is
 * synchronous), and at 1M memories a flush held it ~18 ms, which a search in flight, or the next
 * one, waited out.
 */
export const ACCESS_IDLE_MS = 50;

/**
 * A process that never pauses (a busy server) still writes: at the latest this many intervals
 * after the oldest pending count was taken (10 s by default), in chunks (see ACCESS_WRITE_CHUNK).
 */
export const ACCESS_MAX_DELAY_INTERVALS = 10;

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
  /** Searches started and not finished, and when the last one finished (performance.now()). */
  private searching = 0;
  private lastSearchEnded = Number.NEGATIVE_INFINITY;
  /** When the oldest pending count was taken (performance.now()). */
  private pendingSince = 0;
  readonly flushIntervalMs: number;

  constructor(
    private readonly store: MemoryStore,
    private readonly events: EventHub,
    private readonly now: () => number,
    options: AccessStatisticsOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_ACCESS_FLUSH_MS;
  }

  /** A search began; call the answer when it ends (resolved or failed). The write waits for a pause. */
  searchStarted(): () => void {
    this.searching += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.searching -= 1;
      this.lastSearchEnded = performance.now();
    };
  }

  record(ids: string[]): void {
    if (ids.length === 0 || this.stopped) return;
    if (this.pending.size === 0) this.pendingSince = performance.now();
    for (const id of ids) this.pending.set(id, (this.pending.get(id) ?? 0) + 1);
    this.latest = this.now();
    if (this.timer !== undefined) return;
    if (this.flushIntervalMs === 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, 0);
    } else {
      this.schedule(this.flushIntervalMs);
    }
  }

  /** Writes after `delay`, or later while searches keep coming (up to ACCESS_MAX_DELAY_INTERVALS). */
  private schedule(delay: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const now = performance.now();
      const busy = this.searching > 0 || now - this.lastSearchEnded < ACCESS_IDLE_MS;
      if (busy && now - this.pendingSince < this.flushIntervalMs * ACCESS_MAX_DELAY_INTERVALS) this.schedule(ACCESS_IDLE_MS);
      else void this.flush();
    }, delay);
    // A pending write never keeps a process alive; close() writes what is left.
    this.timer.unref();
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
