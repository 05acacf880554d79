// npm run bench — the foundation benchmark: batched/single add throughput and search latency
// on a SQLite file with the hash embedder. Options: --size N (default 10000), --queries N (200),
// --dimensions N (384), --out DIR (bench/results). Prints a table; writes JSON results.
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Memory, hashEmbedder, sqliteStore } from 'engram';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '10000' },
    queries: { type: 'string', default: '200' },
    dimensions: { type: 'string', default: '384' },
    out: { type: 'string', default: new URL('./results/', import.meta.url).pathname },
  },
});
const size = Number(values.size);
const queryCount = Number(values.queries);
const dimensions = Number(values.dimensions);

// Deterministic synthetic corpus: Zipf-ish word choice from a fixed vocabulary.
let seed = 42;
const random = () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 4294967296;
};
const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'po', 'qui', 'dra', 'fen', 'gul', 'hor', 'jin'];
const vocabulary = Array.from({ length: 3000 }, () => {
  const length = 2 + Math.floor(random() * 3);
  return Array.from({ length }, () => syllables[Math.floor(random() * syllables.length)]).join('');
});
const word = () => vocabulary[Math.floor(vocabulary.length * random() ** 2)];
const sentence = (words) => Array.from({ length: words }, word).join(' ');
const types = ['observation', 'decision', 'learning', 'error', 'pattern', 'bug', 'insight', 'workflow'];
const users = Array.from({ length: 20 }, (_, index) => `user-${index}`);
const start = Date.UTC(2025, 0, 1);
const corpus = Array.from({ length: size }, (_, index) => ({
  content: `${sentence(8 + Math.floor(random() * 16))} ${index}`,
  type: types[index % types.length],
  tags: [word(), word()],
  metadata: { priority: index % 5, team: `team-${index % 7}` },
  scope: { userId: users[index % users.length] },
  createdAt: new Date(start + index * 60_000),
}));
const queries = Array.from({ length: queryCount }, () => sentence(2 + Math.floor(random() * 4)));

const percentile = (samples, p) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const round = (value, digits = 3) => Number(value.toFixed(digits));

const directory = mkdtempSync(join(tmpdir(), 'engram-bench-'));
const path = join(directory, 'bench.db');
const memory = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder({ dimensions }), logger: false });
await memory.ready();

const results = { suite: 'quick', date: new Date().toISOString(), node: process.version, size, dimensions, queries: queryCount };
process.stderr.write(`engram bench: ${size} memories, ${dimensions}-d hash embedder, SQLite at ${path}\n`);

// Batched add: addMany in batches of 1,000 (one transaction + one embedding call each).
{
  const batch = 1000;
  const begin = performance.now();
  for (let offset = 0; offset < size - 500; offset += batch) {
    await memory.addMany(corpus.slice(offset, Math.min(offset + batch, size - 500)));
    process.stderr.write(`\r  batched add: ${Math.min(offset + batch, size - 500)}/${size - 500}`);
  }
  const seconds = (performance.now() - begin) / 1000;
  results.batchedAddPerSecond = Math.round((size - 500) / seconds);
  process.stderr.write('\n');
}
// Single add: the last 500, one call (and one transaction) each.
{
  const begin = performance.now();
  for (const input of corpus.slice(size - 500)) await memory.add(input);
  results.singleAddPerSecond = Math.round(500 / ((performance.now() - begin) / 1000));
}

async function measure(name, run) {
  for (const query of queries.slice(0, 20)) await run(query); // warm-up
  const samples = [];
  for (const query of queries) {
    const begin = performance.now();
    await run(query);
    samples.push(performance.now() - begin);
  }
  results[name] = { p50: round(percentile(samples, 50)), p95: round(percentile(samples, 95)), p99: round(percentile(samples, 99)) };
  process.stderr.write(`  ${name}: p50 ${results[name].p50} ms\n`);
}

await measure('searchHybrid', (query) => memory.search(query, { limit: 10 }));
await measure('searchHybridUserFilter', (query) => memory.search(query, { limit: 10, scope: { userId: 'user-3' } }));
await measure('searchVector', (query) => memory.search(query, { limit: 10, mode: 'vector' }));
await measure('searchLexical', (query) => memory.search(query, { limit: 10, mode: 'lexical' }));
await measure('searchHybridMetadataFilter', (query) => memory.search(query, { limit: 10, where: { priority: { gte: 3 } } }));
const ids = (await memory.list({ limit: 200 })).items.map((item) => item.id);
{
  const samples = [];
  for (const id of ids) {
    const begin = performance.now();
    await memory.get(id);
    samples.push(performance.now() - begin);
  }
  results.get = { p50: round(percentile(samples, 50), 4) };
}
await memory.close();
results.fileBytes = ['', '-wal'].reduce((total, suffix) => {
  try {
    return total + statSync(path + suffix).size;
  } catch {
    return total;
  }
}, 0);
results.rssBytes = process.memoryUsage().rss;
rmSync(directory, { recursive: true, force: true });

mkdirSync(values.out, { recursive: true });
const file = join(values.out, `${results.date.slice(0, 10)}-quick.json`);
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);

console.log(`\n| figure (${size} memories, ${dimensions}-d hash embedder) | value |`);
console.log('|---|---|');
console.log(`| batched add (addMany × 1,000) | ${results.batchedAddPerSecond.toLocaleString('en')} memories/s |`);
console.log(`| single add | ${results.singleAddPerSecond.toLocaleString('en')} memories/s |`);
for (const name of ['searchHybrid', 'searchHybridUserFilter', 'searchVector', 'searchLexical', 'searchHybridMetadataFilter']) {
  console.log(`| ${name} p50 / p95 / p99 | ${results[name].p50} / ${results[name].p95} / ${results[name].p99} ms |`);
}
console.log(`| get p50 | ${results.get.p50} ms |`);
console.log(`| file size | ${(results.fileBytes / 1e6).toFixed(1)} MB |`);
console.log(`\nresults: ${file}`);
