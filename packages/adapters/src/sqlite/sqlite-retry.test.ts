import { AdapterError, ValidationError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { isBusyError, withRetry } from './sqlite-retry.js';

const busy = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });

describe('withRetry', () => {
  it('retries busy errors, then succeeds', async () => {
    let calls = 0;
    const result = await withRetry('write', () => {
      calls += 1;
      if (calls < 3) throw busy();
      return 'done';
    });
    expect(result).toBe('done');
    expect(calls).toBe(3);
  });

  it('gives up after a few attempts with an actionable AdapterError', async () => {
    let calls = 0;
    const error = await withRetry('write', () => {
      calls += 1;
      throw busy();
    }).catch((caught: unknown) => caught);
    expect(calls).toBe(5);
    expect(AdapterError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ adapter: 'sqlite', operation: 'write' });
    expect((error as Error).message).toMatch(/database is locked.*busyTimeoutMs/);
  });

  it('does not retry other errors, and lets Engram errors through unwrapped', async () => {
    let calls = 0;
    await expect(
      withRetry('get', () => {
        calls += 1;
        throw Object.assign(new Error('no such table: memories'), { code: 'SQLITE_ERROR' });
      }),
    ).rejects.toSatisfy(AdapterError.isInstance);
    expect(calls).toBe(1);
    const validation = new ValidationError([{ field: 'x', message: 'bad' }]);
    await expect(withRetry('get', () => Promise.reject(validation))).rejects.toBe(validation);
  });

  it('recognises every busy and locked code', () => {
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_LOCKED', 'SQLITE_LOCKED_SHAREDCACHE']) {
      expect(isBusyError({ code })).toBe(true);
    }
    expect(isBusyError({ code: 'SQLITE_CONSTRAINT' })).toBe(false);
    expect(isBusyError(null)).toBe(false);
  });
});
