import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Condition,
  type ConditionValue,
  evaluateCondition,
  type MemoryFilter,
  type MemoryRecord,
  matchesFilter,
  seededRandom,
} from '@engram/core';
import { makeRecord } from '@engram/core/testing';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCondition, compileFilter, jsonPath } from './sqlite-filter.js';
import { ResidualFilter } from './sqlite-residual-filter.js';
import { SqliteSession } from './sqlite-session.js';
import { sqliteStore } from './sqlite-store.js';

/** Metadata documents chosen to trip SQL/JSON type coercions. */
const documents: Array<Record<string, unknown>> = [
  {},
  { a: null },
  { a: 0 },
  { a: 1 },
  { a: 1.5 },
  { a: -1 },
  { a: 1e21 },
  { a: '1' },
  { a: '' },
  { a: 'abc' },
  { a: 'ABC' },
  { a: 'a' },
  { a: 'café' },
  { a: 'Needle in a haystack' },
  { a: '2025-01-01' },
  { a: '2024-12-31T23:00:00Z' },
  { a: true },
  { a: false },
  { a: [] },
  { a: [1, '1', true, null] },
  { a: ['x', ['abc']] },
  { a: ['abc', 'Needle'] },
  { a: [{ b: 1 }] },
  { a: [false, 0, ''] },
  { a: {} },
  { a: { b: 1 } },
  { a: { b: null } },
  { a: { b: '1' } },
  { a: { b: { c: 'deep' } } },
  { a: { b: [1, 2] } },
  { 'a.b': 1 },
  { 'a.b': 'dotted', a: { b: 'nested' } },
  { 'back\\slash': 2, 'we"ird': 'quote' },
  { '': 'empty key' },
  { b: 1 },
];

const paths: string[][] = [['a'], ['a', 'b'], ['a.b'], ['a', 'b', 'c'], ['missing'], ['back\\slash'], ['we"ird'], [''], []];

const scalars: ConditionValue[] = [
  null,
  true,
  false,
  0,
  1,
  1.5,
  -1,
  1e21,
  '1',
  '',
  'a',
  'abc',
  'ABC',
  'Needle',
  'needle',
  'café',
  '2025-01-01',
  'deep',
];

function leafConditions(): Condition[] {
  const conditions: Condition[] = [];
  for (const path of paths) {
    conditions.push({ kind: 'compare', path, operator: 'exists', value: true });
    conditions.push({ kind: 'compare', path, operator: 'exists', value: false });
    for (const value of scalars) {
      for (const operator of ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'contains'] as const) {
        conditions.push({ kind: 'compare', path, operator, value });
      }
    }
    for (const values of [[], [1, '1'], ['abc', null], [true, 0], [false, 1.5, 'x']] as ConditionValue[][]) {
      conditions.push({ kind: 'compare', path, operator: 'in', value: values });
      conditions.push({ kind: 'compare', path, operator: 'nin', value: values });
    }
  }
  return conditions;
}

/** Deterministic pseudo-random numbers so failures reproduce (the library's mulberry32). */
const random = seededRandom;

function pick<T>(next: () => number, values: readonly T[]): T {
  return values[Math.floor(next() * values.length)] as T;
}

function randomCondition(next: () => number, leaves: Condition[], depth: number): Condition {
  const roll = next();
  if (depth <= 0 || roll < 0.4) return pick(next, leaves);
  if (roll < 0.55) return { kind: 'not', condition: randomCondition(next, leaves, depth - 1) };
  const size = Math.floor(next() * 4); // 0..3 children: empty and/or included
  const conditions = Array.from({ length: size }, () => randomCondition(next, leaves, depth - 1));
  return { kind: roll < 0.8 ? 'and' : 'or', conditions };
}

