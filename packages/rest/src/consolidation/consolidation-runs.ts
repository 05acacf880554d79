import type { Memory } from '@engram/core';
import { HttpError } from '../errors.js';

const running = new WeakMap<Memory, Promise<unknown>>();

/**
 * Runs an applying consolidation of one tenant's memory, refusing (409) while another runs in
 * this process: two runs at once would archive the same faded memories twice and race to write
 * the same patterns. Dry runs write nothing and need no turn.
 */
export async function runExclusively<Result>(memory: Memory, run: () => Promise<Result>): Promise<Result> {
  if (running.has(memory)) {
    throw new HttpError(409, 'CONFLICT', 'A consolidation of this tenant is already running; try again when it has finished');
  }
  const pending = run();
  running.set(memory, pending);
  try {
    return await pending;
  } finally {
    running.delete(memory);
  }
}

/** Whether an applying consolidation of this memory is running in this process. */
export function isConsolidating(memory: Memory): boolean {
  return running.has(memory);
}
