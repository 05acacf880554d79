// Postgres: one PostgreSQL 15 server (started by the suite: fsync, synchronous_commit and
// full_page_writes on) holding the bench corpus — batched add (`addMany` × 1,000) as it grows,
// single add, `store.lexicalSearch` and lexical `memory.search` with no filter (the corpus's own
// Zipf-distributed words, and queries of its 30 most common words), with a scope filter and with a
// metadata `where`; `EXPLAIN (ANALYZE, BUFFERS)` of the hot statements goes into the JSON.
// Quick: 100k memories; --full: 1M, then the same searches and 20 batched adds with
// `lexicalPostings` turned on. No pgvector on the server: vectors are the PGlite path.

import { postgresStore } from '@engram/adapters/postgres';
import { hashEmbedder, Memory, parseWhere } from 'engram';
import pg from 'pg';
import { queries as makeQueries, memories, random, vocabulary } from '../lib/corpus.mjs';
import { startPostgres } from '../lib/postgres-server.mjs';
import { formatCount, formatMs, measure } from '../lib/stats.mjs';
import { lineChart } from '../lib/svg.mjs';

const users = 20;
const round = (value) => Math.round(value * 10) / 10;

/** Queries of 2–4 words drawn from the 30 most common words of the corpus (each in 5–25 % of memories). */
export function commonQueries(count, seed = 5) {
  const next = random(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: 2 + Math.floor(next() * 3) }, () => vocabulary[Math.floor(next() * 30)]).join(' '),
  );
}

const searches = {
  lexicalCorpus: { label: 'lexical, no filter, corpus queries', queries: 'corpus', options: () => ({}) },
  lexicalCommon: { label: 'lexical, no filter, 30 most common words', queries: 'common', options: () => ({}) },
  lexicalUser: {
    label: 'lexical, one user (5 %)',
    queries: 'corpus',
    options: (index) => ({ scope: { userId: `user-${index % users}` } }),
  },
  lexicalWhere: { label: 'lexical, `where` priority ≥ 3 (40 %)', queries: 'corpus', options: () => ({ where: { priority: { gte: 3 } } }) },
};

