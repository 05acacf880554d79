// Peer: mem0's open-source TypeScript SDK (`Memory` from `mem0ai/oss`, a bench-only dependency),
// offline, against engram on the same corpus, queries and user filter, interleaved in one process.
//
// mem0 runs as its docs describe a local setup: the `memory` vector store (a SQLite file), SQLite
// history, `infer: false` (no LLM: memories are stored as given) and engram's own hash embedder
// through a LangChain-style `Embeddings` object, so both sides embed identically and the figures
// compare storage and retrieval, not models. Telemetry is off (MEM0_TELEMETRY=false), its config
// directory is a temporary one (MEM0_DIR), and `fetch` is replaced by a stub that counts calls:
// the suite reports how many network calls mem0 attempted (expected: 0).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashEmbedder, Memory, sqliteStore } from 'engram';
import { queries as makeQueries, memories } from '../lib/corpus.mjs';
import { formatCount, formatMs, interleave, round } from '../lib/stats.mjs';
import { lineChart } from '../lib/svg.mjs';

const dimensions = 384;
const users = 20;

export async function run({ full = false, progress = () => {} } = {}) {
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-peer-'));
  process.env.MEM0_TELEMETRY = 'false';
  process.env.MEM0_DIR = join(directory, 'mem0-home');
  const realFetch = globalThis.fetch;
  let networkCalls = 0;
  globalThis.fetch = async (resource) => {
    networkCalls += 1;
    throw new Error(`offline benchmark: mem0 tried to fetch ${String(resource)}`);
  };
  let mem0;
  try {
    mem0 = await import('mem0ai/oss');
  } catch (error) {
    globalThis.fetch = realFetch;
    rmSync(directory, { recursive: true, force: true });
    const reason = `mem0ai is not installed (${error.code ?? error.message}); run \`npm install\` at the repository root`;
    return { suite: 'peer', results: { skipped: true, reason }, markdown: `### Peer: mem0\n\nSkipped: ${reason}.\n` };
  }
  try {
    const sizes = full ? [1_000, 10_000, 100_000] : [1_000, 10_000];
    const results = {
      peer: `mem0ai ${await mem0Version()} (oss, memory vector store, SQLite history, infer: false)`,
      dimensions,
      users,
      sizes: [],
    };
    for (const size of sizes) {
      const log = (message) => progress(`${formatCount(size)}: ${message}`);
      results.sizes.push(await compare(mem0.Memory, size, full, join(directory, String(size)), log));
    }
    results.networkCalls = networkCalls;
    return {
      suite: 'peer',
      results,
      markdown: markdown(results),
      charts: [{ file: 'peer-search-latency.svg', svg: chart(results) }],
      targets: targets(results),
    };
  } finally {
    globalThis.fetch = realFetch;
    rmSync(directory, { recursive: true, force: true });
  }
}

async function mem0Version() {
  const { createRequire } = await import('node:module');
  const { readFileSync } = await import('node:fs');
  // The package exports no ./package.json: read it beside its resolved entry point.
  const entry = createRequire(import.meta.url).resolve('mem0ai');
  const root = entry.slice(0, entry.lastIndexOf('node_modules/mem0ai/') + 'node_modules/mem0ai/'.length);
  return JSON.parse(readFileSync(`${root}package.json`, 'utf8')).version;
}

