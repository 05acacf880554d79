import { postgresStore } from '@engram/adapters/postgres';
import { makeRecord } from '@engram/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgClient } from '../packages/adapters/src/postgres/postgres-client.js';
import { type ListAccess, lengthTiers, listPlan, PostgresLexicalSearch } from '../packages/adapters/src/postgres/postgres-lexical.js';
import { migrateToLatest, migrations, shortMemoryLength } from '../packages/adapters/src/postgres/postgres-migrations.js';
import { usePostgres } from './support/postgres.js';
import { seededRandom as random } from './support/random.js';

// Issue 18: every candidate list of Postgres lexical search ("the shortest memories holding these
// words") can be read several ways — the length walk, the text index, or a short memories' index
// (migration 0011's, or a length tier the store builds from the data) first with the others as
// fallback — picked by an estimate. Whatever is picked, the lists, and so the answers, must be the
// same. An older database gets the index and the longer statistics list (migration 0010) on open.
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

/** Every way of reading a list, forced (undefined: the estimate decides, as in the store); `tier`: a length tier's cut. */
function forced(tierCuts: number[]): { name: string; plan?: { access: ListAccess; short: number | null } }[] {
  return [
    { name: 'estimate' },
    { name: 'walk', plan: { access: 'walk', short: null } },
    { name: 'index', plan: { access: 'gin', short: null } },
    { name: 'short, then walk', plan: { access: 'walk', short: shortMemoryLength } },
    { name: 'short, then index', plan: { access: 'gin', short: shortMemoryLength } },
    ...tierCuts.flatMap((cut) => [
      { name: `tier ≤ ${cut}, then walk`, plan: { access: 'walk' as const, short: cut } },
      { name: `tier ≤ ${cut}, then index`, plan: { access: 'gin' as const, short: cut } },
    ]),
  ];
}

/** The length tiers of a schema: name → cut, for the valid ones. */
async function tierCuts(schema: string): Promise<Map<string, number>> {
  const { rows } = await postgres.pool.query<{ name: string; predicate: string }>(
    `SELECT x.relname AS name, pg_get_expr(i.indpred, i.indrelid) AS predicate FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
     WHERE i.indrelid = to_regclass($1) AND x.relname = ANY($2::text[]) AND i.indisvalid`,
    [`"${schema}".memories`, lengthTiers.map((tier) => tier.name)],
  );
  return new Map(rows.map((row) => [row.name, Number(/search_length <= (\d+)/.exec(row.predicate)?.[1])]));
}