export async function run({ full = false, progress = () => {} } = {}) {
  const sizes = full ? [100_000, 1_000_000] : [100_000];
  // pg_stat_statements (shipped with PostgreSQL) gives the server-side time of each statement of the write path.
  const server = await startPostgres({ settings: { shared_preload_libraries: 'pg_stat_statements' } });
  progress(`PostgreSQL ${server.version} started (fsync on)`);
  const results = { server: { version: server.version, settings: server.settings }, users, sizes: [] };
  try {
    const url = await server.createDatabase('bench');
    // The store's pool, wrapped to keep the last lexical statement for EXPLAIN; idle connections
    // kept as the pool the store opens itself keeps them (`idleTimeoutMs`, 5 minutes). With pg's
    // default 10 s the connections closed during the VACUUM and the length-tier builds, and the
    // searches ran on new server processes, ~20–60 ms slower for their first ~40 searches at 1M
    // (page faults on shared memory): that is measured on its own below (`lexicalCorpusNewConnections`).
    const pool = new pg.Pool({ connectionString: url, max: 4, idleTimeoutMillis: 300_000, allowExitOnIdle: true });
    const seen = { lexical: null };
    const query = pool.query.bind(pool);
    pool.query = (config, ...rest) => {
      if (typeof config === 'object' && config.text?.includes('@@')) seen.lexical = { text: config.text, values: config.values };
      return query(config, ...rest);
    };
    const store = postgresStore({ pool, vectors: false });
    const memory = new Memory({ store, embedder: hashEmbedder({ dimensions: 384 }), logger: false });
    await memory.ready();
    const admin = new pg.Pool({ connectionString: url, max: 1 });
    const statementStatistics = await admin
      .query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements')
      .then(() => true)
      .catch(() => false);
    let loaded = 0;
    for (const size of sizes) {
      const figures = { size };
      const say = (message) => progress(`${formatCount(size)}: ${message}`);
      // Batched add up to `size` (minus the singles), timed per 100k step so growth shows.
      const singles = 200;
      const target = size - singles;
      const begin = performance.now();
      if (statementStatistics) await admin.query('SELECT pg_stat_statements_reset()');
      const nodeCpuBefore = process.cpuUsage();
      const serverCpuBefore = server.cpuMs();
      const added = target - loaded;
      for (; loaded < target; ) {
        const end = Math.min(loaded + 1000, target);
        await memory.addMany(memories(loaded, end, users));
        loaded = end;
        if ((loaded / 1000) % 20 === 0)
          say(
            `added ${formatCount(loaded)} (${formatCount(Math.round((loaded - (target - added)) / ((performance.now() - begin) / 1000)))}/s)`,
          );
      }
      figures.batchedAddPerSecond = Math.round(added / ((performance.now() - begin) / 1000));
      // CPU per batch of 1,000, this process and the whole cluster: steadier than wall time on a
      // shared machine, and the sum bounds the rate (one batch at a time: Node, then the server).
      const nodeCpu = process.cpuUsage(nodeCpuBefore);
      const serverCpuAfter = server.cpuMs();
      const batches = added / 1000;
      figures.batchedAddCpu = {
        nodeMsPerBatch: round((nodeCpu.user + nodeCpu.system) / 1000 / batches),
        serverMsPerBatch: serverCpuBefore === null || serverCpuAfter === null ? null : round((serverCpuAfter - serverCpuBefore) / batches),
      };
      // Server-side execution time and WAL of each statement of the write path, per batch.
      if (statementStatistics)
        figures.batchedAddStatements = (
          await admin.query(
            `SELECT calls::float8 / $1 AS calls, total_exec_time / $1 AS ms, wal_bytes::float8 / $1 AS wal_bytes,
                    left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS statement
             FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND query NOT ILIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC LIMIT 6`,
            [batches],
          )
        ).rows.map((row) => ({
          statement: row.statement,
          callsPerBatch: round(row.calls),
          msPerBatch: round(row.ms),
          walKbPerBatch: Math.round(row.wal_bytes / 1024),
        }));
      const rest = memories(loaded, size, users);
      const singleBegin = performance.now();
      for (const input of rest) await memory.add(input);
      loaded = size;
      figures.singleAddPerSecond = Math.round(singles / ((performance.now() - singleBegin) / 1000));
      say(
        `add ${formatCount(figures.batchedAddPerSecond)}/s batched (CPU a batch: Node ${figures.batchedAddCpu.nodeMsPerBatch} ms, server ${figures.batchedAddCpu.serverMsPerBatch} ms), ${formatCount(figures.singleAddPerSecond)}/s single`,
      );
      await admin.query('VACUUM ANALYZE engram.memories');
      // The store builds its length-tier text indexes (the shortest ~25 % / ~50 % of memories,
      // cut from the data) in the background from 50,000 memories, at its first search; a store
      // in use has had them since. Start that and wait for it, so the searches measure the steady state.
      await store.lexicalSearch('warmup', {}, 10);
      figures.lengthTiers = await lengthTiers(admin);
      say(
        `length tiers: ${figures.lengthTiers.map((tier) => `${tier.name} (≤ ${tier.cut} tokens, ${tier.mb} MB, built in ${tier.waitedSeconds} s)`).join(', ') || 'none'}`,
      );

      const querySets = { corpus: makeQueries(300, 11), common: commonQueries(300) };
      for (const [name, search] of Object.entries(searches)) {
        const inputs = querySets[search.queries].map((query, index) => [query, index]);
        figures[`${name}Store`] = await measure(inputs, ([query, index]) => {
          const options = search.options(index);
          // The store takes a parsed filter (Memory parses `where` for it).
          return store.lexicalSearch(
            query,
            { ...(options.scope ? { scope: options.scope } : {}), ...(options.where ? { where: parseWhere(options.where) } : {}) },
            10,
          );
        });
        figures[name] = await measure(inputs, ([query, index]) =>
          memory.search(query, { limit: 10, mode: 'lexical', ...search.options(index) }),
        );
        if (seen.lexical) figures[`${name}Plan`] = await explain(admin, seen.lexical);
        say(`${search.label}: store p50 ${figures[`${name}Store`].p50} ms, memory.search p50 ${figures[name].p50} ms`);
      }
      // Then the corpus searches again on connections that have not searched before (a new pool, as
      // after pg's 10 s idle timeout): a new server process faults in the shared memory it touches.
      const freshPool = new pg.Pool({ connectionString: url, max: 4 });
      try {
        const freshStore = postgresStore({ pool: freshPool, vectors: false });
        figures.lexicalCorpusNewConnections = await measure(
          querySets.corpus.map((query) => [query]),
          ([query]) => freshStore.lexicalSearch(query, {}, 10),
        );
        say(
          `lexical, no filter, corpus queries, new connections: p50 ${figures.lexicalCorpusNewConnections.p50} ms, p99 ${figures.lexicalCorpusNewConnections.p99} ms`,
        );
      } finally {
        await freshPool.end();
      }
      results.sizes.push(figures);
    }
    // `lexicalPostings` (opt-in) at the largest size: turn it on (the fill is timed), measure the
    // same searches, then batched add with it on (20 batches) for its write cost.
    if (full) {
      const figures = { size: loaded };
      const say = (message) => progress(`${formatCount(loaded)} with lexicalPostings: ${message}`);
      const postingsStore = postgresStore({ pool, vectors: false, lexicalPostings: true });
      const fillBegin = performance.now();
      await postingsStore.open();
      figures.fillSeconds = round((performance.now() - fillBegin) / 1000);
      figures.tableMb = Math.round(
        (await admin.query(`SELECT pg_total_relation_size('engram.memory_lexemes')::float8 / 1048576 AS mb`)).rows[0].mb,
      );
      say(`filled in ${figures.fillSeconds} s (${formatCount(figures.tableMb)} MB with its index)`);
      await admin.query('VACUUM ANALYZE engram.memory_lexemes');
      const querySets = { corpus: makeQueries(300, 11), common: commonQueries(300) };
      for (const [name, search] of Object.entries(searches)) {
        const inputs = querySets[search.queries].map((query, index) => [query, index]);
        figures[`${name}Store`] = await measure(inputs, ([query, index]) => {
          const options = search.options(index);
          return postingsStore.lexicalSearch(
            query,
            { ...(options.scope ? { scope: options.scope } : {}), ...(options.where ? { where: parseWhere(options.where) } : {}) },
            10,
          );
        });
        if (seen.lexical) figures[`${name}Plan`] = await explain(admin, seen.lexical);
        say(`${search.label}: store p50 ${figures[`${name}Store`].p50} ms`);
      }
      const postingsMemory = new Memory({ store: postingsStore, embedder: hashEmbedder({ dimensions: 384 }), logger: false });
      const batches = 20;
      const nodeCpuBefore = process.cpuUsage();
      const serverCpuBefore = server.cpuMs();
      const begin = performance.now();
      for (let batch = 0; batch < batches; batch++, loaded += 1000) await postingsMemory.addMany(memories(loaded, loaded + 1000, users));
      figures.batchedAddPerSecond = Math.round((batches * 1000) / ((performance.now() - begin) / 1000));
      const nodeCpu = process.cpuUsage(nodeCpuBefore);
      const serverCpuAfter = server.cpuMs();
      figures.batchedAddCpu = {
        nodeMsPerBatch: round((nodeCpu.user + nodeCpu.system) / 1000 / batches),
        serverMsPerBatch: serverCpuBefore === null || serverCpuAfter === null ? null : round((serverCpuAfter - serverCpuBefore) / batches),
      };
      say(
        `add ${formatCount(figures.batchedAddPerSecond)}/s batched (CPU a batch: Node ${figures.batchedAddCpu.nodeMsPerBatch} ms, server ${figures.batchedAddCpu.serverMsPerBatch} ms)`,
      );
      results.postings = figures;
    }
    await admin.end();
    await memory.close();
    await pool.end();
  } finally {
    server.stop();
  }
  // ENGRAM_BENCH_PGLITE=0 leaves the (slow) PGlite part out, to re-measure the server alone.
  if (process.env.ENGRAM_BENCH_PGLITE !== '0')
    try {
      results.pglite = await pgliteHybrid(full ? 50_000 : 10_000, progress);
    } catch (error) {
      results.pglite = { failed: String(error?.message ?? error) };
    }
  return {
    suite: 'postgres',
    results,
    markdown: markdown(results),
    targets: targets(results),
    charts: [{ file: 'postgres-lexical-latency.svg', svg: chart(results) }],
  };
}

