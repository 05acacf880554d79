// npm run bench:graph — graph traversal latency on a SQLite file: neighbours (depth 2) and
// shortest path (depth 5) on a random graph. Options: --nodes N (20000), --edges N (100000),
// --queries N (200), --out DIR.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Memory, hashEmbedder, sqliteStore } from 'engram';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '20000' },
    edges: { type: 'string', default: '100000' },
    queries: { type: 'string', default: '200' },
    out: { type: 'string', default: new URL('./results/', import.meta.url).pathname },
  },
});
const nodeCount = Number(values.nodes);
const edgeCount = Number(values.edges);
const queryCount = Number(values.queries);

let seed = 7;
const random = () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 4294967296;
};
const pick = (length) => Math.floor(random() * length);
const percentile = (samples, p) => [...samples].sort((a, b) => a - b)[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))];
const round = (value) => Number(value.toFixed(3));

const directory = mkdtempSync(join(tmpdir(), 'engram-graph-bench-'));
const path = join(directory, 'graph.db');
const store = sqliteStore({ path });
const memory = new Memory({ store, embedder: hashEmbedder({ dimensions: 64 }), logger: false });
await memory.ready();

process.stderr.write(`engram graph bench: ${nodeCount} memories, ${edgeCount} edges, SQLite at ${path}\n`);
const ids = [];
for (let offset = 0; offset < nodeCount; offset += 1000) {
  const batch = Array.from({ length: Math.min(1000, nodeCount - offset) }, (_, index) => ({ content: `graph node ${offset + index}` }));
  for (const result of await memory.addMany(batch)) ids.push(result.memory.id);
  process.stderr.write(`\r  memories: ${ids.length}/${nodeCount}`);
}
process.stderr.write('\n');

// Edges are written straight through the store (the setup is not what is measured); the
// adjacency list lets us pick (from, to) pairs whose shortest path is exactly 5 hops.
const types = ['causes', 'fixes', 'supports', 'follows', 'related'];
const adjacency = Array.from({ length: nodeCount }, () => []);
const seen = new Set();
const now = new Date();
let written = 0;
const setupStart = performance.now();
while (written < edgeCount) {
  const source = pick(nodeCount);
  const target = pick(nodeCount);
  const type = types[pick(types.length)];
  if (source === target) continue;
  const [a, b] = type === 'related' && ids[target] < ids[source] ? [target, source] : [source, target];
  const key = `${a}|${b}|${type}`;
  if (seen.has(key)) continue;
  seen.add(key);
  await store.upsertRelation({ sourceId: ids[a], targetId: ids[b], type, weight: 1, confidence: 1, metadata: {}, inferred: false, createdAt: now, updatedAt: now });
  adjacency[a].push(b);
  adjacency[b].push(a);
  written += 1;
  if (written % 10000 === 0) process.stderr.write(`\r  edges: ${written}/${edgeCount}`);
}
process.stderr.write(`\n  setup: ${((performance.now() - setupStart) / 1000).toFixed(1)} s for edges\n`);

function distancesFrom(start) {
  const distance = new Map([[start, 0]]);
  let frontier = [start];
  for (let depth = 1; depth <= 5 && frontier.length > 0; depth++) {
    const next = [];
    for (const node of frontier) for (const neighbour of adjacency[node]) if (!distance.has(neighbour)) (distance.set(neighbour, depth), next.push(neighbour));
    frontier = next;
  }
  return distance;
}
// Sparse corners of a random graph: walk from low-degree nodes to find pairs exactly 5 hops apart.
const pairs = [];
for (let attempts = 0; pairs.length < queryCount && attempts < queryCount * 50; attempts++) {
  const start = pick(nodeCount);
  const far = [...distancesFrom(start)].filter(([, distance]) => distance === 5);
  if (far.length > 0) pairs.push([ids[start], ids[far[pick(far.length)][0]]]);
}
const starts = Array.from({ length: queryCount }, () => ids[pick(nodeCount)]);

const results = { suite: 'graph', date: new Date().toISOString(), node: process.version, nodes: nodeCount, edges: edgeCount, queries: queryCount };
async function measure(name, inputs, run) {
  for (const input of inputs.slice(0, 20)) await run(input);
  const samples = [];
  let sizes = 0;
  for (const input of inputs) {
    const begin = performance.now();
    const output = await run(input);
    samples.push(performance.now() - begin);
    sizes += Array.isArray(output) ? output.length : 0;
  }
  results[name] = { p50: round(percentile(samples, 50)), p95: round(percentile(samples, 95)), meanResultSize: round(sizes / inputs.length), runs: inputs.length };
  process.stderr.write(`  ${name}: p50 ${results[name].p50} ms (mean result size ${results[name].meanResultSize})\n`);
}
await measure('neighborsDepth1', starts, (id) => memory.neighbors(id, { depth: 1 }));
await measure('neighborsDepth2', starts, (id) => memory.neighbors(id, { depth: 2 }));
await measure('neighborsDepth2Out', starts, (id) => memory.neighbors(id, { depth: 2, direction: 'out' }));
await measure('pathDepth5', pairs, ([from, to]) => memory.path(from, to, { direction: 'both', maxDepth: 5 }));
await memory.close();
rmSync(directory, { recursive: true, force: true });

mkdirSync(values.out, { recursive: true });
const file = join(values.out, `${results.date.slice(0, 10)}-graph.json`);
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\n| figure (${nodeCount} memories, ${edgeCount} edges, SQLite) | p50 | p95 |`);
console.log('|---|---|---|');
for (const name of ['neighborsDepth1', 'neighborsDepth2', 'neighborsDepth2Out', 'pathDepth5']) {
  console.log(`| ${name} (mean ${results[name].meanResultSize} results) | ${results[name].p50} ms | ${results[name].p95} ms |`);
}
console.log(`\nresults: ${file}`);
