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
    expect(output).toEqual(JSON.parse(readFileSync(fixturePath, 'utf8')));
  });
});
