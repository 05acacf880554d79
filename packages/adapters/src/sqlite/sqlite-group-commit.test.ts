import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdapterError, ValidationError } from '@engram/core';
import { makeRecord, seededVector } from '@engram/core/testing';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SqliteSession } from './sqlite-session.js';
import { sqliteStore } from './sqlite-store.js';

const root = mkdtempSync(join(tmpdir(), 'engram-sqlite-group-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const tempPath = () => join(root, `group-${++counter}.db`);

async function vectorStore(path: string, options: { busyTimeoutMs?: number } = {}) {
  const store = sqliteStore({ path, ...options });
  await store.open();
  await store.setEmbedder({ id: 'hash-v1-16', dimensions: 16 });
  await store.vectors?.open(16);
  return store;
}

describe('SQLite group commit: writes called in one turn of the event loop share a transaction', () => {
  it('writes concurrent calls in one transaction, each with its own results, in call order', async () => {
    const store = await vectorStore(tempPath());
    const transactions = vi.spyOn(SqliteSession.prototype, 'write');
    try {
      const calls = Array.from({ length: 8 }, (_, index) =>
        store.write([
          { record: makeRecord({ content: `concurrent note ${index} a` }), vector: seededVector(index, 16) },
          { record: makeRecord({ content: `concurrent note ${index} b` }) },
        ]),
      );
      // Two calls on one key: the second sees the first, as if written after it.
      const first = store.write([{ record: makeRecord({ content: 'keyed first', key: 'k' }) }]);
      const second = store.write([{ record: makeRecord({ content: 'keyed second', key: 'k' }) }]);
      const results = await Promise.all(calls);
      expect(transactions).toHaveBeenCalledTimes(1);
      results.forEach((result, index) => {
        expect(result.map((item) => [item.status, item.record.content])).toEqual([
          ['created', `concurrent note ${index} a`],
          ['created', `concurrent note ${index} b`],
        ]);
      });
      expect((await first)[0]?.status).toBe('created');
      const upsert = (await second)[0];
      expect(upsert?.status).toBe('updated');
      expect(upsert?.record.content).toBe('keyed second');
      expect(await store.count({})).toBe(17);

      // A call awaited on its own is a transaction of its own, as before.
      transactions.mockClear();
      await store.write([{ record: makeRecord({ content: 'alone' }) }]);
      await store.write([{ record: makeRecord({ content: 'alone again' }) }]);
      expect(transactions).toHaveBeenCalledTimes(2);
    } finally {
      transactions.mockRestore();
      await store.close();
    }
  });

  it('fails only the call that caused an error; the others of its group are written', async () => {
    const store = await vectorStore(tempPath());
    const good = store.write([{ record: makeRecord({ content: 'good before' }), vector: seededVector(1, 16) }]);
    const bad = store.write([
      { record: makeRecord({ content: 'bad neighbour' }) },
      { record: makeRecord({ content: 'wrong vector' }), vector: seededVector(2, 8) },
    ]);
    const after = store.write([{ record: makeRecord({ content: 'good after' }) }]);
    await expect(bad).rejects.toBeInstanceOf(ValidationError);
    expect((await good)[0]?.status).toBe('created');
    expect((await after)[0]?.status).toBe('created');
    // Nothing of the failed call was written, not even its valid item.
    const contents = (await store.list({}, { limit: 10 })).items.map((record) => record.content).sort();
    expect(contents).toEqual(['good after', 'good before']);
    await store.close();
  });

  it('fails every call of a group at once when another connection holds the lock past the busy timeout', async () => {
    const path = tempPath();
    const store = await vectorStore(path, { busyTimeoutMs: 50 });
    await store.write([{ record: makeRecord({ content: 'before the lock' }) }]);
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const transactions = vi.spyOn(SqliteSession.prototype, 'write');
    try {
      const calls = [1, 2, 3].map((index) => store.write([{ record: makeRecord({ content: `locked out ${index}` }) }]));
      const settled = await Promise.allSettled(calls);
      for (const outcome of settled) {
        expect(outcome.status).toBe('rejected');
        expect(AdapterError.isInstance((outcome as PromiseRejectedResult).reason)).toBe(true);
        expect(String((outcome as PromiseRejectedResult).reason.message)).toMatch(/lock/);
      }
      // One group: its transaction was tried (with the adapter's retries), never once per call.
      const tried = transactions.mock.calls.length;
      expect(tried).toBeGreaterThan(0);
      expect(tried).toBeLessThanOrEqual(5);
    } finally {
      transactions.mockRestore();
      other.exec('ROLLBACK');
      other.close();
    }
    expect(await store.count({})).toBe(1);
    await store.close();
  });

  it('finishes writes already called before close closes the connection', async () => {
    const path = tempPath();
    const store = sqliteStore({ path });
    await store.open();
    const pending = store.write([{ record: makeRecord({ content: 'written before close' }) }]);
    await store.close();
    expect((await pending)[0]?.status).toBe('created');
    const reopened = sqliteStore({ path });
    expect(await reopened.count({})).toBe(1);
    await reopened.close();
  });
});
