import { describe, expect, it } from 'vitest';
import { pgClient } from '../packages/adapters/src/postgres/postgres-client.js';
import { migrateToLatest, migrations } from '../packages/adapters/src/postgres/postgres-migrations.js';
import { usePostgres } from './support/postgres.js';

// Migration 0014 rewrote the text-index trigger for speed (no SET search_path, no context part
// without a context, the length read from a marker lexeme instead of the search_length SQL
// function). Rows written through it must hold exactly the document and length the trigger of
// 0005 wrote: the same memories are written once by a schema migrated up to 0013 and once after
// 0014, through INSERT and through UPDATE, and compared lexeme, position and weight alike.
const postgres = usePostgres();
const suite = postgres.skip ? describe.skip : describe;

const words = (count: number, ...last: string[]) => `${'alpha beta '.repeat(count / 2)}${last.join(' ')}`;

/** Content, context and tags around every edge: stop words, empty text, positions up to and past the 16,383 cap. */
const cases: Array<{ content: string; context: string | null; tags: string[] }> = [
  { content: '', context: null, tags: [] },
  { content: 'the a of', context: null, tags: [] },
  { content: 'the a of', context: 'and the', tags: ['the'] },
  { content: 'Deploys go to eu-west-1 — café ✓ the', context: 'talking about the deploy pipeline, the', tags: ['deploy', 'infra'] },
  { content: 'x', context: '', tags: [] },
  { content: 'ENGRAMLENGTH engramlength ENGRAMLENGTH:5 x', context: "'ENGRAMLENGTH':3", tags: ['ENGRAMLENGTH'] },
  { content: 'http://Example.COM/ENGRAMLENGTH foo@BAR.com 3.14 v1.2.3 ünïcödé Straße', context: 'İstanbul', tags: [] },
  // 16,380 words, then the last word at 16,381 … 16,384 (clamped to 16,383).
  { content: words(16_380, 'gamma'), context: null, tags: [] },
  { content: words(16_380, 'xray', 'gamma'), context: null, tags: [] },
  { content: words(16_380, 'xray', 'yank', 'gamma'), context: null, tags: [] },
  { content: words(16_380, 'xray', 'yank', 'zulu', 'gamma'), context: null, tags: [] },
  { content: words(16_380, 'xray'), context: 'yank', tags: [] },
  { content: words(16_380, 'xray'), context: 'yank zulu', tags: [] },
  { content: words(16_380, 'xray'), context: null, tags: ['yank'] },
  { content: words(16_380, 'xray'), context: null, tags: ['yank', 'zulu'] },
  { content: words(16_380), context: 'xray yank', tags: [] },
  { content: words(16_380, 'the'), context: null, tags: [] },
  { content: words(40_000, 'omega'), context: words(30_000), tags: ['t'] },
  { content: 'short words only', context: words(16_381, 'tail'), tags: [] },
];

async function insert(schema: string, prefix: string): Promise<void> {
  await postgres.pool.query(
    `INSERT INTO "${schema}".memories (id, content, context, content_hash, type, tags, scope_key, importance, created_at, updated_at)
     SELECT $1 || c.n, c.content, c.context, 'h' || c.n, 'fact', ARRAY(SELECT json_array_elements_text(c.tags)), 'global', 0.5, now(), now()
     FROM json_to_recordset($2::json) AS c(content text, context text, tags json, n int)`,
    [prefix, JSON.stringify(cases.map((item, index) => ({ ...item, n: index + 1 })))],
  );
}

/** Pairs of rows (prefix a, prefix b, same case) whose document or length differ. */
async function differences(schema: string, a: string, b: string): Promise<unknown[]> {
  const { rows } = await postgres.pool.query(
    `SELECT x.id, x.search_length AS length, y.search_length AS other_length
     FROM "${schema}".memories x JOIN "${schema}".memories y ON y.id = $2 || substr(x.id, length($1) + 1)
     WHERE x.id LIKE $1 || '%'
       AND (x.search IS DISTINCT FROM y.search OR x.search::text IS DISTINCT FROM y.search::text OR x.search_length IS DISTINCT FROM y.search_length)`,
    [a, b],
  );
  return rows;
}

suite(`Postgres text-index trigger (migration 0014)${postgres.skip ? ` (skipped: ${postgres.skip})` : ''}`, () => {
  it('writes the same document and length as before 0014, on insert and on update', async () => {
    const schema = postgres.nextSchema();
    const client = pgClient(postgres.pool, false);
    try {
      const all = migrations(schema);
      const before = Object.fromEntries(Object.entries(all).filter(([name]) => name < '0014'));
      await migrateToLatest(client, schema, before);
      await insert(schema, 'old-');
      await migrateToLatest(client, schema, all);
      const { rows: config } = await postgres.pool.query(
        `SELECT p.proconfig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = $1 AND p.proname = 'memories_search_document'`,
        [schema],
      );
      expect(config).toEqual([{ proconfig: null }]);
      await insert(schema, 'new-');
      expect(await differences(schema, 'old-', 'new-')).toEqual([]);
      // The cap is reached, so the fallback ran, and lengths are what search_length says.
      const { rows } = await postgres.pool.query(
        `SELECT max(search_length) AS longest, count(*) FILTER (WHERE search_length <> "${schema}".search_length(search))::int AS wrong
         FROM "${schema}".memories`,
      );
      expect(rows[0]).toEqual({ longest: 16_383, wrong: 0 });

      // Updates through the new trigger: each new row takes the text of the next case, and must
      // equal the old row of that case.
      await postgres.pool.query(
        `UPDATE "${schema}".memories AS m SET content = o.content, context = o.context, tags = o.tags
         FROM "${schema}".memories AS o
         WHERE m.id LIKE 'new-%' AND o.id = 'old-' || (substr(m.id, 5)::int % $1 + 1)`,
        [cases.length],
      );
      const { rows: shifted } = await postgres.pool.query(
        `SELECT m.id FROM "${schema}".memories m JOIN "${schema}".memories o ON o.id = 'old-' || (substr(m.id, 5)::int % $1 + 1)
         WHERE m.id LIKE 'new-%' AND (m.search::text IS DISTINCT FROM o.search::text OR m.search_length IS DISTINCT FROM o.search_length)`,
        [cases.length],
      );
      expect(shifted).toEqual([]);
    } finally {
      await postgres.dropSchema(schema);
    }
  });
});
