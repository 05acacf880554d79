import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdapterError,
  cosineSimilarity,
  hashEmbedder,
  type MemoryFilter,
  type MemoryRecord,
  type MemoryStore,
  matchesFilter,
  parseWhere,
  ValidationError,
  type VectorIndex,
} from '@engram/core';
import { makeRecord, nearVector, seededVector } from '@engram/core/testing';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteSession } from './sqlite-session.js';
import { decodeSnapshot } from './sqlite-snapshot.js';
import { type SqliteStoreOptions, sqliteStore } from './sqlite-store.js';
import { dotProducts, kthSmallest, nearest, sparseDotProducts, syncVectorCache, vectorMirrorFloats } from './sqlite-vector-index.js';
import { maskedDistance } from './sqlite-vector-kernel.js';
import { decodeStoredVector, encodeStoredVector } from './sqlite-vector-storage.js';

const dimensions = 16;
const root = mkdtempSync(join(tmpdir(), 'engram-sqlite-vectors-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let store: MemoryStore;
let vectors: VectorIndex;
let counter = 0;

beforeEach(async () => {
  store = sqliteStore({ path: join(root, `vectors-${++counter}.db`) });
  await store.open();
  vectors = store.vectors as VectorIndex;
  await vectors.open(dimensions);
});
afterEach(() => store.close());

const ids = (matches: Array<{ id: string }>) => matches.map((match) => match.id);
/** A vector as the store keeps it (int8 with a scale): what its similarities are computed on. */
const storedForm = (vector: Float32Array) => decodeStoredVector(encodeStoredVector(vector), vector.length) as Float32Array;
const others: MemoryStore[] = [];
afterEach(async () => {
  for (const other of others.splice(0)) await other.close();
});

/** A second connection to the current test's file. */
async function reopened(options: Partial<SqliteStoreOptions> = {}): Promise<VectorIndex> {
  const other = sqliteStore({ path: join(root, `vectors-${counter}.db`), ...options });
  others.push(other);
  await other.open();
  const index = other.vectors as VectorIndex;
  await index.open(dimensions);
  return index;
}

/** 300 near-identical "noise" vectors in another scope, and 3 far-away targets. */
async function noisyFixture() {
  const query = seededVector(42, dimensions);
  const noise = Array.from({ length: 300 }, (_, index) => ({
    record: makeRecord({ content: `noise ${index}`, scope: { userId: 'other' }, tags: ['noise'], type: 'observation' }),
    vector: nearVector(query, 1000 + index, 0.02),
  }));
  const targets = Array.from({ length: 3 }, (_, index) => ({
    record: makeRecord({
      content: `target ${index}`,
      scope: { userId: 'me' },
      tags: ['wanted'],
      type: 'error',
      subtype: 'bug',
      metadata: { rank: index },
    }),
    vector: nearVector(query, 5000 + index, 0.6 + index * 0.4),
  }));
  await store.write([...noise, ...targets]);
  return { query, noise, targets: targets.map((target) => target.record) };
}

describe('vector search returns the k best vectors that match the filter', () => {
  it('through the fields each connection holds in memory (scope, type, subtype)', async () => {
    const { query, targets } = await noisyFixture();
    expect(ids(await vectors.search(query, 3, { scope: { userId: 'me' } }))).toEqual(ids(targets));
    expect(ids(await vectors.search(query, 2, { types: ['error'] }))).toEqual(ids(targets.slice(0, 2)));
    expect(ids(await vectors.search(query, 5, { subtypes: ['bug'] }))).toEqual(ids(targets));
  });

  it('through SQL for tags and where, in memory for types OR subtypes and asOf', async () => {
    const { query, targets } = await noisyFixture();
    expect(ids(await vectors.search(query, 3, { tags: { any: ['wanted'] } }))).toEqual(ids(targets));
    expect(ids(await vectors.search(query, 3, { tags: { all: ['wanted'] } }))).toEqual(ids(targets));
    expect(ids(await vectors.search(query, 2, { where: parseWhere({ rank: { gte: 1 } }) }))).toEqual(ids(targets.slice(1)));
    expect(ids(await vectors.search(query, 3, { types: ['nothing'], subtypes: ['bug'] }))).toEqual(ids(targets));
    const before = targets[0]?.createdAt as Date;
    expect(await vectors.search(query, 3, { asOf: new Date(before.getTime() - 1), scope: { userId: 'me' } })).toEqual([]);
  });

  it('for an ids list, short or long, alone or with other conditions', async () => {
    const { query, noise, targets } = await noisyFixture();
    const wanted = [targets[2]?.id, targets[0]?.id, 'unknown'] as string[];
    expect(ids(await vectors.search(query, 5, { ids: wanted }))).toEqual([targets[0]?.id, targets[2]?.id]);
    const many = [...noise.slice(0, 100).map((item) => item.record.id), ...ids(targets)];
    const [best] = await vectors.search(query, 1, { ids: many, tags: { any: ['wanted'] } });
    expect(best?.id).toBe(targets[0]?.id);
    expect(await vectors.search(query, 5, { ids: [] })).toEqual([]);
  });

  it('follows type changes, supersession and deletion (kept in step by triggers)', async () => {
    const { query, targets } = await noisyFixture();
    const [first, second] = targets as [MemoryRecord, MemoryRecord];
    await store.update(first.id, { type: 'decision', subtype: null, updatedAt: new Date() });
    expect(ids(await vectors.search(query, 5, { types: ['decision'] }))).toEqual([first.id]);
    expect(ids(await vectors.search(query, 5, { types: ['error'] }))).not.toContain(first.id);
    await store.update(second.id, { supersededBy: first.id, validTo: new Date(), updatedAt: new Date() });
    expect(ids(await vectors.search(query, 5, { scope: { userId: 'me' } }))).not.toContain(second.id);
    expect(ids(await vectors.search(query, 5, { scope: { userId: 'me' }, includeSuperseded: true }))).toContain(second.id);
    const before = await vectors.count();
    await store.delete(first.id, new Date());
    expect(await vectors.count()).toBe(before - 1);
    expect(ids(await vectors.search(query, 5, { scope: { userId: 'me' } }))).not.toContain(first.id);
  });

  it('follows subtype changes, long values included', async () => {
    const { query, targets } = await noisyFixture();
    const first = targets[0] as MemoryRecord;
    await store.update(first.id, { type: 'learning', subtype: 'best_practice_for_long_values', updatedAt: new Date() });
    expect(ids(await vectors.search(query, 5, { subtypes: ['best_practice_for_long_values'] }))).toEqual([first.id]);
    expect(ids(await vectors.search(query, 5, { subtypes: ['bug'] }))).toEqual(ids(targets.slice(1)));
  });

  it('keeps no vector for a record written as already deleted, and ignores a non-finite k', async () => {
    const query = seededVector(5, dimensions);
    await store.write([{ record: makeRecord({ content: 'imported tombstone', deletedAt: new Date() }), vector: query }]);
    expect(await vectors.count()).toBe(0);
    expect(await vectors.search(query, Number.NaN)).toEqual([]);
  });

  it('reports cosine similarity', async () => {
    const record = makeRecord({ content: 'similarity' });
    const stored = seededVector(1, dimensions);
    await store.write([{ record, vector: stored }]);
    const query = seededVector(2, dimensions);
    const [match] = await vectors.search(query, 1);
    expect(match?.similarity).toBeCloseTo(cosineSimilarity(query, storedForm(stored)), 5);
  });

  const modes: Array<[string, Partial<SqliteStoreOptions> | null]> = [
    ['approximate, vectors mirrored in memory', null],
    ['approximate, vectors read from disk', { vectorCacheBytes: 0 }],
    ['exact', { vectorSearch: 'exact' }],
  ];
  for (const [mode, options] of modes) {
    it(`agrees with brute force over matchesFilter on random filters (${mode})`, async () => {
      const search = options ? await reopened(options) : vectors;
      const base = Date.UTC(2025, 0, 1);
      const records: Array<{ record: MemoryRecord; vector: Float32Array }> = [];
      for (let index = 0; index < 600; index++) {
        const superseded = index % 9 === 0;
        records.push({
          record: makeRecord({
            content: `random ${index}`,
            createdAt: new Date(base + index * 3_600_000),
            scope: index % 4 === 0 ? {} : { userId: `u${index % 3}`, ...(index % 5 === 0 ? { agentId: 'a' } : {}) },
            conversationId: index % 7 === 0 ? 'c' : null,
            type: ['observation', 'error', 'learning'][index % 3] as string,
            subtype: index % 2 === 0 ? null : (['bug', 'insight'][index % 4 === 1 ? 0 : 1] as string),
            tags: ['a', 'b', 'c'].filter((_, position) => (index >> position) % 2 === 1),
            metadata: { n: index % 10, even: index % 2 === 0, label: `L${index % 4}` },
            supersededBy: superseded ? 'x' : null,
            validTo: superseded ? new Date(base + (index + 50) * 3_600_000) : null,
          }),
          vector: seededVector(10_000 + index, dimensions),
        });
      }
      await store.write(records);
      const filters: MemoryFilter[] = [
        {},
        { scope: { userId: 'u1' } },
        { scope: { userId: 'u2', agentId: 'a' }, types: ['error', 'learning'] },
        { conversationId: 'c', includeSuperseded: true },
        { subtypes: ['bug'] },
        { types: ['observation'], subtypes: ['insight'] },
        { tags: { any: ['a', 'c'] } },
        { tags: { all: ['a', 'b'] }, scope: { userId: 'u0' } },
        { after: new Date(base + 100 * 3_600_000), before: new Date(base + 300 * 3_600_000) },
        { asOf: new Date(base + 200 * 3_600_000) },
        { where: parseWhere({ n: { gte: 7 }, even: false }) },
        { where: parseWhere({ or: [{ label: 'L1' }, { n: { lt: 2 } }] }), types: ['error'] },
        { ids: records.filter((_, index) => index % 11 === 0).map((item) => item.record.id) },
        { ids: records.slice(0, 40).map((item) => item.record.id), where: parseWhere({ label: { ne: 'L0' } }) },
      ];
      for (const [position, filter] of filters.entries()) {
        const query = seededVector(77 + position, dimensions);
        for (const k of [1, 10, 1000]) {
          const expected = records
            .filter((item) => matchesFilter(item.record, filter))
            .map((item) => ({ id: item.record.id, similarity: cosineSimilarity(query, storedForm(item.vector)) }))
            .sort((a, b) => b.similarity - a.similarity)
            .slice(0, k);
          const actual = await search.search(query, k, filter);
          expect(ids(actual), `${JSON.stringify(filter)} k=${k}`).toEqual(ids(expected));
          for (const [index, match] of actual.entries()) expect(match.similarity).toBeCloseTo(expected[index]?.similarity as number, 5);
        }
      }
    });
  }
});

describe('vector index maintenance', () => {
  it('checks dimensions: open, write, update, search and upsert', async () => {
    await expect(vectors.open(dimensions)).resolves.toBeUndefined();
    const error = await vectors.open(dimensions * 2).catch((caught: unknown) => caught);
    expect(AdapterError.isInstance(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(/16-dimensional vectors, not 32/);
    const record = makeRecord({ content: 'sized' });
    await expect(store.write([{ record, vector: seededVector(1, 3) }])).rejects.toSatisfy(ValidationError.isInstance);
    await store.write([{ record, vector: seededVector(1, dimensions) }]);
    await expect(store.update(record.id, { updatedAt: new Date() }, seededVector(1, 3))).rejects.toSatisfy(ValidationError.isInstance);
    await expect(vectors.search(seededVector(1, 3), 1)).rejects.toSatisfy(ValidationError.isInstance);
    await expect(vectors.upsert([{ id: record.id, vector: seededVector(1, 3), payload: record }])).rejects.toSatisfy(
      ValidationError.isInstance,
    );
    await expect(vectors.open(0)).rejects.toSatisfy(ValidationError.isInstance);
  });

  it('upsert replaces vectors of live memories and skips unknown ones', async () => {
    const record = makeRecord({ content: 'reindexed' });
    await store.write([{ record, vector: seededVector(1, dimensions) }]);
    const plain = makeRecord({ content: 'written without a vector' });
    await store.write([{ record: plain }]);
    expect(await vectors.count()).toBe(1);
    await vectors.upsert([
      { id: record.id, vector: seededVector(2, dimensions), payload: record },
      { id: plain.id, vector: seededVector(3, dimensions), payload: plain },
      { id: 'unknown', vector: seededVector(4, dimensions), payload: record },
    ]);
    expect(await vectors.count()).toBe(2);
    expect((await vectors.search(seededVector(2, dimensions), 1))[0]).toMatchObject({ id: record.id });
    expect((await vectors.search(seededVector(3, dimensions), 1, { types: ['observation'] }))[0]).toMatchObject({ id: plain.id });
    await vectors.delete([record.id, 'unknown']);
    expect(await vectors.count()).toBe(1);
  });

  it('drops a vector whose content changed without a new one (it would match the old text)', async () => {
    const record = makeRecord({ content: 'old words' });
    await store.write([{ record, vector: seededVector(1, dimensions) }]);
    await store.update(record.id, { importance: 0.9, updatedAt: new Date() });
    expect(await vectors.count()).toBe(1);
    await store.update(record.id, { content: 'new words', contentHash: 'h2', updatedAt: new Date() });
    expect(await vectors.count()).toBe(0);
  });

  it('writes of a keyed record replace its vector', async () => {
    const first = makeRecord({ content: 'keyed v1', key: 'k' });
    await store.write([{ record: first, vector: seededVector(1, dimensions) }]);
    const [result] = await store.write([{ record: makeRecord({ content: 'keyed v2', key: 'k' }), vector: seededVector(2, dimensions) }]);
    expect(result?.status).toBe('updated');
    expect(await vectors.count()).toBe(1);
    const [match] = await vectors.search(seededVector(2, dimensions), 1);
    expect(match?.id).toBe(first.id);
    // The stored vector is the query quantised to int8: similarity 1 within 5e-5.
    expect(match?.similarity).toBeCloseTo(1, 4);
  });

  it('returns nothing for k <= 0 and caps k at what matches', async () => {
    await store.write([{ record: makeRecord({ content: 'only one' }), vector: seededVector(1, dimensions) }]);
    expect(await vectors.search(seededVector(1, dimensions), 0)).toEqual([]);
    expect(await vectors.search(seededVector(1, dimensions), 50)).toHaveLength(1);
  });

  it('is empty (not an error) before the index is opened with a dimension', async () => {
    const fresh = sqliteStore({ path: ':memory:' });
    await fresh.open();
    expect(await fresh.vectors?.count()).toBe(0);
    expect(await fresh.vectors?.search(seededVector(1, dimensions), 5)).toEqual([]);
    await expect(fresh.write([{ record: makeRecord({ content: 'no table' }), vector: seededVector(1, dimensions) }])).rejects.toThrow(
      /vectors\.open/,
    );
    await fresh.close();
  });
});

describe('approximate search over binary codes', () => {
  /** Deterministic made-up texts (Zipf-like word choice), as in bench/lib/corpus.mjs. */
  function texts(count: number, seed: number): string[] {
    let state = seed;
    const next = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 4294967296;
    };
    const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'po', 'qui', 'dra', 'fen', 'gul', 'hor', 'jin'];
    const words = Array.from({ length: 1500 }, () =>
      Array.from({ length: 2 + Math.floor(next() * 3) }, () => syllables[Math.floor(next() * syllables.length)]).join(''),
    );
    return Array.from(
      { length: count },
      (_, index) =>
        Array.from({ length: 3 + Math.floor(next() * 14) }, () => words[Math.floor(words.length * next() ** 2)]).join(' ') +
        (index >= 0 ? '' : ''),
    );
  }

  it('finds at least 95 % of the exact top 10 among 5,000 hash-embedded texts (every stage runs)', async () => {
    const embedder = hashEmbedder({ dimensions: 128 });
    const file = sqliteStore({ path: join(root, `recall-${++counter}.db`) });
    await file.open();
    const index = file.vectors as VectorIndex;
    await index.open(128);
    const contents = texts(5000, 11);
    const embedded = (await embedder.embed(contents)) as Float32Array[];
    const records = contents.map((content, position) =>
      makeRecord({ content: `${content} ${position}`, scope: { userId: `u${position % 4}` } }),
    );
    await file.write(records.map((record, position) => ({ record, vector: embedded[position] as Float32Array })));
    const queries = (await embedder.embed(texts(60, 99))) as Float32Array[];
    let found = 0;
    let foundForUser = 0;
    for (const [position, query] of queries.entries()) {
      const exact = records
        .map((record, at) => ({
          id: record.id,
          user: at % 4,
          similarity: cosineSimilarity(query, storedForm(embedded[at] as Float32Array)),
        }))
        .sort((a, b) => b.similarity - a.similarity);
      const tenth = (exact[9]?.similarity as number) - 1e-6;
      const approximate = await index.search(query, 10);
      found += approximate.filter((match) => match.similarity >= tenth).length;
      const user = position % 4;
      const tenthForUser = (exact.filter((entry) => entry.user === user)[9]?.similarity as number) - 1e-6;
      foundForUser += (await index.search(query, 10, { scope: { userId: `u${user}` } })).filter(
        (match) => match.similarity >= tenthForUser,
      ).length;
      // Similarities are exact on the stored (int8) vectors, not estimates.
      for (const match of approximate) {
        expect(match.similarity).toBeCloseTo(
          cosineSimilarity(query, storedForm(embedded[records.findIndex((record) => record.id === match.id)] as Float32Array)),
          5,
        );
      }
    }
    expect(found / (queries.length * 10)).toBeGreaterThanOrEqual(0.95);
    expect(foundForUser / (queries.length * 10)).toBeGreaterThanOrEqual(0.95);
    await file.close();
  });

  it('sees every change made through another connection: writes, type changes, supersession, deletes', async () => {
    const query = seededVector(42, dimensions);
    const other = await reopened();
    expect(await other.search(query, 5)).toEqual([]);
    const records = Array.from({ length: 150 }, (_, position) => makeRecord({ content: `shared ${position}`, type: 'observation' }));
    const vectorOf = new Map(records.map((record, position) => [record.id, nearVector(query, position + 1, 0.2 + position / 20)]));
    await store.write(records.map((record) => ({ record, vector: vectorOf.get(record.id) as Float32Array })));
    const ranked = [...records].sort(
      (a, b) => cosineSimilarity(query, vectorOf.get(b.id) as Float32Array) - cosineSimilarity(query, vectorOf.get(a.id) as Float32Array),
    );
    const [first, second, third, fourth] = ranked as [MemoryRecord, MemoryRecord, MemoryRecord, MemoryRecord];
    expect(ids(await other.search(query, 3))).toEqual([first.id, second.id, third.id]);

    await store.update(first.id, { type: 'decision', updatedAt: new Date() });
    expect(ids(await other.search(query, 1, { types: ['decision'] }))).toEqual([first.id]);
    await store.update(second.id, { supersededBy: first.id, validTo: new Date(), updatedAt: new Date() });
    expect(ids(await other.search(query, 2))).toEqual([first.id, third.id]);
    await store.delete(first.id, new Date());
    expect(ids(await other.search(query, 1))).toEqual([third.id]);
    await store.update(third.id, { content: 'changed', contentHash: 'h-changed', updatedAt: new Date() });
    expect(ids(await other.search(query, 1))).toEqual([fourth.id]);
    await store.vectors?.upsert([{ id: third.id, vector: query, payload: third }]);
    expect((await other.search(query, 1))[0]).toMatchObject({ id: third.id, similarity: expect.closeTo(1, 4) });
  });

  it('reloads everything when the change log no longer reaches back to what it saw', async () => {
    const query = seededVector(43, dimensions);
    const other = await reopened();
    const early = makeRecord({ content: 'early' });
    await store.write([{ record: early, vector: nearVector(query, 1, 0.3) }]);
    expect(ids(await other.search(query, 5))).toEqual([early.id]);
    const late = makeRecord({ content: 'late' });
    await store.write([{ record: late, vector: nearVector(query, 2, 0.05) }]);
    await store.delete(early.id, new Date());
    // As if pruning had dropped every entry since the other connection last looked.
    const raw = new Database(join(root, `vectors-${counter}.db`));
    raw.exec('DELETE FROM memory_vector_log WHERE seq < (SELECT max(seq) FROM memory_vector_log)');
    raw.close();
    expect(ids(await other.search(query, 5))).toEqual([late.id]);
  });
});

describe('the vector change log', () => {
  it('keeps its last 100,000 entries, whoever writes (trimmed every 64th entry: up to 63 more)', async () => {
    const raw = new Database(join(root, `vectors-${counter}.db`));
    raw.transaction(() => {
      const insert = raw.prepare('INSERT INTO memory_vector_log (memory_rowid) VALUES (?)');
      for (let index = 0; index < 100_100; index++) insert.run(index);
    })();
    // The last trim, at entry 100,096 (64 × 1,564), kept entries 97…100,096; four more followed.
    expect(raw.prepare('SELECT count(*) AS n, min(seq) AS first, max(seq) AS last FROM memory_vector_log').get()).toEqual({
      n: 100_004,
      first: 97,
      last: 100_100,
    });
    raw.close();
  });
});

describe('stores from before the vector codes (0003)', () => {
  it('move their vectors out of the sqlite-vec table on open and stay searchable', async () => {
    const path = join(root, `legacy-${++counter}.db`);
    const current = sqliteStore({ path });
    await current.open();
    await current.vectors?.open(dimensions);
    const query = seededVector(44, dimensions);
    const records = Array.from({ length: 20 }, (_, position) =>
      makeRecord({ content: `legacy ${position}`, scope: { userId: position % 2 === 0 ? 'even' : 'odd' } }),
    );
    const vectorsOf = records.map((_, position) => nearVector(query, position + 1, 0.05 * (position + 1)));
    await current.write(records.map((record, position) => ({ record, vector: vectorsOf[position] as Float32Array })));
    await current.close();

    // Rewind the file to the layout of 0001/0002: vectors in a vec0 table, no codes.
    const raw = new Database(path);
    sqliteVec.load(raw);
    // 0005's column goes first, while the triggers that name the vector tables still find them.
    raw.exec('ALTER TABLE memories DROP COLUMN decay_score');
    raw.exec(`
      CREATE VIRTUAL TABLE memory_vectors USING vec0(embedding float[${dimensions}] distance_metric=cosine, user_id text);
      DROP TABLE memory_embeddings; DROP TABLE IF EXISTS memory_vector_codes; DROP TABLE memory_vector_log;
      DELETE FROM engram_migration WHERE name IN ('0003-vector-codes', '0004-lexical-index', '0005-decay-score', '0010-int8-vectors');
      UPDATE engram_meta SET value = json_object('table', 'memory_vectors', 'dimensions', ${dimensions}, 'metric', 'cosine') WHERE key = 'vectors';
    `);
    // The float32 vectors, as those stores kept them (0010 then quantises them).
    const insert = raw.prepare(
      'INSERT INTO memory_vectors (rowid, embedding, user_id) SELECT rowid, ?, user_id FROM memories WHERE id = ?',
    );
    records.forEach((record, position) => {
      const vector = vectorsOf[position] as Float32Array;
      insert.run(Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength), record.id);
    });
    for (const trigger of raw
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND (sql LIKE '%memory_vector_codes%' OR sql LIKE '%memory_vector_log%' OR sql LIKE '%memory_embeddings%')",
      )
      .pluck()
      .all()) {
      raw.exec(`DROP TRIGGER ${trigger}`);
    }
    raw.close();

    const upgraded = sqliteStore({ path });
    await upgraded.open();
    await upgraded.vectors?.open(dimensions);
    expect(await upgraded.vectors?.count()).toBe(20);
    const expected = records
      .map((record, position) => ({ id: record.id, similarity: cosineSimilarity(query, vectorsOf[position] as Float32Array) }))
      .sort((a, b) => b.similarity - a.similarity);
    expect(ids((await upgraded.vectors?.search(query, 3)) ?? [])).toEqual(ids(expected.slice(0, 3)));
    const odd = expected.filter((entry) => records.find((record) => record.id === entry.id)?.scope.userId === 'odd');
    expect(ids((await upgraded.vectors?.search(query, 2, { scope: { userId: 'odd' } })) ?? [])).toEqual(ids(odd.slice(0, 2)));
    const inspect = new Database(path, { readonly: true });
    expect(inspect.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'memory_vectors'").pluck().get()).toBe(0);
    inspect.close();
    await upgraded.close();
  });
});

describe('vector mirror snapshot', () => {
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  const snapshotSeq = (path: string) => {
    const file = `${path}-vectors.snapshot`;
    if (!existsSync(file)) return null;
    return (decodeSnapshot(readFileSync(file)).header as { meta: { seq: number } }).meta.seq;
  };

  it('is written once 10,000 vectors were loaded from the rows, read by the next connection and brought up to date', async () => {
    const path = join(root, `snapshot-${Date.now()}.db`);
    const writer = sqliteStore({ path });
    await writer.open();
    await writer.setEmbedder({ id: 'test', dimensions });
    await writer.vectors?.open(dimensions);
    const records = Array.from({ length: 10_200 }, (_, index) =>
      makeRecord({ content: `vector ${index}`, scope: { userId: `u${index % 4}` } }),
    );
    for (let start = 0; start < records.length; start += 1000) {
      await writer.write(
        records.slice(start, start + 1000).map((record, offset) => ({ record, vector: seededVector(start + offset, dimensions) })),
      );
    }
    const query = seededVector(987_654, dimensions);
    const before = await writer.vectors?.search(query, 10, { scope: { userId: 'u1' } });
    await settle();
    await writer.close();
    expect(snapshotSeq(path)).not.toBeNull();

    // Written after the snapshot: replayed from the log by the next connection.
    const other = sqliteStore({ path });
    const added = makeRecord({ content: 'added after the snapshot', scope: { userId: 'u1' } });
    await other.write([{ record: added, vector: query }]);
    await other.delete(records[1]?.id as string, new Date());
    await other.close();

    const reader = sqliteStore({ path });
    await reader.vectors?.open(dimensions);
    const after = await reader.vectors?.search(query, 10, { scope: { userId: 'u1' } });
    expect(after?.[0]?.id).toBe(added.id);
    expect(after?.slice(1).map((match) => match.id)).toEqual(
      before
        ?.filter((match) => match.id !== records[1]?.id)
        .slice(0, 9)
        .map((match) => match.id),
    );
    await reader.close();

    // Proof that the next connection reads the snapshot, not the rows: a field changed behind the
    // log's back (a scope never changes through the store) is not seen.
    const db = new Database(path);
    db.prepare("UPDATE memories SET user_id = 'moved' WHERE id = ?").run(records[5]?.id);
    db.close();
    const fromSnapshot = sqliteStore({ path });
    await fromSnapshot.vectors?.open(dimensions);
    expect(await fromSnapshot.vectors?.search(query, 10, { scope: { userId: 'moved' } })).toEqual([]);
    await fromSnapshot.close();
  }, 60_000);

  it('takes rows newer than it without building its slot map, and still replaces and removes them', async () => {
    const path = join(root, `newer-${Date.now()}.db`);
    const writer = sqliteStore({ path });
    await writer.vectors?.open(dimensions);
    const records = Array.from({ length: 10_100 }, (_, index) => makeRecord({ content: `n ${index}`, scope: { userId: `u${index % 3}` } }));
    await writer.write(records.map((record, index) => ({ record, vector: seededVector(index, dimensions) })));
    await writer.vectors?.search(seededVector(1, dimensions), 1);
    await settle();
    await writer.close();
    expect(snapshotSeq(path)).not.toBeNull();

    // No float vectors mirrored (they would build the rowid-to-slot map on load).
    const store = sqliteStore({ path, vectorCacheBytes: 0 });
    await store.vectors?.open(dimensions);
    expect((await store.vectors?.search(seededVector(2, dimensions), 1))?.[0]?.id).toBe(records[2]?.id);
    // Newer than every mirrored row: appended past the largest rowid.
    const fresh = Array.from({ length: 20 }, (_, index) => makeRecord({ content: `fresh ${index}`, scope: { userId: 'u1' } }));
    await store.write(fresh.map((record, index) => ({ record, vector: seededVector(50_000 + index, dimensions) })));
    for (const index of [0, 7, 19]) {
      expect((await store.vectors?.search(seededVector(50_000 + index, dimensions), 1))?.[0]?.id).toBe(fresh[index]?.id);
    }
    // Then new and old rows change: the map built now holds the appended slots too.
    await store.delete(fresh[7]?.id as string, new Date());
    await store.delete(records[4]?.id as string, new Date());
    await store.write([{ record: makeRecord({ content: 'after', scope: { userId: 'u1' } }), vector: seededVector(60_000, dimensions) }]);
    expect((await store.vectors?.search(seededVector(50_007, dimensions), 1, { scope: { userId: 'u1' } }))?.[0]?.id).not.toBe(fresh[7]?.id);
    expect((await store.vectors?.search(seededVector(4, dimensions), 1))?.[0]?.id).not.toBe(records[4]?.id);
    for (const index of [0, 19]) {
      expect((await store.vectors?.search(seededVector(50_000 + index, dimensions), 1))?.[0]?.id).toBe(fresh[index]?.id);
    }
    // u1: 3,367 of the first rows less one deleted, 19 of the fresh, and the last.
    const all = await store.vectors?.search(seededVector(3, dimensions), 4096, { scope: { userId: 'u1' } });
    expect(all).toHaveLength(3_367 - 1 + 19 + 1);
    expect(new Set(all?.map((match) => match.id)).size).toBe(all?.length);
    await store.close();
  }, 60_000);

  it('loads its codes in the background from the first search; a write before they arrive neither waits for them nor loses one', async () => {
    const path = join(root, `background-${Date.now()}.db`);
    const writer = sqliteStore({ path });
    await writer.vectors?.open(dimensions);
    // 250 users: every interned id fits a byte, so the next connection reads the user column as bytes.
    const records = Array.from({ length: 10_200 }, (_, index) =>
      makeRecord({ content: `v ${index}`, scope: { userId: `u${index % 250}` } }),
    );
    await writer.write(records.map((record, index) => ({ record, vector: seededVector(index, dimensions) })));
    const query = seededVector(4242, dimensions);
    const before = await writer.vectors?.search(query, 10, { scope: { userId: 'u7' } });
    await settle();
    await writer.close();
    expect(snapshotSeq(path)).not.toBeNull();

    const reader = sqliteStore({ path });
    await reader.vectors?.open(dimensions);
    // A lexical search starts the vector codes loading (a hybrid search's vector half needs them next).
    const lexicalSearch = reader.lexicalSearch as NonNullable<typeof reader.lexicalSearch>;
    expect(await lexicalSearch.call(reader, 'v 17', {}, 1)).toHaveLength(1);
    // 10,000 writes make the connection catch its mirror up (`followWrites`) in this same turn,
    // before the background reads could complete: it reads the codes itself. New users take ids
    // above 255, so the user column widens as they are written.
    const added = Array.from({ length: 10_000 }, (_, index) =>
      makeRecord({ content: `new ${index}`, scope: { userId: `n${index % 20}` } }),
    );
    await reader.write(added.map((record, index) => ({ record, vector: seededVector(100_000 + index, dimensions) })));
    const target = makeRecord({ content: 'the target', scope: { userId: 'n19' } });
    await reader.write([{ record: target, vector: query }]);
    expect((await reader.vectors?.search(query, 1, { scope: { userId: 'n19' } }))?.[0]?.id).toBe(target.id);
    expect(ids((await reader.vectors?.search(query, 10, { scope: { userId: 'u7' } })) ?? [])).toEqual(ids(before ?? []));
    const other = seededVector(100_123, dimensions);
    expect((await reader.vectors?.search(other, 1, { scope: { userId: 'n3' } }))?.[0]?.id).toBe(added[123]?.id);
    await reader.close();

    // And a connection that waits for them (a search) finds the same.
    const waiting = sqliteStore({ path });
    await waiting.vectors?.open(dimensions);
    expect(ids((await waiting.vectors?.search(query, 10, { scope: { userId: 'u7' } })) ?? [])).toEqual(ids(before ?? []));
    expect((await waiting.vectors?.search(query, 1, { scope: { userId: 'n19' } }))?.[0]?.id).toBe(target.id);
    await waiting.close();
  }, 120_000);

  it('shares its filterable fields with the lexical index after a bulk load, and each copies them before its first change', async () => {
    const path = join(root, `shared-${Date.now()}.db`);
    const writer = sqliteStore({ path });
    await writer.vectors?.open(dimensions);
    const records = Array.from({ length: 12_000 }, (_, index) =>
      makeRecord({ content: `shared memory ${index} word${index % 89}`, scope: { userId: `u${index % 4}` } }),
    );
    for (let start = 0; start < records.length; start += 1000) {
      await writer.write(
        records.slice(start, start + 1000).map((record, offset) => ({ record, vector: seededVector(start + offset, dimensions) })),
      );
    }
    await writer.close();

    const reader = sqliteStore({ path });
    await reader.vectors?.open(dimensions);
    const lexicalSearch = reader.lexicalSearch as NonNullable<typeof reader.lexicalSearch>;
    const lexicalFirst = async (query: string, userId: string) =>
      (await lexicalSearch.call(reader, query, { scope: { userId } }, 1))[0]?.id;
    const vectorFirst = async (vector: Float32Array, filter: MemoryFilter) => (await reader.vectors?.search(vector, 1, filter))?.[0]?.id;
    // The first searches load both snapshots: the lexical index takes the mirror's columns.
    expect(await lexicalFirst('shared memory 5 word5', 'u1')).toBe(records[5]?.id);
    expect(await vectorFirst(seededVector(5, dimensions), { scope: { userId: 'u1' } })).toBe(records[5]?.id);

    // A type change re-slots the memory in the lexical index (a new slot) and not in the mirror,
    // so the next new memory takes different slots in each: a change made in shared columns
    // would show in the other one's.
    const changed = records[9] as MemoryRecord;
    await reader.update(changed.id, { type: 'decision', updatedAt: new Date() });
    const fresh = makeRecord({ content: 'a fresh memory', scope: { userId: 'fresh' } });
    await reader.write([{ record: fresh, vector: seededVector(777_777, dimensions) }]);
    expect(await lexicalFirst('shared memory 9 word9', 'u1')).toBe(changed.id);
    expect(await lexicalFirst('a fresh memory', 'fresh')).toBe(fresh.id);
    expect(await vectorFirst(seededVector(777_777, dimensions), { scope: { userId: 'fresh' } })).toBe(fresh.id);
    expect(await vectorFirst(seededVector(9, dimensions), { scope: { userId: 'u1' }, types: ['decision'] })).toBe(changed.id);
    expect(await vectorFirst(seededVector(10, dimensions), { scope: { userId: 'u2' } })).toBe(records[10]?.id);
    // Both caught up, in either order: each still sees its own slots' fields.
    expect(await lexicalFirst('shared memory 9 word9', 'u1')).toBe(changed.id);
    expect(await lexicalFirst('a fresh memory', 'fresh')).toBe(fresh.id);
    expect(await lexicalFirst('shared memory 10 word10', 'u2')).toBe(records[10]?.id);
    await reader.close();
  }, 120_000);

  it('is left, with the lexical one, by a connection that bulk-writes without searching', async () => {
    const path = join(root, `bulk-${Date.now()}.db`);
    const writer = sqliteStore({ path });
    await writer.open();
    await writer.setEmbedder({ id: 'test', dimensions });
    await writer.vectors?.open(dimensions);
    const records = Array.from({ length: 12_500 }, (_, index) =>
      makeRecord({ content: `bulk memory number ${index} of word${index % 97}`, scope: { userId: `u${index % 4}` } }),
    );
    for (let start = 0; start < records.length; start += 500) {
      await writer.write(
        records.slice(start, start + 500).map((record, offset) => ({ record, vector: seededVector(start + offset, dimensions) })),
      );
    }
    await writer.close();
    const inspect = new Database(path, { readonly: true });
    const head = inspect.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'memory_vector_log'").pluck().get() as number;
    inspect.close();
    expect(snapshotSeq(path)).toBe(head);
    const lexicalFile = `${path}-lexical.snapshot`;
    expect((decodeSnapshot(readFileSync(lexicalFile)).header as { meta: { seq: number } }).meta.seq).toBe(head);

    // The next connection loads both instead of reading the rows: a scope changed behind the
    // log's back is not seen by either.
    const db = new Database(path);
    db.prepare("UPDATE memories SET user_id = 'moved' WHERE id = ?").run(records[7]?.id);
    db.close();
    const reader = sqliteStore({ path });
    await reader.vectors?.open(dimensions);
    const query = seededVector(7, dimensions);
    expect((await reader.vectors?.search(query, 1, { scope: { userId: 'u3' } }))?.[0]?.id).toBe(records[7]?.id);
    const lexicalSearch = reader.lexicalSearch as NonNullable<typeof reader.lexicalSearch>;
    expect((await lexicalSearch.call(reader, 'number 7 word7', { scope: { userId: 'u3' } }, 1))[0]?.id).toBe(records[7]?.id);
    await reader.close();
  }, 120_000);
});

describe('the exact stage answers what a full sort would put first', () => {
  it('best similarity first, equal similarities by insertion (rowid) order, for dense and sparse queries and any k', async () => {
    // 60 memories over 6 distinct vectors (ties galore), 10 each, written in shuffled order.
    const shapes = Array.from({ length: 6 }, (_, index) => seededVector(300 + index, dimensions));
    const order = Array.from({ length: 60 }, (_, index) => (index * 37) % 60);
    const items = order.map((index) => ({
      record: makeRecord({ content: `tie ${index}` }),
      vector: shapes[index % 6] as Float32Array,
    }));
    await store.write(items);
    const sparse = new Float32Array(dimensions);
    sparse[1] = 0.7;
    sparse[9] = -0.4;
    for (const query of [seededVector(77, dimensions), sparse]) {
      const expected = items
        .map((item, position) => ({ id: item.record.id, position, similarity: cosineSimilarity(storedForm(item.vector), query) }))
        .sort((a, b) => b.similarity - a.similarity || a.position - b.position);
      for (const k of [1, 7, 10, 23, 60, 80]) {
        const got = await vectors.search(query, k, {});
        expect(ids(got)).toEqual(expected.slice(0, k).map((item) => item.id));
      }
    }
  });
});

describe('the float mirror', () => {
  /** A raw connection to `path` whose mirror a test syncs with `budget`, and a store reading with the same budget. */
  function mirrorOf(path: string, budget: number) {
    const db = new Database(path);
    const session = new SqliteSession(db, path);
    const reader = sqliteStore({ path, vectorCacheBytes: budget });
    others.push(reader);
    return { db, session, reader, sync: () => syncVectorCache(session, budget), floats: () => vectorMirrorFloats(session) };
  }

  /** The ids of the 10 items most similar to `query`, exactly (on the vectors as stored). */
  function exactTop10(items: Array<{ record: MemoryRecord; vector: Float32Array }>, query: Float32Array): string[] {
    return items
      .map((item) => ({ id: item.record.id, similarity: cosineSimilarity(storedForm(item.vector), query) }))
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, 10)
      .map((item) => item.id);
  }

  it('is allocated once for every slot its budget allows: growing never copies it; past the budget it goes', async () => {
    // 16 dimensions: 64 bytes a slot, so a budget of 5,000 slots. Slots grow 1,024 → 2,048 → 4,096
    // (inside it) → 8,192 (past it).
    const path = join(root, `float-mirror-${Date.now()}.db`);
    const writer = sqliteStore({ path });
    await writer.vectors?.open(dimensions);
    const items: Array<{ record: MemoryRecord; vector: Float32Array }> = [];
    const add = async (count: number) => {
      const batch = Array.from({ length: count }, (_, offset) => {
        const index = items.length + offset;
        return { record: makeRecord({ content: `mirror ${index}` }), vector: seededVector(9000 + index, dimensions) };
      });
      items.push(...batch);
      await writer.write(batch);
    };
    await add(1000);
    const { db, reader, sync, floats } = mirrorOf(path, 64 * 5000);
    try {
      sync();
      const mirror = floats();
      expect(mirror?.length).toBe(5000 * dimensions);
      // In steps a catch-up takes row by row (a change set over half the mirror reloads it whole).
      for (let step = 0; step < 6; step++) {
        await add(500);
        sync();
        expect(floats()).toBe(mirror);
      }
      // What it holds after growing: a search through a store with the same budget ranks exactly.
      const query = seededVector(31_337, dimensions);
      expect(ids((await reader.vectors?.search(query, 10, {})) ?? [])).toEqual(exactTop10(items, query));
      await add(500);
      sync();
      expect(floats()).toBeNull();
    } finally {
      db.close();
      await writer.close();
    }
  }, 60_000);

  it('with a budget too large to reserve, holds what the slots need and grows by copying', async () => {
    const path = join(root, `float-mirror-large-${Date.now()}.db`);
    const writer = sqliteStore({ path });
    await writer.vectors?.open(dimensions);
    const items = Array.from({ length: 1500 }, (_, index) => ({
      record: makeRecord({ content: `large ${index}` }),
      vector: seededVector(7000 + index, dimensions),
    }));
    await writer.write(items.slice(0, 1000));
    const { db, reader, sync, floats } = mirrorOf(path, Number.MAX_SAFE_INTEGER);
    try {
      sync();
      const mirror = floats();
      expect(mirror?.length).toBe(1024 * dimensions);
      await writer.write(items.slice(1000));
      sync();
      expect(floats()?.length).toBe(2048 * dimensions);
      expect(floats()?.subarray(0, 1000 * dimensions)).toEqual(mirror?.subarray(0, 1000 * dimensions));
      const query = seededVector(4242, dimensions);
      expect(ids((await reader.vectors?.search(query, 10, {})) ?? [])).toEqual(exactTop10(items, query));
    } finally {
      db.close();
      await writer.close();
    }
  });
});

