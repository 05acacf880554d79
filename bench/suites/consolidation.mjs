// Consolidation: a dry run of relevance + forgetting + compression over a SQLite file holding a
// year of memories, at two sizes, to show the pass is near-linear (time and similarity
// comparisons per memory stay flat) and that memory use does not grow with the store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashEmbedder, Memory, memoryArchive, sqliteStore } from 'engram';
import { memoryAt, random } from '../lib/corpus.mjs';
import { formatCount } from '../lib/stats.mjs';

const YEAR = 365 * 86_400_000;
const START = Date.UTC(2025, 0, 1);
const NOW = new Date(START + YEAR);
const TEMPLATES = 200;

/** Memory `index` of `total`, spread evenly over a year; one in 20 repeats a recurring template with a small variation. */
function yearMemoryAt(index, total) {
  const base = memoryAt(index);
  const next = random(index + 1);
  const createdAt = new Date(START + Math.floor((index / total) * YEAR));
  const importance = [0.1, 0.2, 0.3, 0.5, 0.8][Math.floor(next() * 5)];
  if (index % 20 === 0) {
    const template = Math.floor(next() * TEMPLATES);
    return {
      content: `Recurring failure ${template}: the nightly job on runner ${template % 17} timed out fetching dependencies (attempt ${index})`,
      type: 'error',
      tags: ['ci', `job-${template}`],
      scope: base.scope,
      importance,
      createdAt,
    };
  }
  return { ...base, importance, createdAt };
}

async function build(path, total, progress) {
  const memory = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder(), logger: false });
  for (let offset = 0; offset < total; offset += 1000) {
    const batch = Array.from({ length: Math.min(1000, total - offset) }, (_, index) => yearMemoryAt(offset + index, total));
    await memory.addMany(batch);
    if ((offset + 1000) % 20_000 === 0) progress(`  built ${formatCount(offset + 1000)} / ${formatCount(total)}`);
  }
  await memory.close();
}

/** Times one dry run; with `--expose-gc`, a second run collects garbage after every page and records the largest live heap. */
async function dryRun(path) {
  const timed = await dryRunOnce(path, false);
  if (typeof globalThis.gc !== 'function') return { ...timed, heapGrowthMb: null };
  const sampled = await dryRunOnce(path, true);
  return { ...timed, heapGrowthMb: sampled.heapGrowthMb };
}

async function dryRunOnce(path, collect) {
  const memory = new Memory({
    store: sqliteStore({ path }),
    embedder: hashEmbedder(),
    logger: false,
    consolidation: { archive: memoryArchive() },
  });
  await memory.ready();
  await memory.count();
  globalThis.gc?.();
  const baseline = process.memoryUsage().heapUsed;
  let peak = baseline;
  const started = performance.now();
  const report = await memory.consolidate({
    now: NOW,
    onProgress: () => {
      if (collect) globalThis.gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    },
  });
  const seconds = (performance.now() - started) / 1000;
  await memory.close();
  return { seconds, heapGrowthMb: (peak - baseline) / 1e6, report };
}

export async function run({ full = false, progress = () => {} } = {}) {
  const sizes = full ? [10_000, 100_000] : [10_000, 30_000];
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-consolidation-'));
  const rows = [];
  try {
    for (const size of sizes) {
      const path = join(directory, `year-${size}.db`);
      await build(path, size, progress);
      progress(`${formatCount(size)} memories built; dry run`);
      const { seconds, heapGrowthMb, report } = await dryRun(path);
      rows.push({
        memories: size,
        seconds: Number(seconds.toFixed(2)),
        microsecondsPerMemory: Number(((seconds * 1e6) / size).toFixed(1)),
        comparisons: report.compression.comparisons,
        comparisonsPerMemory: Number((report.compression.comparisons / size).toFixed(2)),
        heapGrowthMb: heapGrowthMb === null ? null : Number(heapGrowthMb.toFixed(1)),
        forgotten: report.forgetting.forgotten.length,
        clusters: report.compression.clusters.length,
        clusteredMemories: report.compression.clusters.reduce((total, cluster) => total + cluster.ids.length, 0),
      });
      progress(`${formatCount(size)}: ${seconds.toFixed(1)} s, ${formatCount(report.compression.comparisons)} comparisons`);
      rmSync(path, { force: true });
      rmSync(`${path}-wal`, { force: true });
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  const [small, large] = rows;
  const sizeRatio = large.memories / small.memories;
  const timeRatio = large.seconds / small.seconds;
  const comparisonRatio = large.comparisons / small.comparisons;
  const markdown = [
    '### consolidation',
    '',
    `Dry run (relevance + forgetting + compression, the default steps) over a SQLite file holding a year of memories (1 in 20 a recurring failure), hash embedder. Size ×${sizeRatio}: time ×${timeRatio.toFixed(2)}, similarity comparisons ×${comparisonRatio.toFixed(2)} (all pairs would be ×${(sizeRatio ** 2).toFixed(0)}).`,
    '',
    '| memories | dry run (s) | µs / memory | comparisons | per memory | live heap growth (MB) | forgotten | clusters (memories) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${formatCount(row.memories)} | ${row.seconds} | ${row.microsecondsPerMemory} | ${formatCount(row.comparisons)} | ${row.comparisonsPerMemory} | ${row.heapGrowthMb ?? 'run with node --expose-gc'} | ${formatCount(row.forgotten)} | ${formatCount(row.clusters)} (${formatCount(row.clusteredMemories)}) |`,
    ),
    '',
  ].join('\n');
  const targets = full
    ? [
        {
          target: 'consolidation dry run, 100k memories, SQLite',
          goal: '≤ 60 s',
          value: large.seconds,
          unit: 's',
          met: large.seconds <= 60,
        },
      ]
    : [];
  return { suite: 'consolidation', results: { rows, sizeRatio, timeRatio, comparisonRatio }, markdown, targets };
}
