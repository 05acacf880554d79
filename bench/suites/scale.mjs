// Scale: latency and throughput of one SQLite file as the corpus grows (1k, 10k, 100k; 1M with
// --full) — batched and single add, search in every mode with and without filters, get, list,
// graph neighbours, a cold process's import + open + first search, its memory and the file size.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { hashEmbedder, Memory, sqliteStore } from 'engram';
import { queries as makeQueries, memories } from '../lib/corpus.mjs';
import { fileBytes } from '../lib/environment.mjs';
import { formatBytes, formatCount, formatMs, measure, percentile, round } from '../lib/stats.mjs';
import { lineChart } from '../lib/svg.mjs';

const coldStartScript = fileURLToPath(new URL('../lib/cold-start.mjs', import.meta.url));
const bulkLoadScript = fileURLToPath(new URL('../lib/bulk-load.mjs', import.meta.url));
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

export async function run({ full = false, progress = () => {}, cacheDir, million = false, corpus } = {}) {
  if (million) return runMillion(corpus ?? join(tmpdir(), 'engram-bench-corpus'), progress);
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

// ------------------------------------------------------------------ --million (issue 18)

const millionSize = 1_000_000;
/** Bump when the store's file or snapshot format changes: a cached corpus of another version is rebuilt. */
const millionCorpusVersion = 4;

/**
 * The figures of issue 18 for one SQLite file of 1M memories, each process its own, as a user
 * meets them: a bulk load (`addMany` × 1,000, no search, close) — its rate and how long its close
 * takes to leave the indexes —, then the first process after it, then new processes (3, median):
 * import + open + first search, resident memory after open, after 50 and after 1,000 searches,
 * and the size of everything on disk. The bulk-loaded file is cached in `corpus` (a 1M load takes
 * minutes): a run that finds it measures the processes after it and reports the load's figures from
 * when it was built.
 */
async function runMillion(corpus, progress) {
  mkdirSync(corpus, { recursive: true });
  const path = join(corpus, `scale-1M-v${millionCorpusVersion}.db`);
  const recordFile = `${path}.json`;
  const query = makeQueries(1, 11)[0];
  let load;
  if (existsSync(path) && existsSync(recordFile)) {
    load = JSON.parse(readFileSync(recordFile, 'utf8'));
    progress(`reusing the bulk-loaded corpus ${path} (built ${load.builtAt})`);
  } else {
    for (const entry of readdirSync(corpus)) if (entry.startsWith('scale-1M-')) rmSync(join(corpus, entry), { force: true });
    progress(`bulk load of ${formatCount(millionSize)} memories in a new process into ${path}`);
    const figures = JSON.parse(
      execFileSync(process.execPath, [bulkLoadScript, path, String(millionSize)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    progress(`first process after the bulk load`);
    const first = coldStart(path, query, 50);
    load = { ...figures, builtAt: new Date().toISOString(), firstProcess: first };
    writeFileSync(recordFile, JSON.stringify(load));
  }
  const counts = [1000, 50, 50, 50, 50];
  const runs = counts.map((count, index) => {
    progress(`new process ${index + 1} of ${counts.length} (${count} searches)`);
    return coldStart(path, query, count);
  });
  const median = (pick) =>
    percentile(
      runs.map(pick).filter((value) => typeof value === 'number'),
      50,
    );
  const files = readdirSync(corpus)
    .filter((entry) => entry.startsWith(`scale-1M-v${millionCorpusVersion}.db`) && !entry.endsWith('.json'))
    .map((entry) => ({ name: entry, bytes: statSync(join(corpus, entry)).size }));
  const totalBytes = files.reduce((sum, file) => sum + file.bytes, 0);
  progress('where the bytes go (dbstat)');
  const tables = bytesByTable(path);
  const results = {
    size: millionSize,
    load,
    coldStart: {
      totalMs: round(
        median((run) => run.totalMs),
        1,
      ),
      importMs: round(
        median((run) => run.importMs),
        1,
      ),
      openMs: round(
        median((run) => run.openMs),
        1,
      ),
      firstSearchMs: round(
        median((run) => run.firstSearchMs),
        1,
      ),
      // CPU time up to the first search, node's own start included (less sensitive to other
      // load than wall time): the whole process (thread pool, GC helpers), and its main thread.
      cpuMs: round(
        median((run) => run.cpuMs),
        1,
      ),
      mainThreadCpuMs: median((run) => run.mainThreadCpuMs),
    },
    rssAfterOpenBytes: median((run) => run.rssAfterOpenBytes),
    rssAfterFirstSearchBytes: median((run) => run.rssAfterFirstSearchBytes),
    rssAfter50Bytes: median((run) => run.rssBytes),
    rssAfter1000Bytes: runs[0].rssAfter1000Bytes,
    residentAfter50: runs[1].residentAfter50,
    files,
    totalBytes,
    bytesPerMemory: Math.round(totalBytes / millionSize),
    tables,
    runs,
  };
  progress(
    `open + first search ${results.coldStart.totalMs} ms, RSS after 50 ${formatBytes(results.rssAfter50Bytes)}, ${results.bytesPerMemory} B a memory`,
  );
  return { suite: 'scale', results, markdown: millionMarkdown(results), targets: millionTargets(results) };
}

/** Bytes each table and index of the database takes (SQLite's dbstat), largest first. */
function bytesByTable(path) {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all();
  } finally {
    db.close();
  }
}

function coldStart(path, query, searches) {
  return JSON.parse(execFileSync(process.execPath, [coldStartScript, path, query, 'user-3', String(searches)], { encoding: 'utf8' }));
}

function millionMarkdown(results) {
  const { load } = results;
  const anonymous = results.residentAfter50?.anonymousBytes;
  const fileBacked = results.residentAfter50?.fileBytes;
  return [
    '### Scale at 1M (issue 18)',
    '',
    `One SQLite file of ${formatCount(results.size)} memories (384-d hash embedder, 20 users), bulk-loaded by its own process (\`addMany\` × 1,000, no search, then close), then opened by new processes. Corpus built ${load.builtAt}.`,
    '',
    '| figure | measured |',
    '|---|---:|',
    `| batched add to 1M (\`addMany\` × 1,000, the bulk-loading process) | ${formatCount(load.addPerSecond)}/s |`,
    `| … the bulk loader's CPU time and bytes written a memory (less sensitive to other load than the rate) | ${Number.isFinite(load.cpuMicrosecondsPerMemory) ? `${formatCount(load.cpuMicrosecondsPerMemory)} µs / ${formatBytes(load.writtenBytesPerMemory)}` : '–'} |`,
    `| the bulk loader's close (catching its indexes up and writing their snapshots) | ${formatMs(load.closeMs)} ms${
      load.closeSteps
        ? ` (${Object.entries(load.closeSteps)
            .map(([step, ms]) => `${step} ${formatMs(ms)}`)
            .join(', ')})`
        : ''
    } |`,
    `| first process after the bulk load: import + open + first search | ${formatMs(load.firstProcess.totalMs)} ms |`,
    `| new process, snapshots present: import + open + first search (median of ${results.runs.length}) | ${formatMs(results.coldStart.totalMs)} ms (import ${formatMs(results.coldStart.importMs)}, open ${formatMs(results.coldStart.openMs)}, first search ${formatMs(results.coldStart.firstSearchMs)}) |`,
    `| … its CPU time to the first search, node's start included: process / main thread (10 ms ticks) | ${[results.coldStart.cpuMs, results.coldStart.mainThreadCpuMs].map((value) => (Number.isFinite(value) ? formatMs(value) : '–')).join(' / ')} ms |`,
    `| RSS after open / first search / 50 searches / 1,000 searches | ${formatBytes(results.rssAfterOpenBytes)} / ${formatBytes(results.rssAfterFirstSearchBytes)} / ${formatBytes(results.rssAfter50Bytes)} / ${formatBytes(results.rssAfter1000Bytes)} |`,
    `| … after 50: anonymous / file-backed (SQLite's memory-mapped pages, code) | ${formatBytes(anonymous)} / ${formatBytes(fileBacked)} |`,
    `| on disk, all in (${results.files.map((file) => `${file.name.replace(/^scale-1M-v\d+\.db/, 'db')} ${formatBytes(file.bytes)}`).join(', ')}) | ${formatBytes(results.totalBytes)} (${formatCount(results.bytesPerMemory)} B a memory) |`,
    `| … by table and index (dbstat), bytes a memory | ${(results.tables ?? [])
      .filter((table) => table.bytes >= results.size * 4)
      .map((table) => `${table.name} ${Math.round(table.bytes / results.size)}`)
      .join(', ')} |`,
    '',
  ].join('\n');
}

function millionTargets(results) {
  const { load } = results;
  return [
    {
      target: 'RSS after open + 50 searches (1M)',
      goal: '≤ 400 MB',
      value: Math.round(results.rssAfter50Bytes / 1e6),
      unit: 'MB',
      met: results.rssAfter50Bytes <= 400e6,
    },
    {
      target: 'new process: open + first search, snapshots present (1M)',
      goal: '≤ 300 ms',
      value: results.coldStart.totalMs,
      unit: 'ms',
      met: results.coldStart.totalMs <= 300,
    },
    {
      target: 'first process after a bulk load (1M)',
      goal: '≤ 3 s',
      value: round(load.firstProcess.totalMs, 0),
      unit: 'ms',
      met: load.firstProcess.totalMs <= 3000,
    },
    {
      target: 'file size all in (1M)',
      goal: '≤ 1.6 KB a memory',
      value: results.bytesPerMemory,
      unit: 'B',
      met: results.bytesPerMemory <= 1600,
    },
    { target: 'batched add at 1M', goal: '≥ 5,000/s', value: load.addPerSecond, unit: '/s', met: load.addPerSecond >= 5000 },
  ];
}
