// ANN: how close engram's vector search (binary codes, then exact re-ranking; see
// packages/adapters/src/sqlite/sqlite-vector-index.ts) comes to exact search, and how fast.
// Recall@k is measured against brute force over the same float vectors, tie-aware: a result
// counts if its exact similarity reaches the k-th best one. Baselines on the same vectors: the
// store in `vectorSearch: 'exact'` mode, and sqlite-vec's vec0 float brute force (what engram
// used before). The corpus is the scale suite's (reused when it ran first in the same run).
// Vectors are stored as int8 (issue 18); a copy of the file with the same vectors stored as
// float32 (the layout before migration 0010, which the store still reads) gives the float32
// figure, searched by the same code in the same loop: `int8 / float32` is the ratio of the two.
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { hashEmbedder, Memory, sqliteStore } from 'engram';
import * as sqliteVec from 'sqlite-vec';
import { queries as makeQueries, memories } from '../lib/corpus.mjs';
import { formatCount, formatMs, measure, round } from '../lib/stats.mjs';

const dimensions = 384;
const users = 20;

/** Filters measured: none, one user (5 %), `where` priority ≥ 3 (40 %, checked in SQL). */
const filters = {
  none: { options: () => undefined, matches: () => true },
  user: {
    options: (query) => ({ scope: { userId: `user-${query % users}` } }),
    matches: (memory, query) => memory % users === query % users,
  },
  where: {
    options: () => ({ where: { kind: 'compare', path: ['priority'], operator: 'gte', value: 3 } }),
    matches: (memory) => memory % 5 >= 3,
  },
};
const filterNames = { none: 'none', user: 'one user (5 %)', where: '`where` priority ≥ 3 (40 %)' };

export async function run({ full = false, progress = () => {}, cacheDir } = {}) {
  const sizes = full ? [10_000, 100_000, 1_000_000] : [10_000, 100_000];
  const results = { dimensions, embedder: `hash-v1-${dimensions}`, sizes: [] };
  for (const size of sizes)
    results.sizes.push(await measureSize(size, cacheDir, (message) => progress(`${formatCount(size)}: ${message}`)));
  return { suite: 'ann', results, markdown: markdown(results), targets: targets(results) };
}

