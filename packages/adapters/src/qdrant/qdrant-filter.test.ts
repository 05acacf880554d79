import {
  type Condition,
  type ConditionValue,
  type MemoryFilter,
  type MemoryRecord,
  matchesFilter,
  parseWhere,
  seededRandom,
} from '@engram/core';
import { makeRecord } from '@engram/core/testing';
import { describe, expect, it } from 'vitest';
import { type QdrantCondition, type QdrantFilter, toQdrantFilter } from './qdrant-filter.js';
import { pointId } from './qdrant-ids.js';
import { type QdrantPayload, toPayload } from './qdrant-payload.js';

/**
 * The Engram → Qdrant filter translation, on its own. A small evaluator models Qdrant's
 * documented filter semantics (a match on an array field matches any element; ranges are numeric;
 * must / should / must_not; missing fields match nothing) so the translation can be checked
 * against core's `matchesFilter` on many records and filters: the Qdrant filter must never drop
 * a matching memory, and must select exactly the matching ones whenever it says it is exact.
 */

function valuesAt(payload: unknown, key: string): unknown[] {
  let node: unknown = payload;
  for (const segment of key.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return [];
    node = (node as Record<string, unknown>)[segment];
  }
  if (node === undefined || node === null) return [];
  return Array.isArray(node) ? node : [node];
}

function holds(condition: QdrantCondition, payload: QdrantPayload, id: string): boolean {
  if ('has_id' in condition) return condition.has_id.includes(id);
  if ('key' in condition) {
    const values = valuesAt(payload, condition.key);
    if ('match' in condition) {
      const wanted = condition.match;
      return 'any' in wanted
        ? values.some((value) => wanted.any.includes(value as string))
        : values.some((value) => value === wanted.value);
    }
    const range = condition.range;
    return values.some(
      (value) =>
        typeof value === 'number' &&
        (range.gt === undefined || value > range.gt) &&
        (range.gte === undefined || value >= range.gte) &&
        (range.lt === undefined || value < range.lt) &&
        (range.lte === undefined || value <= range.lte),
    );
  }
  return passes(condition, payload, id);
}

function passes(filter: QdrantFilter | undefined, payload: QdrantPayload, id: string): boolean {
  if (!filter) return true;
  if (filter.must && !filter.must.every((condition) => holds(condition, payload, id))) return false;
  if (filter.should && filter.should.length > 0 && !filter.should.some((condition) => holds(condition, payload, id))) return false;
  if (filter.must_not?.some((condition) => holds(condition, payload, id))) return false;
  return true;
}

/** Deterministic pseudo-random numbers so failures reproduce (the library's mulberry32). */
const random = seededRandom;

const next = random(4242);
const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
const chance = (probability: number) => next() < probability;
const scalars: ConditionValue[] = [0, 1, 1.5, -2, 10, '1', 'a', 'ab', 'B', '', 'needle', '2025-01-01', true, false, null];
const values: unknown[] = [
  ...scalars,
  [1, 'a', true, null],
  ['a', 'b'],
  [],
  [1.5, 10],
  { x: 1 },
  { p: 1, q: 'a' },
  'a needle here',
  [{ p: 1 }],
];
const paths = [['p'], ['q'], ['s', 'p'], ['s', 'q'], ['missing'], ['p', 'x'], ['s'], ['odd key.x'], ['__proto__']];
const DAY = 86_400_000;
const base = Date.UTC(2025, 0, 1);