/**
 * pgvector's path: PGlite (Postgres 17 in WebAssembly, one thread, in this process) with pgvector,
 * 384-d hash embeddings, HNSW; hybrid `memory.search` with a user scope, and lexical and vector
 * alone, p50 / p95 / p99.
 */
async function pgliteHybrid(size, progress) {
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite/vector');
  const database = await PGlite.create({ extensions: { vector } });
  const memory = new Memory({ store: postgresStore({ pglite: database }), embedder: hashEmbedder({ dimensions: 384 }), logger: false });
  try {
    await memory.ready();
    const begin = performance.now();
    for (let offset = 0; offset < size; offset += 1000) await memory.addMany(memories(offset, Math.min(offset + 1000, size), users));
    const addPerSecond = Math.round(size / ((performance.now() - begin) / 1000));
    progress(`PGlite ${formatCount(size)}: added ${formatCount(addPerSecond)}/s`);
    await database.query('VACUUM ANALYZE engram.memories');
    const inputs = makeQueries(200, 11).map((query, index) => [query, index]);
    const scoped = (index) => ({ scope: { userId: `user-${index % users}` } });
    const figures = { size, addPerSecond };
    figures.hybridUser = await measure(inputs, ([query, index]) => memory.search(query, { limit: 10, ...scoped(index) }));
    figures.lexicalUser = await measure(inputs, ([query, index]) => memory.search(query, { limit: 10, mode: 'lexical', ...scoped(index) }));
    figures.vectorUser = await measure(inputs, ([query, index]) => memory.search(query, { limit: 10, mode: 'vector', ...scoped(index) }));
    progress(
      `PGlite ${formatCount(size)}: hybrid one user p50 ${figures.hybridUser.p50} ms (lexical ${figures.lexicalUser.p50}, vector ${figures.vectorUser.p50})`,
    );
    return figures;
  } finally {
    await memory.close();
    await database.close();
  }
}

