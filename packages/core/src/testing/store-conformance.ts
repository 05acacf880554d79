import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type MemoryStore, rankingRecordFields } from '../contracts/memory-store.js';
import type { MemoryFilter, MemoryRecord, Relation } from '../contracts/model.js';
import { hashEmbedder } from '../embedding/hash-embedder.js';
import { matchesFilter } from '../filter/filter.js';
import { parseWhere } from '../filter/where.js';
import { Memory } from '../memory.js';
import { frequentTags, scanStatistics } from '../retrieval/statistics.js';
import { makeRecord, nearVector, seededVector } from './records.js';

export interface StoreConformanceOptions {
  /** Shown in test names, e.g. 'sqlite'. */
  name: string;
  /** A fresh, empty store for each test. */
  create: () => MemoryStore | Promise<MemoryStore>;
  /** Called after each test with the store it made (delete temp files, drop schemas…). */
  cleanup?: (store: MemoryStore) => void | Promise<void>;
  /** Set to a reason to skip the whole suite (e.g. 'POSTGRES_URL is not set'). */
  skip?: string;
}

const DIMENSIONS = 16;

function ids(records: ReadonlyArray<{ id: string }>): string[] {
  return records.map((record) => record.id).sort();
}

/** Records with varied fields: every filter case below is checked against `matchesFilter` on them. */
function filterFixture(): MemoryRecord[] {
  const base = Date.UTC(2025, 5, 1);
  const specs: Array<Partial<MemoryRecord>> = [
    {
      scope: { userId: 'alice' },
      type: 'error',
      subtype: 'bug',
      tags: ['db', 'urgent'],
      metadata: { priority: 5, status: 'open', team: { name: 'core' }, labels: ['x', 'y'] },
    },
    {
      scope: { userId: 'alice', agentId: 'coder' },
      type: 'learning',
      subtype: 'insight',
      tags: ['db'],
      metadata: { priority: 2, status: 'closed', note: 'contains a Needle here' },
    },
    { scope: { userId: 'bob' }, type: 'decision', subtype: 'architecture', tags: ['api'], metadata: { priority: '5', status: 'open' } },
    { scope: { userId: 'bob', runId: 'r1' }, type: 'observation', tags: [], metadata: { priority: 3.5, flag: true, due: '2025-03-01' } },
    {
      scope: {},
      type: 'pattern',
      subtype: 'workflow',
      tags: ['api', 'db', 'urgent'],
      metadata: { flag: false, maybe: null, due: '2024-12-31' },
    },
    {
      scope: { userId: 'alice' },
      type: 'error',
      subtype: 'timeout',
      tags: ['api'],
      metadata: { priority: 10, labels: ['y'], team: { name: 'infra' } },
      conversationId: 'c1',
    },
    { scope: { userId: 'carol' }, type: 'learning', subtype: 'gotcha', tags: ['urgent'], metadata: {}, conversationId: 'c1' },
    {
      scope: { userId: 'alice' },
      type: 'observation',
      tags: ['db'],
      metadata: { priority: 1, status: 'open' },
      supersededBy: 'someone-else',
    },
  ];
  return specs.map((spec, index) =>
    makeRecord({
      ...spec,
      content: `filter fixture record ${index} about databases and apis`,
      createdAt: new Date(base + index * 86_400_000),
    }),
  );
}

const filterCases: Array<[string, MemoryFilter]> = [
  ['no filter', {}],
  ['scope userId', { scope: { userId: 'alice' } }],
  ['scope userId + agentId', { scope: { userId: 'alice', agentId: 'coder' } }],
  ['scope runId', { scope: { runId: 'r1' } }],
  ['conversationId', { conversationId: 'c1' }],
  ['types', { types: ['error', 'decision'] }],
  ['subtypes', { subtypes: ['insight', 'workflow'] }],
  ['types OR subtypes', { types: ['error'], subtypes: ['gotcha'] }],
  ['tags any', { tags: { any: ['api', 'urgent'] } }],
  ['tags all', { tags: { all: ['db', 'urgent'] } }],
  ['tags any + all', { tags: { any: ['api'], all: ['urgent'] } }],
  ['after', { after: new Date(Date.UTC(2025, 5, 3)) }],
  ['before', { before: new Date(Date.UTC(2025, 5, 3)) }],
  ['after + before', { after: new Date(Date.UTC(2025, 5, 2)), before: new Date(Date.UTC(2025, 5, 5)) }],
  ['includeSuperseded', { includeSuperseded: true }],
  ['where eq number', { where: parseWhere({ priority: 5 }) }],
  ['where eq string', { where: parseWhere({ priority: '5' }) }],
  ['where eq boolean', { where: parseWhere({ flag: false }) }],
  ['where eq null', { where: parseWhere({ maybe: null }) }],
  ['where ne (missing matches)', { where: parseWhere({ status: { ne: 'open' } }) }],
  ['where gt number', { where: parseWhere({ priority: { gt: 3 } }) }],
  ['where gte/lte number', { where: parseWhere({ priority: { gte: 2, lte: 5 } }) }],
  ['where lt string (dates)', { where: parseWhere({ due: { lt: '2025-01-01' } }) }],
  ['where in', { where: parseWhere({ status: { in: ['open', 'pending'] } }) }],
  ['where in mixed types', { where: parseWhere({ priority: { in: [5, '5'] } }) }],
  ['where nin (missing matches)', { where: parseWhere({ status: { nin: ['open'] } }) }],
  ['where contains array', { where: parseWhere({ labels: { contains: 'y' } }) }],
  ['where contains string', { where: parseWhere({ note: { contains: 'Needle' } }) }],
  ['where contains is case-sensitive', { where: parseWhere({ note: { contains: 'needle' } }) }],
  ['where exists true (null counts)', { where: parseWhere({ maybe: { exists: true } }) }],
  ['where exists false', { where: parseWhere({ priority: { exists: false } }) }],
  ['where nested path', { where: parseWhere({ 'team.name': 'core' }) }],
  ['where or', { where: parseWhere({ or: [{ priority: { gt: 4 } }, { flag: true }] }) }],
  ['where not', { where: parseWhere({ not: { status: 'open' } }) }],
  [
    'where and + not + or',
    { where: parseWhere({ and: [{ priority: { exists: true } }, { not: { or: [{ priority: 10 }, { status: 'closed' }] } }] }) },
  ],
  [
    'everything at once',
    {
      scope: { userId: 'alice' },
      types: ['error'],
      tags: { any: ['api', 'db'] },
      after: new Date(Date.UTC(2025, 4, 1)),
      where: parseWhere({ priority: { gte: 5 } }),
    },
  ],
];

/**
 * The `MemoryStore` contract as executable cases. Run it against every adapter:
 *   runStoreConformance({ name: 'sqlite', create: () => sqliteStore({ path: tempFile() }) })
 */