describe("kthSmallest (the estimate stage's cut-off)", () => {
  it('answers the value a full ascending sort puts at each rank, ties and signed zeros included', () => {
    let state = 7;
    const next = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 4294967296;
    };
    const inputs = [
      Float64Array.from({ length: 2560 }, () => next() - 0.5),
      Float64Array.from({ length: 997 }, () => Math.floor(next() * 20)),
      Float64Array.from([0, -0, 0, -0, 1, -1]),
      Float64Array.from([3]),
      Float64Array.from({ length: 300 }, (_, index) => 300 - index),
    ];
    for (const values of inputs) {
      const sorted = values.slice().sort();
      for (const rank of [0, 1, Math.floor(values.length / 2), values.length - 200, values.length - 1]) {
        if (rank < 0 || rank >= values.length) continue;
        expect(kthSmallest(values.slice(), rank)).toBe(sorted[rank]);
      }
    }
  });
});

describe('dotProducts (the exact stage, four candidates a pass)', () => {
  it('gives each candidate the bits of its own sum in index order, whatever the count', () => {
    const dimensions = 37;
    const floats = Float32Array.from({ length: 50 * dimensions }, (_, index) => Math.sin(index * 12.9898) * 3.7);
    const query = Float32Array.from({ length: dimensions }, (_, index) => Math.cos(index * 78.233) / 3);
    for (let count = 0; count <= 11; count++) {
      const candidates = Int32Array.from({ length: count }, (_, index) => (index * 17 + 5) % 50);
      const got = dotProducts(floats, candidates, query, new Float64Array(count));
      const expected = Array.from(candidates, (slot) => {
        let sum = 0;
        for (let index = 0; index < dimensions; index++) sum += (floats[slot * dimensions + index] as number) * (query[index] as number);
        return sum;
      });
      expect(Array.from(got)).toEqual(expected);
    }
  });
});