/** The store's length-tier indexes once built (waits up to 5 minutes for a build in progress): name, cut, size. */
async function lengthTiers(admin) {
  const begin = performance.now();
  const read = async () =>
    (
      await admin.query(
        `SELECT c.relname AS name, i.indisvalid AS valid, substring(pg_get_expr(i.indpred, i.indrelid) FROM 'search_length <= (\\d+)')::int AS cut,
                round(pg_relation_size(c.oid)::numeric / 1048576, 1)::float8 AS mb
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE i.indrelid = 'engram.memories'::regclass AND c.relname IN ('memories_search_quarter', 'memories_search_half') ORDER BY cut`,
      )
    ).rows;
  let tiers = await read();
  // A build starts at the first search; give it a moment to appear, then wait until it is valid.
  for (let waited = 0; waited < 300_000 && (tiers.some((tier) => !tier.valid) || (tiers.length < 2 && waited < 5_000)); waited += 250) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    tiers = await read();
  }
  const waitedSeconds = round((performance.now() - begin) / 1000);
  return tiers.filter((tier) => tier.valid).map(({ name, cut, mb }) => ({ name, cut, mb, waitedSeconds }));
}

/** EXPLAIN (ANALYZE, BUFFERS) of one statement the store sent (the last of a measured run), as text lines. */
async function explain(admin, { text, values }) {
  const { rows } = await admin.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values);
  return rows.map((row) => row['QUERY PLAN']);
}

