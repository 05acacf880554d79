import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashEmbedder, type MemoryRecord, type MemoryStore } from '@engram/core';
import { makeRecord } from '@engram/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { type SqliteCloseStep, type SqliteFollowLimits, type SqliteFollowStep, sqliteStore } from './sqlite-store.js';

const root = mkdtempSync(join(tmpdir(), 'engram-sqlite-follow-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const dimensions = 16;
const embedder = hashEmbedder({ dimensions });

interface Opened {
  store: MemoryStore;
  steps: SqliteFollowStep[];
  closeSteps: SqliteCloseStep[];
}

/** A store whose writer catch-up limits are lowered (the defaults need 10,000 writes to start). */
async function openStore(path: string, follow?: SqliteFollowLimits): Promise<Opened> {
  const steps: SqliteFollowStep[] = [];
  const closeSteps: SqliteCloseStep[] = [];
  // `follow` and `onFollowStep` are not public options: passed as a variable, as a test would.
  const options = {
    path,
    follow,
    onFollowStep: (step: SqliteFollowStep) => steps.push(step),
    onClose: (step: SqliteCloseStep) => closeSteps.push(step),
  };
  const store = sqliteStore(options);
  await store.open();
  await store.vectors?.open(dimensions);
  return { store, steps, closeSteps };
}

function content(index: number): string {
  return `memory number ${index} about topic t${index % 37} and word w${index}`;
}

async function write(store: MemoryStore, from: number, count: number): Promise<void> {
  const records: MemoryRecord[] = [];
  for (let index = from; index < from + count; index++) records.push(makeRecord({ content: content(index) }));
  const vectors = (await embedder.embed(records.map((record) => record.content))) as Float32Array[];
  await store.write(records.map((record, position) => ({ record, vector: vectors[position] })));
}

/** What a search finds for memory `index`'s own words and vector: the memory itself first. */
async function findsItself(store: MemoryStore, index: number): Promise<boolean> {
  const lexical = (await store.lexicalSearch?.(`w${index}`, {}, 1)) ?? [];
  const [vector] = (await embedder.embed([content(index)])) as Float32Array[];
  const nearest = (await store.vectors?.search(vector as Float32Array, 1)) ?? [];
  return lexical.length === 1 && nearest.length === 1 && lexical[0]?.id === nearest[0]?.id;
}

describe("a writer's catch-up of its indexes", () => {
  it('re-indexes at most `entries` log entries a write, never reloading, and is current once it has caught up', async () => {
    const path = join(root, 'single.db');
    const limits = { after: 1_500, every: 100, entries: 64 };
    const { store, steps } = await openStore(path, limits);
    await write(store, 0, 400);
    // Both indexes loaded by searches, as in a server: what follows is a catch-up, not a build.
    expect(await findsItself(store, 7)).toBe(true);
    // A connection whose searches loaded the indexes follows its writes from the first one (its
    // next search would otherwise catch up with all of them at once), not from the 1,500th.
    await write(store, 400, 1);
    expect(steps).toEqual([{ lexical: 1, vectors: 1, current: true }]);
    // 1,999 more single writes: a step every 100 writes, of at most 64 entries (32 memories),
    // each write adding 2, so the 200 entries of 100 writes take 4 steps in a row.
    for (let index = 401; index < 2_400; index++) await write(store, index, 1);
    for (const step of steps) {
      expect(step.lexical).toBeLessThanOrEqual(limits.entries);
      expect(step.vectors).toBeLessThanOrEqual(limits.entries);
    }
    expect(steps.length).toBeGreaterThanOrEqual(19 * 4);
    expect(steps.length).toBeLessThanOrEqual(20 * 4 + 1);
    // Each memory written since the search re-indexed once (a reload would count every memory again).
    const total = steps.reduce((sum, step) => sum + step.lexical, 0);
    expect(total).toBeGreaterThan(1_900);
    expect(total).toBeLessThanOrEqual(2_000 + steps.length);
    expect(steps.at(-1)?.current).toBe(true);
    expect(await findsItself(store, 1_234)).toBe(true);
    expect(await findsItself(store, 2_399)).toBe(true);
    expect(await store.lexicalSearch?.('topic', {}, 5_000)).toHaveLength(2_400);
    await store.close();
  });

  it('lets a batch catch up its own memories and as many again, so a bulk writer keeps up', async () => {
    const path = join(root, 'batches.db');
    const limits = { after: 500, every: 100, entries: 64 };
    const { store, steps, closeSteps } = await openStore(path, limits);
    for (let from = 0; from < 3_000; from += 250) await write(store, from, 250);
    // The first step builds both indexes from the rows (they were never loaded: nothing to catch up from).
    expect(steps[0]).toEqual({ lexical: 500, vectors: 500, current: true });
    for (const step of steps.slice(1)) {
      expect(step).toEqual({ lexical: 250, vectors: 250, current: true });
    }
    expect(steps).toHaveLength(11);
    await store.close();
    // Nothing left for close to catch up (it writes the lexical snapshot, due from 2,000 memories).
    expect(closeSteps.map(({ step }) => step)).toEqual(['lexical-snapshot', 'lexical-snapshot']);
  });

  it('leaves what a step did not reach to the next write, or to close', async () => {
    const path = join(root, 'behind.db');
    const limits = { after: 300, every: 100, entries: 64 };
    const first = await openStore(path, limits);
    await write(first.store, 0, 300);
    // Another connection writes 200 memories: 400 entries this writer's next step also covers.
    const other = await openStore(path);
    await write(other.store, 300, 200);
    await other.store.close();
    // A batch of 100: a step of 400 entries (four a memory written) reaches the other's 200
    // memories, not this batch's 100.
    await write(first.store, 500, 100);
    expect(first.steps).toEqual([
      { lexical: 300, vectors: 300, current: true },
      { lexical: 200, vectors: 200, current: false },
    ]);
    await first.store.close();
    // Close caught up the rest at once (the 100 memories this connection wrote since its indexes were current).
    expect(first.closeSteps.map(({ step, done, memories }) => ({ step, done, memories }))).toEqual([
      { step: 'catch-up', done: false, memories: 100 },
      { step: 'catch-up', done: true, memories: 100 },
    ]);
    const reader = await openStore(path);
    for (const index of [0, 299, 300, 499, 500, 599]) expect(await findsItself(reader.store, index)).toBe(true);
    await reader.store.close();
  });
});