describe('sparseDotProducts (the exact stage for a query with few non-zero components)', () => {
  it('gives the bits of the dense sums, signed zeros and cancellations included', () => {
    const dimensions = 41;
    const floats = Float32Array.from({ length: 60 * dimensions }, (_, index) => (index % 7 === 3 ? -0 : Math.sin(index * 12.9898) * 3.7));
    const query = new Float32Array(dimensions);
    for (const index of [0, 3, 4, 17, 29, 40]) query[index] = Math.cos(index * 78.233) / 3;
    query[5] = -0;
    // Two candidates whose products cancel exactly: the dense sum ends at +0, the sparse one must too.
    floats.fill(0, 58 * dimensions, 60 * dimensions);
    floats[58 * dimensions + 3] = 1;
    floats[58 * dimensions + 4] = (-1 * (query[3] as number)) / (query[4] as number);
    floats[59 * dimensions + 40] = -2;
    const nonZero = Int32Array.from([0, 3, 4, 17, 29, 40]);
    for (let count = 0; count <= 13; count++) {
      const candidates = Int32Array.from({ length: count }, (_, index) => (index < 2 ? 58 + index : (index * 17 + 5) % 58));
      const sparse = Array.from(sparseDotProducts(floats, candidates, query, nonZero, new Float64Array(count)));
      const dense = Array.from(dotProducts(floats, candidates, query, new Float64Array(count)));
      expect(sparse).toEqual(dense);
      expect(sparse.map((value) => Object.is(value, -0))).toEqual(dense.map((value) => Object.is(value, -0)));
    }
  });
});