describe('compileCondition agrees with evaluateCondition', () => {
  let db: Database.Database;

  beforeAll(() => {
    db = new Database(':memory:');
    db.exec('CREATE TABLE docs (id INTEGER PRIMARY KEY, metadata TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO docs (id, metadata) VALUES (?, ?)');
    for (const [index, document] of documents.entries()) insert.run(index, JSON.stringify(document));
  });
  afterAll(() => db.close());

  const check = (condition: Condition) => {
    const compiled = compileCondition(condition, 'docs.metadata');
    const rows = db.prepare(`SELECT id FROM docs WHERE ${compiled.sql} ORDER BY id`).all(...compiled.params) as Array<{ id: number }>;
    const expected = documents.flatMap((document, index) => (evaluateCondition(document, condition) ? [index] : []));
    expect(
      rows.map((row) => row.id),
      JSON.stringify(condition),
    ).toEqual(expected);
    // Two-valued logic: NOT of the condition selects exactly the other documents.
    const negated = compileCondition({ kind: 'not', condition }, 'docs.metadata');
    const others = db.prepare(`SELECT count(*) AS n FROM docs WHERE ${negated.sql}`).get(...negated.params) as { n: number };
    expect(others.n, `NOT ${JSON.stringify(condition)}`).toBe(documents.length - expected.length);
  };

  it('on every single comparison (paths × operators × JSON types)', () => {
    const leaves = leafConditions();
    expect(leaves.length).toBeGreaterThan(1000);
    for (const condition of leaves) check(condition);
  });

  it('on random and/or/not trees', () => {
    const next = random(7);
    const leaves = leafConditions();
    for (let round = 0; round < 1500; round++) check(randomCondition(next, leaves, 4));
  });

  it('on empty and/or', () => {
    check({ kind: 'and', conditions: [] });
    check({ kind: 'or', conditions: [] });
    check({ kind: 'not', condition: { kind: 'or', conditions: [] } });
  });

  it('quotes every path segment', () => {
    expect(jsonPath(['a', 'b.c', 'd"e', 'f\\g'])).toBe('$."a"."b.c"."d\\"e"."f\\\\g"');
    expect(jsonPath([])).toBe('$');
  });
});

