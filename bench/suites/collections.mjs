// Raw-vector collections (`store.collections`, what EngramVector gives Mastra): upsert in batches of
// 1,000 and exact filtered top-10 queries on a SQLite file, PGlite with pgvector and the in-memory
// reference, interleaved so machine load hits them alike. Vectors are random unit vectors (384-d);
// every item has `{ source, group }` metadata, `group` selecting 10 % or 0.1 % of them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import { postgresStore } from '@engram/adapters/postgres';
import { inMemoryVectorCollections, parseWhere, sqliteStore } from 'engram';
import { random } from '../lib/corpus.mjs';
import { formatCount, formatMs, interleave, summary } from '../lib/stats.mjs';

const DIMENSIONS = 384;

export async function run({ full = false, progress = () => {} } = {}) {
  const itemCount = full ? 50_000 : 10_000;
  const queryCount = 100;
  const next = random(5);
  const unit = () => {
    const values = Array.from({ length: DIMENSIONS }, () => next() * 2 - 1);
    const norm = Math.hypot(...values);
    return Float32Array.from(values, (value) => value / norm);
  };
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-collections-'));
  const pglite = await PGlite.create({ extensions: { vector } });
  const sqlite = sqliteStore({ path: join(directory, 'collections.db') });
  const postgres = postgresStore({ pglite, schema: 'bench', vectors: true });
  const contenders = { sqlite: sqlite.collections, pglite: postgres.collections, memory: inMemoryVectorCollections() };
  try {
    for (const collections of Object.values(contenders)) await collections.createCollection('chunks', { dimensions: DIMENSIONS });
    const upsert = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
    for (let start = 0; start < itemCount; start += 1000) {
      const items = Array.from({ length: Math.min(1000, itemCount - start) }, (_, offset) => {
        const index = start + offset;
        return {
          id: `chunk-${index}`,
          vector: unit(),
          metadata: { source: `doc-${index % 500}.pdf`, group: index % 1000, page: index % 40 },
        };
      });
      for (const [name, collections] of Object.entries(contenders)) {
        const begin = performance.now();
        await collections.upsert('chunks', items);
        upsert[name].push(performance.now() - begin);
      }
    }
    progress(`${formatCount(itemCount)} vectors in each`);
    const queries = Array.from({ length: queryCount }, (_, index) => ({ vector: unit(), group: index % 1000 }));
    const query = (filter) =>
      Object.fromEntries(
        Object.entries(contenders).map(([name, collections]) => [
          name,
          (input) => collections.query('chunks', { vector: input.vector, topK: 10, ...(filter ? { filter: filter(input) } : {}) }),
        ]),
      );
    const results = {
      items: itemCount,
      dimensions: DIMENSIONS,
      upsert1000: Object.fromEntries(Object.entries(upsert).map(([name, samples]) => [name, summary(samples)])),
      queryAll: await interleave(queries, query()),
      queryTenth: await interleave(
        queries,
        query(() => parseWhere({ group: { lt: 100 } })),
      ),
      queryRare: await interleave(
        queries,
        query((input) => parseWhere({ group: input.group })),
      ),
    };
    progress(
      `top-10 p50: sqlite ${results.queryAll.sqlite.p50} ms, pglite ${results.queryAll.pglite.p50} ms, memory ${results.queryAll.memory.p50} ms`,
    );
    return { suite: 'collections', results, markdown: markdown(results) };
  } finally {
    await sqlite.close();
    await postgres.close();
    await pglite.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

function markdown(results) {
  const labels = {
    upsert1000: 'upsert, batch of 1,000',
    queryAll: 'query top 10, no filter',
    queryTenth: 'query top 10, filter matching 10 %',
    queryRare: 'query top 10, filter matching 0.1 %',
  };
  const lines = [
    '### Raw-vector collections',
    '',
    `${formatCount(results.items)} random ${results.dimensions}-d vectors with metadata; exact search everywhere; p50 / p95 in ms.`,
    '',
    '| call | SQLite file | PGlite + pgvector | in-memory |',
    '|---|---:|---:|---:|',
  ];
  for (const [name, label] of Object.entries(labels)) {
    const row = results[name];
    lines.push(
      `| ${label} | ${formatMs(row.sqlite.p50)} / ${formatMs(row.sqlite.p95)} | ${formatMs(row.pglite.p50)} / ${formatMs(row.pglite.p95)} | ${formatMs(row.memory.p50)} / ${formatMs(row.memory.p95)} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}
