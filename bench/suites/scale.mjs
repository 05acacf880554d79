// Scale: latency and throughput of one SQLite file as the corpus grows (1k, 10k, 100k; 1M with
// --full) — batched and single add, search in every mode with and without filters, get, list,
// graph neighbours, a cold process's import + open + first search, its memory and the file size.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashEmbedder, Memory, sqliteStore } from 'engram';
import { queries as makeQueries, memories } from '../lib/corpus.mjs';
import { fileBytes } from '../lib/environment.mjs';
import { formatBytes, formatCount, formatMs, measure, percentile, round } from '../lib/stats.mjs';
import { lineChart } from '../lib/svg.mjs';

const coldStartScript = fileURLToPath(new URL('../lib/cold-start.mjs', import.meta.url));
const users = 20;
const dimensions = 384;

/** The search configurations measured at every size. */
const searches = {
  hybrid: () => ({ limit: 10 }),
  hybridUser: (index) => ({ limit: 10, scope: { userId: `user-${index % users}` } }),
  vector: () => ({ limit: 10, mode: 'vector' }),
  vectorUser: (index) => ({ limit: 10, mode: 'vector', scope: { userId: `user-${index % users}` } }),
  lexical: () => ({ limit: 10, mode: 'lexical' }),
  hybridWhere: () => ({ limit: 10, where: { priority: { gte: 3 } } }),
};
const searchNames = {
  hybrid: 'hybrid',
  hybridUser: 'hybrid, one user (5 %)',
  vector: 'vector only',
  vectorUser: 'vector only, one user',
  lexical: 'lexical only',
  hybridWhere: 'hybrid, `where` priority ≥ 3 (40 %)',
};

export async function run({ full = false, progress = () => {}, cacheDir } = {}) {
  const sizes = full ? [1_000, 10_000, 100_000, 1_000_000] : [1_000, 10_000, 100_000];
  const results = { dimensions, users, embedder: `hash-v1-${dimensions}`, sizes: [] };
  for (const size of sizes) {
    results.sizes.push(await measureSize(size, cacheDir, (message) => progress(`${formatCount(size)}: ${message}`)));
  }
  return {
    suite: 'scale',
    results,
    markdown: markdown(results),
    charts: [{ file: 'scale-search-latency.svg', svg: chart(results) }],
    targets: targets(results),
  };
}

