import { postgresStore } from '@engram/adapters/postgres';
import { makeRecord } from '@engram/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePostgres, writeFillerMemories } from './support/postgres.js';

// Issue 18: above 5,000 rows, Postgres lexical search caches each lexeme's document frequency for
// 30 s. A word no memory held when it was counted had a cached frequency of 0, and a lexeme of
// frequency 0 adds no candidates — so a user who added "kubernetes" and searched it at once got
// nothing for up to 30 s. A lexeme counted at 0 is now counted again on the next search.
const postgres = usePostgres();
const suite = postgres.skip ? describe.skip : describe;

const rows = 5_400;

suite(`Postgres lexical search finds a brand-new word at once${postgres.skip ? ` (skipped: ${postgres.skip})` : ''}`, () => {
  const schema = postgres.skip ? '' : postgres.nextSchema();
  beforeAll(async () => {
    if (postgres.skip) return;
    await writeFillerMemories(postgres, schema, 4, rows);
  }, 60_000);
  afterAll(async () => {
    if (!postgres.skip) await postgres.dropSchema(schema);
  });

  it('is on the large-table path (statistics from ANALYZE, frequencies cached)', async () => {
    const { rows: found } = await postgres.pool.query<{ estimate: number }>(
      `SELECT reltuples::float8 AS estimate FROM pg_class WHERE oid = to_regclass($1)`,
      [`"${schema}".memories`],
    );
    expect(found[0]?.estimate).toBeGreaterThanOrEqual(5_000);
  });

  it('finds a word written through the same store right after a search that did not find it', async () => {
    const store = postgresStore({ pool: postgres.pool, schema, vectors: false });
    try {
      // Warm every cache: the corpus statistics, and this word's frequency (0: no memory holds it).
      expect(await store.lexicalSearch?.('filler3 kubernetes', {}, 10)).toHaveLength(10);
      expect(await store.lexicalSearch?.('kubernetes', {}, 10)).toEqual([]);
      const added = makeRecord({ content: 'we moved the build agents to kubernetes' });
      await store.write([{ record: added }]);
      const found = (await store.lexicalSearch?.('kubernetes', {}, 10)) ?? [];
      expect(found.map((match) => match.id)).toEqual([added.id]);
      // With a common word next to it, the new memory ranks first (the rare word weighs most).
      const mixed = (await store.lexicalSearch?.('filler3 kubernetes', {}, 10)) ?? [];
      expect(mixed[0]?.id).toBe(added.id);
    } finally {
      await store.close();
    }
  });

  it('finds a word another process wrote after this store counted it', async () => {
    const reader = postgresStore({ pool: postgres.pool, schema, vectors: false });
    const writer = postgresStore({ pool: postgres.pool, schema, vectors: false });
    try {
      expect(await reader.lexicalSearch?.('terraform', {}, 10)).toEqual([]);
      const added = makeRecord({ content: 'terraform plans are reviewed before apply' });
      await writer.write([{ record: added }]);
      const found = (await reader.lexicalSearch?.('terraform', {}, 10)) ?? [];
      expect(found.map((match) => match.id)).toEqual([added.id]);
    } finally {
      await reader.close();
      await writer.close();
    }
  });
});
