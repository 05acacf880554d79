import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BM25_B,
  BM25_K1,
  contentHash,
  inMemoryStore,
  type LexicalMatch,
  type MemoryFilter,
  type MemoryRecord,
  type MemoryStore,
  parseWhere,
} from '@engram/core';
import { makeRecord } from '@engram/core/testing';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Bm25Index } from './sqlite-bm25.js';
import { decodeSnapshot } from './sqlite-snapshot.js';
import { sqliteStore } from './sqlite-store.js';

const lexical = (store: MemoryStore, query: string, filter: MemoryFilter = {}, limit = 10): Promise<LexicalMatch[]> =>
  (store.lexicalSearch as NonNullable<MemoryStore['lexicalSearch']>).call(store, query, filter, limit);

/** A seeded PRNG in [0, 1). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), state | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

// A Zipf-like vocabulary: a few words are in most memories, most are rare — what makes pruning
// (and therefore bugs in it) matter.
const vocabulary = Array.from({ length: 400 }, (_, index) => `w${index.toString(36)}x`);
const sentence = (next: () => number, length: number) =>
  Array.from({ length }, () => vocabulary[Math.floor(vocabulary.length * next() ** 2.5)]).join(' ');

/** Same ids and the same scores (to rounding); order may differ only between equal scores. */
function expectSameRanking(actual: LexicalMatch[], expected: LexicalMatch[], label: string) {
  expect(actual.length, label).toBe(expected.length);
  for (let index = 0; index < expected.length; index++) {
    expect(actual[index]?.score, `${label} #${index}`).toBeCloseTo(expected[index]?.score as number, 9);
  }
  const key = (matches: LexicalMatch[]) => {
    // Ties may be cut at the limit differently: compare the ids above the lowest score.
    const last = matches.at(-1)?.score ?? 0;
    return matches
      .filter((match) => match.score > last + 1e-9)
      .map((match) => match.id)
      .sort();
  };
  expect(key(actual), label).toEqual(key(expected));
}

/** Each space-separated word of `text` with how often it occurs. */
function frequencies(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const word of text.split(' ')) map.set(word, (map.get(word) ?? 0) + 1);
  return map;
}

/** Indexes `text` (words separated by spaces, each counted once per occurrence) as document `slot`. */
function addText(index: Bm25Index, slot: number, text: string): void {
  const counts = frequencies(text);
  const ids = Int32Array.from(counts.keys(), (term) => index.termIdOf(term));
  index.addTerms(slot, ids, Float32Array.from(counts.values()), ids.length, text.split(' ').length);
}

