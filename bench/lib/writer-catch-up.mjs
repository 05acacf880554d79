// A writer's catch-up (issue 18, branch followstep): what single `add` calls wait for while the
// connection keeps its indexes following its writes. Copies <seed> (and its snapshots) to a
// temporary file, warms both indexes with 20 searches, then times <adds> single adds with no
// search in between (as a REST worker taking writes, or an agent that mostly writes), and prints
// JSON: CPU and wall time of the adds, latency percentiles, the slowest add before and from the
// 10,000th (where the connection starts following), the adds that ran a catch-up step (`steps`,
// their median and largest CPU), and the first search after.
//   node bench/lib/writer-catch-up.mjs <seed.db> [adds = 12000] [dimensions]
// A seed: `node bench/lib/bulk-load.mjs <file> 10000` (or 1000000), which leaves snapshots.
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [seed, addsText, dimensionsText] = process.argv.slice(2);
if (!seed || !existsSync(seed)) throw new Error('usage: node bench/lib/writer-catch-up.mjs <seed.db> [adds] [dimensions]');
const { hashEmbedder, Memory, sqliteStore } = await import('engram');
const { memoryAt, queries } = await import('./corpus.mjs');
const path = join(tmpdir(), `engram-writer-catch-up-${process.pid}.db`);
const suffixes = ['', '-lexical.snapshot', '-vectors.snapshot'];
for (const suffix of suffixes) if (existsSync(`${seed}${suffix}`)) copyFileSync(`${seed}${suffix}`, `${path}${suffix}`);
let stepped = false;
// `onFollowStep` is not a public option (a test hook); an older build ignores it (steps: 0).
const store = sqliteStore({
  path,
  onFollowStep: () => {
    stepped = true;
  },
});
const dimensions = dimensionsText ? { dimensions: Number(dimensionsText) } : { dimensions: 384 };
const memory = new Memory({ store, embedder: hashEmbedder(dimensions), logger: false });
for (const query of queries(20, 11)) await memory.search(query, { limit: 10 });

const adds = Number(addsText ?? 12_000);
const wall = new Float64Array(adds);
const cpu = new Float64Array(adds);
const steps = [];
const cpuMs = (usage) => (usage.user + usage.system) / 1000;
const beganCpu = process.cpuUsage();
const began = performance.now();
for (let index = 0; index < adds; index++) {
  const { content } = memoryAt(2_000_000 + index);
  const startedCpu = process.cpuUsage();
  const started = performance.now();
  await memory.add({ content });
  wall[index] = performance.now() - started;
  cpu[index] = cpuMs(process.cpuUsage(startedCpu));
  if (stepped) steps.push(index);
  stepped = false;
}
const addsMs = performance.now() - began;
const addsCpuMs = cpuMs(process.cpuUsage(beganCpu));
const sorted = Float64Array.from(wall).sort();
const at = (fraction) => +(sorted[Math.min(adds - 1, Math.floor(adds * fraction))] ?? 0).toFixed(2);
const median = (values) => +([...values].sort((a, b) => a - b)[values.length >> 1] ?? 0).toFixed(1);
const largest = (values) => +Math.max(0, ...values).toFixed(1);
const searchStarted = performance.now();
await memory.search('kami lofen', { limit: 10 });
const searchAfterMs = performance.now() - searchStarted;
await memory.close();
for (const suffix of [...suffixes, '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
process.stdout.write(
  `${JSON.stringify({
    adds,
    addsMs: Math.round(addsMs),
    addsCpuMs: Math.round(addsCpuMs),
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    max: largest(wall),
    maxBefore10000: largest(wall.subarray(0, 9_999)),
    maxFrom10000: largest(wall.subarray(9_999)),
    cpuMaxFrom10000: largest(cpu.subarray(9_999)),
    steps: steps.length,
    stepCpuMedian: median(steps.map((index) => cpu[index])),
    stepCpuMax: largest(steps.map((index) => cpu[index])),
    stepWallMedian: median(steps.map((index) => wall[index])),
    searchAfterMs: +searchAfterMs.toFixed(1),
  })}\n`,
);
