import { postgresStore } from '@engram/adapters/postgres';
import { makeRecord } from '@engram/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgClient } from '../packages/adapters/src/postgres/postgres-client.js';
import { type ListAccess, listPlan, PostgresLexicalSearch } from '../packages/adapters/src/postgres/postgres-lexical.js';
import { migrateToLatest, migrations, shortMemoryLength } from '../packages/adapters/src/postgres/postgres-migrations.js';
import { usePostgres } from './support/postgres.js';
import { seededRandom as random } from './support/random.js';

// Issue 18: every candidate list of Postgres lexical search ("the shortest memories holding these
// words") can be read three ways — the length walk, the text index, or the short memories' index
// (migration 0011) first with the others as fallback — picked by an estimate. Whatever is picked,
// the lists, and so the answers, must be the same. An older database gets the index and the
// longer statistics list (migration 0010) on open.
const postgres = usePostgres();
const suite = postgres.skip ? describe.skip : describe;

const vocabulary = Array.from({ length: 120 }, (_, index) => `word${String.fromCharCode(97 + (index % 26))}${Math.floor(index / 26)}x`);
/** 2,400 memories of 4–30 words (about a third at most `shortMemoryLength` tokens), Zipf-like word choice. */
function corpus(): string[] {
  const next = random(18);
  return Array.from({ length: 2400 }, (_, index) => {
    const length = 4 + Math.floor(next() * 27);
    const words = Array.from({ length }, () => vocabulary[Math.floor(vocabulary.length * next() ** 2)]);
    return `${words.join(' ')} m${index}`;
  });
}

function queries(): string[] {
  const next = random(7);
  return Array.from({ length: 40 }, () =>
    Array.from({ length: 1 + Math.floor(next() * 5) }, () => vocabulary[Math.floor(vocabulary.length * next() ** 1.5)]).join(' '),
  );
}

/** Every way of reading a list, forced (undefined: the estimate decides, as in the store). */
const forced: { name: string; plan?: { access: ListAccess; short: boolean } }[] = [
  { name: 'estimate' },
  { name: 'walk', plan: { access: 'walk', short: false } },
  { name: 'index', plan: { access: 'gin', short: false } },
  { name: 'short, then walk', plan: { access: 'walk', short: true } },
  { name: 'short, then index', plan: { access: 'gin', short: true } },
];