describe('Bm25Index', () => {
  it('matches exhaustive BM25 on every query, limit and filter (MaxScore prunes nothing it should keep)', () => {
    const next = random(1);
    const index = new Bm25Index();
    const texts: string[] = [];
    for (let slot = 0; slot < 3000; slot++) {
      const text = sentence(next, 3 + Math.floor(next() * 20));
      texts.push(text);
      addText(index, slot, text);
    }
    for (let slot = 0; slot < 3000; slot += 7) index.remove(slot);
    const live = texts.map((_, slot) => slot).filter((slot) => slot % 7 !== 0);
    const counted = texts.map((text) => frequencies(text));
    const average = live.reduce((sum, slot) => sum + (texts[slot] as string).split(' ').length, 0) / live.length;
    const brute = (terms: string[], limit: number, accept: (slot: number) => boolean) => {
      const frequency = new Map([...new Set(terms)].map((term) => [term, live.filter((slot) => counted[slot]?.has(term)).length]));
      const df = (term: string) => frequency.get(term) as number;
      const scored = live
        .filter(accept)
        .map((slot) => {
          const words = counted[slot] as Map<string, number>;
          const length = (texts[slot] as string).split(' ').length;
          let score = 0;
          for (const term of new Set(terms)) {
            const f = words.get(term);
            if (!f) continue;
            const idf = Math.log(1 + (live.length - df(term) + 0.5) / (df(term) + 0.5));
            score += (idf * f * (BM25_K1 + 1)) / (f + BM25_K1 * (1 - BM25_B + (BM25_B * length) / average));
          }
          return { slot, score };
        })
        .filter((match) => match.score > 0);
      return scored.sort((a, b) => b.score - a.score || a.slot - b.slot).slice(0, limit);
    };
    for (let query = 0; query < 60; query++) {
      const terms = sentence(next, 1 + Math.floor(next() * 5)).split(' ');
      const limit = [1, 3, 10, 40][query % 4] as number;
      const accept = query % 3 === 0 ? () => true : query % 3 === 1 ? (slot: number) => slot % 5 === 1 : (slot: number) => slot % 31 === 2;
      const got = index.search(terms, limit, accept);
      const want = brute(terms, limit, accept);
      expect(
        got.map((match) => match.slot),
        terms.join(' '),
      ).toEqual(want.map((match) => match.slot));
      for (let position = 0; position < want.length; position++) {
        expect(got[position]?.score).toBeCloseTo(want[position]?.score as number, 9);
      }
    }
  });

  it('exports and loads its state: same results, before and after more documents and another export', () => {
    const next = random(4);
    const texts = Array.from({ length: 800 }, () => sentence(next, 4 + Math.floor(next() * 12)));
    const later = Array.from({ length: 200 }, (_, index) => `${sentence(next, 6)} brandnew${index % 7}`);
    const fresh = new Bm25Index();
    texts.forEach((text, slot) => {
      addText(fresh, slot, text);
    });
    for (let slot = 0; slot < 800; slot += 9) fresh.remove(slot);
    fresh.compact();
    const exported = fresh.exportState();
    const loaded = Bm25Index.fromState(exported.header, exported.arrays);
    const queries = [['w0x', 'w3x'], ['w7x', 'w1x', 'w40x'], ['brandnew3', 'w2x'], ['nothing']];
    for (const query of queries) expect(loaded.search(query, 10, () => true)).toEqual(fresh.search(query, 10, () => true));
    for (const index of [fresh, loaded]) {
      for (const text of later) addText(index, index.slotLimit, text);
      index.remove(3);
    }
    for (const query of queries) expect(loaded.search(query, 10, () => true)).toEqual(fresh.search(query, 10, () => true));
    loaded.compact();
    fresh.compact();
    const again = loaded.exportState();
    const reloaded = Bm25Index.fromState(again.header, again.arrays);
    for (const query of queries) expect(reloaded.search(query, 10, () => true)).toEqual(fresh.search(query, 10, () => true));
  });

  it('compacts: renumbers the live slots in order and keeps every score', () => {
    const next = random(2);
    const index = new Bm25Index();
    for (let slot = 0; slot < 500; slot++) {
      const text = sentence(next, 5 + Math.floor(next() * 10));
      addText(index, slot, text);
    }
    for (let slot = 0; slot < 500; slot += 2) index.remove(slot);
    const query = ['w0x', 'w1x', 'w5x', 'w20x'];
    const before = index.search(query, 50, () => true);
    const renumbered = index.compact();
    expect(renumbered[0]).toBe(-1);
    expect(renumbered[1]).toBe(0);
    expect(renumbered[499]).toBe(249);
    expect(index.size).toBe(250);
    const after = index.search(query, 50, () => true);
    expect(after.map((match) => match.slot)).toEqual(before.map((match) => renumbered[match.slot]));
    expect(after.map((match) => match.score)).toEqual(before.map((match) => match.score));
    // New slots continue after the compacted ones.
    expect(index.slotLimit).toBe(250);
    expect(() => addText(index, 10, 'a')).toThrow(/after slot/);
  });
});

