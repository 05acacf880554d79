import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { postgresStore } from '@engram/adapters/postgres';
import type { MemoryRecord, MemoryStore } from '@engram/core';
import { makeRecord } from '@engram/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePostgres } from './support/postgres.js';

/**
 * Postgres history (migration 0013): a `created` entry stores no copy of the record while the
 * row holds it; a trigger copies the row into the entry before a recorded column changes or the
 * row is deleted. `history()` and `changesSince()` must answer exactly what they answered when
 * every created entry held its copy: the fixture was written by the adapter before 0013
 * (ENGRAM_WRITE_HISTORY_FIXTURE=1 rewrites it).
 */
const postgres = usePostgres();
const suite = postgres.skip ? describe.skip : describe;
const fixturePath = join(import.meta.dirname, 'fixtures', 'postgres-history.json');

const id = (n: number) => `01940000-0000-7000-8000-${String(n).padStart(12, '0')}`;
const at = (minutes: number) => new Date(Date.UTC(2025, 5, 1, 12, minutes));

/** Records with every field set one way or another, fixed ids and dates. */
function fixtureRecords(): MemoryRecord[] {
  return [
    makeRecord({
      id: id(1),
      content: 'Deploys go to eu-west-1 — café ✓',
      context: 'talking about the deploy pipeline',
      contextSource: 'conversation',
      tags: ['deploy', 'infra'],
      metadata: { zeta: 1, alpha: { b: 2, a: [1, 'x', null] }, mid: 0.30000000000000004, big: 9007199254740991, neg: -2.5e-7 },
      scope: { userId: 'alice', agentId: 'ops', runId: 'r1' },
      conversationId: 'c-1',
      importance: 0.7,
      quality: 0.9,
      createdAt: at(1),
      updatedAt: at(1),
      validFrom: at(0),
      validTo: at(90),
      source: 'chat',
      confidence: 0.8,
      emotion: 'calm',
      emotionalValence: -0.25,
      emotionalArousal: 0.125,
      episodeId: 'e-1',
      sequenceNumber: 3.5,
      precedingMemoryId: id(99),
      sourceType: 'user',
      credibility: 0.6,
    }),
    makeRecord({
      id: id(2),
      content: 'The second batched memory',
      type: 'error',
      subtype: 'bug',
      createdAt: at(2),
      updatedAt: at(2),
      validFrom: at(2),
    }),
    makeRecord({
      id: id(3),
      content: 'The third batched memory',
      metadata: { list: [] },
      createdAt: at(3),
      updatedAt: at(3),
      validFrom: null,
    }),
  ];
}

async function exercise(store: MemoryStore): Promise<unknown> {
  const [first, second, third] = fixtureRecords() as [MemoryRecord, MemoryRecord, MemoryRecord];
  // The batched path (unkeyed), a keyed write and its keyed update, and `apply`.
  await store.write([{ record: first, reason: 'batch' }, { record: second }, { record: third }]);
  const keyed = makeRecord({
    id: id(4),
    content: 'keyed preference v1',
    key: 'preference',
    scope: { userId: 'alice' },
    createdAt: at(4),
    updatedAt: at(4),
    validFrom: at(4),
  });
  await store.write([{ record: keyed }]);
  const keyedAgain = makeRecord({
    id: id(5),
    content: 'keyed preference v2',
    key: 'preference',
    scope: { userId: 'alice' },
    createdAt: at(5),
    updatedAt: at(5),
    validFrom: at(5),
  });
  await store.write([{ record: keyedAgain, reason: 'rekeyed' }]);
  const applied = makeRecord({
    id: id(6),
    content: 'written through apply',
    tags: ['sync'],
    createdAt: at(6),
    updatedAt: at(6),
    validFrom: at(6),
  });
  await store.apply?.([
    { kind: 'write', items: [{ record: applied, reason: 'sync' }] },
    { kind: 'update', id: applied.id, patch: { importance: 0.95, updatedAt: at(7) }, reason: 'sync' },
  ]);
  // Access statistics (not recorded) first, then recorded changes, a supersession and a delete.
  await store.recordAccess([first.id, first.id, second.id], at(8));
  await store.update(
    first.id,
    { content: 'Deploys go to eu-central-1', contentHash: 'h-updated', tags: ['deploy'], updatedAt: at(9) },
    undefined,
    {
      reason: 'moved',
    },
  );
  await store.update(second.id, { importance: 0.1, updatedAt: at(10) });
  await store.update(third.id, { supersededBy: first.id, validTo: at(11), updatedAt: at(11) });
  await store.delete(second.id, at(12));
  const histories: Record<string, unknown> = {};
  for (const n of [1, 2, 3, 4, 6]) histories[id(n)] = await store.history(id(n));
  const changes = await store.changesSince?.(0, 100);
  return JSON.parse(JSON.stringify({ histories, changes: changes?.entries }));
}