function markdown(results) {
  const columns = results.sizes.map((figures) => formatCount(figures.size));
  const row = (label, value) => `| ${label} | ${results.sizes.map(value).join(' | ')} |`;
  const lines = [
    '### Postgres',
    '',
    `PostgreSQL ${results.server.version} started by the suite (fsync on, shared_buffers ${results.server.settings.shared_buffers}), \`postgresStore({ connectionString })\` without pgvector, memories over ${results.users} users. Search: p50 / p95 / p99 in ms of \`store.lexicalSearch\` (limit 10) and of \`memory.search\` in lexical mode.`,
    '',
    `| figure | ${columns.join(' | ')} |`,
    `|---|${columns.map(() => '---:').join('|')}|`,
    row('batched add (addMany × 1,000), memories/s', (figures) => formatCount(figures.batchedAddPerSecond)),
    row('… CPU a batch: Node / server, ms', (figures) =>
      figures.batchedAddCpu ? `${figures.batchedAddCpu.nodeMsPerBatch} / ${figures.batchedAddCpu.serverMsPerBatch ?? '–'}` : '–',
    ),
    row('single add, memories/s', (figures) => formatCount(figures.singleAddPerSecond)),
    row(
      'length tiers (≤ tokens, MB)',
      (figures) => (figures.lengthTiers ?? []).map((tier) => `≤ ${tier.cut}: ${tier.mb}`).join(', ') || '–',
    ),
  ];
  const cell = (summary) => `${formatMs(summary.p50)} / ${formatMs(summary.p95)} / ${formatMs(summary.p99)}`;
  for (const [name, search] of Object.entries(searches)) {
    lines.push(row(`store: ${search.label}`, (figures) => cell(figures[`${name}Store`])));
    lines.push(row(`memory.search: ${search.label}`, (figures) => cell(figures[name])));
  }
  lines.push(
    row('store: lexical, no filter, corpus queries, on new connections', (figures) =>
      figures.lexicalCorpusNewConnections ? cell(figures.lexicalCorpusNewConnections) : '–',
    ),
  );
  lines.push('');
  for (const figures of results.sizes) {
    if (!figures.batchedAddStatements) continue;
    lines.push(
      `Batched add up to ${formatCount(figures.size)}, server side (pg_stat_statements), per batch of 1,000:`,
      '',
      '| statement | calls | ms | WAL KB |',
      '|---|---:|---:|---:|',
      ...figures.batchedAddStatements.map(
        (entry) =>
          `| \`${entry.statement.replace(/\|/g, '\\|')}…\` | ${entry.callsPerBatch} | ${entry.msPerBatch} | ${formatCount(entry.walKbPerBatch)} |`,
      ),
      '',
    );
  }
  const postings = results.postings;
  if (postings) {
    lines.push(
      `With \`lexicalPostings: true\` at ${formatCount(postings.size)} (turned on after the load: filled in ${postings.fillSeconds} s, ${formatCount(postings.tableMb)} MB with its index), \`store.lexicalSearch\` p50 / p95 / p99 ms:`,
      '',
      '| figure | ms |',
      '|---|---:|',
      ...Object.entries(searches).map(([name, search]) => `| ${search.label} | ${cell(postings[`${name}Store`])} |`),
      `| batched add, memories/s (CPU a batch: Node / server, ms) | ${formatCount(postings.batchedAddPerSecond)} (${postings.batchedAddCpu.nodeMsPerBatch} / ${postings.batchedAddCpu.serverMsPerBatch ?? '–'}) |`,
      '',
    );
  }
  const lite = results.pglite;
  if (lite?.failed) lines.push(`PGlite + pgvector: failed (${lite.failed})`, '');
  else if (lite) {
    lines.push(
      `PGlite + pgvector (Postgres 17 in WebAssembly, one thread, in process), ${formatCount(lite.size)} memories, 384-d HNSW: addMany ${formatCount(lite.addPerSecond)}/s; \`memory.search\` with a user scope p50 / p95 / p99: hybrid ${cell(lite.hybridUser)}, lexical ${cell(lite.lexicalUser)}, vector ${cell(lite.vectorUser)} ms.`,
      '',
    );
  }
  return lines.join('\n');
}