suite(`Postgres lexical candidate lists${postgres.skip ? ` (skipped: ${postgres.skip})` : ''}`, () => {
  const schema = postgres.skip ? '' : postgres.nextSchema();
  beforeAll(async () => {
    if (postgres.skip) return;
    const store = postgresStore({ pool: postgres.pool, schema, vectors: false });
    await store.write(corpus().map((content) => ({ record: makeRecord({ content }) })));
    await store.close();
    await postgres.pool.query(`ANALYZE "${schema}".memories`);
    // The length tiers, as a store builds them once the table is large (here: from 1,000 rows).
    const builder = new PostgresLexicalSearch(`"${schema}".memories`, schema, `"${schema}".memory_lexemes`, listPlan, {
      lengthTiersFrom: 1000,
    });
    await builder.search(pgClient(postgres.pool, false), vocabulary[0] as string, {}, 10);
    for (let attempt = 0; attempt < 200 && (await tierCuts(schema)).size < lengthTiers.length; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 50));
  }, 60_000);
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

  it('builds the length tiers from the data: about the shortest 30 % and 55 % of the live memories, each longer than the last', async () => {
    const cuts = await tierCuts(schema);
    const { rows } = await postgres.pool.query<{ length: number; share: number }>(
      `SELECT search_length AS length, cume_dist() OVER (ORDER BY search_length)::float8 AS share
       FROM "${schema}".memories WHERE deleted_at IS NULL`,
    );
    const longestWithin = (share: number) => Math.max(...rows.filter((row) => row.share <= share).map((row) => row.length));
    // This corpus has a third of its memories at most 12 tokens: the ~30 % tier would be
    // `memories_search_short` again (cut 12), so it is not built; the ~55 % one is.
    expect(longestWithin(0.3)).toBe(shortMemoryLength);
    expect(cuts.has('memories_search_quarter')).toBe(false);
    expect(cuts.get('memories_search_half')).toBe(longestWithin(0.55));
    expect(cuts.get('memories_search_half')).toBeGreaterThan(shortMemoryLength);
    // Each holds exactly the live memories of at most its cut (a partial GIN index on `search`).
    const definition = await postgres.pool.query<{ definition: string }>(`SELECT pg_get_indexdef(to_regclass($1)) AS definition`, [
      `"${schema}".memories_search_half`,
    ]);
    expect(definition.rows[0]?.definition).toMatch(
      new RegExp(`gin \\(search\\) WHERE \\(\\(deleted_at IS NULL\\) AND \\(search_length <= ${cuts.get('memories_search_half')}\\)\\)`),
    );
  });

  /** Every way of reading the lists gives the answers of the length walk, ids and scores. */
  async function expectSameAnswers(): Promise<void> {
    const client = pgClient(postgres.pool, false);
    const memories = `"${schema}".memories`;
    const results = new Map<string, { id: string; score: number }[][]>();
    const ways = forced([...(await tierCuts(schema)).values()]);
    expect(ways).toHaveLength(7);
    for (const way of ways) {
      const search = new PostgresLexicalSearch(
        memories,
        schema,
        `"${schema}".memory_lexemes`,
        way.plan ? () => way.plan as { access: ListAccess; short: number | null } : listPlan,
      );
      const answers: { id: string; score: number }[][] = [];
      for (const query of queries()) answers.push(await search.search(client, query, {}, 10));
      results.set(way.name, answers);
    }
    const reference = results.get('walk') ?? [];
    expect(reference.filter((answer) => answer.length === 10).length).toBeGreaterThan(30);
    for (const way of ways) {
      const answers = results.get(way.name) ?? [];
      for (const [index, answer] of answers.entries()) {
        expect(
          answer.map((match) => match.id),
          `${way.name}: ${queries()[index]}`,
        ).toEqual(reference[index]?.map((match) => match.id));
        for (const [rank, match] of answer.entries()) expect(match.score).toBeCloseTo(reference[index]?.[rank]?.score ?? Number.NaN, 9);
      }
    }
  }

  it('answers the same whichever way each list is read', async () => {
    await expectSameAnswers();
  });

  it('keeps answering the same after updates, deletes, purges and supersedes through the store (the tiers follow every write)', async () => {
    const store = postgresStore({ pool: postgres.pool, schema, vectors: false });
    try {
      const { rows } = await postgres.pool.query<{ id: string; short: boolean }>(
        `SELECT id, search_length <= 12 AS short FROM "${schema}".memories WHERE deleted_at IS NULL ORDER BY id LIMIT 80`,
      );
      const ids = rows.map((row) => row.id);
      const common = vocabulary.slice(0, 4).join(' ');
      // Long memories become short ones holding common words (into every tier), short ones long (out of them).
      for (const id of ids.slice(0, 20)) await store.update(id, { content: `${common} ${id}`, updatedAt: new Date() });
      for (const id of ids.slice(20, 40))
        await store.update(id, { content: `${Array.from({ length: 40 }, () => common).join(' ')} ${id}`, updatedAt: new Date() });
      for (const id of ids.slice(40, 55)) await store.delete(id, new Date());
      expect(store.purge).toBeTypeOf('function');
      await store.purge?.(ids.slice(55, 65));
      // A superseding memory: the old one leaves search, the new one (short, common words) enters.
      for (const id of ids.slice(65, 80)) {
        const record = makeRecord({ content: `${common} successor of ${id}` });
        await store.write([{ record }]);
        await store.update(id, { supersededBy: record.id, validTo: new Date(), updatedAt: new Date() });
      }
    } finally {
      await store.close();
    }
    await expectSameAnswers();
  });

  it('drops a length tier left invalid by an interrupted build and builds it again', async () => {
    const name = `"${schema}".memories_search_half`;
    const before = (await tierCuts(schema)).get('memories_search_half');
    // What a cut-off CREATE INDEX CONCURRENTLY leaves: the index, marked invalid (never read).
    await postgres.pool.query('UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass($1)', [name]);
    expect((await tierCuts(schema)).has('memories_search_half')).toBe(false);
    const { rows } = await postgres.pool.query<{ oid: number }>('SELECT to_regclass($1)::oid::int AS oid', [name]);
    const builder = new PostgresLexicalSearch(`"${schema}".memories`, schema, `"${schema}".memory_lexemes`, listPlan, {
      lengthTiersFrom: 1000,
    });
    await builder.search(pgClient(postgres.pool, false), vocabulary[0] as string, {}, 10);
    for (let attempt = 0; attempt < 200 && !(await tierCuts(schema)).has('memories_search_half'); attempt++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await tierCuts(schema)).get('memories_search_half')).toBe(before);
    const rebuilt = await postgres.pool.query<{ oid: number }>('SELECT to_regclass($1)::oid::int AS oid', [name]);
    expect(rebuilt.rows[0]?.oid).not.toBe(rows[0]?.oid);
    // A store that may not build indexes (PGlite) leaves an invalid one alone.
    await postgres.pool.query('UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass($1)', [name]);
    const reader = new PostgresLexicalSearch(`"${schema}".memories`, schema, `"${schema}".memory_lexemes`, listPlan, {
      lengthTiersFrom: 1000,
      buildIndexes: false,
    });
    await reader.search(pgClient(postgres.pool, false), vocabulary[0] as string, {}, 10);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const left = await postgres.pool.query<{ oid: number }>('SELECT to_regclass($1)::oid::int AS oid', [name]);
    expect(left.rows[0]?.oid).toBe(rebuilt.rows[0]?.oid);
    await postgres.pool.query('UPDATE pg_index SET indisvalid = true WHERE indexrelid = to_regclass($1)', [name]);
  });

  it('gives the text index one scan key a word of an all-words list (GIN steps through their postings together)', async () => {
    // One `a & b & c` key calls the tsquery's consistent function at every posting of the rarest
    // word; one `@@` a word lets GIN intersect the postings itself (1M: 8.8 → 5.8 ms, same rows).
    const client = pgClient(postgres.pool, false);
    let statement: { text: string; params: readonly unknown[] } | null = null;
    const recording = {
      query: <Row>(text: string, params?: readonly unknown[]) => {
        if (text.includes('WITH candidates')) statement = { text, params: params ?? [] };
        return client.query<Row>(text, params as never);
      },
    };
    const words = [vocabulary[0], vocabulary[1], vocabulary[2]] as string[];
    // The all-words list through the text index, the all-but-one list by the length walk.
    const search = new PostgresLexicalSearch(`"${schema}".memories`, schema, `"${schema}".memory_lexemes`, (terms, minimum) => ({
      access: minimum === terms.length ? 'gin' : 'walk',
      short: null,
    }));
    expect((await search.search(recording, words.join(' '), {}, 10)).length).toBe(10);
    const sent = statement as { text: string; params: readonly unknown[] } | null;
    expect(sent).not.toBeNull();
    const { rows } = await postgres.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sent?.text}`, sent?.params as unknown[]);
    // The all-words list's condition (an index condition on a large table; a filter on this small
    // one): a `@@` for each word, none with the words `&`-ed in one tsquery.
    const everyWord = rows
      .map((row) => row['QUERY PLAN'])
      .filter((line) => line.includes('search @@') && words.every((word) => line.includes(`'${word}'`)));
    expect(everyWord.length).toBeGreaterThan(0);
    for (const line of everyWord) {
      expect(line.match(/@@/g)?.length).toBeGreaterThanOrEqual(words.length);
      expect(line).not.toMatch(/'' & ''/);
    }
  });

  it('reads a short memories index first only when enough of them should hold the words, and when it is cheaper', () => {
    const short = [{ cut: 12, share: 0.125, lengthRatio: 0.6 }];
    // 1M memories: a word in 0.3 % of them (the walk reads ~27,000 rows) — short first.
    expect(listPlan([{ df: 3000 }], 1, 50, 1_000_000, short)).toEqual({ access: 'walk', short: 12 });
    // 100k: the same share gives ~22 short holders, fewer than twice the list — not short.
    expect(listPlan([{ df: 300 }], 1, 50, 100_000, short).short).toBeNull();
    // A common word: its walk is a few hundred rows — the walk.
    expect(listPlan([{ df: 100_000 }], 1, 50, 1_000_000, short)).toEqual({ access: 'walk', short: null });
    // Two common words at 1M (~5,000 hold both, the shortest hold them less often): the index.
    expect(listPlan([{ df: 104_084 }, { df: 47_535 }], 2, 200, 1_000_000, short).access).toBe('gin');
    // Three of three words most memories hold: the walk finds 200 in a few hundred rows.
    expect(listPlan([{ df: 600_000 }, { df: 500_000 }, { df: 700_000 }], 3, 200, 1_000_000, short).access).toBe('walk');
    // With the bench corpus's tiers at 1M (≤ 12: 12.5 %, ≤ 14: 25 %, ≤ 18: 50 %): three of four common
    // words (~1,000 holders) — too few short ones for ≤ 12 or ≤ 14, the half tier is the cheapest.
    const tiers = [...short, { cut: 14, share: 0.25, lengthRatio: 0.68 }, { cut: 18, share: 0.5, lengthRatio: 0.78 }];
    const four = [{ df: 47_535 }, { df: 33_296 }, { df: 104_084 }, { df: 81_016 }];
    expect(listPlan(four, 3, 50, 1_000_000, tiers)).toEqual({ access: 'gin', short: 18 });
    // Two common words (~5,000 holders): the quarter tier holds enough of the 200.
    expect(listPlan([{ df: 104_084 }, { df: 47_535 }], 2, 200, 1_000_000, tiers).short).toBe(14);
    // All four (~13 holders): no tier can hold 200; the text index.
    expect(listPlan(four, 4, 200, 1_000_000, tiers)).toEqual({ access: 'gin', short: null });
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
