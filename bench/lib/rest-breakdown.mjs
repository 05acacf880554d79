// Where a REST search's time goes, measured inside one server process: the time `memory.search`
// takes while the server answers HTTP load, against the same searches run back to back in a loop
// in the same process (same code, same JIT state, same heap), alternating; with the server's CPU a
// request split into user and kernel time, and the scavenges per 1,000 requests or searches (the
// garbage each allocates). Not a suite: a tool for the REST section of bench/README.md.
//   npm run build && node bench/lib/rest-breakdown.mjs [rounds = 6] [load seconds = 2] [semi-space MB = 32]
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { serve } from '@engram/rest';
import { hashEmbedder, Memory, sqliteStore } from 'engram';
import { memories, queries } from './corpus.mjs';

const CONNECTIONS = 16;
const searchQueries = queries(500, 11);

if (process.argv[2] === '--server') await runServer(process.argv[3]);
else await main(Number(process.argv[2] ?? 6), Number(process.argv[3] ?? 2), Number(process.argv[4] ?? 32));

/** The server process: times its own searches; on 'report' runs the loop and answers both. */
async function runServer(path) {
  const memory = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder(), logger: false });
  const search = memory.search.bind(memory);
  const served = { count: 0, ms: 0 };
  memory.search = async (query, options) => {
    const begin = performance.now();
    try {
      return await search(query, options);
    } finally {
      served.ms += performance.now() - begin;
      served.count += 1;
    }
  };
  let scavenges = 0;
  new PerformanceObserver((list) => {
    scavenges += list.getEntries().filter((entry) => entry.detail?.kind === 1).length;
  }).observe({ entryTypes: ['gc'] });
  const handle = await serve({ memory, port: 0, rateLimit: false, log: () => {} });
  process.send({ url: handle.url });
  process.on('message', async (message) => {
    if (message === 'reset') {
      Object.assign(served, { count: 0, ms: 0 });
      scavenges = 0;
      process.send('ready');
      return;
    }
    if (message === 'stop') {
      await handle.close();
      process.exit(0);
    }
    const underLoad = { searchMs: served.ms / served.count, scavengesPer1000: (scavenges * 1000) / served.count };
    scavenges = 0;
    // The same searches back to back for a second, yielding every 50 so the GC observer reports.
    let count = 0;
    let ms = 0;
    const begin = performance.now();
    while (performance.now() - begin < 1000) {
      const start = performance.now();
      await search(searchQueries[count % searchQueries.length], { limit: 10 });
      ms += performance.now() - start;
      count += 1;
      if (count % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setImmediate(resolve));
    process.send({ underLoad, loop: { searchMs: ms / count, scavengesPer1000: (scavenges * 1000) / count } });
  });
}

function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

function ask(child, message) {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send(message);
  });
}

async function main(rounds, seconds, semiSpaceMb = 32) {
  const directory = mkdtempSync(join(tmpdir(), 'engram-rest-breakdown-'));
  try {
    const path = join(directory, 'memory.db');
    const writer = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder(), logger: false });
    for (let offset = 0; offset < 10_000; offset += 1000) await writer.addMany(memories(offset, offset + 1000));
    await writer.close();
    // The server runs with the semi-space size engram-server gives itself (SERVER_NODE_FLAGS).
    const server = fork(fileURLToPath(import.meta.url), ['--server', path], { execArgv: [`--max-semi-space-size=${semiSpaceMb}`] });
    const { url } = await new Promise((resolve) => server.once('message', resolve));
    const generator = fork(fileURLToPath(new URL('./load-generator.mjs', import.meta.url)), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const run = (duration) => ask(generator, { type: 'run', url, connections: CONNECTIONS, route: 'search', duration });
    await ask(generator, { type: 'init', queries: searchQueries, ids: [] });
    await run(2); // warm-up
    const rows = [];
    for (let round = 0; round < rounds; round++) {
      await ask(server, 'reset');
      const before = cpuTicks(server.pid);
      const { result } = await run(seconds);
      const after = cpuTicks(server.pid);
      const report = await ask(server, 'report');
      const requests = result.requests.total;
      rows.push({
        searchInServerMs: report.underLoad.searchMs,
        searchInLoopMs: report.loop.searchMs,
        userCpuMsPerRequest: ((after.user - before.user) * 1000) / requests,
        kernelCpuMsPerRequest: ((after.system - before.system) * 1000) / requests,
        scavengesPer1000Requests: report.underLoad.scavengesPer1000,
        scavengesPer1000LoopSearches: report.loop.scavengesPer1000,
      });
    }
    generator.disconnect();
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.send('stop');
    await exited;
    const median = (key) => {
      const values = rows.map((row) => row[key]).sort((a, b) => a - b);
      return Number(values[Math.floor(values.length / 2)].toFixed(3));
    };
    const figures = Object.fromEntries(Object.keys(rows[0]).map((key) => [key, median(key)]));
    // The rest of a request's user CPU: HTTP parsing, routing, validation, JSON, and the garbage
    // collections its allocations cause (the search runs synchronously: its time is CPU time).
    figures.restOfRequestUserCpuMs = Number((figures.userCpuMsPerRequest - figures.searchInServerMs).toFixed(3));
    figures.searchSlowerInServerRounds = `${rows.filter((row) => row.searchInServerMs > row.searchInLoopMs).length} / ${rows.length}`;
    console.log(JSON.stringify(figures, null, 2));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
