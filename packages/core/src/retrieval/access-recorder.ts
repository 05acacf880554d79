import type { MemoryStore } from '../contracts/memory-store.js';
import type { EventHub } from '../events/event-hub.js';

/**
 * Access statistics (count, last accessed) of the memories search returns: queued, then written
 * together shortly after in one `store.recordAccess`, off the search path. A failure is a warning.
 */
export class AccessRecorder {
  private pending: string[] = [];
  private flushing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly store: MemoryStore,
    private readonly events: EventHub,
    private readonly now: () => number,
  ) {}

  record(ids: string[]): void {
    if (ids.length === 0) return;
    this.pending.push(...ids);
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.write());
  }

  /** Waits for queued statistics to be written (reads call it so they see current counts). */
  async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
  }

  /** Drops what is queued from now on: the store is closing. */
  stop(): void {
    this.stopped = true;
  }

  private async write(): Promise<void> {
    const ids = this.pending;
    this.pending = [];
    this.flushing = undefined;
    if (ids.length === 0 || this.stopped) return;
    try {
      await this.store.recordAccess(ids, new Date(this.now()));
    } catch (error) {
      this.events.warn(`could not record access statistics: ${(error as Error).message}`);
    }
  }
}