describe('compileFilter agrees with matchesFilter', () => {
  const base = Date.UTC(2025, 0, 1);
  const day = 86_400_000;
  const users = [undefined, 'alice', 'bob', ''];
  const types = ['observation', 'error', 'learning'];
  const subtypes = [null, 'bug', 'insight', 'gotcha'];
  const tagPool = ['db', 'api', 'urgent', 'ops'];
  const fixture: MemoryRecord[] = [];
  const next = random(11);
  for (let index = 0; index < 120; index++) {
    const userId = pick(next, users);
    const superseded = next() < 0.2;
    fixture.push(
      makeRecord({
        content: `filter record ${index}`,
        createdAt: new Date(base + index * day),
        scope: {
          ...(userId !== undefined ? { userId } : {}),
          ...(next() < 0.5 ? { agentId: pick(next, ['a1', 'a2']) } : {}),
          ...(next() < 0.3 ? { runId: 'r1' } : {}),
        },
        conversationId: next() < 0.3 ? pick(next, ['c1', 'c2']) : null,
        type: pick(next, types),
        subtype: pick(next, subtypes),
        tags: tagPool.filter(() => next() < 0.35),
        metadata: pick(next, documents),
        supersededBy: superseded ? 'winner' : null,
        validTo: superseded ? new Date(base + (index + Math.floor(next() * 40)) * day) : null,
      }),
    );
  }
  const leaves = leafConditions();

  const randomFilter = (): MemoryFilter => {
    const filter: MemoryFilter = {};
    if (next() < 0.3) {
      const scope: MemoryFilter['scope'] = {};
      if (next() < 0.8) scope.userId = pick(next, ['alice', 'bob', '', 'nobody']);
      if (next() < 0.3) scope.agentId = pick(next, ['a1', 'a2']);
      if (next() < 0.2) scope.runId = 'r1';
      filter.scope = scope;
    }
    if (next() < 0.2) filter.conversationId = pick(next, ['c1', 'c2', '']);
    if (next() < 0.3) filter.types = types.filter(() => next() < 0.5);
    if (next() < 0.3) filter.subtypes = ['bug', 'insight', 'gotcha', ''].filter(() => next() < 0.4);
    if (next() < 0.3)
      filter.tags = { any: tagPool.filter(() => next() < 0.3), ...(next() < 0.5 ? { all: tagPool.filter(() => next() < 0.3) } : {}) };
    if (next() < 0.2) filter.after = new Date(base + Math.floor(next() * 120) * day);
    if (next() < 0.2) filter.before = new Date(base + Math.floor(next() * 120) * day);
    if (next() < 0.15) filter.ids = fixture.filter(() => next() < 0.1).map((record) => record.id);
    if (next() < 0.3) filter.includeSuperseded = true;
    if (next() < 0.25) filter.asOf = new Date(base + Math.floor(next() * 140) * day);
    if (next() < 0.4) filter.where = randomCondition(next, leaves, 3);
    return filter;
  };

  it('on 400 random filters over a varied fixture (list, count and lexical search)', async () => {
    const store = sqliteStore({ path: ':memory:' });
    await store.open();
    await store.write(fixture.map((record) => ({ record })));
    for (let round = 0; round < 400; round++) {
      const filter = randomFilter();
      const expected = fixture
        .filter((record) => matchesFilter(record, filter))
        .map((record) => record.id)
        .sort();
      const label = JSON.stringify(filter);
      const listed = await store.list(filter, { limit: 1000 });
      expect(listed.items.map((record) => record.id).sort(), label).toEqual(expected);
      expect(await store.count(filter), label).toBe(expected.length);
      const lexical = await store.lexicalSearch?.('filter record', filter, 1000);
      expect(lexical?.map((match) => match.id).sort(), label).toEqual(expected);
    }
    await store.close();
  });

  it('on 400 random filters, checked row by row on a candidate list (the form search uses on its candidates)', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'engram-filter-candidates-'));
    const path = join(directory, 'candidates.db');
    const store = sqliteStore({ path });
    await store.write(fixture.map((record) => ({ record })));
    await store.close();
    const db = new Database(path, { readonly: true });
    try {
      for (let round = 0; round < 400; round++) {
        const filter = randomFilter();
        const expected = fixture
          .filter((record) => matchesFilter(record, filter))
          .map((record) => record.id)
          .sort();
        const where = compileFilter(filter, { candidates: true });
        const found = db
          .prepare(`SELECT m.id FROM memories m WHERE m.rowid IN (SELECT value FROM json_each(?)) AND ${where.sql}`)
          .pluck()
          .all(JSON.stringify(fixture.map((_, index) => index + 1)), ...where.params) as string[];
        expect(found.sort(), JSON.stringify(filter)).toEqual(expected);
      }
    } finally {
      db.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('on 400 random filters, the residual part (tags, where) on candidates that passed the rest, and every row it matches', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'engram-filter-residual-'));
    const path = join(directory, 'residual.db');
    const store = sqliteStore({ path });
    await store.write(fixture.map((record) => ({ record })));
    await store.close();
    const db = new Database(path, { readonly: true });
    const session = new SqliteSession(db, path);
    const rowidOf = new Map(
      (db.prepare('SELECT id, rowid FROM memories').raw(true).all() as Array<[string, number]>).map(([id, rowid]) => [id, rowid]),
    );
    let checkedByLookup = 0;
    try {
      for (let round = 0; round < 400; round++) {
        const filter = randomFilter();
        if (!filter.tags?.any?.length && !filter.tags?.all?.length && filter.where === undefined) continue;
        const label = JSON.stringify(filter);
        const { tags: _tags, where: _where, ...rest } = filter;
        // The candidates a mirror would pass on: those matching everything but tags and `where`.
        const candidates = fixture.filter((record) => matchesFilter(record, rest));
        const expected = candidates
          .filter((record) => matchesFilter(record, filter))
          .map((record) => rowidOf.get(record.id) as number)
          .sort((a, b) => a - b);
        const rowids = candidates.map((record) => rowidOf.get(record.id) as number);
        // In two chunks, as a search checks them: the second is checked another way for tags.all.
        const half = Math.ceil(rowids.length / 2);
        const residual = new ResidualFilter(session, filter);
        const passing = [...residual.passing(rowids.slice(0, half)), ...residual.passing(rowids.slice(half))];
        if (filter.tags?.all?.length && filter.where === undefined && half < rowids.length) checkedByLookup += 1;
        expect(
          passing.sort((a, b) => a - b),
          label,
        ).toEqual(expected);
        const matching = new ResidualFilter(session, filter).matchingRowids();
        if (filter.where !== undefined) expect(matching, label).toBeNull();
        else {
          const candidateRowids = new Set(rowids);
          expect(
            matching?.filter((rowid) => candidateRowids.has(rowid)),
            label,
          ).toEqual(expected);
          expect(matching, label).toEqual([...(matching ?? [])].sort((a, b) => a - b));
        }
      }
      expect(checkedByLookup).toBeGreaterThan(10);
    } finally {
      db.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('keeps deleted rows out unless includeDeleted', () => {
    expect(compileFilter(undefined).sql).toContain('deleted_at IS NULL');
    expect(compileFilter(undefined, { includeDeleted: true }).sql).not.toContain('deleted_at');
  });

  it('binds list values as one JSON parameter, so the SQL text does not depend on list length', () => {
    const short = compileFilter({ ids: ['a', 'b'], tags: { any: ['x', 'y'] } });
    const long = compileFilter({ ids: ['a', 'b', 'c', 'd'], tags: { any: ['x', 'y', 'z'] } });
    expect(long.sql).toBe(short.sql);
  });
});
