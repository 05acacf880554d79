import { AdapterError, EngramError } from '@engram/core';

/** Attempts after the first when SQLite still reports the file busy once `busy_timeout` ran out. */
const busyRetries = 4;
const firstBackoffMs = 25;

/**
 * Runs one store operation, retrying while SQLite reports SQLITE_BUSY / SQLITE_LOCKED.
 *
 * `busy_timeout` already makes SQLite wait for a lock inside the driver, and every write takes
 * its lock up front (BEGIN IMMEDIATE), so a busy error means another process held the lock
 * longer than the timeout (a long import, a checkpoint). Waiting a little and retrying the whole
 * transaction keeps "database is locked" away from callers under normal contention. Driver
 * errors that remain are wrapped in `AdapterError('sqlite', operation, cause)`; Engram errors
 * pass through unchanged.
 */
export async function withRetry<T>(operation: string, run: () => T | Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (EngramError.isInstance(error)) throw error;
      if (isBusyError(error) && attempt < busyRetries) {
        await sleep(firstBackoffMs * 2 ** attempt * (0.5 + Math.random()));
        continue;
      }
      throw adapterError(operation, error);
    }
  }
}

export function adapterError(operation: string, error: unknown): AdapterError {
  const hint = isBusyError(error) ? 'Another process held the database lock for too long; retry, or raise busyTimeoutMs' : undefined;
  return new AdapterError('sqlite', operation, error, hint);
}

export function isBusyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