async function measureSize(size, cacheDir, progress) {
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-scale-'));
  const path = join(directory, 'bench.db');
  const singles = Math.min(200, size / 10);
  const queryCount = size >= 1_000_000 ? 100 : 200;
  const queries = makeQueries(queryCount, 11);
  const figures = { size, queries: queryCount };
  try {
    const memory = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder({ dimensions }), logger: false });
    await memory.ready();

    // Batched add: addMany in batches of 1,000 (one transaction, one embedding call each).
    const batched = size - singles;
    let begin = performance.now();
    for (let offset = 0; offset < batched; offset += 1000) {
      await memory.addMany(memories(offset, Math.min(offset + 1000, batched), users));
      if ((offset / 1000) % 50 === 49) progress(`added ${formatCount(offset + 1000)}`);
    }
    figures.batchedAddPerSecond = Math.round(batched / ((performance.now() - begin) / 1000));
    // Single add: one call (one transaction, one embedding) per memory.
    const rest = memories(batched, size, users);
    begin = performance.now();
    for (const input of rest) await memory.add(input);
    figures.singleAddPerSecond = Math.round(singles / ((performance.now() - begin) / 1000));
    progress(`add ${formatCount(figures.batchedAddPerSecond)}/s batched, ${formatCount(figures.singleAddPerSecond)}/s single`);

    for (const [name, options] of Object.entries(searches)) {
      const indexed = queries.map((query, index) => [query, index]);
      figures[name] = await measure(indexed, ([query, index]) => memory.search(query, options(index)));
    }
    progress(`search p50 hybrid ${figures.hybrid.p50} ms, one user ${figures.hybridUser.p50} ms, vector ${figures.vector.p50} ms`);

    const ids = [];
    for (let user = 0; ids.length < 400; user++) {
      ids.push(...(await memory.list({ scope: { userId: `user-${user % users}` }, limit: 20 })).items.map((item) => item.id));
    }
    figures.get = await measure(ids.slice(0, 200), (id) => memory.get(id));
    figures.list = await measure(
      Array.from({ length: 200 }, (_, index) => index),
      (index) => memory.list({ scope: { userId: `user-${index % users}` }, limit: 20 }),
    );
    // Graph: 200 memories each linked to two others, then their neighbours (depth 1 and 2).
    for (let index = 0; index < 200; index++) {
      await memory.link(ids[index], ids[(index + 1) % 200], 'related');
      await memory.link(ids[index], ids[200 + index], 'causes');
    }
    figures.neighbors = await measure(ids.slice(0, 200), (id) => memory.neighbors(id, { depth: 1 }));
    figures.neighborsDepth2 = await measure(ids.slice(0, 200), (id) => memory.neighbors(id, { depth: 2 }));
    await memory.close();
    figures.fileBytes = fileBytes(path);
    // The ANN suite of the same run reuses this corpus (same memories, same embedder).
    if (cacheDir) copyFileSync(path, join(cacheDir, `corpus-${size}.db`));

    // A fresh process: import + open + first search, three times; its resident memory.
    const runs = Array.from({ length: 3 }, () =>
      JSON.parse(execFileSync(process.execPath, [coldStartScript, path, queries[0], 'user-3'], { encoding: 'utf8' })),
    );
    const median = (field) =>
      round(
        percentile(
          runs.map((run) => run[field]),
          50,
        ),
        1,
      );
    figures.coldStart = {
      importMs: median('importMs'),
      openMs: median('openMs'),
      firstSearchMs: median('firstSearchMs'),
      totalMs: median('totalMs'),
      processStartMs: median('processStartMs'),
    };
    figures.processRssBytes = Math.round(
      percentile(
        runs.map((run) => run.rssBytes),
        50,
      ),
    );
    progress(
      `cold start ${figures.coldStart.totalMs} ms, RSS ${formatBytes(figures.processRssBytes)}, file ${formatBytes(figures.fileBytes)}`,
    );
    return figures;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function markdown(results) {
  const columns = results.sizes.map((figures) => formatCount(figures.size));
  const row = (label, value) => `| ${label} | ${results.sizes.map(value).join(' | ')} |`;
  const lines = [
    '### Scale',
    '',
    `One SQLite file, ${results.dimensions}-d hash embedder, memories spread over ${results.users} users; search latency is the whole \`memory.search\` call (limit 10), p50 / p95 / p99 in ms.`,
    '',
    `| figure | ${columns.join(' | ')} |`,
    `|---|${columns.map(() => '---:').join('|')}|`,
    row('batched add (addMany × 1,000), memories/s', (figures) => formatCount(figures.batchedAddPerSecond)),
    row('single add, memories/s', (figures) => formatCount(figures.singleAddPerSecond)),
  ];
  for (const [name, label] of Object.entries(searchNames)) {
    lines.push(
      row(
        `search: ${label}`,
        (figures) => `${formatMs(figures[name].p50)} / ${formatMs(figures[name].p95)} / ${formatMs(figures[name].p99)}`,
      ),
    );
  }
  lines.push(
    row('get p50, ms', (figures) => formatMs(figures.get.p50)),
    row('list (one user, 20) p50, ms', (figures) => formatMs(figures.list.p50)),
    row('neighbours depth 1 / 2 p50, ms', (figures) => `${formatMs(figures.neighbors.p50)} / ${formatMs(figures.neighborsDepth2.p50)}`),
    row('new process: import + open + first search, ms', (figures) => formatMs(figures.coldStart.totalMs)),
    row('new process RSS after 50 searches', (figures) => formatBytes(figures.processRssBytes)),
    row('file size', (figures) => formatBytes(figures.fileBytes)),
    '',
    'Cold start is measured from the first line of a new Node process (its own start-up, ~40 ms, comes before that); it includes loading the vector codes into memory.',
    '',
  );
  return lines.join('\n');
}

function chart(results) {
  return lineChart({
    title: 'engram search p50 by corpus size',
    xLabel: 'memories in the store',
    yLabel: 'p50 latency (ms)',
    series: Object.entries(searchNames).map(([name, label]) => ({
      name: label.replace(/`/g, ''),
      points: results.sizes.map((figures) => [figures.size, figures[name].p50]),
    })),
  });
}

function targets(results) {
  const list = [];
  const add = (target, goal, value, unit, met) => list.push({ target, goal, value, unit, met });
  for (const figures of results.sizes) {
    const size = figures.size >= 1_000_000 ? `${figures.size / 1_000_000}M` : `${figures.size / 1000}k`;
    if (figures.size === 10_000)
      add('search p50 @10k, filtered by user (hybrid)', '≤ 2 ms', figures.hybridUser.p50, 'ms', figures.hybridUser.p50 <= 2);
    const searchGoal = { 100000: 5, 1000000: 25 }[figures.size];
    if (searchGoal) {
      add(`search p50 @${size} (hybrid)`, `≤ ${searchGoal} ms`, figures.hybrid.p50, 'ms', figures.hybrid.p50 <= searchGoal);
      add(`search p50 @${size} (vector only)`, `≤ ${searchGoal} ms`, figures.vector.p50, 'ms', figures.vector.p50 <= searchGoal);
    }
    if (figures.size >= 10_000) {
      add(`batched add (${size})`, '≥ 5,000 /s', figures.batchedAddPerSecond, '/s', figures.batchedAddPerSecond >= 5000);
      add(`import + open + first search (${size})`, '≤ 300 ms', figures.coldStart.totalMs, 'ms', figures.coldStart.totalMs <= 300);
    }
  }
  return list;
}