describe('SQLite lexical search', () => {
  let store: MemoryStore;
  const search = (query: string, limit = 10) => lexical(store, query, {}, limit);

  beforeAll(async () => {
    store = sqliteStore({ path: ':memory:' });
    await store.open();
    await store.write(
      [
        'The deploy failed because the database migration timed out',
        'Cafe orders are handled by the payments service',
        'Parentheses (like these) and "quotes" and col:value pairs',
        'Running runners ran: stemming should match run',
        '東京 office opens at nine',
        'tagged only by its tags',
      ].map((content, index) => ({ record: makeRecord({ content, ...(index === 5 ? { tags: ['kubernetes'] } : {}) }) })),
    );
  });
  afterAll(() => store.close());

  it('returns [] for queries without searchable terms', async () => {
    for (const query of ['', '   ', '***', '"', '()', '::', '🙂', '\u0301\u0301']) {
      expect(await search(query)).toEqual([]);
    }
  });

  it('treats hostile syntax as plain words', async () => {
    const queries = [
      '"unbalanced',
      'a AND OR NOT b',
      'NEAR(database migration, 2)',
      'col:value',
      'content:database',
      'tags:kubernetes',
      '(((database',
      'database*',
      '-database +migration ^timed',
      "'; DROP TABLE memories; --",
      '\\" \\\' \\\\ \0 null byte',
      'x'.repeat(10_240),
      'database '.repeat(5000),
      Array.from({ length: 3000 }, (_, index) => `t${index}`).join(' '),
    ];
    for (const query of queries) await expect(search(query), query.slice(0, 40)).resolves.toBeInstanceOf(Array);
    expect((await search('content:database'))[0]).toBeDefined();
  });

  it('stems, folds case and removes diacritics', async () => {
    const [stemmed] = await search('RUNS');
    expect((await store.get([stemmed?.id as string]))[0]?.content).toMatch(/stemming/);
    const [folded] = await search('café');
    expect((await store.get([folded?.id as string]))[0]?.content).toMatch(/^Cafe/);
  });

  it('indexes tags and non-Latin scripts', async () => {
    expect(await search('kubernetes')).toHaveLength(1);
    expect(await search('東京')).toHaveLength(1);
  });

  it('ranks by BM25, higher score first', async () => {
    const matches = await search('database migration timed');
    expect(matches.length).toBeGreaterThan(0);
    expect((await store.get([matches[0]?.id as string]))[0]?.content).toMatch(/migration/);
    for (let index = 1; index < matches.length; index++) {
      expect((matches[index - 1]?.score ?? 0) >= (matches[index]?.score ?? 0)).toBe(true);
    }
  });
});