async function compare(Mem0, size, full, directory, progress) {
  const embedder = hashEmbedder({ dimensions });
  // mem0 accepts a LangChain `Embeddings` object: embedQuery / embedDocuments returning number[].
  const embeddings = {
    async embedQuery(text) {
      return Array.from((await embedder.embed([text]))[0]);
    },
    async embedDocuments(texts) {
      return (await embedder.embed(texts)).map((vector) => Array.from(vector));
    },
  };
  const engram = new Memory({ store: sqliteStore({ path: join(directory, 'engram.db') }), embedder, logger: false });
  await engram.ready();
  const peer = new Mem0({
    embedder: { provider: 'langchain', config: { model: embeddings } },
    vectorStore: {
      provider: 'memory',
      config: { collectionName: 'bench', dimension: dimensions, dbPath: join(directory, 'mem0-vectors.db') },
    },
    // Never called with infer: false; mem0 still builds its LLM client at construction.
    llm: { provider: 'openai', config: { apiKey: 'unused-offline', model: 'unused' } },
    historyStore: { provider: 'sqlite', config: { historyDbPath: join(directory, 'mem0-history.db') } },
  });
  const figures = { size };

  // Single adds, interleaved: the first `singles` memories, one call each.
  const singles = Math.min(size, 500);
  const single = { engram: [], mem0: [] };
  for (const item of memories(0, singles, users)) {
    let begin = performance.now();
    await engram.add(item);
    single.engram.push(performance.now() - begin);
    begin = performance.now();
    await peer.add(item.content, { userId: item.scope.userId, infer: false, metadata: item.metadata });
    single.mem0.push(performance.now() - begin);
  }
  const perSecond = (samples) => Math.round(samples.length / (samples.reduce((sum, value) => sum + value, 0) / 1000));
  figures.singleAddPerSecond = { engram: perSecond(single.engram), mem0: perSecond(single.mem0) };

  // The rest in batches of 1,000: engram's addMany, mem0's add(messages) per user (its batch form).
  let engramMs = 0;
  let mem0Ms = 0;
  for (let offset = singles; offset < size; offset += 1000) {
    const batch = memories(offset, Math.min(offset + 1000, size), users);
    let begin = performance.now();
    await engram.addMany(batch);
    engramMs += performance.now() - begin;
    begin = performance.now();
    for (let user = 0; user < users; user++) {
      const mine = batch.filter((item) => item.scope.userId === `user-${user}`);
      if (mine.length === 0) continue;
      await peer.add(
        mine.map((item) => ({ role: 'user', content: item.content })),
        { userId: `user-${user}`, infer: false },
      );
    }
    mem0Ms += performance.now() - begin;
    if ((offset / 1000) % 10 === 9) progress(`added ${formatCount(offset + 1000)} to both`);
  }
  if (size > singles) {
    figures.batchedAddPerSecond = {
      engram: Math.round((size - singles) / (engramMs / 1000)),
      mem0: Math.round((size - singles) / (mem0Ms / 1000)),
    };
  }

  // Search: the same query and the same user filter (mem0 requires one), alternating engram and mem0.
  const queryCount = size >= 100_000 ? 10 : size >= 10_000 ? (full ? 50 : 30) : 100;
  const inputs = makeQueries(queryCount, 23).map((query, index) => ({ query, userId: `user-${index % users}` }));
  const search = await interleave(
    inputs,
    {
      engram: ({ query, userId }) => engram.search(query, { limit: 10, scope: { userId } }),
      mem0: ({ query, userId }) => peer.search(query, { topK: 10, filters: { user_id: userId } }),
    },
    { warmup: size >= 100_000 ? 1 : 3 },
  );
  figures.search = { ...search, ratio: round(search.mem0.p50 / search.engram.p50, 1) };
  progress(`search p50 engram ${search.engram.p50} ms, mem0 ${search.mem0.p50} ms (${figures.search.ratio}x)`);
  await engram.close();
  return figures;
}

function markdown(results) {
  const lines = [
    '### Peer: mem0 OSS',
    '',
    `${results.peer}, offline (network calls attempted: ${results.networkCalls}); both sides use engram's ${results.dimensions}-d hash embedder, the same memories (over ${results.users} users), the same queries and the same user filter, run alternately in one process. engram: SQLite file, hybrid search. Latency p50 / p95 in ms.`,
    '',
    '| corpus | figure | engram | mem0 | engram advantage |',
    '|---:|---|---:|---:|---:|',
  ];
  for (const figures of results.sizes) {
    const size = formatCount(figures.size);
    const { engram, mem0, ratio } = figures.search;
    lines.push(
      `| ${size} | search, one user, limit 10 | ${formatMs(engram.p50)} / ${formatMs(engram.p95)} | ${formatMs(mem0.p50)} / ${formatMs(mem0.p95)} | ${ratio}× faster |`,
    );
    lines.push(
      `| ${size} | single add, memories/s | ${formatCount(figures.singleAddPerSecond.engram)} | ${formatCount(figures.singleAddPerSecond.mem0)} | ${round(figures.singleAddPerSecond.engram / figures.singleAddPerSecond.mem0, 1)}× |`,
    );
    if (figures.batchedAddPerSecond) {
      lines.push(
        `| ${size} | batched add, memories/s | ${formatCount(figures.batchedAddPerSecond.engram)} | ${formatCount(figures.batchedAddPerSecond.mem0)} | ${round(figures.batchedAddPerSecond.engram / figures.batchedAddPerSecond.mem0, 1)}× |`,
      );
    }
  }
  lines.push(
    '',
    "mem0's `memory` store reads and JSON-parses every row of the collection for each search, then scores them in JavaScript; its batch form of `add` is a list of messages, written one by one.",
    '',
  );
  return lines.join('\n');
}

function chart(results) {
  return lineChart({
    title: 'search p50, one user, limit 10: engram vs mem0 OSS',
    xLabel: 'memories in the store',
    yLabel: 'p50 latency (ms)',
    series: [
      { name: 'engram (hybrid)', points: results.sizes.map((figures) => [figures.size, figures.search.engram.p50]) },
      { name: 'mem0 OSS', points: results.sizes.map((figures) => [figures.size, figures.search.mem0.p50]), dashed: true },
    ],
  });
}

function targets(results) {
  const tenK = results.sizes.find((figures) => figures.size === 10_000);
  if (!tenK) return [];
  return [
    {
      target: 'search @10k filtered by user vs mem0 OSS (same run)',
      goal: '≥ 50× faster',
      value: `${tenK.search.ratio}×`,
      met: tenK.search.ratio >= 50,
    },
  ];
}