suite(`Postgres lexical candidate lists${postgres.skip ? ` (skipped: ${postgres.skip})` : ''}`, () => {
  const schema = postgres.skip ? '' : postgres.nextSchema();
  beforeAll(async () => {
    if (postgres.skip) return;
    const store = postgresStore({ pool: postgres.pool, schema, vectors: false });
    await store.write(corpus().map((content) => ({ record: makeRecord({ content }) })));
    await store.close();
    await postgres.pool.query(`ANALYZE "${schema}".memories`);
  });
  afterAll(async () => {
    if (!postgres.skip) await postgres.dropSchema(schema);
  });

  it('has short memories holding common words (both branches of the short-first lists run)', async () => {
    const { rows } = await postgres.pool.query(
      `SELECT count(*) FILTER (WHERE search_length <= $1)::int AS short, count(*)::int AS all FROM "${schema}".memories
       WHERE search @@ to_tsquery('simple', $2)`,
      [shortMemoryLength, vocabulary[0]],
    );
    // The most common word: more short holders than an all-words list takes (200), and rare words with fewer than 50.
    expect(rows[0].short).toBeGreaterThan(200);
    const rare = await postgres.pool.query(
      `SELECT count(*)::int AS short FROM "${schema}".memories WHERE search_length <= $1 AND search @@ to_tsquery('simple', $2)`,
      [shortMemoryLength, vocabulary[110]],
    );
    expect(rare.rows[0].short).toBeLessThan(50);
  });

  it('answers the same whichever way each list is read', async () => {
    const client = pgClient(postgres.pool, false);
    const memories = `"${schema}".memories`;
    const results = new Map<string, { id: string; score: number }[][]>();
    for (const way of forced) {
      const search = new PostgresLexicalSearch(
        memories,
        schema,
        `"${schema}".memory_lexemes`,
        way.plan ? () => way.plan as { access: ListAccess; short: boolean } : listPlan,
      );
      const answers: { id: string; score: number }[][] = [];
      for (const query of queries()) answers.push(await search.search(client, query, {}, 10));
      results.set(way.name, answers);
    }
    const reference = results.get('walk') ?? [];
    expect(reference.filter((answer) => answer.length === 10).length).toBeGreaterThan(30);
    for (const way of forced) {
      const answers = results.get(way.name) ?? [];
      for (const [index, answer] of answers.entries()) {
        expect(
          answer.map((match) => match.id),
          `${way.name}: ${queries()[index]}`,
        ).toEqual(reference[index]?.map((match) => match.id));
        for (const [rank, match] of answer.entries()) expect(match.score).toBeCloseTo(reference[index]?.[rank]?.score ?? Number.NaN, 9);
      }
    }
  });

  it('reads the short memories first only when enough of them should hold the words, and when it is cheaper', () => {
    const short = { share: 0.125, lengthRatio: 0.6 };
    // 1M memories: a word in 0.3 % of them (the walk reads ~27,000 rows) — short first.
    expect(listPlan([{ df: 3000 }], 1, 50, 1_000_000, short)).toEqual({ access: 'walk', short: true });
    // 100k: the same share gives ~22 short holders, fewer than twice the list — not short.
    expect(listPlan([{ df: 300 }], 1, 50, 100_000, short).short).toBe(false);
    // A common word: its walk is a few hundred rows — the walk.
    expect(listPlan([{ df: 100_000 }], 1, 50, 1_000_000, short)).toEqual({ access: 'walk', short: false });
    // Two common words at 1M (~5,000 hold both, the shortest hold them less often): the index.
    expect(listPlan([{ df: 104_084 }, { df: 47_535 }], 2, 200, 1_000_000, short).access).toBe('gin');
    // Three of three words most memories hold: the walk finds 200 in a few hundred rows.
    expect(listPlan([{ df: 600_000 }, { df: 500_000 }, { df: 700_000 }], 3, 200, 1_000_000, short).access).toBe('walk');
  });

  it('gives an older database the short memories index and the longer statistics list on open, with the same answers', async () => {
    const older = postgres.nextSchema();
    const client = pgClient(postgres.pool, false);
    const { '0010-search-statistics': _statistics, '0011-short-memories-search': _short, ...before } = migrations(older);
    await migrateToLatest(client, older, before);
    const contents = corpus().slice(0, 600);
    for (const [index, content] of contents.entries())
      await postgres.pool.query(
        `INSERT INTO "${older}".memories (id, content, content_hash, type, scope_key, importance, created_at, updated_at)
         VALUES ($1, $2, $3, 'observation', '["","",""]', 0.5, now(), now())`,
        [`old-${String(index).padStart(4, '0')}`, content, `hash-${index}`],
      );
    const fresh = postgres.nextSchema();
    const store = postgresStore({ pool: postgres.pool, schema: older, vectors: false });
    const reference = postgresStore({ pool: postgres.pool, schema: fresh, vectors: false });
    try {
      await store.open();
      const index = await postgres.pool.query(
        `SELECT pg_get_indexdef(indexrelid) AS definition FROM pg_index WHERE indexrelid = to_regclass($1)`,
        [`"${older}".memories_search_short`],
      );
      expect(index.rows[0]?.definition).toMatch(/gin \(search\) WHERE \(\(deleted_at IS NULL\) AND \(search_length <= 12\)\)/);
      const target = await postgres.pool.query(
        `SELECT attstattarget FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'search'`,
        [`"${older}".memories`],
      );
      expect(target.rows[0]?.attstattarget).toBe(300);
      // Analysed on upgrade (a new, empty store is not: see postgres-bm25's "asks for ANALYZE once").
      const analysed = await postgres.pool.query(
        `SELECT count(*)::int AS found FROM pg_stats WHERE schemaname = $1 AND tablename = 'memories' AND attname = 'search'`,
        [older],
      );
      expect(analysed.rows[0]?.found).toBe(1);
      // The same memories written by today's store: the same answers.
      await reference.write(
        contents.map((content, position) => ({ record: makeRecord({ id: `old-${String(position).padStart(4, '0')}`, content }) })),
      );
      for (const query of queries()) {
        const upgraded = ((await store.lexicalSearch?.(query, {}, 10)) ?? []).map((match) => match.id);
        const current = ((await reference.lexicalSearch?.(query, {}, 10)) ?? []).map((match) => match.id);
        expect(upgraded, query).toEqual(current);
      }
    } finally {
      await store.close();
      await reference.close();
      await postgres.dropSchema(older);
      await postgres.dropSchema(fresh);
    }
  });
});
