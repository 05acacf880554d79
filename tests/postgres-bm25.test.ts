import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresStore } from '@engram/adapters/postgres';
import { sqliteStore } from '@engram/adapters/sqlite';
import { type AddInput, hashEmbedder, Memory, type MemoryStore } from '@engram/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePostgres } from './support/postgres.js';
import { seededRandom as random } from './support/random.js';

// Issue 18: lexical search on Postgres ranks like the SQLite store's BM25. The same memories go
// into both; for each query the top 10 of Postgres (bounded candidates, english stemming) must
// share at least 8 of 10 memories with SQLite's exact BM25 (Porter stemming) on average.
const postgres = usePostgres();
const suite = postgres.skip ? describe.skip : describe;

const vocabulary = (
  'database migration timeout index query cache server client deploy rollback schema table column vector search ' +
  'memory agent process worker queue retry backoff latency throughput replica shard cluster backup restore snapshot ' +
  'token prompt model embedding ranking filter scope tenant user session cookie header request response error failure ' +
  'exception warning config setting option flag feature release version upgrade patch hotfix incident outage alert ' +
  'monitor metric dashboard log trace span profile benchmark test suite fixture mock stub assertion coverage build ' +
  'compile bundle package module import export function method class interface type generic promise stream buffer ' +
  'socket connection pool transaction lock deadlock commit merge branch review approve reject comment issue ticket ' +
  'sprint planning estimate deadline customer invoice payment refund order cart checkout shipping address email ' +
  'notification webhook callback event listener handler router middleware proxy gateway balancer certificate secret'
).split(' ');
const glue = ['the', 'a', 'of', 'in', 'on', 'for', 'with', 'after', 'before', 'and', 'was', 'is'];

function corpus(count: number): AddInput[] {
  const next = random(18);
  const word = () => vocabulary[Math.floor(vocabulary.length * next() ** 2)] as string;
  return Array.from({ length: count }, (_, index) => {
    const words = Array.from({ length: 6 + Math.floor(next() * 14) }, () =>
      next() < 0.25 ? (glue[Math.floor(next() * glue.length)] as string) : word(),
    );
    return { content: `${words.join(' ')} (note ${index})`, type: 'observation', tags: [word()], scope: { userId: `user-${index % 5}` } };
  });
}

function queries(count: number): string[] {
  const next = random(7);
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + Math.floor(next() * 4) }, () => vocabulary[Math.floor(vocabulary.length * next() ** 2)]).join(' '),
  );
}

suite(`Postgres BM25 ranks like SQLite${postgres.skip ? ` (skipped: ${postgres.skip})` : ''}`, () => {
  const directory = mkdtempSync(join(tmpdir(), 'engram-bm25-'));
  let sqlite: MemoryStore;
  let pgStore: MemoryStore;
  // The same, with `memory_lexemes` kept (lexicalPostings): its lists must rank the same way.
  let pgPostings: MemoryStore;
  const contentOf = new Map<string, string>();

  beforeAll(async () => {
    sqlite = sqliteStore({ path: join(directory, 'bm25.db') });
    pgStore = postgresStore({ pool: postgres.pool, schema: postgres.nextSchema(), vectors: false });
    pgPostings = postgresStore({ pool: postgres.pool, schema: postgres.nextSchema(), vectors: false, lexicalPostings: true });
    const inputs = corpus(3000);
    for (const store of [sqlite, pgStore, pgPostings]) {
      const memory = new Memory({ store, embedder: hashEmbedder({ dimensions: 16 }), logger: false });
      for (let offset = 0; offset < inputs.length; offset += 500) {
        for (const result of await memory.addMany(inputs.slice(offset, offset + 500)))
          contentOf.set(result.memory.id, result.memory.content);
      }
    }
  }, 120_000);

  afterAll(async () => {
    await sqlite?.close();
    await pgStore?.close();
    await pgPostings?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const overlapOf = async (
    filter: Parameters<NonNullable<MemoryStore['lexicalSearch']>>[1],
    postgresSide: () => MemoryStore = () => pgStore,
  ) => {
    let shared = 0;
    let expected = 0;
    for (const query of queries(60)) {
      const exact = ((await sqlite.lexicalSearch?.(query, filter, 10)) ?? []).map((match) => contentOf.get(match.id));
      const found = new Set(((await postgresSide().lexicalSearch?.(query, filter, 10)) ?? []).map((match) => contentOf.get(match.id)));
      expected += exact.length;
      shared += exact.filter((content) => found.has(content)).length;
    }
    return shared / expected;
  };

  it('shares at least 8 of the top 10 with SQLite, no filter', async () => {
    expect(await overlapOf({})).toBeGreaterThanOrEqual(0.8);
  });

  it('shares at least 8 of the top 10 with SQLite, filtered by user', async () => {
    expect(await overlapOf({ scope: { userId: 'user-2' } })).toBeGreaterThanOrEqual(0.8);
  });

  it('ranks the same with lexicalPostings: at least 8 of the top 10 with SQLite, and the same top 10 as without', async () => {
    expect(await overlapOf({}, () => pgPostings)).toBeGreaterThanOrEqual(0.8);
    expect(await overlapOf({ scope: { userId: 'user-2' } }, () => pgPostings)).toBeGreaterThanOrEqual(0.8);
    for (const query of queries(60)) {
      const without = ((await pgStore.lexicalSearch?.(query, {}, 10)) ?? []).map((match) => contentOf.get(match.id));
      const withPostings = ((await pgPostings.lexicalSearch?.(query, {}, 10)) ?? []).map((match) => contentOf.get(match.id));
      expect(withPostings).toEqual(without);
    }
  });
});

suite(`Postgres BM25 statistics${postgres.skip ? ` (skipped: ${postgres.skip})` : ''}`, () => {
  it('asks for ANALYZE once when a large table has no statistics yet, and ranks from pg_stats afterwards', async () => {
    const schema = postgres.nextSchema();
    const store = postgresStore({ pool: postgres.pool, schema, vectors: false });
    try {
      const memory = new Memory({ store, embedder: hashEmbedder({ dimensions: 16 }), logger: false });
      const inputs = corpus(6000);
      for (let offset = 0; offset < inputs.length; offset += 1000) await memory.addMany(inputs.slice(offset, offset + 1000));
      const statistics = async () =>
        (
          await postgres.pool.query(
            `SELECT count(*)::int AS found FROM pg_stats WHERE schemaname = $1 AND tablename = 'memories' AND attname = 'search' AND most_common_elems IS NOT NULL`,
            [schema],
          )
        ).rows[0].found as number;
      expect(await statistics()).toBe(0);
      const before = await store.lexicalSearch?.('database migration timeout', {}, 10);
      expect(before).toHaveLength(10);
      for (let attempt = 0; attempt < 400 && (await statistics()) === 0; attempt++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await statistics()).toBe(1);
      // A fresh store reads the statistics: the same words still find 10 memories holding them.
      const fresh = postgresStore({ pool: postgres.pool, schema, vectors: false });
      const after = (await fresh.lexicalSearch?.('database migration timeout', {}, 10)) ?? [];
      expect(after).toHaveLength(10);
      const contents = await fresh.get(after.map((match) => match.id));
      for (const record of contents) expect(record.content).toMatch(/database|migration|timeout/);
      await fresh.close();
    } finally {
      await store.close();
      await postgres.dropSchema(schema);
    }
  }, 120_000);
});
