import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashEmbedder, type MemoryRecord, type MemoryStore } from '@engram/core';
import { makeRecord } from '@engram/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { type SqliteCloseStep, sqliteStore } from './sqlite-store.js';

const root = mkdtempSync(join(tmpdir(), 'engram-sqlite-close-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const dimensions = 16;
const embedder = hashEmbedder({ dimensions });

async function openStore(path: string, steps: SqliteCloseStep[]): Promise<MemoryStore> {
  const store = sqliteStore({ path, onClose: (step) => steps.push(step) });
  await store.open();
  await store.vectors?.open(dimensions);
  return store;
}

async function writeMany(store: MemoryStore, from: number, count: number): Promise<void> {
  for (let start = from; start < from + count; start += 1000) {
    const records: MemoryRecord[] = [];
    for (let index = start; index < Math.min(start + 1000, from + count); index++)
      records.push(makeRecord({ content: `bulk memory number ${index} about topic ${index % 97}` }));
    const vectors = (await embedder.embed(records.map((record) => record.content))) as Float32Array[];
    await store.write(records.map((record, position) => ({ record, vector: vectors[position] })));
  }
}

describe('SqliteStore.close after a bulk load', () => {
  it('tells onClose of each step it takes (catch-up, then both snapshots), and of none when nothing is due', async () => {
    const path = join(root, 'bulk.db');
    const steps: SqliteCloseStep[] = [];
    const loader = await openStore(path, steps);
    // 10,000 start the indexes following the writes; 40 more are fewer than a step waits for.
    await writeMany(loader, 0, 10_040);
    expect(steps).toEqual([]);
    await loader.close();
    expect(steps.map(({ step, done, memories }) => ({ step, done, memories }))).toEqual([
      { step: 'catch-up', done: false, memories: 40 },
      { step: 'catch-up', done: true, memories: 40 },
      { step: 'lexical-snapshot', done: false, memories: 10_040 },
      { step: 'lexical-snapshot', done: true, memories: 10_040 },
      { step: 'vector-snapshot', done: false, memories: 10_040 },
      { step: 'vector-snapshot', done: true, memories: 10_040 },
    ]);
    for (const step of steps.filter((entry) => entry.done)) expect(step.ms).toBeGreaterThanOrEqual(0);
    expect(existsSync(`${path}-lexical.snapshot`)).toBe(true);
    expect(existsSync(`${path}-vectors.snapshot`)).toBe(true);

    // A few more writes: close has nothing to report (no catch-up while not following, no snapshot due).
    steps.length = 0;
    const writer = await openStore(path, steps);
    await writeMany(writer, 10_040, 20);
    await writer.close();
    expect(steps).toEqual([]);
  });
});