function randomRecord(index: number): MemoryRecord {
  const metadata: Record<string, unknown> = {};
  for (const key of ['p', 'q']) if (chance(0.7)) metadata[key] = pick(values);
  if (chance(0.5)) metadata.s = chance(0.7) ? { p: pick(values), q: pick(values) } : pick(values);
  if (chance(0.15)) metadata['odd key.x'] = pick(scalars);
  const superseded = chance(0.15);
  return makeRecord({
    content: `record ${index}`,
    createdAt: new Date(base + Math.floor(next() * 10) * DAY),
    scope: pick([{}, { userId: 'u1' }, { userId: 'u2', agentId: 'a' }, { runId: 'r' }]),
    type: pick(['observation', 'error', 'learning']),
    subtype: pick([null, 'bug', 'insight']),
    tags: pick([[], ['x'], ['x', 'y'], ['z']]),
    conversationId: pick([null, 'c1']),
    metadata,
    supersededBy: superseded ? 'other' : null,
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
  if (operator === 'in' || operator === 'nin')
    return { kind: 'compare', path, operator, value: Array.from({ length: Math.floor(next() * 4) }, () => pick(scalars)) };
  return { kind: 'compare', path, operator, value: pick(scalars) };
}

function randomFilter(records: MemoryRecord[]): MemoryFilter {
  const filter: MemoryFilter = {};
  if (chance(0.2)) filter.scope = pick([{ userId: 'u1' }, { agentId: 'a' }, { runId: 'r' }, { userId: 'u2', agentId: 'a' }]);
  if (chance(0.1)) filter.conversationId = 'c1';
  if (chance(0.15)) filter.types = pick([['error'], ['observation', 'learning'], []]);
  if (chance(0.15)) filter.subtypes = pick([['bug'], ['insight', 'bug'], []]);
  if (chance(0.15)) filter.tags = pick([{ any: ['x'] }, { all: ['x', 'y'] }, { any: ['y', 'z'], all: ['z'] }, { all: [] }]);
  if (chance(0.15)) filter.after = new Date(base + Math.floor(next() * 10) * DAY);
  if (chance(0.15)) filter.before = new Date(base + Math.floor(next() * 10) * DAY);
  if (chance(0.15)) filter.includeSuperseded = true;
  if (chance(0.15)) filter.asOf = new Date(base + Math.floor(next() * 10) * DAY);
  if (chance(0.1)) filter.ids = records.filter(() => chance(0.3)).map((record) => record.id);
  if (chance(0.8)) filter.where = randomCondition(3);
  return filter;
}

describe('toQdrantFilter', () => {
  it('never drops a matching memory, and is exact whenever it says so (1,500 random filters)', () => {
    const records = Array.from({ length: 80 }, (_, index) => randomRecord(index));
    // A few non-UUID ids too: they are mapped to point ids the same way.
    records[0] = { ...(records[0] as MemoryRecord), id: 'not-a-uuid' };
    const payloads = records.map((record) => toPayload(record.id, record));
    let exact = 0;
    for (let round = 0; round < 1500; round++) {
      const filter = randomFilter(records);
      const translation = toQdrantFilter(filter);
      if (translation.exact) exact += 1;
      records.forEach((record, index) => {
        const expected = matchesFilter(record, filter);
        const selected = !translation.matchesNothing && passes(translation.filter, payloads[index] as QdrantPayload, pointId(record.id));
        const context = `${JSON.stringify(filter)} on ${JSON.stringify(record.metadata)} → ${JSON.stringify(translation)}`;
        if (expected) expect(selected, context).toBe(true);
        if (translation.exact) expect(selected, context).toBe(expected);
      });
    }
    // Most filters translate exactly; the rest are narrowed, then checked on the payload.
    expect(exact / 1500).toBeGreaterThan(0.5);
  });

  it('maps the record fields to indexed payload keys', () => {
    const filter: MemoryFilter = {
      scope: { userId: 'alice', agentId: 'coder' },
      conversationId: 'c1',
      types: ['error'],
      subtypes: ['insight'],
      tags: { any: ['db', 'api'], all: ['urgent'] },
      after: new Date(1000),
      before: new Date(2000),
    };
    expect(toQdrantFilter(filter)).toEqual({
      exact: true,
      matchesNothing: false,
      filter: {
        must: [
          { key: 'superseded', match: { value: false } },
          { key: 'user_id', match: { value: 'alice' } },
          { key: 'agent_id', match: { value: 'coder' } },
          { key: 'conversation_id', match: { value: 'c1' } },
          {
            should: [
              { key: 'type', match: { any: ['error'] } },
              { key: 'subtype', match: { any: ['insight'] } },
            ],
          },
          { key: 'tags', match: { any: ['db', 'api'] } },
          { key: 'tags', match: { value: 'urgent' } },
          { key: 'created_at', range: { gte: 1000, lt: 2000 } },
        ],
      },
    });
  });

  it('undoes later supersessions as of an instant', () => {
    expect(toQdrantFilter({ asOf: new Date(5000) }).filter).toEqual({
      must: [
        {
          should: [
            { key: 'superseded', match: { value: false } },
            { key: 'valid_to', range: { gt: 5000 } },
          ],
        },
        { key: 'created_at', range: { lte: 5000 } },
      ],
    });
    expect(toQdrantFilter({ includeSuperseded: true }).filter).toBeUndefined();
  });

  it('compares metadata by JSON type: numbers as ranges, strings and booleans as matches, null and presence by path', () => {
    const where = (input: Record<string, unknown>) => toQdrantFilter({ includeSuperseded: true, where: parseWhere(input) });
    expect(where({ priority: 5 })).toMatchObject({
      exact: true,
      filter: { must: [{ key: 'meta_number.priority', range: { gte: 5, lte: 5 } }] },
    });
    expect(where({ 'team.name': 'core' })).toMatchObject({
      exact: true,
      filter: { must: [{ key: 'meta_string.team.name', match: { value: 'core' } }] },
    });
    expect(where({ flag: false })).toMatchObject({
      exact: true,
      filter: { must: [{ key: 'meta_boolean.flag', match: { value: false } }] },
    });
    expect(where({ maybe: null })).toMatchObject({ exact: true, filter: { must: [{ key: 'meta_null', match: { value: '["maybe"]' } }] } });
    expect(where({ maybe: { exists: true } })).toMatchObject({
      exact: true,
      filter: { must: [{ key: 'meta_keys', match: { value: '["maybe"]' } }] },
    });
    // `ne` matches a missing field: a must_not, not a match on something else.
    expect(where({ status: { ne: 'open' } })).toMatchObject({
      exact: true,
      filter: { must_not: [{ key: 'meta_string.status', match: { value: 'open' } }] },
    });
    expect(where({ priority: { gt: 3 } })).toMatchObject({
      exact: true,
      filter: { must: [{ key: 'meta_number.priority', range: { gt: 3 } }] },
    });
    expect(where({ labels: { contains: 7 } })).toMatchObject({
      exact: true,
      filter: { must: [{ key: 'meta_array.labels', range: { gte: 7, lte: 7 } }] },
    });
  });

  it('narrows what Qdrant cannot express and says so', () => {
    const where = (input: Record<string, unknown>) => toQdrantFilter({ includeSuperseded: true, where: parseWhere(input) });
    // A substring test: the field must exist; each result is checked on its payload.
    expect(where({ note: { contains: 'Needle' } })).toEqual({
      exact: false,
      matchesNothing: false,
      filter: { must: [{ key: 'meta_keys', match: { value: '["note"]' } }] },
    });
    // String order (ISO dates): Qdrant ranges are numeric.
    expect(where({ due: { lt: '2025-01-01' } })).toMatchObject({ exact: false });
    // Under `not`, an approximate part cannot narrow anything (its complement would drop matches).
    expect(where({ not: { note: { contains: 'x' } } })).toMatchObject({
      exact: false,
      filter: { must_not: [{ key: 'meta_array.note', match: { value: 'x' } }] },
    });
  });

  it('short-circuits filters that match nothing', () => {
    expect(toQdrantFilter({ types: [] }).matchesNothing).toBe(true);
    expect(toQdrantFilter({ ids: [] }).matchesNothing).toBe(true);
    expect(toQdrantFilter({ includeSuperseded: true, where: parseWhere({ status: { in: [] } }) }).matchesNothing).toBe(true);
    expect(toQdrantFilter({ includeSuperseded: true, where: parseWhere({ status: { nin: [] } }) })).toEqual({
      filter: undefined,
      exact: true,
      matchesNothing: false,
    });
  });
});

describe('pointId', () => {
  it('keeps UUIDs (lower-cased) and maps other ids to stable UUIDs', () => {
    expect(pointId('0194D2E1-7FE8-7000-9B41-ED8B28373C1C')).toBe('0194d2e1-7fe8-7000-9b41-ed8b28373c1c');
    const mapped = pointId('noise-12');
    expect(mapped).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(pointId('noise-12')).toBe(mapped);
    expect(pointId('noise-13')).not.toBe(mapped);
  });
});

describe('toPayload', () => {
  it('stores typed copies of the metadata that Qdrant can filter exactly', () => {
    const record = makeRecord({
      scope: { userId: 'u' },
      tags: ['a'],
      metadata: { n: 2, s: 'x', b: true, z: null, list: ['y', 3, null, { deep: 1 }], team: { name: 'core' }, 'odd key': 'v' },
    });
    const payload = toPayload(record.id, record);
    expect(payload).toMatchObject({
      engram_id: record.id,
      user_id: 'u',
      tags: ['a'],
      superseded: false,
      created_at: record.createdAt.getTime(),
      meta_string: { s: 'x', team: { name: 'core' } },
      meta_number: { n: 2 },
      meta_boolean: { b: true },
      meta_array: { list: ['y', 3] },
      meta_null: ['["z"]'],
      meta_array_null: ['["list"]'],
    });
    expect(payload.meta_keys.sort()).toEqual(
      ['["b"]', '["list"]', '["n"]', '["odd key"]', '["s"]', '["team","name"]', '["team"]', '["z"]'].sort(),
    );
    expect('agent_id' in payload).toBe(false);
  });
});
