import type { Memory } from '@engram/core';

/** A ready `Memory`, or a function that builds one on first use. */
export type MemorySource = Memory | (() => Promise<Memory>);

/** Shares one `Memory` between tool calls, built on first use; a failed build is retried on the next call. */
export class LazyMemory {
  private pending: Promise<Memory> | undefined;
  private current: Memory | undefined;

  constructor(private readonly source: MemorySource) {
    if (typeof source !== 'function') this.current = source;
  }

  get(): Promise<Memory> {
    if (this.current) return Promise.resolve(this.current);
    this.pending ??= (this.source as () => Promise<Memory>)().then(
      (memory) => {
        this.current = memory;
        return memory;
      },
      (error: unknown) => {
        this.pending = undefined;
        throw error;
      },
    );
    return this.pending;
  }

  /** The memory when it has been built, without building it. */
  peek(): Memory | undefined {
    return this.current;
  }

  /** Closes the memory this object built; a `Memory` passed in belongs to the caller and stays open. */
  async close(): Promise<void> {
    if (typeof this.source !== 'function') return;
    const memory = this.current ?? (await this.pending?.catch(() => undefined));
    await memory?.close();
  }
}