suite(`postgres history${postgres.skip ? ` (skipped: ${postgres.skip})` : ''}`, () => {
  const schema = postgres.nextSchema();
  let store: MemoryStore;
  beforeAll(() => {
    store = postgresStore({ pool: postgres.pool, schema });
  });
  afterAll(async () => {
    await store?.close();
    await postgres.dropSchema(schema);
  });

  it('answers history() and changesSince() exactly as when created entries held a copy', async () => {
    const output = await exercise(store);
    if (process.env.ENGRAM_WRITE_HISTORY_FIXTURE === '1' || !existsSync(fixturePath)) {
      writeFileSync(fixturePath, `${JSON.stringify(output, null, 2)}\n`);
    }
    // (Before 0013 `changesSince` ordered a page by its text-cast `seq`: 1, 10, 11, 2…; the
    // fixture holds that answer sorted by seq, which is the only difference.)
    expect(output).toEqual(JSON.parse(readFileSync(fixturePath, 'utf8')));
  });

  const storedChanges = async (memoryId: string) =>
    (
      await postgres.pool.query(
        `SELECT changes::text AS changes FROM "${schema}".memory_history WHERE memory_id = $1 AND event = 'created'`,
        [memoryId],
      )
    ).rows[0]?.changes as string | null;

  it('stores no copy in a created entry while the row holds it, and keeps the created version through raw SQL', async () => {
    const untouched = makeRecord({ content: 'never changed', tags: ['plain'] });
    const rewritten = makeRecord({ content: 'rewritten by raw SQL', metadata: { n: 1 } });
    const removed = makeRecord({ content: 'deleted by raw SQL', scope: { userId: 'bob' } });
    await store.write([untouched, rewritten, removed].map((record) => ({ record })));
    const before = {
      rewritten: (await store.history(rewritten.id))[0],
      removed: (await store.history(removed.id))[0],
    };
    for (const record of [untouched, rewritten, removed]) expect(await storedChanges(record.id)).toBeNull();
    // Access statistics and decay scores are not recorded: no copy.
    await store.recordAccess([untouched.id], new Date());
    await store.recordDecayScores?.([{ id: untouched.id, score: 0.4 }], new Date());
    expect(await storedChanges(untouched.id)).toBeNull();

    await postgres.pool.query(`UPDATE "${schema}".memories SET content = 'changed behind the store', metadata = '{"n": 2}' WHERE id = $1`, [
      rewritten.id,
    ]);
    await postgres.pool.query(`DELETE FROM "${schema}".memories WHERE id = $1`, [removed.id]);
    expect(await storedChanges(rewritten.id)).toContain('engram:row');
    expect((await store.history(rewritten.id))[0]).toEqual(before.rewritten);
    expect((await store.history(removed.id))[0]).toEqual(before.removed);
    expect(before.rewritten?.changes.content?.to).toBe('rewritten by raw SQL');
  });

  it('keeps the created version when one batch creates a memory and its key updates it', async () => {
    const first = makeRecord({ content: 'batch key v1', key: 'same-batch' });
    const second = makeRecord({ content: 'batch key v2', key: 'same-batch' });
    const [created] = await store.write([{ record: first }, { record: second }]);
    const history = await store.history(created?.record.id as string);
    expect(history.map((entry) => [entry.event, entry.changes.content?.to])).toEqual([
      ['created', 'batch key v1'],
      ['updated', 'batch key v2'],
    ]);
  });

  it('pages changesSince in sequence order', async () => {
    const paged = postgresStore({ pool: postgres.pool, schema: postgres.nextSchema() });
    try {
      await paged.write(Array.from({ length: 25 }, (_, index) => ({ record: makeRecord({ content: `paged ${index}` }) })));
      const seen: number[] = [];
      let after = 0;
      for (;;) {
        const page = await paged.changesSince?.(after, 7);
        if (!page || page.entries.length === 0) break;
        seen.push(...page.entries.map((entry) => entry.seq));
        after = page.entries.at(-1)?.seq as number;
      }
      expect(seen).toEqual(Array.from({ length: 25 }, (_, index) => index + 1));
    } finally {
      await paged.close();
    }
  });
});