function targets(results) {
  const list = [];
  for (const figures of results.sizes) {
    const size = figures.size >= 1_000_000 ? `${figures.size / 1_000_000}M` : `${figures.size / 1000}k`;
    if (figures.size === 100_000)
      list.push({
        target: `Postgres batched add (${size})`,
        goal: '≥ 5,000 /s',
        value: figures.batchedAddPerSecond,
        unit: '/s',
        met: figures.batchedAddPerSecond >= 5000,
      });
    const goal = figures.size >= 1_000_000 ? 15 : 10;
    for (const name of ['lexicalCorpus', 'lexicalCommon']) {
      const summary = figures[`${name}Store`];
      list.push({
        target: `Postgres ${searches[name].label} p50 (${size})`,
        goal: `≤ ${goal} ms`,
        value: summary.p50,
        unit: 'ms',
        met: summary.p50 <= goal,
      });
      list.push({ target: `… p99 (${size})`, goal: '≤ 25 ms', value: summary.p99, unit: 'ms', met: summary.p99 <= 25 });
    }
  }
  const postings = results.postings;
  if (postings) {
    const size = `${postings.size / 1_000_000}M, lexicalPostings`;
    for (const name of ['lexicalCorpus', 'lexicalCommon']) {
      const summary = postings[`${name}Store`];
      list.push({
        target: `Postgres ${searches[name].label} p50 (${size})`,
        goal: '≤ 15 ms',
        value: summary.p50,
        unit: 'ms',
        met: summary.p50 <= 15,
      });
      list.push({ target: `… p99 (${size})`, goal: '≤ 25 ms', value: summary.p99, unit: 'ms', met: summary.p99 <= 25 });
    }
  }
  return list;
}

/** Lexical p50 (solid) and p99 (dashed) of `store.lexicalSearch` by corpus size, with the issue's targets in grey. */
export function chart(results) {
  const sizes = results.sizes.map((figures) => figures.size);
  const shown = {
    lexicalCorpus: ['corpus words', '#2563eb'],
    lexicalCommon: ['common words', '#dc2626'],
    lexicalUser: ['one user', '#16a34a'],
  };
  const series = Object.entries(shown).flatMap(([name, [label, color]]) =>
    ['p50', 'p99'].map((percentile) => ({
      name: `${label} ${percentile}`,
      points: results.sizes.map((figures) => [figures.size, figures[`${name}Store`]?.[percentile]]),
      color,
      dashed: percentile === 'p99',
    })),
  );
  series.push({ name: 'target p50', points: sizes.map((size) => [size, size >= 1_000_000 ? 15 : 10]), color: '#9ca3af' });
  series.push({ name: 'target p99', points: sizes.map((size) => [size, 25]), color: '#9ca3af', dashed: true });
  return lineChart({
    title: 'Postgres lexical search (store.lexicalSearch, limit 10)',
    xLabel: 'memories in the store',
    yLabel: 'latency (ms)',
    series,
  });
}
