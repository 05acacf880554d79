import type { MemoryStore } from '@engram/core';
import { makeRecord } from '@engram/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ftsQuery, maxFtsTerms } from './fts-query.js';
import { sqliteStore } from './sqlite-store.js';

describe('ftsQuery', () => {
  it('quotes each word and ORs them', () => {
    expect(ftsQuery('Database migration, timed-out!')).toBe('"database" OR "migration" OR "timed" OR "out"');
  });

  it('leaves out function words when other words remain', () => {
    expect(ftsQuery('What did we decide about the cache?')).toBe('"decide" OR "cache"');
    expect(ftsQuery('NEAR and OR')).toBe('"near"');
    expect(ftsQuery('to be or not to be')).toBe('"to" OR "be" OR "or" OR "not"');
  });

  it('drops duplicates and punctuation-only input', () => {
    expect(ftsQuery('db DB Db')).toBe('"db"');
    expect(ftsQuery('  "" ** () :: -- ')).toBeNull();
    expect(ftsQuery('')).toBeNull();
  });

  it('never emits FTS5 syntax from user text', () => {
    const query = ftsQuery('"a" AND b OR NOT c NEAR(d e) f* col:g ^h {i j}') ?? '';
    // Only quoted terms joined by our own ORs remain.
    expect(query.split(' OR ').every((term) => /^"[\p{L}\p{M}\p{N}]+"$/u.test(term))).toBe(true);
    expect(query).toContain('"near"');
    expect(ftsQuery('AND OR NOT')).toBe('"and" OR "or" OR "not"');
  });

  it(`caps the number of terms at ${maxFtsTerms}`, () => {
    const text = Array.from({ length: 500 }, (_, index) => `word${index}`).join(' ');
    expect(ftsQuery(text)?.split(' OR ')).toHaveLength(maxFtsTerms);
  });

  it('keeps letters, marks and digits of any script', () => {
    expect(ftsQuery('naïve café 東京 2024 Ωmega')).toBe('"naïve" OR "café" OR "東京" OR "2024" OR "ωmega"');
  });
});

describe('lexical search on FTS5', () => {
  let store: MemoryStore;
  const search = (query: string, limit = 10) =>
    (store.lexicalSearch as NonNullable<MemoryStore['lexicalSearch']>).call(store, query, {}, limit);

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
