import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import {
  type Condition,
  type ConditionValue,
  type MemoryFilter,
  type MemoryRecord,
  type MemoryStore,
  matchesFilter,
  seededRandom,
} from '@engram/core';
import { makeRecord, seededVector } from '@engram/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresStore } from './index.js';

/**
 * Randomised agreement with core's `matchesFilter` on a real Postgres engine (PGlite): random
 * records with awkward metadata (numbers vs numeric strings, null vs missing, arrays, nested
 * objects) and random filters and conditions, through list, count, lexical and vector search.
 */

/** Deterministic pseudo-random numbers so failures reproduce (the library's mulberry32). */
const random = seededRandom;

const next = random(20250601);
const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
const chance = (probability: number) => next() < probability;

const scalars: ConditionValue[] = [
  0,
  1,
  1.5,
  -2,
  10,
  1e-7,
  '1',
  'a',
  'ab',
  'B',
  '',
  'x y',
  'needle',
  '2025-01-01',
  '2024-12-31',
  true,
  false,
  null,
];
const values: unknown[] = [
  ...scalars,
  [1, 'a', true, null],
  ['a', 'b'],
  [],
  [1.5, 10],
  { x: 1 },
  { x: 'a', y: [1] },
  { p: 1, q: 'a' },
  'a needle here',
];
const paths = [['p'], ['q'], ['r'], ['s', 'p'], ['s', 'q'], ['missing'], ['p', 'x'], ['s'], ['weird key.with dot']];
const DAY = 86_400_000;
const base = Date.UTC(2025, 0, 1);

function randomMetadata(): Record<string, unknown> {
  const metadata: Record<string, unknown> = {};
  for (const key of ['p', 'q', 'r']) if (chance(0.7)) metadata[key] = pick(values);
  if (chance(0.5)) metadata.s = chance(0.7) ? { p: pick(values), ...(chance(0.5) ? { q: pick(values) } : {}) } : pick(values);
  if (chance(0.1)) metadata['weird key.with dot'] = pick(scalars);
  return metadata;
}

function randomRecord(index: number): MemoryRecord {
  const superseded = chance(0.15);
  return makeRecord({
    content: `fuzz record ${index} shared words`,
    createdAt: new Date(base + Math.floor(next() * 10) * DAY + index),
    scope: pick([{}, { userId: 'u1' }, { userId: 'u2' }, { userId: 'u1', agentId: 'a' }, { runId: 'r' }]),
    type: pick(['observation', 'error', 'learning']),
    subtype: pick([null, 'bug', 'insight']),
    tags: [...new Set([pick(['x', 'y', 'z']), ...(chance(0.5) ? [pick(['x', 'y', 'z'])] : [])])],
    conversationId: pick([null, 'c1', 'c2']),
    metadata: randomMetadata(),
    supersededBy: superseded ? 'someone' : null,
    validTo: superseded && chance(0.7) ? new Date(base + Math.floor(next() * 10) * DAY) : null,
  });
}

function randomCondition(depth: number): Condition {
  if (depth > 0 && chance(0.35)) {
    const kind = pick(['and', 'or', 'not'] as const);
    if (kind === 'not') return { kind, condition: randomCondition(depth - 1) };
    return { kind, conditions: Array.from({ length: 1 + Math.floor(next() * 3) }, () => randomCondition(depth - 1)) };
  }
  const path = pick(paths);
  const operator = pick(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'contains', 'exists'] as const);
  if (operator === 'exists') return { kind: 'compare', path, operator, value: chance(0.5) };
  if (operator === 'in' || operator === 'nin') {
    return { kind: 'compare', path, operator, value: Array.from({ length: Math.floor(next() * 4) }, () => pick(scalars)) };
  }
  const value =
    operator === 'gt' || operator === 'gte' || operator === 'lt' || operator === 'lte'
      ? pick(scalars.filter((item) => typeof item === 'number' || typeof item === 'string'))
      : pick(scalars);
  return { kind: 'compare', path, operator, value };
}

function randomFilter(records: MemoryRecord[]): MemoryFilter {
  const filter: MemoryFilter = {};
  if (chance(0.2))
    filter.scope = pick([{ userId: 'u1' }, { userId: 'u2' }, { agentId: 'a' }, { runId: 'r' }, { userId: 'u1', agentId: 'a' }]);
  if (chance(0.1)) filter.conversationId = pick(['c1', 'c2']);
  if (chance(0.15)) filter.types = pick([['error'], ['observation', 'learning'], []]);
  if (chance(0.15)) filter.subtypes = pick([['bug'], ['insight', 'bug'], []]);
  if (chance(0.15)) filter.tags = pick([{ any: ['x'] }, { all: ['x', 'y'] }, { any: ['y', 'z'], all: ['z'] }, { any: [] }]);
  if (chance(0.15)) filter.after = new Date(base + Math.floor(next() * 10) * DAY);
  if (chance(0.15)) filter.before = new Date(base + Math.floor(next() * 10) * DAY);
  if (chance(0.15)) filter.includeSuperseded = true;
  if (chance(0.15)) filter.asOf = new Date(base + Math.floor(next() * 10) * DAY);
  if (chance(0.1)) filter.ids = records.filter(() => chance(0.3)).map((record) => record.id);
  if (chance(0.8)) filter.where = randomCondition(3);
  return filter;
}

const ids = (items: ReadonlyArray<{ id: string }>) => items.map((item) => item.id).sort();

describe('postgres filter compilation agrees with matchesFilter (PGlite, randomised)', () => {
  let database: PGlite;
  let store: MemoryStore;
  const records = Array.from({ length: 120 }, (_, index) => randomRecord(index));

  beforeAll(async () => {
    database = await PGlite.create({ extensions: { vector } });
    store = postgresStore({ pglite: database, schema: 'fuzz', vectors: true });
    await store.open();
    await store.setEmbedder({ id: 'fuzz', dimensions: 8 });
    await store.vectors?.open(8);
    await store.write(records.map((record, index) => ({ record, vector: seededVector(index + 1, 8) })));
    expect(await store.count({ includeSuperseded: true })).toBe(records.length);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await database?.close();
  });

  it('on 300 random filters, through list, count, lexical and vector search', async () => {
    let nonTrivial = 0;
    for (let round = 0; round < 300; round++) {
      const filter = randomFilter(records);
      const expected = ids(records.filter((record) => matchesFilter(record, filter)));
      if (expected.length > 0 && expected.length < records.length) nonTrivial += 1;
      const context = JSON.stringify(filter);
      expect(ids((await store.list(filter, { limit: 1000 })).items), context).toEqual(expected);
      expect(await store.count(filter), context).toBe(expected.length);
      expect(ids(await (store.lexicalSearch as NonNullable<MemoryStore['lexicalSearch']>)('shared words', filter, 1000)), context).toEqual(
        expected,
      );
      expect(ids(await (store.vectors as NonNullable<MemoryStore['vectors']>).search(seededVector(999, 8), 1000, filter)), context).toEqual(
        expected,
      );
    }
    // The generator is only useful if most filters select something, but not everything.
    expect(nonTrivial).toBeGreaterThan(100);
  }, 120_000);
});
