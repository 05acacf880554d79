import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pgClient, type Queryable } from '../packages/adapters/src/postgres/postgres-client.js';
import { listPlan, PostgresLexicalSearch } from '../packages/adapters/src/postgres/postgres-lexical.js';
import { usePostgres, writeFillerMemories } from './support/postgres.js';

// Issue 18: above 5,000 rows, Postgres lexical search reads its corpus statistics (live count,
// average length, the length tiers, pg_stats) from a sample every 30 s — 10–13 ms at 1M that the
// one search finding them expired used to wait for. That search now goes on with the old ones while
// one refresh runs in the background.
const postgres = usePostgres();
const suite = postgres.skip ? describe.skip : describe;

suite(`Postgres lexical statistics refresh${postgres.skip ? ` (skipped: ${postgres.skip})` : ''}`, () => {
  const schema = postgres.skip ? '' : postgres.nextSchema();
  beforeAll(async () => {
    if (postgres.skip) return;
    await writeFillerMemories(postgres, schema, 9);
  }, 60_000);
  afterAll(async () => {
    if (!postgres.skip) await postgres.dropSchema(schema);
  });

  it('answers with the previous statistics while expired ones are read again in the background, one refresh at a time', async () => {
    const client = pgClient(postgres.pool, false);
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = false;
    let samples = 0;
    // The corpus sample (TABLESAMPLE) waits while `holding`, as a slow refresh would.
    const gated: Queryable = {
      query: async <Row>(text: string, params?: Parameters<Queryable['query']>[1]) => {
        if (text.includes('TABLESAMPLE')) {
          samples++;
          if (holding) await held;
        }
        return client.query<Row>(text, params);
      },
    };
    const search = new PostgresLexicalSearch(`"${schema}".memories`, schema, `"${schema}".memory_lexemes`, listPlan, {
      buildIndexes: false,
    });
    const first = await search.search(gated, 'filler3 filler7', {}, 10);
    expect(first).toHaveLength(10);
    expect(samples).toBe(1);
    const clock = vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 31_000);
    try {
      holding = true;
      const timeout = new Promise<'waited'>((resolve) => setTimeout(() => resolve('waited'), 5_000));
      // Expired: this search starts the refresh and answers without waiting for it.
      expect(await Promise.race([search.search(gated, 'filler3 filler7', {}, 10), timeout])).toEqual(first);
      for (let attempt = 0; attempt < 100 && samples < 2; attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(samples).toBe(2);
      // A second search meanwhile starts no second refresh.
      expect(await Promise.race([search.search(gated, 'filler4', {}, 10), timeout])).toHaveLength(10);
      expect(samples).toBe(2);
    } finally {
      release();
      clock.mockRestore();
    }
    // Once read, the fresh statistics are used (no new sample within their 30 s).
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await search.search(gated, 'filler3 filler7', {}, 10)).toEqual(first);
    expect(samples).toBe(2);
  });
});
