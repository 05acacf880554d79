// Graph: traversal latency on a SQLite file with a random typed graph — neighbours at depth 1
// and 2 (both directions, and out only) and shortest paths of exactly 5 hops.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashEmbedder, Memory, sqliteStore } from 'engram';
import { random } from '../lib/corpus.mjs';
import { formatCount, formatMs, measure } from '../lib/stats.mjs';

const relationTypes = ['causes', 'fixes', 'supports', 'follows', 'related'];

export async function run({ full = false, progress = () => {} } = {}) {
  const nodeCount = full ? 100_000 : 10_000;
  const edgeCount = nodeCount * 5;
  const queryCount = 200;
  const next = random(7);
  const pick = (length) => Math.floor(next() * length);
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-graph-'));
  try {
    const store = sqliteStore({ path: join(directory, 'graph.db') });
    const memory = new Memory({ store, embedder: hashEmbedder({ dimensions: 64 }), logger: false });
    await memory.ready();
    const ids = [];
    for (let offset = 0; offset < nodeCount; offset += 1000) {
      const batch = Array.from({ length: Math.min(1000, nodeCount - offset) }, (_, index) => ({ content: `graph node ${offset + index}` }));
      for (const result of await memory.addMany(batch)) ids.push(result.memory.id);
    }
    progress(`${formatCount(nodeCount)} memories`);

    // Edges go straight through the store (setup, not what is measured); the adjacency list
    // finds (from, to) pairs exactly 5 hops apart.
    const adjacency = Array.from({ length: nodeCount }, () => []);
    const seen = new Set();
    const now = new Date();
    let written = 0;
    while (written < edgeCount) {
      const source = pick(nodeCount);
      const target = pick(nodeCount);
      const type = relationTypes[pick(relationTypes.length)];
      if (source === target) continue;
      const [a, b] = type === 'related' && ids[target] < ids[source] ? [target, source] : [source, target];
      const key = `${a}|${b}|${type}`;
      if (seen.has(key)) continue;
      seen.add(key);
      await store.upsertRelation({
        sourceId: ids[a],
        targetId: ids[b],
        type,
        weight: 1,
        confidence: 1,
        metadata: {},
        inferred: false,
        createdAt: now,
        updatedAt: now,
      });
      adjacency[a].push(b);
      adjacency[b].push(a);
      written += 1;
    }
    progress(`${formatCount(edgeCount)} edges`);

    const distancesFrom = (start) => {
      const distance = new Map([[start, 0]]);
      let frontier = [start];
      for (let depth = 1; depth <= 5 && frontier.length > 0; depth++) {
        const following = [];
        for (const node of frontier) {
          for (const neighbour of adjacency[node]) {
            if (!distance.has(neighbour)) {
              distance.set(neighbour, depth);
              following.push(neighbour);
            }
          }
        }
        frontier = following;
      }
      return distance;
    };
    const pairs = [];
    for (let attempts = 0; pairs.length < queryCount && attempts < queryCount * 50; attempts++) {
      const start = pick(nodeCount);
      const far = [...distancesFrom(start)].filter(([, distance]) => distance === 5);
      if (far.length > 0) pairs.push([ids[start], ids[far[pick(far.length)][0]]]);
    }
    const starts = Array.from({ length: queryCount }, () => ids[pick(nodeCount)]);
    const results = { nodes: nodeCount, edges: edgeCount, queries: queryCount };
    const sizes = {};
    const measured = async (name, inputs, call) => {
      let total = 0;
      results[name] = await measure(inputs, async (input) => {
        const output = await call(input);
        total += Array.isArray(output) ? output.length : 0;
      });
      sizes[name] = total / (inputs.length + Math.min(20, inputs.length));
    };
    await measured('neighborsDepth1', starts, (id) => memory.neighbors(id, { depth: 1 }));
    await measured('neighborsDepth2', starts, (id) => memory.neighbors(id, { depth: 2 }));
    await measured('neighborsDepth2Out', starts, (id) => memory.neighbors(id, { depth: 2, direction: 'out' }));
    await measured('pathDepth5', pairs, ([from, to]) => memory.path(from, to, { direction: 'both', maxDepth: 5 }));
    for (const name of Object.keys(sizes)) results[name].meanResultSize = Number(sizes[name].toFixed(1));
    await memory.close();
    progress(`neighbours depth 2 p50 ${results.neighborsDepth2.p50} ms, path p50 ${results.pathDepth5.p50} ms`);
    return { suite: 'graph', results, markdown: markdown(results) };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function markdown(results) {
  const labels = {
    neighborsDepth1: 'neighbours, depth 1, both directions',
    neighborsDepth2: 'neighbours, depth 2, both directions',
    neighborsDepth2Out: 'neighbours, depth 2, outgoing',
    pathDepth5: 'shortest path, 5 hops, both directions',
  };
  const lines = [
    '### Graph',
    '',
    `${formatCount(results.nodes)} memories, ${formatCount(results.edges)} random typed edges, SQLite; p50 / p95 in ms.`,
    '',
    '| query | p50 / p95 | mean result size |',
    '|---|---:|---:|',
  ];
  for (const [name, label] of Object.entries(labels)) {
    lines.push(`| ${label} | ${formatMs(results[name].p50)} / ${formatMs(results[name].p95)} | ${results[name].meanResultSize} |`);
  }
  lines.push('');
  return lines.join('\n');
}