describe("nearest (the Hamming stage's cut)", () => {
  it('keeps the count smallest distances, ties at the cut earliest first, masked never, in position order', () => {
    let state = 11;
    const next = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 4294967296;
    };
    const bits = 64;
    for (const [length, count, maskedShare] of [
      [1000, 100, 0],
      [1000, 100, 0.3],
      [500, 499, 0.5],
      [300, 1000, 0.2],
      [2000, 1, 0],
    ] as const) {
      const distances = Uint16Array.from({ length }, () => (next() < maskedShare ? maskedDistance : Math.floor(next() * 12) + 20));
      const histogram = new Uint32Array(bits + 1);
      for (const distance of distances) if (distance !== maskedDistance) histogram[distance] = (histogram[distance] as number) + 1;
      const slots = Int32Array.from({ length }, (_, position) => position * 3 + 7);
      // The reference: positions by (distance, position), the first count unmasked, back in position order.
      const expected = Array.from({ length }, (_, position) => position)
        .filter((position) => distances[position] !== maskedDistance)
        .sort((a, b) => (distances[a] as number) - (distances[b] as number) || a - b)
        .slice(0, count)
        .sort((a, b) => a - b);
      expect(Array.from(nearest(distances, length, histogram, count, null))).toEqual(expected);
      expect(Array.from(nearest(distances, length, histogram, count, slots))).toEqual(expected.map((position) => position * 3 + 7));
    }
  });
});