async function measureSize(size, cacheDir, progress) {
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-ann-'));
  const path = join(directory, 'ann.db');
  const embedder = hashEmbedder({ dimensions });
  const queryCount = size >= 1_000_000 ? 30 : size >= 100_000 ? 50 : 100;
  try {
    const cached = cacheDir && join(cacheDir, `corpus-${size}.db`);
    if (cached && existsSync(cached)) copyFileSync(cached, path);
    else {
      const memory = new Memory({ store: sqliteStore({ path }), embedder, logger: false });
      for (let offset = 0; offset < size; offset += 1000) {
        await memory.addMany(memories(offset, Math.min(offset + 1000, size), users));
        if ((offset / 1000) % 100 === 99) progress(`stored ${formatCount(offset + 1000)}`);
      }
      await memory.close();
    }
    // Every memory's float vector, by corpus index (the number that ends its content).
    const vectors = new Float32Array(size * dimensions);
    const indexOf = new Map();
    {
      const db = new Database(path, { readonly: true });
      const rows = db.prepare('SELECT id, content FROM memories').raw(true).all();
      db.close();
      for (let start = 0; start < rows.length; start += 1000) {
        const batch = rows.slice(start, start + 1000);
        const embedded = await embedder.embed(batch.map(([, content]) => content));
        batch.forEach(([id, content], position) => {
          const index = Number(content.slice(content.lastIndexOf(' ') + 1));
          indexOf.set(id, index);
          vectors.set(embedded[position], index * dimensions);
        });
      }
    }
    const norms = new Float32Array(size);
    for (let index = 0; index < size; index++) {
      let sum = 0;
      for (let dimension = 0; dimension < dimensions; dimension++) sum += vectors[index * dimensions + dimension] ** 2;
      norms[index] = Math.sqrt(sum);
    }
    const queries = await embedder.embed(makeQueries(queryCount, 31));
    const similarities = (query) => {
      let norm = 0;
      for (const value of query) norm += value * value;
      norm = Math.sqrt(norm);
      const out = new Float32Array(size);
      for (let index = 0; index < size; index++) {
        let dot = 0;
        const base = index * dimensions;
        for (let dimension = 0; dimension < dimensions; dimension++) dot += vectors[base + dimension] * query[dimension];
        out[index] = norms[index] === 0 || norm === 0 ? 0 : dot / (norms[index] * norm);
      }
      return out;
    };

    // The float32 arm: the same file with every vector stored as float32.
    const floatPath = join(directory, 'ann-float32.db');
    copyFileSync(path, floatPath);
    {
      const db = new Database(floatPath);
      const put = db.prepare('UPDATE memory_embeddings SET vector = ? WHERE rowid = ?');
      const rows = db.prepare('SELECT rowid, id FROM memories').raw(true).all();
      db.transaction(() => {
        for (const [rowid, id] of rows) put.run(Buffer.from(vectors.buffer, indexOf.get(id) * dimensions * 4, dimensions * 4), rowid);
      })();
      db.close();
    }

    const approximate = sqliteStore({ path });
    const exact = sqliteStore({ path, vectorSearch: 'exact' });
    const float32 = sqliteStore({ path: floatPath });
    for (const store of [approximate, exact, float32]) {
      await store.open();
      await store.vectors.open(dimensions);
    }
    const recall = Object.fromEntries(Object.keys(filters).map((name) => [name, { 10: 0, 40: 0, float10: 0 }]));
    for (const [queryIndex, query] of queries.entries()) {
      const exactSimilarities = similarities(query);
      for (const [name, filter] of Object.entries(filters)) {
        const matching = [];
        for (let index = 0; index < size; index++) if (filter.matches(index, queryIndex)) matching.push(exactSimilarities[index]);
        matching.sort((a, b) => b - a);
        for (const k of [10, 40]) {
          const found = await approximate.vectors.search(query, k, filter.options(queryIndex));
          const expected = Math.min(k, matching.length);
          const cutoff = matching[expected - 1] - 1e-6;
          recall[name][k] += found.filter((match) => exactSimilarities[indexOf.get(match.id)] >= cutoff).length / expected;
          if (k === 10) {
            const foundFloat = await float32.vectors.search(query, k, filter.options(queryIndex));
            recall[name].float10 += foundFloat.filter((match) => exactSimilarities[indexOf.get(match.id)] >= cutoff).length / expected;
          }
        }
      }
    }
    const figures = { size, queries: queryCount };
    const indexed = queries.map((query, index) => [query, index]);
    for (const [name, filter] of Object.entries(filters)) {
      figures[name] = {
        recallAt10: round(recall[name][10] / queryCount, 4),
        recallAt40: round(recall[name][40] / queryCount, 4),
        float32RecallAt10: round(recall[name].float10 / queryCount, 4),
        approximate: await measure(indexed, ([query, index]) => approximate.vectors.search(query, 40, filter.options(index)), {
          warmup: 5,
        }),
        exact: await measure(
          indexed.slice(0, size >= 1_000_000 ? 5 : size >= 100_000 ? 10 : 30),
          ([query, index]) => exact.vectors.search(query, 40, filter.options(index)),
          {
            warmup: 1,
          },
        ),
      };
      progress(
        `${name}: recall@10 ${figures[name].recallAt10} (float32 storage ${figures[name].float32RecallAt10}), @40 ${figures[name].recallAt40}; k=40 p50 ${figures[name].approximate.p50} ms (exact ${figures[name].exact.p50} ms)`,
      );
    }
    for (const store of [approximate, exact, float32]) await store.close();

    // The previous engine: sqlite-vec's vec0 float brute force (cosine), same vectors, in memory.
    const vec0 = new Database(':memory:');
    sqliteVec.load(vec0);
    vec0.exec(`CREATE VIRTUAL TABLE v USING vec0(embedding float[${dimensions}] distance_metric=cosine)`);
    const insert = vec0.prepare('INSERT INTO v (rowid, embedding) VALUES (?, ?)');
    vec0.transaction(() => {
      for (let index = 0; index < size; index++)
        insert.run(BigInt(index + 1), Buffer.from(vectors.buffer, index * dimensions * 4, dimensions * 4));
    })();
    const knn = vec0.prepare('SELECT rowid, distance FROM v WHERE embedding MATCH ? AND k = 40');
    figures.sqliteVecBruteForce = await measure(
      queries.slice(0, size >= 1_000_000 ? 5 : size >= 100_000 ? 10 : 30),
      (query) => knn.all(Buffer.from(query.buffer, query.byteOffset, query.byteLength)),
      { warmup: 1 },
    );
    vec0.close();
    progress(`sqlite-vec vec0 brute force k=40 p50 ${figures.sqliteVecBruteForce.p50} ms`);
    return figures;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function markdown(results) {
  const lines = [
    '### ANN: vector recall and latency',
    '',
    `\`store.vectors.search(query, k)\` on ${results.embedder} vectors (the scale suite's corpus); recall@k against brute force over the same float vectors, tie-aware; latency p50 / p95 in ms for k = 40 (what a hybrid search asks for). Vectors are stored as int8; "float32 storage" is the same search on a copy of the file with float32 vectors (the layout before 0010).`,
    '',
    "| corpus | filter | recall@10 | recall@10, float32 storage | int8 / float32 | recall@40 | engram (codes, then exact re-rank) | engram, `vectorSearch: 'exact'` | sqlite-vec vec0 float brute force (before) |",
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const figures of results.sizes) {
    for (const name of Object.keys(filters)) {
      const entry = figures[name];
      lines.push(
        `| ${formatCount(figures.size)} | ${filterNames[name]} | ${entry.recallAt10.toFixed(3)} | ${entry.float32RecallAt10.toFixed(3)} | ${(entry.recallAt10 / entry.float32RecallAt10).toFixed(4)} | ${entry.recallAt40.toFixed(3)} | ${formatMs(entry.approximate.p50)} / ${formatMs(entry.approximate.p95)} | ${formatMs(entry.exact.p50)} | ${name === 'none' ? formatMs(figures.sqliteVecBruteForce.p50) : ''} |`,
      );
    }
  }
  lines.push('');
  return lines.join('\n');
}

function targets(results) {
  const hundredK = results.sizes.find((figures) => figures.size === 100_000);
  if (!hundredK) return [];
  const worst = Math.min(...Object.keys(filters).map((name) => hundredK[name].recallAt10));
  const ratio = Math.min(...Object.keys(filters).map((name) => hundredK[name].recallAt10 / hundredK[name].float32RecallAt10));
  return [
    { target: 'vector recall@10 vs exact @100k (worst of: no filter, user, where)', goal: '≥ 0.95', value: worst, met: worst >= 0.95 },
    {
      target: 'recall@10 with int8 vectors / with float32 vectors @100k (worst filter)',
      goal: '≥ 0.99',
      value: round(ratio, 4),
      met: ratio >= 0.99,
    },
  ];
}