describe('SQLite lexical search against the in-memory reference', () => {
  let directory: string;
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('returns the reference ranking under filters, updates, supersession and deletes', async () => {
    directory = mkdtempSync(join(tmpdir(), 'engram-lexical-'));
    const sqlite = sqliteStore({ path: join(directory, 'memory.db') });
    const reference = inMemoryStore();
    const next = random(3);
    const records: MemoryRecord[] = [];
    for (let index = 0; index < 1500; index++) {
      const content = `${sentence(next, 4 + Math.floor(next() * 16))} n${index}`;
      records.push(
        makeRecord({
          content,
          tags: [vocabulary[Math.floor(next() * 50)] as string],
          ...(index % 3 === 0 ? { context: sentence(next, 6) } : {}),
          type: index % 4 === 0 ? 'decision' : 'observation',
          scope: { userId: `u${index % 5}` },
          metadata: { priority: index % 3 },
        }),
      );
    }
    for (const store of [sqlite, reference]) await store.write(records.map((record) => ({ record })));
    const queries = Array.from({ length: 25 }, () => sentence(next, 1 + Math.floor(next() * 4)));
    const filters: MemoryFilter[] = [
      {},
      { scope: { userId: 'u2' } },
      { types: ['decision'] },
      { tags: { any: [vocabulary[3] as string, vocabulary[7] as string] } },
      { where: parseWhere({ priority: 2 }) },
      { ids: records.slice(0, 300).map((record) => record.id) },
    ];
    const compare = async (stage: string) => {
      for (const query of queries) {
        for (const filter of filters) {
          const label = `${stage}: ${query} ${JSON.stringify(filter).slice(0, 60)}`;
          expectSameRanking(await lexical(sqlite, query, filter, 10), await lexical(reference, query, filter, 10), label);
        }
      }
    };
    await compare('initial');

    const now = new Date();
    for (const store of [sqlite, reference]) {
      for (let index = 0; index < 1500; index += 10) {
        const content = `rewritten ${sentence(random(index), 8)}`;
        await store.update(records[index]?.id as string, { content, contentHash: contentHash(content), updatedAt: now });
      }
      for (let index = 5; index < 1500; index += 10) await store.delete(records[index]?.id as string, now);
      for (let index = 7; index < 1500; index += 20) {
        await store.update(records[index]?.id as string, { supersededBy: records[index + 1]?.id as string, validTo: now, updatedAt: now });
      }
    }
    await compare('after updates');
    await sqlite.close();
  });

  it('sees what another connection writes, changes and deletes', async () => {
    directory = mkdtempSync(join(tmpdir(), 'engram-lexical-'));
    const path = join(directory, 'memory.db');
    const writer = sqliteStore({ path });
    const reader = sqliteStore({ path });
    const first = makeRecord({ content: 'the zeppelin lands at noon' });
    await writer.write([{ record: first }]);
    expect((await lexical(reader, 'zeppelin')).map((match) => match.id)).toEqual([first.id]);

    await writer.update(first.id, {
      content: 'the airship lands at noon',
      contentHash: contentHash('the airship lands at noon'),
      updatedAt: new Date(),
    });
    expect(await lexical(reader, 'zeppelin')).toEqual([]);
    expect((await lexical(reader, 'airship')).map((match) => match.id)).toEqual([first.id]);

    const second = makeRecord({ content: 'a second airship', scope: { userId: 'ana' } });
    await writer.write([{ record: second }]);
    expect((await lexical(reader, 'airship', { scope: { userId: 'ana' } })).map((match) => match.id)).toEqual([second.id]);

    await writer.delete(first.id, new Date());
    expect((await lexical(reader, 'airship')).map((match) => match.id)).toEqual([second.id]);
    await writer.close();
    await reader.close();
  });

  it('does not re-index on access statistics', async () => {
    directory = mkdtempSync(join(tmpdir(), 'engram-lexical-'));
    const path = join(directory, 'memory.db');
    const store = sqliteStore({ path });
    const record = makeRecord({ content: 'counted but not re-indexed' });
    await store.write([{ record }]);
    const db = new Database(path, { readonly: true });
    const head = () => (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'memory_vector_log'").get() as { seq: number }).seq;
    const before = head();
    await store.recordAccess([record.id], new Date());
    expect((await store.get([record.id]))[0]?.accessCount).toBe(1);
    expect(head()).toBe(before);
    db.close();
    await store.close();
  });
});

describe('SQLite lexical index snapshot', () => {
  let directory: string;
  afterEach(() => rmSync(directory, { recursive: true, force: true }));
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  /** A file with 2,500 memories (enough to be persisted) and the snapshot its first search wrote. */
  async function persistedFile() {
    directory = mkdtempSync(join(tmpdir(), 'engram-lexical-snapshot-'));
    const path = join(directory, 'memory.db');
    const store = sqliteStore({ path });
    const next = random(9);
    const records = Array.from({ length: 2500 }, (_, index) =>
      makeRecord({ content: `${sentence(next, 10)} r${index}`, scope: { userId: `u${index % 4}` }, tags: [`t${index % 9}`] }),
    );
    await store.write(records.map((record) => ({ record })));
    const first = await lexical(store, 'w1x w2x w9x', {}, 20);
    await settle();
    await store.close();
    return { path, records, first };
  }
  const snapshotMeta = (path: string) => {
    const file = `${path}-lexical.snapshot`;
    if (!existsSync(file)) return { meta: null, exists: false };
    const { header } = decodeSnapshot(readFileSync(file));
    return { meta: (header as { meta: { seq: number; version: number; contextWeight: number } }).meta, exists: true };
  };

  it('is written after a full build and gives a new connection the same results', async () => {
    const { path, first } = await persistedFile();
    const { meta, exists } = snapshotMeta(path);
    expect(exists).toBe(true);
    expect(meta).toMatchObject({ version: 3, contextWeight: 0.5 });
    const reopened = sqliteStore({ path });
    expect(await lexical(reopened, 'w1x w2x w9x', {}, 20)).toEqual(first);
    expect(await lexical(reopened, 'w1x', { scope: { userId: 'u2' }, tags: { any: ['t3'] } }, 5)).toEqual(
      await lexical(inMemoryCopy(path), 'w1x', { scope: { userId: 'u2' }, tags: { any: ['t3'] } }, 5),
    );
    await reopened.close();

    // Proof that a new connection reads the snapshot rather than the rows: change a row behind
    // the log's back (its trigger dropped); the snapshot still holds the old words.
    const db = new Database(path);
    db.exec('DROP TRIGGER memories_after_search_field_update');
    db.prepare("UPDATE memories SET content = 'unlogged marker' WHERE rowid = 1").run();
    db.close();
    const fromSnapshot = sqliteStore({ path });
    expect(await lexical(fromSnapshot, 'unlogged')).toEqual([]);
    await fromSnapshot.close();
  });

  it('is brought up to date with what was written after it', async () => {
    const { path, records } = await persistedFile();
    const writer = sqliteStore({ path });
    const added = makeRecord({ content: 'quokka sighting after the snapshot' });
    await writer.write([{ record: added }]);
    await writer.delete(records[0]?.id as string, new Date());
    const rewritten = 'quokka rewritten after the snapshot';
    await writer.update(records[1]?.id as string, { content: rewritten, contentHash: contentHash(rewritten), updatedAt: new Date() });
    await writer.close();
    expect(snapshotMeta(path).meta?.seq).toBeLessThan(readHead(path));

    const reader = sqliteStore({ path });
    expect(new Set((await lexical(reader, 'quokka')).map((match) => match.id))).toEqual(new Set([added.id, records[1]?.id]));
    expect((await lexical(reader, 'r0')).map((match) => match.id)).toEqual([]);
    expect(await lexical(reader, 'w1x w5x', {}, 30)).toEqual(await lexical(inMemoryCopy(path), 'w1x w5x', {}, 30));
    await reader.close();
  });

  it('takes rows newer than it without building its slot map, and still replaces and removes them', async () => {
    const { path, records } = await persistedFile();
    const store = sqliteStore({ path });
    // Loads the snapshot; nothing to catch up, so the rowid-to-slot map stays unbuilt.
    expect(await lexical(store, 'w1x w2x', {}, 5)).toHaveLength(5);
    const fresh = Array.from({ length: 30 }, (_, index) => makeRecord({ content: `wombat number n${index}` }));
    await store.write(fresh.map((record) => ({ record })));
    // Each new row is newer than every indexed one: appended past the largest rowid, no map built.
    expect(await lexical(store, 'wombat', {}, 50)).toHaveLength(30);
    // Then rows the index holds, new and old, change: the map built now must hold the new slots too.
    const rewritten = 'wombat rewritten once';
    await store.update(fresh[3]?.id as string, { content: rewritten, contentHash: contentHash(rewritten), updatedAt: new Date() });
    await store.delete(fresh[4]?.id as string, new Date());
    const older = 'wombat older memory';
    await store.update(records[2]?.id as string, { content: older, contentHash: contentHash(older), updatedAt: new Date() });
    await store.write([{ record: makeRecord({ content: 'wombat newest' }) }]);
    const found = await lexical(store, 'wombat', {}, 50);
    expect(found).toHaveLength(31);
    expect(found.map((match) => match.id)).not.toContain(fresh[4]?.id);
    expectSameRanking(found, await lexical(inMemoryCopy(path), 'wombat', {}, 50), 'wombat');
    expectSameRanking(await lexical(store, 'w1x w5x n3', {}, 30), await lexical(inMemoryCopy(path), 'w1x w5x n3', {}, 30), 'w1x w5x n3');
    await store.close();
  });

  it('keeps serving a connection that loaded it after another one replaced the file', async () => {
    const { path } = await persistedFile();
    const reader = sqliteStore({ path });
    // Loads the snapshot and reads the postings of these words only.
    await lexical(reader, 'w1x', {}, 5);

    const writer = sqliteStore({ path });
    const next = random(77);
    const more = Array.from({ length: 1200 }, (_, index) => makeRecord({ content: `${sentence(next, 10)} later${index}` }));
    await writer.write(more.map((record) => ({ record })));
    await lexical(writer, 'w2x', {}, 5);
    await settle();
    await writer.close();
    expect(snapshotMeta(path).meta?.seq).toBe(readHead(path));

    // Words the reader never looked up: their postings come from the file it opened (replaced
    // since), the 1,200 new memories from the log.
    for (const query of ['w3x w9x', 'w5x wax', 'later7 w4x']) {
      expectSameRanking(await lexical(reader, query, {}, 30), await lexical(inMemoryCopy(path), query, {}, 30), query);
    }
    await reader.close();
  }, 120_000);

  it('is rebuilt when damaged, of another context weight, or no longer covered by the log', async () => {
    const { path, first } = await persistedFile();
    writeFileSync(`${path}-lexical.snapshot`, Buffer.from([0, 1, 2, 3]));
    const damaged = sqliteStore({ path });
    expect(await lexical(damaged, 'w1x w2x w9x', {}, 20)).toEqual(first);
    await settle();
    await damaged.close();
    expect(snapshotMeta(path).meta?.version).toBe(3);

    const weighted = sqliteStore({ path, contextWeight: 0.25 });
    expect(await lexical(weighted, 'w1x w2x w9x', {}, 20)).toEqual(first);
    await settle();
    await weighted.close();
    expect(snapshotMeta(path).meta?.contextWeight).toBe(0.25);

    // A snapshot older than the log's window: the log cannot replay what happened since.
    const stale = new Database(path);
    const meta = snapshotMeta(path).meta as { seq: number };
    stale.prepare('DELETE FROM memory_vector_log WHERE seq <= ?').run(meta.seq - 2);
    stale.close();
    const rebuilt = sqliteStore({ path, contextWeight: 0.25 });
    expect(await lexical(rebuilt, 'w1x w2x w9x', {}, 20)).toEqual(first);
    await rebuilt.close();
  });
});

describe('SQLite index snapshot ownership', () => {
  let directory: string;
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('ignores a snapshot file left beside a database that was deleted and created again', async () => {
    directory = mkdtempSync(join(tmpdir(), 'engram-snapshot-owner-'));
    const path = join(directory, 'memory.db');
    const write = async (prefix: string) => {
      const store = sqliteStore({ path });
      const next = random(prefix.length);
      await store.write(
        Array.from({ length: 2100 }, (_, index) => ({ record: makeRecord({ content: `${prefix} ${sentence(next, 6)} ${index}` }) })),
      );
      await lexical(store, prefix);
      await new Promise((resolve) => setImmediate(resolve));
      await store.close();
    };
    await write('firstborn');
    expect(existsSync(`${path}-lexical.snapshot`)).toBe(true);
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
    // The same number of writes again: the log reaches the same sequence numbers.
    await write('secondborn');
    const store = sqliteStore({ path });
    expect(await lexical(store, 'firstborn')).toEqual([]);
    expect(await lexical(store, 'secondborn', {}, 5)).toHaveLength(5);
    await store.close();
  });
});

function readHead(path: string): number {
  const db = new Database(path, { readonly: true });
  const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'memory_vector_log'").pluck().get() as number;
  db.close();
  return seq;
}

/** An in-memory reference store holding the live rows of a file (content and tags; no context). */
function inMemoryCopy(path: string): MemoryStore {
  const db = new Database(path, { readonly: true });
  const rows = db.prepare('SELECT id, content, tags, user_id FROM memories WHERE deleted_at IS NULL').all() as Array<{
    id: string;
    content: string;
    tags: string;
    user_id: string | null;
  }>;
  db.close();
  const store = inMemoryStore();
  void store.write(
    rows.map((row) => ({
      record: makeRecord({
        id: row.id,
        content: row.content,
        tags: JSON.parse(row.tags) as string[],
        scope: row.user_id ? { userId: row.user_id } : {},
      }),
    })),
  );
  return store;
}