export function runStoreConformance(options: StoreConformanceOptions): void {
  const suite = options.skip ? describe.skip : describe;
  suite(`MemoryStore conformance: ${options.name}${options.skip ? ` (skipped: ${options.skip})` : ''}`, () => {
    let store: MemoryStore;

    beforeEach(async () => {
      store = await options.create();
      await store.open();
    });
    afterEach(async () => {
      await store.close();
      await options.cleanup?.(store);
    });

    const withVectors = async () => {
      if (!store.capabilities.vectors || !store.vectors) return false;
      await store.setEmbedder({ id: 'conformance', dimensions: DIMENSIONS });
      await store.vectors.open(DIMENSIONS);
      return true;
    };

    describe('basics', () => {
      it('declares its contract version, name and capabilities', () => {
        expect(store.specificationVersion).toBe('v1');
        expect(store.name).toMatch(/\S/);
        expect(['bm25', 'none']).toContain(store.capabilities.lexical);
        expect(typeof store.capabilities.vectors).toBe('boolean');
        expect(Boolean(store.vectors)).toBe(store.capabilities.vectors);
      });

      it('opens idempotently', async () => {
        await store.open();
        await Promise.all([store.open(), store.open()]);
        expect(await store.count({})).toBe(0);
      });

      it('records the embedder', async () => {
        expect(await store.getEmbedder()).toBeNull();
        await store.setEmbedder({ id: 'hash-v1-16', dimensions: 16 });
        expect(await store.getEmbedder()).toEqual({ id: 'hash-v1-16', dimensions: 16 });
      });
    });

    describe('write and get', () => {
      it('round-trips every field', async () => {
        const record = makeRecord({
          content: 'Ünïcödé ✓ content with "quotes" and \'apostrophes\'',
          type: 'error',
          subtype: 'bug',
          tags: ['a', 'b-c'],
          metadata: { nested: { deep: [1, 'two', { three: true }] }, n: 1.5, nothing: null },
          scope: { userId: 'u', agentId: 'a', runId: 'r' },
          conversationId: 'conv',
          importance: 0.9,
          quality: 0.7,
          key: 'k1',
          source: 'unit-test',
          confidence: 0.8,
          emotion: 'joy',
          emotionalValence: -0.25,
          emotionalArousal: 0.5,
          episodeId: 'ep',
          sequenceNumber: 3,
          precedingMemoryId: 'prev',
          sourceType: 'user',
          credibility: 0.6,
          validTo: new Date(Date.UTC(2030, 0, 1)),
        });
        const [result] = await store.write([{ record }]);
        expect(result?.status).toBe('created');
        expect(result?.record).toEqual(record);
        expect(await store.get([record.id])).toEqual([record]);
      });

      it('returns nothing for unknown ids', async () => {
        expect(await store.get(['nope'])).toEqual([]);
        expect(await store.get([])).toEqual([]);
      });

      it('answers, from getRankingFields, the ranking fields get answers, after changes too', async (context) => {
        if (!store.getRankingFields) {
          return context.skip(`${store.name} has no getRankingFields (an optional method: search reads whole candidates instead)`);
        }
        const cut = (records: ReadonlyArray<Partial<Record<(typeof rankingRecordFields)[number], unknown>>>) =>
          new Map(
            records.map((record) => [
              record.id,
              Object.fromEntries(rankingRecordFields.filter((field) => record[field] !== undefined).map((field) => [field, record[field]])),
            ]),
          );
        const records = [
          makeRecord({ content: 'ranked plain', tags: ['a'], importance: 0.3 }),
          makeRecord({
            content: 'ranked scoped',
            scope: { userId: 'u', agentId: 'a' },
            conversationId: 'c',
            type: 'error',
            subtype: 'bug',
          }),
          makeRecord({ content: 'ranked derived', context: 'the turn before', contextSource: 'conversation', conversationId: 'c' }),
          makeRecord({ content: 'ranked gone' }),
        ];
        await store.write(records.map((record) => ({ record })));
        const ids = [...records.map((record) => record.id), 'nope'];
        expect(cut(await store.getRankingFields(ids))).toEqual(cut(await store.get(ids)));
        const at = new Date();
        await store.update(ids[0] as string, { content: 'ranked rewritten', tags: ['b'], importance: 0.8, updatedAt: at });
        await store.update(ids[1] as string, { supersededBy: ids[2] as string, validTo: at, updatedAt: at });
        await store.recordDecayScores?.([{ id: ids[2] as string, score: 0.25 }], at);
        await store.delete(ids[3] as string, at);
        const after = cut(await store.getRankingFields(ids));
        expect(after).toEqual(cut(await store.get(ids)));
        expect(after.get(ids[0])).toMatchObject({ content: 'ranked rewritten', importance: 0.8 });
        expect(after.has(ids[3])).toBe(false);
        expect(await store.getRankingFields([])).toEqual([]);
      });

      it('treats the same content hash in the same scope as a duplicate', async () => {
        const first = makeRecord({ content: 'same text', scope: { userId: 'u' } });
        const second = makeRecord({ content: 'same text', scope: { userId: 'u' } });
        const other = makeRecord({ content: 'same text', scope: { userId: 'v' } });
        const [a] = await store.write([{ record: first }]);
        const [b, c] = await store.write([{ record: second }, { record: other }]);
        expect(a?.status).toBe('created');
        expect(b?.status).toBe('duplicate');
        expect(b?.record.id).toBe(first.id);
        expect(c?.status).toBe('created');
        expect(await store.count({})).toBe(2);
      });

      it('checks items of one call against each other', async () => {
        const results = await store.write([
          { record: makeRecord({ content: 'twice in one batch' }) },
          { record: makeRecord({ content: 'twice in one batch' }) },
        ]);
        expect(results.map((result) => result.status)).toEqual(['created', 'duplicate']);
        expect(results[1]?.record.id).toBe(results[0]?.record.id);
      });

      it('updates in place when the key matches in the same scope', async () => {
        const original = makeRecord({ content: 'v1', key: 'setting', scope: { userId: 'u' }, tags: ['x'] });
        await store.write([{ record: original }]);
        const replacement = makeRecord({ content: 'v2', key: 'setting', scope: { userId: 'u' }, tags: ['y'], metadata: { v: 2 } });
        const [result] = await store.write([{ record: replacement }]);
        expect(result?.status).toBe('updated');
        expect(result?.record.id).toBe(original.id);
        expect(result?.record.createdAt).toEqual(original.createdAt);
        expect(result?.record.content).toBe('v2');
        expect(result?.record.tags).toEqual(['y']);
        expect(result?.record.metadata).toEqual({ v: 2 });
        const [again] = await store.write([
          { record: makeRecord({ content: 'v2', key: 'setting', scope: { userId: 'u' }, tags: ['y'], metadata: { v: 2 } }) },
        ]);
        expect(again?.status).toBe('duplicate');
        const [elsewhere] = await store.write([{ record: makeRecord({ content: 'v3', key: 'setting', scope: { userId: 'w' } }) }]);
        expect(elsewhere?.status).toBe('created');
        expect(await store.count({})).toBe(2);
      });

      it('never dedupes a keyed write by content onto another memory: it is an upsert by key', async () => {
        const scope = { userId: 'u' };
        const unkeyed = makeRecord({ content: 'same words', scope });
        const first = makeRecord({ content: 'same words', scope, key: 'first' });
        await store.write([{ record: unkeyed }]);
        const [a] = await store.write([{ record: first }]);
        expect(a?.status).toBe('created');
        expect(a?.record.id).toBe(first.id);
        expect(a?.record.key).toBe('first');
        // Another key with the same content, in the same call as a keyed update of the first.
        const second = makeRecord({ content: 'same words', scope, key: 'second' });
        const [b, c] = await store.write([{ record: second }, { record: makeRecord({ content: 'same words', scope, key: 'first' }) }]);
        expect(b?.status).toBe('created');
        expect(b?.record.key).toBe('second');
        expect(c?.status).toBe('duplicate');
        expect(c?.record.id).toBe(first.id);
        // An unkeyed write still dedupes onto the oldest live record with that content.
        const [d] = await store.write([{ record: makeRecord({ content: 'same words', scope }) }]);
        expect(d?.status).toBe('duplicate');
        expect(d?.record.id).toBe(unkeyed.id);
        expect(await store.count({})).toBe(3);
        const keys = (await store.list({}, { limit: 10 })).items.map((record) => record.key).sort();
        expect(keys).toEqual(['first', 'second', null].sort());
      });

      it('keeps a context (optional), searches it below the content and replaces it with a keyed update', async (test) => {
        const record = makeRecord({ content: 'the answer is forty-two', context: 'what is the meaning of life', key: 'answer' });
        const [result] = await store.write([{ record }]);
        if (result?.record.context === undefined) return test.skip(`${store.name} does not keep a memory's context (an optional field)`);
        expect(result.record).toEqual(record);
        expect(await store.get([record.id])).toEqual([record]);
        if (store.lexicalSearch) {
          const inContent = makeRecord({ content: 'the meaning of life, explained' });
          const fillers = ['tides and moons', 'a quiet harbour', 'ropes on the deck'].map((content) => makeRecord({ content }));
          await store.write([inContent, ...fillers].map((item) => ({ record: item })));
          const order = (await store.lexicalSearch('meaning of life', {}, 5)).map((match) => match.id);
          expect(order).toEqual([inContent.id, record.id]);
        }
        const [same] = await store.write([{ record: makeRecord({ content: record.content, context: record.context, key: 'answer' }) }]);
        expect(same?.status).toBe('duplicate');
        const [changed] = await store.write([
          { record: makeRecord({ content: record.content, context: 'a new question', key: 'answer' }) },
        ]);
        expect(changed?.status).toBe('updated');
        expect(changed?.record.context).toBe('a new question');
        if (store.lexicalSearch) {
          expect(ids(await store.lexicalSearch('question', {}, 5))).toEqual([record.id]);
          expect(ids(await store.lexicalSearch('life', {}, 5))).not.toContain(record.id);
        }
        const [cleared] = await store.write([{ record: makeRecord({ content: record.content, key: 'answer' }) }]);
        expect(cleared?.status).toBe('updated');
        expect((await store.get([record.id]))[0]).not.toHaveProperty('context');
      });

      it('finds live records by hash', async () => {
        const record = makeRecord({ content: 'hash me', scope: { userId: 'u' } });
        await store.write([{ record }]);
        expect(ids(await store.findByHashes({ userId: 'u' }, [record.contentHash, 'other']))).toEqual([record.id]);
        expect(await store.findByHashes({ userId: 'v' }, [record.contentHash])).toEqual([]);
        await store.delete(record.id, new Date());
        expect(await store.findByHashes({ userId: 'u' }, [record.contentHash])).toEqual([]);
      });

      it('finds live records by hash in several scopes at once, as findByHashes does scope by scope', async (context) => {
        if (!store.findByHashesInScopes) return context.skip(`${store.name} has no findByHashesInScopes (an optional method)`);
        const shared = makeRecord({ content: 'said by both', scope: { userId: 'u' } });
        const other = makeRecord({ content: 'said by both', scope: { userId: 'v' } });
        const own = makeRecord({ content: 'only v said this', scope: { userId: 'v', agentId: 'a' } });
        const global = makeRecord({ content: 'said to everyone', scope: {} });
        const gone = makeRecord({ content: 'deleted later', scope: { userId: 'u' } });
        await store.write([shared, other, own, global, gone].map((record) => ({ record })));
        await store.delete(gone.id, new Date());
        const groups = [
          { scope: { userId: 'u' }, hashes: [shared.contentHash, own.contentHash, gone.contentHash, shared.contentHash] },
          { scope: { userId: 'v' }, hashes: [shared.contentHash] },
          { scope: { userId: 'w' }, hashes: [shared.contentHash] },
          { scope: { userId: 'v', agentId: 'a' }, hashes: ['other', own.contentHash] },
          { scope: {}, hashes: [global.contentHash] },
          { scope: { userId: 'u' }, hashes: [] },
        ];
        const answers = await store.findByHashesInScopes(groups);
        expect(answers.map(ids)).toEqual([[shared.id], [other.id], [], [own.id], [global.id], []]);
        for (const [index, group] of groups.entries())
          expect(ids(answers[index] ?? []).sort()).toEqual(ids(await store.findByHashes(group.scope, group.hashes)).sort());
        expect(answers[0]?.[0]).toEqual((await store.get([shared.id]))[0]);
        expect(await store.findByHashesInScopes([])).toEqual([]);
      });

      it('is atomic: a failing item writes nothing', async (context) => {
        if (!(await withVectors())) return context.skip(`${store.name} has no built-in vector index to make an item fail with`);
        const good = makeRecord({ content: 'good one' });
        const bad = makeRecord({ content: 'bad one' });
        await expect(
          store.write([
            { record: good, vector: seededVector(1, DIMENSIONS) },
            { record: bad, vector: seededVector(2, DIMENSIONS + 3) },
          ]),
        ).rejects.toThrow();
        expect(await store.count({})).toBe(0);
        expect(await store.get([good.id])).toEqual([]);
        expect(await store.vectors?.count()).toBe(0);
      });
    });

    describe('update and delete', () => {
      it('patches a live record', async () => {
        const record = makeRecord({ content: 'before', tags: ['old'] });
        await store.write([{ record }]);
        const at = new Date(record.createdAt.getTime() + 5000);
        const updated = await store.update(record.id, {
          content: 'after',
          contentHash: 'h2',
          tags: ['new'],
          metadata: { a: 1 },
          importance: 0.9,
          updatedAt: at,
        });
        expect(updated).toMatchObject({
          id: record.id,
          content: 'after',
          contentHash: 'h2',
          tags: ['new'],
          metadata: { a: 1 },
          importance: 0.9,
          updatedAt: at,
        });
        expect((await store.get([record.id]))[0]).toEqual(updated);
        expect(await store.update('unknown', { updatedAt: at })).toBeNull();
      });

      it('soft-deletes: nothing leaks through get, list, count or search', async () => {
        const hasVectors = await withVectors();
        const keep = makeRecord({ content: 'zebra keep this one' });
        const gone = makeRecord({ content: 'zebra delete this one' });
        await store.write([
          { record: keep, ...(hasVectors ? { vector: seededVector(10, DIMENSIONS) } : {}) },
          { record: gone, ...(hasVectors ? { vector: seededVector(11, DIMENSIONS) } : {}) },
        ]);
        expect(await store.delete(gone.id, new Date())).toBe(true);
        expect(await store.delete(gone.id, new Date())).toBe(false);
        expect(await store.delete('unknown', new Date())).toBe(false);
        expect(await store.get([gone.id])).toEqual([]);
        expect(ids((await store.list({}, { limit: 10 })).items)).toEqual([keep.id]);
        expect(await store.count({})).toBe(1);
        expect(await store.update(gone.id, { updatedAt: new Date() })).toBeNull();
        if (store.lexicalSearch) expect(ids(await store.lexicalSearch('zebra delete', {}, 10))).toEqual([keep.id]);
        if (hasVectors && store.vectors) {
          expect(ids(await store.vectors.search(seededVector(11, DIMENSIONS), 10, {}))).toEqual([keep.id]);
        }
        const withDeleted = await store.list({}, { limit: 10, includeDeleted: true });
        expect(ids(withDeleted.items)).toEqual(ids([keep, gone]));
        expect(withDeleted.items.find((item) => item.id === gone.id)?.deletedAt).toBeInstanceOf(Date);
      });

      it('hides superseded records unless asked', async () => {
        const old = makeRecord({ content: 'the sky is green' });
        const fresh = makeRecord({ content: 'the sky is blue' });
        await store.write([{ record: old }, { record: fresh }]);
        await store.update(old.id, { supersededBy: fresh.id, validTo: new Date(), updatedAt: new Date() });
        expect(ids((await store.list({}, { limit: 10 })).items)).toEqual([fresh.id]);
        expect(await store.count({ includeSuperseded: true })).toBe(2);
        if (store.lexicalSearch) {
          expect(ids(await store.lexicalSearch('sky', {}, 10))).toEqual([fresh.id]);
          expect(ids(await store.lexicalSearch('sky', { includeSuperseded: true }, 10))).toEqual(ids([old, fresh]));
        }
        expect(await store.get([old.id])).toHaveLength(1);
      });
    });

    describe('apply (several operations in one transaction)', () => {
      const edge = (sourceId: string, targetId: string, type: string): Relation => ({
        sourceId,
        targetId,
        type,
        weight: 1,
        confidence: 1,
        metadata: {},
        inferred: false,
        createdAt: new Date(Date.UTC(2025, 0, 1)),
        updatedAt: new Date(Date.UTC(2025, 0, 1)),
      });
      /** Everything a batch can change, to compare a store before and after a failed one. */
      const snapshot = async (ids: string[]) => ({
        records: (await store.list({}, { limit: 100, includeDeleted: true })).items,
        histories: await Promise.all(ids.map((id) => store.history(id))),
        relations: await store.relationsOf(ids, { direction: 'both' }),
        lexical: store.lexicalSearch ? await store.lexicalSearch('harbour pilot', {}, 10) : [],
        vectors: store.vectors && (await store.getEmbedder()) ? await store.vectors.count() : 0,
      });

      it('applies writes, updates, deletes and relation changes in order, answering each by position', async (context) => {
        if (!store.apply) return context.skip(`${store.name} has no apply (an optional method)`);
        const kept = makeRecord({ content: 'kept and edited' });
        const dropped = makeRecord({ content: 'dropped' });
        await store.write([{ record: kept }, { record: dropped }]);
        await store.upsertRelation(edge(kept.id, dropped.id, 'related'));
        const fresh = makeRecord({ content: 'fresh' });
        const at = new Date(kept.createdAt.getTime() + 60_000);
        const results = await store.apply([
          { kind: 'write', items: [{ record: fresh }] },
          { kind: 'update', id: kept.id, patch: { content: 'kept, now edited', updatedAt: at }, reason: 'edited in a batch' },
          { kind: 'upsertRelation', relation: edge(fresh.id, kept.id, 'follows') },
          { kind: 'removeRelations', sourceId: kept.id, targetId: dropped.id },
          { kind: 'delete', id: dropped.id, at },
          { kind: 'update', id: 'no-such-memory', patch: { importance: 1, updatedAt: at } },
          { kind: 'delete', id: 'no-such-memory', at },
        ]);
        expect(results.map((result) => result.kind)).toEqual([
          'write',
          'update',
          'upsertRelation',
          'removeRelations',
          'delete',
          'update',
          'delete',
        ]);
        expect(results[0]).toMatchObject({ results: [{ status: 'created', record: { id: fresh.id } }] });
        expect(results[1]).toMatchObject({ record: { id: kept.id, content: 'kept, now edited' } });
        expect(results[2]).toMatchObject({ created: true, relation: { sourceId: fresh.id, targetId: kept.id, type: 'follows' } });
        expect(results[3]).toMatchObject({ removed: [{ type: 'related' }] });
        expect(results[4]).toEqual({ kind: 'delete', deleted: true });
        expect(results[5]).toEqual({ kind: 'update', record: null });
        expect(results[6]).toEqual({ kind: 'delete', deleted: false });
        expect(ids(await store.list({}, { limit: 10 }).then((page) => page.items))).toEqual(ids([kept, fresh]));
        expect((await store.history(kept.id)).at(-1)).toMatchObject({ event: 'updated', reason: 'edited in a batch' });
        expect((await store.history(dropped.id)).at(-1)?.event).toBe('deleted');
        const edges = await store.relationsOf([kept.id], { direction: 'both' });
        expect(edges.map((relation) => `${relation.sourceId}-${relation.type}-${relation.targetId}`)).toEqual([
          `${fresh.id}-follows-${kept.id}`,
        ]);
        expect(await store.apply([])).toEqual([]);
      });

      it('reads the ids a write resolved to (a duplicate, a keyed update) as those records in later operations', async (context) => {
        if (!store.apply) return context.skip(`${store.name} has no apply (an optional method)`);
        const existing = makeRecord({ content: 'already here' });
        const keyed = makeRecord({ content: 'version one', key: 'doc:1' });
        await store.write([{ record: existing }, { record: keyed }]);
        const again = makeRecord({ content: 'already here' });
        const nextVersion = makeRecord({ content: 'version two', key: 'doc:1' });
        const at = new Date(keyed.createdAt.getTime() + 60_000);
        const results = await store.apply([
          { kind: 'write', items: [{ record: again }, { record: nextVersion }] },
          { kind: 'upsertRelation', relation: edge(nextVersion.id, again.id, 'supports') },
          { kind: 'update', id: again.id, patch: { importance: 0.9, updatedAt: at }, required: true },
        ]);
        expect(results[0]).toMatchObject({
          results: [
            { status: 'duplicate', record: { id: existing.id } },
            { status: 'updated', record: { id: keyed.id } },
          ],
        });
        expect(results[1]).toMatchObject({ relation: { sourceId: keyed.id, targetId: existing.id } });
        expect(results[2]).toMatchObject({ record: { id: existing.id, importance: 0.9 } });
        expect(await store.count({})).toBe(2);
      });

      it('applies nothing when an operation fails half-way', async (context) => {
        if (!store.apply) return context.skip(`${store.name} has no apply (an optional method)`);
        const vectors = await withVectors();
        const vector = (seed: number) => (vectors ? { vector: seededVector(seed, DIMENSIONS) } : {});
        const first = makeRecord({ content: 'the harbour pilot boards at dawn', key: 'pilot' });
        const second = makeRecord({ content: 'the lighthouse keeper' });
        await store.write([
          { record: first, ...vector(1) },
          { record: second, ...vector(2) },
        ]);
        await store.upsertRelation(edge(first.id, second.id, 'related'));
        const before = await snapshot([first.id, second.id]);
        const added = makeRecord({ content: 'a second harbour pilot boards at noon' });
        const at = new Date(first.createdAt.getTime() + 60_000);
        await expect(
          store.apply([
            { kind: 'write', items: [{ record: added, ...vector(3) }] },
            { kind: 'write', items: [{ record: makeRecord({ content: 'the harbour pilot retired', key: 'pilot' }), ...vector(4) }] },
            { kind: 'update', id: second.id, patch: { supersededBy: added.id, validTo: at, updatedAt: at }, reason: 'replaced' },
            { kind: 'upsertRelation', relation: edge(added.id, second.id, 'contradicts') },
            { kind: 'removeRelations', sourceId: first.id, targetId: second.id },
            { kind: 'delete', id: first.id, at },
            { kind: 'update', id: 'no-such-memory', patch: { importance: 1, updatedAt: at }, required: true },
          ]),
        ).rejects.toMatchObject({ code: 'NOT_FOUND' });
        expect(await snapshot([first.id, second.id])).toEqual(before);
        expect(await store.get([added.id])).toEqual([]);
        expect(await store.history(added.id)).toEqual([]);
        // The store is usable afterwards, and a required delete of an unknown id fails the same way.
        await expect(
          store.apply([
            { kind: 'write', items: [{ record: added, ...vector(3) }] },
            { kind: 'delete', id: 'no-such-memory', at, required: true },
          ]),
        ).rejects.toMatchObject({ code: 'NOT_FOUND' });
        expect(await store.get([added.id])).toEqual([]);
        const [written] = await store.apply([{ kind: 'write', items: [{ record: added, ...vector(3) }] }]);
        expect(written).toMatchObject({ results: [{ status: 'created' }] });
      });

      it('checks every vector before writing anything', async (context) => {
        if (!store.apply) return context.skip(`${store.name} has no apply (an optional method)`);
        if (!(await withVectors())) return context.skip(`${store.name} has no built-in vector index to make an item fail with`);
        const record = makeRecord({ content: 'written first' });
        const other = makeRecord({ content: 'updated second' });
        await store.write([{ record: other }]);
        await expect(
          store.apply([
            { kind: 'write', items: [{ record, vector: seededVector(1, DIMENSIONS) }] },
            { kind: 'update', id: other.id, patch: { updatedAt: new Date() }, vector: seededVector(2, DIMENSIONS + 1) },
          ]),
        ).rejects.toThrow();
        expect(await store.get([record.id])).toEqual([]);
        expect(await store.vectors?.count()).toBe(0);
      });

      it('rejects an unknown operation before writing anything', async (context) => {
        if (!store.apply) return context.skip(`${store.name} has no apply (an optional method)`);
        const record = makeRecord({ content: 'never written' });
        await expect(store.apply([{ kind: 'write', items: [{ record }] }, { kind: 'explode' } as never])).rejects.toMatchObject({
          code: 'VALIDATION_ERROR',
          field: 'operations.1.kind',
        });
        expect(await store.count({})).toBe(0);
      });
    });

    describe('list and count', () => {
      it('pages newest first with a cursor, without gaps or repeats', async () => {
        const sameInstant = new Date(Date.UTC(2025, 1, 1));
        const records = Array.from({ length: 23 }, (_, index) =>
          makeRecord({ content: `page item ${index}`, ...(index % 5 === 0 ? { createdAt: sameInstant } : {}) }),
        );
        await store.write(records.map((record) => ({ record })));
        const seen: MemoryRecord[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.list({}, { limit: 5, ...(cursor ? { cursor } : {}) });
          seen.push(...page.items);
          cursor = page.nextCursor ?? undefined;
          pages += 1;
        } while (cursor && pages < 20);
        expect(pages).toBe(5);
        expect(seen.map((record) => record.id)).toEqual(
          [...records].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1)).map((record) => record.id),
        );
      });

      it('rejects a cursor it did not issue', async () => {
        await expect(store.list({}, { limit: 5, cursor: 'not-a-cursor' })).rejects.toThrow(/cursor/);
      });

      it.for(filterCases)('list and count agree with the reference filter: %s', async ([, filter]) => {
        const fixture = filterFixture();
        await store.write(fixture.map((record) => ({ record })));
        const expected = ids(fixture.filter((record) => matchesFilter(record, filter)));
        expect(ids((await store.list(filter, { limit: 100 })).items)).toEqual(expected);
        expect(await store.count(filter)).toBe(expected.length);
        if (store.lexicalSearch) expect(ids(await store.lexicalSearch('databases apis', filter, 100))).toEqual(expected);
      });

      it('filters by ids', async () => {
        const fixture = filterFixture();
        await store.write(fixture.map((record) => ({ record })));
        const wanted = [fixture[0]?.id, fixture[2]?.id, 'unknown'] as string[];
        expect(ids((await store.list({ ids: wanted }, { limit: 10 })).items)).toEqual(ids([fixture[0], fixture[2]] as MemoryRecord[]));
      });
    });

    describe('distinct metadata values', () => {
      it('answers each distinct value of one field among the matching live records, typed as stored', async (context) => {
        if (!store.distinctMetadata) {
          return context.skip(`${store.name} has no distinctMetadata (an optional method: core reads every matching record instead)`);
        }
        const user = { userId: 'distinct-user' };
        const namespaced = (content: string, langgraph: unknown, extra: Record<string, unknown> = {}, scope = user) =>
          makeRecord({ content, scope, metadata: { langgraph, ...extra } });
        const deleted = namespaced('deleted one', { namespace: ['deleted'] });
        await store.write(
          [
            namespaced('ada prefs', { namespace: ['users', 'ada'] }, { kind: 'prefs' }),
            namespaced('ada notes', { namespace: ['users', 'ada'] }),
            namespaced('bob prefs', { namespace: ['users', 'bob'] }, { kind: 'prefs' }),
            namespaced('a string', { namespace: 'users' }),
            namespaced('a number', { namespace: 1 }),
            namespaced('a numeric string', { namespace: '1' }),
            namespaced('a null', { namespace: null }),
            namespaced('no namespace', {}),
            namespaced('an array on the path', [{ namespace: ['inside', 'array'] }]),
            namespaced('other user', { namespace: ['other'] }, {}, { userId: 'someone-else' }),
            deleted,
          ].map((record) => ({ record })),
        );
        await store.delete(deleted.id, new Date());
        const sorted = (values: unknown[]) => values.map((value) => JSON.stringify(value)).sort();
        const path = ['langgraph', 'namespace'];
        expect(sorted(await store.distinctMetadata(path, { scope: user }))).toEqual(
          sorted([['users', 'ada'], ['users', 'bob'], 'users', 1, '1', null]),
        );
        const prefs: MemoryFilter = { scope: user, where: parseWhere({ kind: 'prefs' }) };
        expect(sorted(await store.distinctMetadata(path, prefs))).toEqual(
          sorted([
            ['users', 'ada'],
            ['users', 'bob'],
          ]),
        );
        expect(await store.distinctMetadata(['nowhere'], { scope: user })).toEqual([]);
      });
    });

    describe('statistics', () => {
      it('answers the counts a scan of the matching records gives', async (context) => {
        if (!store.statistics) {
          return context.skip(`${store.name} has no statistics (an optional method: core reads every matching record instead)`);
        }
        const types = [
          ['error', 'bug'],
          ['error', null],
          ['learning', 'insight'],
          ['observation', null],
          ['decision', 'tool_choice'],
        ] as const;
        const day = 86_400_000;
        const base = Date.UTC(2025, 2, 10, 5);
        const records = Array.from({ length: 60 }, (_, index) => {
          const [type, subtype] = types[index % types.length] as (typeof types)[number];
          const scope = {
            ...(index % 4 !== 0 ? { userId: `user-${index % 3}` } : {}),
            ...(index % 5 === 0 ? { agentId: `agent-${index % 2}` } : {}),
          };
          // Some at a day's last millisecond and the next one's first: the day boundary is exact.
          const createdAt = new Date(
            index % 7 === 0 ? base + (index % 3) * day - 5 * 3_600_000 - 1 : base - (index % 9) * day + index * 1000,
          );
          return makeRecord({
            content: `statistics record ${index}`,
            type,
            subtype,
            scope,
            tags:
              index % 6 === 0
                ? []
                : [`t${index % 4}`, ...(index % 3 === 0 ? ['shared'] : []), ...(index % 11 === 0 ? [`rare${index}`] : [])],
            createdAt,
            updatedAt: createdAt,
          });
        });
        await store.write(records.map((record) => ({ record })));
        const at = new Date(base + 10 * day);
        const byIndex = (index: number) => records[index] as MemoryRecord;
        for (const index of [1, 8, 15])
          await store.update(byIndex(index).id, { supersededBy: byIndex(index + 1).id, validTo: at, updatedAt: at });
        for (const index of [2, 9]) await store.delete(byIndex(index).id, at);
        const link = (source: number, target: number, type: string): Relation => ({
          sourceId: byIndex(source).id,
          targetId: byIndex(target).id,
          type,
          weight: 1,
          confidence: 1,
          metadata: {},
          inferred: false,
          createdAt: at,
          updatedAt: at,
        });
        for (const edge of [
          link(3, 4, 'related'),
          link(3, 5, 'causes'),
          link(4, 3, 'related'),
          link(2, 3, 'fixes'),
          link(1, 6, 'supports'),
        ]) {
          await store.upsertRelation(edge);
        }
        await store.upsertRelation({ ...link(6, 7, 'related'), targetId: 'not-a-memory' });
        const sorted = (statistics: Awaited<ReturnType<typeof scanStatistics>>, tagLimit: number) => {
          const order = <Entry>(list: Entry[]) => [...list].map((entry) => JSON.stringify(entry)).sort();
          return {
            ...statistics,
            byType: order(statistics.byType),
            bySubtype: order(statistics.bySubtype),
            byUser: order(statistics.byUser),
            byAgent: order(statistics.byAgent),
            tags: order(frequentTags(statistics.tags, tagLimit)),
            createdPerDay: order(statistics.createdPerDay),
          };
        };
        const filters: MemoryFilter[] = [
          {},
          { includeSuperseded: true },
          { scope: { userId: 'user-1' }, includeSuperseded: true },
          { scope: { agentId: 'agent-0' } },
          { types: ['error'], tags: { any: ['t1', 'shared'] }, includeSuperseded: true },
        ];
        for (const filter of filters) {
          for (const options of [
            { createdSince: new Date(base - 3 * day), tagLimit: 2 },
            { createdSince: new Date(0), tagLimit: 20 },
          ]) {
            const expected = sorted(await scanStatistics(store, filter, options), options.tagLimit);
            expect(sorted(await store.statistics(filter, options), options.tagLimit), JSON.stringify({ filter, options })).toEqual(
              expected,
            );
          }
        }
        expect((await store.statistics({ includeSuperseded: true }, { createdSince: new Date(0), tagLimit: 20 })).total).toBe(58);
      });
    });

    describe('lexical search', () => {
      it('ranks the best match first', async (context) => {
        if (!store.lexicalSearch) return context.skip(`${store.name} has no lexical search`);
        await store.write([
          { record: makeRecord({ content: 'The deploy failed because the database migration timed out' }) },
          { record: makeRecord({ content: 'Lunch was pizza today' }) },
          { record: makeRecord({ content: 'Database backups run nightly' }) },
        ]);
        const matches = await store.lexicalSearch('database migration timeout', {}, 10);
        expect(matches.length).toBeGreaterThanOrEqual(1);
        expect((await store.get([matches[0]?.id as string]))[0]?.content).toMatch(/migration/);
        expect(matches.every((match, index) => index === 0 || (matches[index - 1] as { score: number }).score >= match.score)).toBe(true);
      });

      it('never throws on hostile query text', async (context) => {
        if (!store.lexicalSearch) return context.skip(`${store.name} has no lexical search`);
        await store.write([{ record: makeRecord({ content: 'plain searchable text about NEAR and OR words' }) }]);
        const hostile = [
          '"unbalanced quote',
          'col:value content:x',
          'a AND OR NOT b',
          'NEAR(a b)',
          '(((',
          ')))',
          '*',
          'prefix*',
          '-minus +plus ^caret',
          "'; DROP TABLE memories; --",
          '{}[]<>|\\/',
          '🙂 emoji only',
          '   ',
          '',
          'x'.repeat(10_240),
          'word '.repeat(2048),
          'NEAR and OR',
        ];
        for (const query of hostile) {
          await expect(store.lexicalSearch(query, {}, 5)).resolves.toBeInstanceOf(Array);
        }
        expect((await store.lexicalSearch('NEAR and OR', {}, 5)).length).toBe(1);
      });

      it('applies filters before the limit', async (context) => {
        if (!store.lexicalSearch) return context.skip(`${store.name} has no lexical search`);
        const noise = Array.from({ length: 300 }, (_, index) =>
          makeRecord({ content: `kafka kafka kafka consumer lag alert ${index}`, scope: { userId: 'noisy' } }),
        );
        const target = makeRecord({
          content: 'a long note that mentions kafka once among many other unrelated words here',
          scope: { userId: 'quiet' },
        });
        await store.write([...noise, target].map((record) => ({ record })));
        expect(ids(await store.lexicalSearch('kafka', { scope: { userId: 'quiet' } }, 5))).toEqual([target.id]);
        expect(
          ids(await store.lexicalSearch('kafka', { where: parseWhere({ missing: { exists: false } }), scope: { userId: 'quiet' } }, 1)),
        ).toEqual([target.id]);
      });
    });

    describe('vectors', () => {
      it('returns the k best vectors that match the filter, even with many better non-matching ones', async (context) => {
        if (!(await withVectors()) || !store.vectors) return context.skip(`${store.name} has no built-in vector index`);
        const query = seededVector(42, DIMENSIONS);
        const writes = Array.from({ length: 400 }, (_, index) => ({
          record: makeRecord({ content: `close vector ${index}`, scope: { userId: 'other' }, tags: ['noise'] }),
          vector: nearVector(query, 1000 + index, 0.05),
        }));
        const targets = Array.from({ length: 3 }, (_, index) => ({
          record: makeRecord({ content: `far vector ${index}`, scope: { userId: 'me' }, tags: ['wanted'], metadata: { rank: index } }),
          vector: nearVector(query, 5000 + index, 0.5 + index * 0.3),
        }));
        await store.write([...writes, ...targets]);
        const byScope = await store.vectors.search(query, 3, { scope: { userId: 'me' } });
        expect(byScope.map((match) => match.id)).toEqual(targets.map((target) => target.record.id));
        const byTag = await store.vectors.search(query, 2, { tags: { any: ['wanted'] } });
        expect(byTag.map((match) => match.id)).toEqual(targets.slice(0, 2).map((target) => target.record.id));
        const byWhere = await store.vectors.search(query, 5, { where: parseWhere({ rank: { gte: 1 } }) });
        expect(byWhere.map((match) => match.id)).toEqual(targets.slice(1).map((target) => target.record.id));
        const unfiltered = await store.vectors.search(query, 5);
        expect(unfiltered).toHaveLength(5);
        expect(unfiltered.every((match) => match.similarity > 0.9)).toBe(true);
      });

      it('keeps the vector in step with update and delete', async (context) => {
        if (!(await withVectors()) || !store.vectors) return context.skip(`${store.name} has no built-in vector index`);
        const record = makeRecord({ content: 'moving vector' });
        await store.write([{ record, vector: seededVector(1, DIMENSIONS) }]);
        await store.update(record.id, { content: 'moved vector', updatedAt: new Date() }, seededVector(2, DIMENSIONS));
        const [match] = await store.vectors.search(seededVector(2, DIMENSIONS), 1);
        expect(match?.id).toBe(record.id);
        expect(match?.similarity).toBeCloseTo(1, 4);
        await store.delete(record.id, new Date());
        expect(await store.vectors.search(seededVector(2, DIMENSIONS), 1)).toEqual([]);
      });

      it.for(filterCases)('vector search agrees with the reference filter: %s', async ([, filter], context) => {
        if (!(await withVectors()) || !store.vectors) return context.skip(`${store.name} has no built-in vector index`);
        const fixture = filterFixture();
        await store.write(fixture.map((record, index) => ({ record, vector: seededVector(index + 1, DIMENSIONS) })));
        const expected = ids(fixture.filter((record) => matchesFilter(record, filter)));
        expect(ids(await store.vectors.search(seededVector(99, DIMENSIONS), 100, filter))).toEqual(expected);
      });
    });

    describe('as of an instant', () => {
      it('hides later memories and undoes later supersessions', async () => {
        const t0 = Date.UTC(2025, 0, 1);
        const old = makeRecord({ content: 'asof the office is in Paris', createdAt: new Date(t0) });
        const fresh = makeRecord({ content: 'asof the office is in Berlin', createdAt: new Date(t0 + 10 * 86_400_000) });
        await store.write([{ record: old }, { record: fresh }]);
        await store.update(old.id, {
          supersededBy: fresh.id,
          validTo: new Date(t0 + 20 * 86_400_000),
          updatedAt: new Date(t0 + 20 * 86_400_000),
        });
        const at = (days: number): MemoryFilter => ({ asOf: new Date(t0 + days * 86_400_000) });
        expect(ids((await store.list(at(5), { limit: 10 })).items)).toEqual([old.id]);
        expect(ids((await store.list(at(15), { limit: 10 })).items)).toEqual(ids([old, fresh]));
        expect(ids((await store.list(at(25), { limit: 10 })).items)).toEqual([fresh.id]);
        expect(await store.count(at(15))).toBe(2);
        if (store.lexicalSearch) expect(ids(await store.lexicalSearch('asof office', at(15), 10))).toEqual(ids([old, fresh]));
      });
    });

    describe('relations', () => {
      const relation = (sourceId: string, targetId: string, type: string, overrides: Partial<Relation> = {}): Relation => ({
        sourceId,
        targetId,
        type,
        weight: 1,
        confidence: 1,
        metadata: {},
        inferred: false,
        createdAt: new Date(Date.UTC(2025, 0, 1)),
        updatedAt: new Date(Date.UTC(2025, 0, 1)),
        ...overrides,
      });

      it('upserts by (source, target, type): a pair may hold several types', async () => {
        const first = await store.upsertRelation(relation('a', 'b', 'causes', { weight: 0.5, metadata: { why: 'x' } }));
        expect(first.created).toBe(true);
        expect(first.relation).toEqual(relation('a', 'b', 'causes', { weight: 0.5, metadata: { why: 'x' } }));
        const later = new Date(Date.UTC(2025, 0, 2));
        const again = await store.upsertRelation(
          relation('a', 'b', 'causes', { weight: 0.9, confidence: 0.4, inferred: true, createdAt: later, updatedAt: later }),
        );
        expect(again.created).toBe(false);
        expect(again.relation).toMatchObject({ weight: 0.9, confidence: 0.4, inferred: true, metadata: {}, updatedAt: later });
        expect(again.relation.createdAt).toEqual(new Date(Date.UTC(2025, 0, 1)));
        await store.upsertRelation(relation('a', 'b', 'supports'));
        expect((await store.relationsOf(['a'], { direction: 'out' })).map((edge) => edge.type).sort()).toEqual(['causes', 'supports']);
      });

      it('finds edges by direction and type', async () => {
        await store.upsertRelation(relation('a', 'b', 'causes', { createdAt: new Date(1000) }));
        await store.upsertRelation(relation('c', 'a', 'fixes', { createdAt: new Date(2000) }));
        await store.upsertRelation(relation('b', 'c', 'follows', { createdAt: new Date(3000) }));
        const key = (edges: Relation[]) => edges.map((edge) => `${edge.sourceId}-${edge.type}-${edge.targetId}`);
        expect(key(await store.relationsOf(['a'], { direction: 'out' }))).toEqual(['a-causes-b']);
        expect(key(await store.relationsOf(['a'], { direction: 'in' }))).toEqual(['c-fixes-a']);
        expect(key(await store.relationsOf(['a'], { direction: 'both' }))).toEqual(['a-causes-b', 'c-fixes-a']);
        expect(key(await store.relationsOf(['a', 'b'], { direction: 'out' }))).toEqual(['a-causes-b', 'b-follows-c']);
        expect(key(await store.relationsOf(['a', 'b', 'c'], { direction: 'both', types: ['fixes', 'follows'] }))).toEqual([
          'c-fixes-a',
          'b-follows-c',
        ]);
        expect(await store.relationsOf([], { direction: 'both' })).toEqual([]);
      });

      it('removes edges of one type or of all types, in one direction', async () => {
        await store.upsertRelation(relation('a', 'b', 'causes'));
        await store.upsertRelation(relation('a', 'b', 'supports'));
        await store.upsertRelation(relation('b', 'a', 'causes'));
        expect((await store.removeRelations('a', 'b', 'causes')).map((edge) => edge.type)).toEqual(['causes']);
        expect((await store.removeRelations('a', 'b', 'causes')).length).toBe(0);
        expect((await store.removeRelations('a', 'b')).map((edge) => edge.type)).toEqual(['supports']);
        expect((await store.relationsOf(['a'], { direction: 'both' })).map((edge) => `${edge.sourceId}-${edge.targetId}`)).toEqual(['b-a']);
      });
    });

    describe('history', () => {
      it('records created, updated, superseded and deleted with old → new values', async () => {
        const t0 = Date.UTC(2025, 0, 1);
        const record = makeRecord({ content: 'history v1', tags: ['a'], createdAt: new Date(t0) });
        await store.write([{ record }]);
        await store.update(record.id, { content: 'history v2', contentHash: 'h2', tags: ['b'], updatedAt: new Date(t0 + 1000) });
        await store.update(record.id, { supersededBy: 'winner', validTo: new Date(t0 + 2000), updatedAt: new Date(t0 + 2000) }, undefined, {
          reason: 'newer fact',
        });
        await store.delete(record.id, new Date(t0 + 3000));
        const entries = await store.history(record.id);
        expect(entries.map((entry) => entry.event)).toEqual(['created', 'updated', 'superseded', 'deleted']);
        expect(entries.map((entry) => entry.at.getTime())).toEqual([t0, t0 + 1000, t0 + 2000, t0 + 3000]);
        expect(entries[0]?.changes.content).toEqual({ from: null, to: 'history v1' });
        expect(entries[1]?.changes).toMatchObject({ content: { from: 'history v1', to: 'history v2' }, tags: { from: ['a'], to: ['b'] } });
        expect(entries[1]?.changes.accessCount).toBeUndefined();
        expect(entries[2]?.changes.supersededBy).toEqual({ from: null, to: 'winner' });
        expect(entries[2]?.reason).toBe('newer fact');
        expect(entries[3]?.changes.deletedAt).toEqual({ from: null, to: new Date(t0 + 3000).toISOString() });
        expect(await store.history('unknown')).toEqual([]);
      });

      it('records a keyed update as updated', async () => {
        const original = makeRecord({ content: 'key v1', key: 'k' });
        await store.write([{ record: original }]);
        await store.write([{ record: makeRecord({ content: 'key v2', key: 'k' }) }]);
        const entries = await store.history(original.id);
        expect(entries.map((entry) => entry.event)).toEqual(['created', 'updated']);
        expect(entries[1]?.changes.content).toEqual({ from: 'key v1', to: 'key v2' });
      });

      it('does not record access statistics', async () => {
        const record = makeRecord({ content: 'quiet history' });
        await store.write([{ record }]);
        await store.recordAccess([record.id], new Date());
        expect((await store.history(record.id)).map((entry) => entry.event)).toEqual(['created']);
      });
    });

    describe('change log', () => {
      const edge = (sourceId: string, targetId: string, type: string, at: number): Relation => ({
        sourceId,
        targetId,
        type,
        weight: 0.5,
        confidence: 1,
        metadata: { why: 'log' },
        inferred: false,
        createdAt: new Date(at),
        updatedAt: new Date(at),
      });

      it('numbers every memory change and graph change in one sequence, with reasons', async (context) => {
        if (!store.changesSince) return context.skip(`${store.name} has no changesSince (an optional method)`);
        const start = (await store.changesSince(null, 0)).head;
        expect((await store.changesSince(null, 10)).entries).toEqual([]);
        const t0 = Date.UTC(2025, 0, 1);
        const a = makeRecord({ content: 'log a', createdAt: new Date(t0) });
        const b = makeRecord({ content: 'log b', createdAt: new Date(t0) });
        await store.write([{ record: a }, { record: b, reason: 'sync' }]);
        await store.upsertRelation(edge(a.id, b.id, 'causes', t0 + 1000));
        await store.upsertRelation(edge(a.id, b.id, 'causes', t0 + 2000), { reason: 'sync' });
        await store.update(b.id, { supersededBy: a.id, validTo: new Date(t0 + 3000), updatedAt: new Date(t0 + 3000) }, undefined, {
          reason: 'resolved',
        });
        expect((await store.removeRelations(a.id, b.id, 'causes', { reason: 'sync' })).length).toBe(1);
        await store.delete(a.id, new Date(t0 + 4000), { reason: 'sync' });

        const page = await store.changesSince(start, 100);
        expect(page.head).toBe(start + 7);
        expect(page.entries.map((entry) => entry.seq)).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => start + n));
        expect(page.entries.map((entry) => [entry.event, entry.memoryId, entry.reason])).toEqual([
          ['created', a.id, null],
          ['created', b.id, 'sync'],
          ['relation:added', a.id, null],
          ['relation:added', a.id, 'sync'],
          ['superseded', b.id, 'resolved'],
          ['relation:removed', a.id, 'sync'],
          ['deleted', a.id, 'sync'],
        ]);
        const added = page.entries[2];
        expect(added?.event === 'relation:added' && added.relation).toEqual(edge(a.id, b.id, 'causes', t0 + 1000));
        expect(added?.at).toEqual(new Date(t0 + 1000));
        const updated = page.entries[3];
        expect(updated?.event === 'relation:added' && updated.relation).toMatchObject({
          createdAt: new Date(t0 + 1000),
          updatedAt: new Date(t0 + 2000),
        });
        const removed = page.entries[5];
        expect(removed?.event === 'relation:removed' && removed.relation.type).toBe('causes');
        // Pages resume after the last sequence number read.
        const first = await store.changesSince(start, 3);
        const rest = await store.changesSince((first.entries.at(-1) as { seq: number }).seq, 100);
        expect([...first.entries, ...rest.entries].map((entry) => entry.seq)).toEqual(page.entries.map((entry) => entry.seq));
        // A memory's history leaves graph changes out.
        expect((await store.history(a.id)).map((entry) => entry.event)).toEqual(['created', 'deleted']);
      });

      it('erasure removes the graph changes of edges touching an erased memory', async (context) => {
        if (!store.changesSince || !store.purge) return context.skip(`${store.name} has no changesSince or no purge (optional methods)`);
        const start = (await store.changesSince(null, 0)).head;
        const kept = makeRecord({ content: 'log kept' });
        const erased = makeRecord({ content: 'log erased' });
        await store.write([{ record: kept }, { record: erased }]);
        await store.upsertRelation(edge(kept.id, erased.id, 'related', Date.UTC(2025, 0, 1)));
        await store.purge([erased.id]);
        const { entries } = await store.changesSince(start, 100);
        expect(entries.map((entry) => [entry.event, entry.memoryId])).toEqual([['created', kept.id]]);
      });

      it('keeps named values for capabilities (getMeta / setMeta)', async (context) => {
        if (!store.getMeta || !store.setMeta) return context.skip(`${store.name} has no getMeta/setMeta (optional methods)`);
        expect(await store.getMeta('sync:cursor')).toBeNull();
        await store.setMeta('sync:cursor', '42');
        await store.setMeta('sync:cursor', '43');
        await store.setMeta('embedder', 'not the real one');
        expect(await store.getMeta('sync:cursor')).toBe('43');
        expect(await store.getEmbedder()).toBeNull();
      });

      it('writes a named value inside apply, landing with the batch or not at all', async (context) => {
        if (!store.apply || !store.getMeta) return context.skip(`${store.name} has no apply or getMeta (optional methods)`);
        const record = makeRecord({ content: 'marked with its operation' });
        await store.write([{ record }]);
        const at = new Date(record.createdAt.getTime() + 60_000);
        const results = await store.apply([
          { kind: 'update', id: record.id, patch: { importance: 0.9, updatedAt: at } },
          { kind: 'setMeta', name: 'sync:replica:r1', value: '7' },
        ]);
        expect(results.map((result) => result.kind)).toEqual(['update', 'setMeta']);
        expect(await store.getMeta('sync:replica:r1')).toBe('7');
        // A failure later in the batch takes the value back with everything else.
        await expect(
          store.apply([
            { kind: 'update', id: record.id, patch: { importance: 0.1, updatedAt: at } },
            { kind: 'setMeta', name: 'sync:replica:r1', value: '8' },
            { kind: 'delete', id: 'no-such-memory', at, required: true },
          ]),
        ).rejects.toMatchObject({ code: 'NOT_FOUND' });
        expect(await store.getMeta('sync:replica:r1')).toBe('7');
        expect((await store.get([record.id]))[0]?.importance).toBe(0.9);
        await expect(store.apply([{ kind: 'setMeta', name: '', value: 'x' }])).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      });
    });

    describe('erasure log (sync)', () => {
      const hasLog = (target: MemoryStore) => Boolean(target.appendErasures && target.erasuresAfter && target.compactErasures);

      it('numbers appended entries from one sequence and pages them in order', async (context) => {
        if (!hasLog(store)) return context.skip(`${store.name} keeps no erasure log (optional methods)`);
        const log = store as Required<MemoryStore>;
        expect(await log.erasuresAfter(0, 10)).toEqual({ head: 0, horizon: 0, entries: [] });
        const at = new Date(Date.UTC(2025, 0, 1));
        expect(await log.appendErasures([{ ids: ['a', 'b'], origin: 'local' }], at)).toEqual([1]);
        expect(
          await log.appendErasures(
            [
              { ids: ['c'], origin: 'sync' },
              { ids: ['d'], origin: 'local' },
            ],
            at,
          ),
        ).toEqual([2, 3]);
        expect(await log.appendErasures([], at)).toEqual([]);
        const page = await log.erasuresAfter(1, 1);
        expect(page).toEqual({ head: 3, horizon: 0, entries: [{ seq: 2, ids: ['c'], origin: 'sync', at }] });
        expect((await log.erasuresAfter(0, 10)).entries.map((entry) => entry.seq)).toEqual([1, 2, 3]);
        expect((await log.erasuresAfter(3, 10)).entries).toEqual([]);
      });

      it('compacts a prefix of old entries, keeps numbering after it and reports the horizon', async (context) => {
        if (!hasLog(store)) return context.skip(`${store.name} keeps no erasure log (optional methods)`);
        const log = store as Required<MemoryStore>;
        const day = (n: number) => new Date(Date.UTC(2025, 0, n));
        await log.appendErasures([{ ids: ['a'], origin: 'local' }], day(1));
        await log.appendErasures([{ ids: ['b'], origin: 'local' }], day(2));
        await log.appendErasures([{ ids: ['c'], origin: 'local' }], day(5));
        // An older entry after a newer one (clocks of two processes) is not removed past the newer one.
        await log.appendErasures([{ ids: ['d'], origin: 'local' }], day(1));
        // `through` bounds it: entry 2 stays although old enough.
        expect(await log.compactErasures(1, day(3))).toBe(1);
        expect(await log.erasuresAfter(0, 10)).toMatchObject({ head: 4, horizon: 1 });
        expect(await log.compactErasures(10, day(3))).toBe(1);
        const page = await log.erasuresAfter(0, 10);
        expect(page.horizon).toBe(2);
        expect(page.entries.map((entry) => entry.ids)).toEqual([['c'], ['d']]);
        expect(await log.compactErasures(10, day(10))).toBe(2);
        expect(await log.erasuresAfter(0, 10)).toEqual({ head: 4, horizon: 4, entries: [] });
        expect(await log.appendErasures([{ ids: ['e'], origin: 'sync' }], day(11))).toEqual([5]);
        expect(await log.erasuresAfter(0, 10)).toMatchObject({ head: 5, horizon: 4, entries: [{ seq: 5, ids: ['e'] }] });
      });
    });

    describe('conversation context', () => {
      const contextOf = async (id: string) => (await store.get([id]))[0]?.context;
      const sourceOf = async (id: string) => (await store.get([id]))[0]?.contextSource;

      it('sets derived contexts only where the context is absent or derived, without history or updatedAt', async (test) => {
        if (!store.setDerivedContexts) return test.skip(`${store.name} has no setDerivedContexts (an optional method)`);
        const plain = makeRecord({ content: 'Bob: Luna and Oliver!' });
        const caller = makeRecord({ content: 'Bob: they are cats', context: 'the caller said so' });
        const derived = makeRecord({ content: 'Alice: lovely names', context: 'old turn', contextSource: 'conversation' });
        const gone = makeRecord({ content: 'deleted turn' });
        const [, , stored] = await store.write([plain, caller, derived, gone].map((record) => ({ record })));
        expect(stored?.record.contextSource).toBe('conversation');
        await store.delete(gone.id, new Date());
        const changed = await store.setDerivedContexts([
          { id: plain.id, context: 'Alice: what are your pets called?' },
          { id: caller.id, context: 'must not replace the caller context' },
          { id: derived.id, context: null },
          { id: gone.id, context: 'deleted: ignored' },
          { id: 'unknown-id', context: 'ignored' },
        ]);
        expect(changed).toBe(2);
        expect(await contextOf(plain.id)).toBe('Alice: what are your pets called?');
        expect(await sourceOf(plain.id)).toBe('conversation');
        expect(await contextOf(caller.id)).toBe('the caller said so');
        expect(await sourceOf(caller.id)).toBeUndefined();
        expect(await contextOf(derived.id)).toBeUndefined();
        expect(await sourceOf(derived.id)).toBeUndefined();
        expect((await store.get([plain.id]))[0]?.updatedAt).toEqual(plain.updatedAt);
        expect((await store.history(plain.id)).map((entry) => entry.event)).toEqual(['created']);
        if (store.lexicalSearch) expect(ids(await store.lexicalSearch('pets called', {}, 5))).toEqual([plain.id]);
        expect(await store.setDerivedContexts([{ id: plain.id, context: 'Alice: what are your pets called?' }])).toBe(0);
      });

      it('gives conversation turns the preceding turns as context through Memory (one by one, batched, out of order)', async (test) => {
        if (!store.setDerivedContexts) return test.skip(`${store.name} has no setDerivedContexts (an optional method)`);
        const memory = new Memory({ store, embedder: hashEmbedder(), logger: false });
        const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 10, minute));
        const scope = { userId: 'u1' };
        const turn = (content: string, minute: number, extra: Record<string, unknown> = {}) => ({
          content,
          scope,
          conversationId: 'chat-1',
          createdAt: at(minute),
          ...extra,
        });
        const first = (await memory.add(turn('Alice: do you have pets?', 0))).memory;
        expect(first.context).toBeUndefined();
        const second = (await memory.add(turn('Bob: two cats', 2))).memory;
        expect(second.context).toBe('Alice: do you have pets?');
        expect(second.contextSource).toBe('conversation');
        const batch = await memory.addMany([turn('Alice: names?', 4), turn('Bob: Luna and Oliver!', 6)]);
        expect(batch[1]?.memory.context).toBe('Bob: two cats\nAlice: names?');
        // Another scope and another conversation never lend their turns.
        const other = await memory.addMany([
          turn('Mallory: secret plans', 5, { scope: { userId: 'u2' } }),
          turn('Carol: hello', 7, { conversationId: 'chat-2' }),
        ]);
        expect(other[0]?.memory.context).toBeUndefined();
        expect(other[1]?.memory.context).toBeUndefined();
        // A caller's context is kept as given; `conversationContext: false` derives nothing.
        const given = (await memory.add(turn('Bob: they sleep a lot', 8, { context: 'about the cats' }))).memory;
        expect(given.context).toBe('about the cats');
        expect(given.contextSource).toBeUndefined();
        const off = new Memory({ store, embedder: hashEmbedder(), logger: false, conversationContext: false });
        expect((await off.add(turn('Alice: same here', 9))).memory.context).toBeUndefined();
        // A turn that lands between stored turns gets its predecessors, and the turns after it are re-derived.
        const late = (await memory.add(turn('Alice: what breed?', 3))).memory;
        expect(late.context).toBe('Alice: do you have pets?\nBob: two cats');
        expect(await contextOf(batch[0]?.memory.id as string)).toBe('Bob: two cats\nAlice: what breed?');
        expect(await contextOf(batch[1]?.memory.id as string)).toBe('Alice: what breed?\nAlice: names?');
        expect(await contextOf(given.id)).toBe('about the cats');
        // Same createdAt: sequenceNumber orders the turns.
        const tied = await memory.addMany([
          turn('Dan: third', 30, { conversationId: 'chat-3', sequenceNumber: 3 }),
          turn('Dan: first', 30, { conversationId: 'chat-3', sequenceNumber: 1 }),
          turn('Dan: second', 30, { conversationId: 'chat-3', sequenceNumber: 2 }),
        ]);
        expect(tied.map((result) => result.memory.context)).toEqual(['Dan: first\nDan: second', undefined, 'Dan: first']);
        if (store.lexicalSearch) {
          const hits = await memory.search('names', { scope, mode: 'lexical', limit: 5, minScore: 0 });
          expect(hits.map((hit) => hit.memory.content)).toContain('Bob: Luna and Oliver!');
        }
      });

      it('re-derives contexts for memories written without them (reindexContext)', async (test) => {
        if (!store.setDerivedContexts) return test.skip(`${store.name} has no setDerivedContexts (an optional method)`);
        const old = new Memory({ store, embedder: hashEmbedder(), logger: false, conversationContext: false });
        const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 10, minute));
        const written = await old.addMany([
          { content: 'Alice: where do you live?', conversationId: 'c', createdAt: at(0) },
          { content: 'Bob: in Lisbon', conversationId: 'c', createdAt: at(1) },
          { content: 'Bob: near the river', conversationId: 'c', createdAt: at(2), context: 'kept' },
          { content: 'not in a conversation', createdAt: at(3) },
        ]);
        expect(written.every((result) => result.memory.context === undefined || result.memory.context === 'kept')).toBe(true);
        const memory = new Memory({ store, embedder: hashEmbedder(), logger: false, conversationContext: { turns: 1 } });
        expect(await memory.reindexContext()).toEqual({ conversations: 1, memories: 3, updated: 1 });
        expect(await contextOf(written[1]?.memory.id as string)).toBe('Alice: where do you live?');
        expect(await contextOf(written[2]?.memory.id as string)).toBe('kept');
        expect(await memory.reindexContext({ conversationId: 'c' })).toEqual({ conversations: 1, memories: 3, updated: 0 });
        expect(await old.reindexContext()).toEqual({ conversations: 1, memories: 3, updated: 1 });
        expect(await contextOf(written[1]?.memory.id as string)).toBeUndefined();
        await expect(memory.reindexContext({ conversationId: '' })).rejects.toThrow(/conversationId/);
      });
    });

    describe('re-wrapping (key rotation)', () => {
      it('replaces stored content, context and metadata with no history entry (optional)', async (context) => {
        if (!store.rewrapContent) return context.skip(`${store.name} has no rewrapContent (an optional method)`);
        const record = makeRecord({ content: 'wrapped under key A', context: 'context under A', metadata: { secret: 'A', plain: 1 } });
        await store.write([{ record }]);
        const historyBefore = await store.history(record.id);
        expect(await store.rewrapContent(record.id, { content: 'wrapped under key B', metadata: { secret: 'B', plain: 1 } })).toBe(true);
        const [after] = await store.get([record.id]);
        expect(after?.content).toBe('wrapped under key B');
        expect(after?.metadata).toEqual({ secret: 'B', plain: 1 });
        if (after?.context !== undefined) expect(after.context).toBe('context under A');
        expect(after?.updatedAt).toEqual(record.updatedAt);
        expect(await store.history(record.id)).toEqual(historyBefore);
        expect(await store.rewrapContent('no-such-memory', { content: 'x' })).toBe(false);
      });
    });

    describe('erasure', () => {
      it('purge removes records in any state with their history, edges, vectors and index entries', async (context) => {
        if (!store.purge) return context.skip(`${store.name} has no purge(): it cannot erase`);
        const vectors = await withVectors();
        const live = makeRecord({ content: 'erase the zebra secret', scope: { userId: 'alice' } });
        const deleted = makeRecord({ content: 'erase the deleted zebra', scope: { userId: 'alice' } });
        const kept = makeRecord({ content: 'keep the zebra note', scope: { userId: 'bob' } });
        const write = (record: MemoryRecord, seed: number) => (vectors ? { record, vector: seededVector(seed, DIMENSIONS) } : { record });
        await store.write([write(live, 1), write(deleted, 2), write(kept, 3)]);
        await store.update(live.id, { content: 'erase the zebra secret v2', updatedAt: new Date() });
        await store.delete(deleted.id, new Date());
        const now = new Date();
        const edge = (sourceId: string, targetId: string): Relation => ({
          sourceId,
          targetId,
          type: 'related',
          weight: 1,
          confidence: 1,
          metadata: {},
          inferred: false,
          createdAt: now,
          updatedAt: now,
        });
        await store.upsertRelation(edge(live.id, kept.id));
        await store.upsertRelation(edge(kept.id, deleted.id));

        expect(await store.purge([live.id, deleted.id, 'unknown-id'])).toBe(2);

        expect(await store.get([live.id, deleted.id])).toEqual([]);
        const everything = await store.list({ includeSuperseded: true }, { limit: 100, includeDeleted: true });
        expect(ids(everything.items)).toEqual([kept.id]);
        expect(await store.history(live.id)).toEqual([]);
        expect(await store.history(deleted.id)).toEqual([]);
        expect((await store.history(kept.id)).length).toBe(1);
        expect(await store.relationsOf([kept.id], { direction: 'both' })).toEqual([]);
        if (store.lexicalSearch) expect(ids(await store.lexicalSearch('zebra', {}, 10))).toEqual([kept.id]);
        if (vectors && store.vectors) {
          expect((await store.vectors.search(seededVector(1, DIMENSIONS), 10)).map((match) => match.id)).toEqual([kept.id]);
        }
        expect(await store.purge([live.id])).toBe(0);
      });
    });

    describe('access statistics', () => {
      it('counts accesses without touching content or search', async () => {
        const record = makeRecord({ content: 'remember the access' });
        await store.write([{ record }]);
        const at = new Date(Date.UTC(2026, 0, 2));
        await store.recordAccess([record.id, record.id, 'unknown'], at);
        await store.recordAccess([record.id], at);
        const [after] = await store.get([record.id]);
        expect(after?.accessCount).toBe(3);
        expect(after?.lastAccessedAt).toEqual(at);
        expect(after?.content).toBe(record.content);
        expect(after?.updatedAt).toEqual(record.updatedAt);
        if (store.lexicalSearch) expect(ids(await store.lexicalSearch('access', {}, 5))).toEqual([record.id]);
      });
    });
  });
}
