// Fleet: several Node processes sharing one PostgreSQL 15 server (started by the suite, fsync on),
// each a closed loop of 80 % search / 20 % add (bench/lib/fleet-worker.mjs). The same corpus and
// duration for 1, 2 and 8 processes; throughput (operations/s over all processes), its ratio to one
// process, errors, and search / add latency. Quick: 20k memories, 20 s a round; --full: 100k, 60 s.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { postgresStore } from '@engram/adapters/postgres';
import { hashEmbedder, Memory } from 'engram';
import pg from 'pg';
import { memories } from '../lib/corpus.mjs';
import { startPostgres } from '../lib/postgres-server.mjs';
import { formatCount, formatMs, percentile, round } from '../lib/stats.mjs';
import { lineChart } from '../lib/svg.mjs';

const workerScript = fileURLToPath(new URL('../lib/fleet-worker.mjs', import.meta.url));
const fleets = [1, 2, 8];

export async function run({ full = false, progress = () => {} } = {}) {
  const size = full ? 100_000 : 20_000;
  const seconds = full ? 60 : 20;
  const server = await startPostgres();
  const results = { server: { version: server.version, settings: server.settings }, size, seconds, rounds: [] };
  try {
    const url = await server.createDatabase('fleet');
    const memory = new Memory({
      store: postgresStore({ connectionString: url, vectors: false }),
      embedder: hashEmbedder({ dimensions: 384 }),
      logger: false,
    });
    for (let offset = 0; offset < size; offset += 1000) await memory.addMany(memories(offset, Math.min(offset + 1000, size)));
    await memory.close();
    // What autovacuum does within a minute of a bulk load; lexical search reads its statistics.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query('VACUUM ANALYZE engram.memories');
    await admin.end();
    progress(`${formatCount(size)} memories loaded`);
    for (const processes of fleets) {
      const measured = await fleet(url, processes, seconds);
      results.rounds.push(measured);
      progress(
        `${processes} process${processes > 1 ? 'es' : ''}: ${measured.operationsPerSecond} ops/s, ${measured.errors} errors, search p50 ${measured.search.p50} ms`,
      );
    }
    const one = results.rounds[0].operationsPerSecond;
    for (const entry of results.rounds) entry.ratio = round(entry.operationsPerSecond / one, 2);
  } finally {
    server.stop();
  }
  return {
    suite: 'fleet',
    results,
    markdown: markdown(results),
    targets: targets(results),
    charts: [{ file: 'fleet-throughput.svg', svg: chart(results) }],
  };
}

async function fleet(url, processes, seconds) {
  const startAt = Date.now() + 4000 + processes * 1500;
  const outputs = await Promise.all(
    Array.from({ length: processes }, (_, worker) => {
      const child = spawn(process.execPath, [workerScript, url, String(worker), String(startAt), String(seconds)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      child.stdout.on('data', (chunk) => {
        output += chunk;
      });
      return new Promise((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', (code) => {
          const line = output.trim().split('\n').at(-1) ?? '';
          if (code !== 0 || !line.startsWith('{')) reject(new Error(`fleet worker ${worker} exited with ${code}: ${output.slice(-500)}`));
          else resolve(JSON.parse(line));
        });
      });
    }),
  );
  const searchMs = outputs.flatMap((output) => output.searchMs);
  const addMs = outputs.flatMap((output) => output.addMs);
  const operations = outputs.reduce((sum, output) => sum + output.searches + output.adds, 0);
  const stats = (samples) => ({ p50: round(percentile(samples, 50)), p99: round(percentile(samples, 99)), runs: samples.length });
  return {
    processes,
    operationsPerSecond: Math.round(operations / seconds),
    searches: outputs.reduce((sum, output) => sum + output.searches, 0),
    adds: outputs.reduce((sum, output) => sum + output.adds, 0),
    errors: outputs.reduce((sum, output) => sum + output.errors, 0),
    firstErrors: outputs.flatMap((output) => output.firstErrors).slice(0, 3),
    search: stats(searchMs),
    add: stats(addMs),
  };
}

function markdown(results) {
  const lines = [
    '### Fleet',
    '',
    `PostgreSQL ${results.server.version} started by the suite (fsync on), ${formatCount(results.size)} memories preloaded; each process a closed loop of 80 % \`memory.search\` (half with a user scope) and 20 % \`memory.add\`, ${results.seconds} s a round.`,
    '',
    '| processes | operations/s | × one process | searches | adds | errors | search p50 / p99 ms | add p50 / p99 ms |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const entry of results.rounds) {
    lines.push(
      `| ${entry.processes} | ${formatCount(entry.operationsPerSecond)} | ${entry.ratio} | ${formatCount(entry.searches)} | ${formatCount(entry.adds)} | ${entry.errors} | ${formatMs(entry.search.p50)} / ${formatMs(entry.search.p99)} | ${formatMs(entry.add.p50)} / ${formatMs(entry.add.p99)} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

function targets(results) {
  const eight = results.rounds.find((entry) => entry.processes === 8);
  const errors = results.rounds.reduce((sum, entry) => sum + entry.errors, 0);
  return [
    { target: 'fleet: 8 processes vs 1 (throughput)', goal: '≥ 5×', value: eight?.ratio ?? 0, unit: '×', met: (eight?.ratio ?? 0) >= 5 },
    { target: 'fleet: errors', goal: '0', value: errors, unit: '', met: errors === 0 },
  ];
}

/** Operations/s over all processes against the process count, with perfect scaling and the 5× target. */
export function chart(results) {
  const one = results.rounds[0].operationsPerSecond;
  const counts = results.rounds.map((entry) => entry.processes);
  return lineChart({
    title: `Fleet on one Postgres: 80 % search / 20 % add, ${formatCount(results.size)} memories`,
    xLabel: 'processes',
    yLabel: 'operations/s, all processes',
    series: [
      { name: 'measured', points: results.rounds.map((entry) => [entry.processes, entry.operationsPerSecond]) },
      { name: 'perfect scaling', points: counts.map((count) => [count, one * count]), color: '#9ca3af', dashed: true },
      { name: 'target at 8: 5× one', points: [[8, one * 5]], color: '#111827' },
    ],
  });
}
