// REST: the HTTP server (engram-server, a separate process) under load over loopback, at 10k
// memories on SQLite: req/s and p50/p99 for search, add and get with 1 and 2 workers, against the
// in-process `memory.search` rate measured in the same run, with the server's CPU time per request
// (from /proc) — the figure that decides p99 at 16 connections on one worker, and that holds on a
// busy machine. Bounded: each load lasts a fixed time at 16 connections.
//
// The load generator is wrk when it is installed (bench/lib/load-generator-wrk.mjs: C, a third to
// a half of autocannon's CPU a request, and the servers share two cores with it), else autocannon
// in a process of its own (bench/lib/load-generator.mjs). Never this process: it holds an
// in-process Memory of the same 10k memories, and its garbage-collection pauses (up to ~10 ms)
// would otherwise hold responses the server had already sent. p50 and p99 are over every response
// of a contender (all its slices pooled); the worst and median slice p99 are shown too, and every
// slice's in the JSON.
//
// Each server gets its own copy of the 10k-memory file, so one server's writes never make another
// catch up mid-measurement; each is timed cold (its first request: opening the store, loading its
// indexes) and then warmed up before any slice is measured; the reads (search, get) are measured
// before the writes (add), which grow the corpus.
import { fork, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngramApp } from '@engram/rest';
import { hashEmbedder, Memory, sqliteStore } from 'engram';
import { memories, queries } from '../lib/corpus.mjs';
import { startWrkGenerator, wrkVersion } from '../lib/load-generator-wrk.mjs';
import { formatCount, formatMs, round } from '../lib/stats.mjs';

const BIN = fileURLToPath(new URL('../../packages/rest/bin/engram-server.js', import.meta.url));
const LOAD_GENERATOR = fileURLToPath(new URL('../lib/load-generator.mjs', import.meta.url));
const SEARCH_LOOP = fileURLToPath(new URL('../lib/search-loop.mjs', import.meta.url));
const CONNECTIONS = 16;

function startServer(path, workers, extra = []) {
  const child = spawn(process.execPath, [BIN, '--path', path, '--port', '0', '--workers', String(workers), '--rate-limit', '0', ...extra], {
    env: { ...process.env, ENGRAM_API_KEYS: '', ENGRAM_KEYS_FILE: '', ENGRAM_PG_URL: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      output += chunk;
      const match = /serving .* at (http:\/\/[\d.:]+)/.exec(output);
      if (match) resolve({ url: match[1], pid: child.pid, stop: () => stop(child) });
    });
    child.on('exit', (code) => reject(new Error(`engram-server exited (${code}): ${output}`)));
  });
}

function stop(child) {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Starts the load generator process; `run()` loads a server's route for a time (or a number of requests). */
async function startAutocannonGenerator(queries, ids) {
  const child = fork(LOAD_GENERATOR, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let pending = null;
  child.on('message', (message) => {
    const settle = pending;
    pending = null;
    if (message.type === 'error') settle?.reject(new Error(`load generator: ${message.message}`));
    else settle?.resolve(message);
  });
  child.on('exit', (code) => pending?.reject(new Error(`the load generator exited (${code})`)));
  const ask = (message) =>
    new Promise((resolve, reject) => {
      pending = { resolve, reject };
      child.send(message);
    });
  await ask({ type: 'init', queries, ids });
  return {
    name: 'autocannon',
    run: (url, route, { duration, amount } = {}) => ask({ type: 'run', url, connections: CONNECTIONS, route, duration, amount }),
    stop: () => child.disconnect(),
  };
}

/**
 * The load generator: wrk when it is installed (C on epoll, 0.02–0.09 ms of CPU a request: on two
 * cores shared with the servers, autocannon's 0.08–0.14 ms is CPU the 2-worker figure loses), else
 * autocannon; `ENGRAM_BENCH_LOAD_GENERATOR=autocannon|wrk` chooses.
 */
async function startLoadGenerator(queries, ids) {
  const wanted = process.env.ENGRAM_BENCH_LOAD_GENERATOR;
  if (wanted !== undefined && wanted !== '' && wanted !== 'wrk' && wanted !== 'autocannon') {
    throw new Error(`ENGRAM_BENCH_LOAD_GENERATOR must be "wrk" or "autocannon" (got "${wanted}")`);
  }
  const hasWrk = wrkVersion() !== null;
  if (wanted === 'wrk' && !hasWrk)
    throw new Error('ENGRAM_BENCH_LOAD_GENERATOR=wrk, but wrk is not on the PATH: install it (apt-get install wrk)');
  if (wanted === 'autocannon' || !hasWrk) return startAutocannonGenerator(queries, ids);
  return startWrkGenerator(queries, ids, { connections: CONNECTIONS });
}

const clockTicks = 100;

/** A process and its children's live processes (the workers), by pid; throws off Linux. */
function withWorkers(pid) {
  const childrenFile = `/proc/${pid}/task/${pid}/children`;
  const children = existsSync(childrenFile) ? readFileSync(childrenFile, 'utf8').trim().split(/\s+/).filter(Boolean) : [];
  return [pid, ...children];
}

/**
 * CPU seconds of a server (its process and workers) from /proc, null off Linux: `total` (user +
 * system) and `system` alone — the kernel's share: loopback HTTP's socket reads and writes, and
 * SQLite's file locks.
 */
function cpuSeconds(pid) {
  try {
    let user = 0;
    let system = 0;
    for (const id of withWorkers(pid)) {
      const fields = readFileSync(`/proc/${id}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      user += Number(fields[11]) / clockTicks;
      system += Number(fields[12]) / clockTicks;
    }
    return { total: user + system, system };
  } catch {
    return null;
  }
}

/**
 * Milliseconds the main threads of a process and its children (the workers; with one worker, the
 * server its launcher started) spent ready to run but waiting for a CPU (`/proc/<pid>/schedstat`),
 * null off Linux. Whatever the server does, a request waits this out: on two cores shared with
 * the load generator (and other work), it is the first suspect for a tail.
 */
function cpuWaitMs(pid) {
  try {
    return withWorkers(pid).reduce((sum, id) => sum + Number(readFileSync(`/proc/${id}/schedstat`, 'utf8').split(' ')[1]) / 1e6, 0);
  } catch {
    return null;
  }
}

/**
 * One measured slice: autocannon's result and every response's latency, the server's CPU time
 * per request, and the load generator's own CPU (on the same two cores as the server) with its
 * longest garbage-collection pause — a pause there holds responses already sent, so it shows in
 * the measured latency although the server did not cause it.
 */
async function measuredLoad(generator, server, duration, route) {
  const before = cpuSeconds(server.pid);
  const waitBefore = cpuWaitMs(server.pid);
  const { result, latencies, cpuMs, gc } = await generator.run(server.url, route, { duration });
  const after = cpuSeconds(server.pid);
  const waitAfter = cpuWaitMs(server.pid);
  const requests = Math.max(1, result.requests.total);
  result.latencies = latencies;
  result.serverCpuWaitMsPerSecond = waitBefore === null || waitAfter === null ? null : (waitAfter - waitBefore) / result.duration;
  result.serverCpuMs = before === null || after === null ? null : ((after.total - before.total) * 1000) / requests;
  result.serverSystemCpuMs = before === null || after === null ? null : ((after.system - before.system) * 1000) / requests;
  result.loadGeneratorCpuMs = cpuMs / requests;
  result.loadGeneratorGc = gc;
  return result;
}

/** The first request to a fresh server (the store opens, its indexes load), in ms. */
async function firstRequest(url, body) {
  const begin = performance.now();
  const response = await fetch(`${url}/api/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await response.text();
  return round(performance.now() - begin, 1);
}

function copyStore(from, to) {
  for (const suffix of ['', '-wal', '-lexical.snapshot', '-vectors.snapshot']) {
    if (existsSync(`${from}${suffix}`)) copyFileSync(`${from}${suffix}`, `${to}${suffix}`);
  }
}

const medianOf = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/** The q-quantile of latencies (nearest rank), in ms to 0.1. */
function quantile(values, q) {
  const sorted = Float64Array.from(values).sort();
  return round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))], 1);
}

/**
 * Sums interleaved slices of one contender: req/s over all of them, p50 and p99 over every
 * response of every slice (the target's figure), the worst and the median of the slices' own p99,
 * and the server's median CPU time per request.
 */
function combine(slices) {
  const requests = slices.reduce((sum, slice) => sum + slice.requests.total, 0);
  const seconds = slices.reduce((sum, slice) => sum + slice.duration, 0);
  const cpu = slices.map((slice) => slice.serverCpuMs).filter((value) => typeof value === 'number');
  const system = slices.map((slice) => slice.serverSystemCpuMs).filter((value) => typeof value === 'number');
  const waits = slices.map((slice) => slice.serverCpuWaitMsPerSecond).filter((value) => typeof value === 'number');
  const latencies = slices.flatMap((slice) => slice.latencies);
  return {
    requestsPerSecond: round(requests / seconds, 1),
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    worstSliceP99: Math.max(...slices.map((slice) => slice.latency.p99)),
    medianSliceP99: medianOf(slices.map((slice) => slice.latency.p99)),
    // In the order measured (round by round): where a contender's worst slice fell.
    sliceP99s: slices.map((slice) => round(slice.latency.p99, 1)),
    sliceRequestsPerSecond: slices.map((slice) => round(slice.requests.total / slice.duration, 0)),
    serverCpuMsPerRequest: cpu.length > 0 ? round(medianOf(cpu), 3) : null,
    serverSystemCpuMsPerRequest: system.length > 0 ? round(medianOf(system), 3) : null,
    serverCpuWaitMsPerSecond: waits.length > 0 ? round(medianOf(waits), 0) : null,
    loadGeneratorCpuMsPerRequest: round(medianOf(slices.map((slice) => slice.loadGeneratorCpuMs)), 3),
    // wrk has no garbage collector (null); autocannon's longest pause in any slice.
    loadGeneratorGcLongestMs: slices.some((slice) => slice.loadGeneratorGc === null)
      ? null
      : round(Math.max(...slices.map((slice) => slice.loadGeneratorGc.longestMs)), 1),
    requests,
    errors: slices.reduce((sum, slice) => sum + slice.errors + slice.timeouts + slice.non2xx, 0),
  };
}

/** In-process searches in `paths.length` processes at once (one file copy each): their summed rate and CPU a search. */
async function searchLoops(paths, seconds) {
  const runs = await Promise.all(
    paths.map(
      (path, index) =>
        new Promise((resolve, reject) => {
          const child = fork(SEARCH_LOOP, [path, String(seconds), String(11 + index)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
          child.once('message', resolve);
          child.once('exit', (code) => reject(new Error(`search loop exited (${code}) before reporting`)));
        }),
    ),
  );
  return {
    perSecond: runs.reduce((sum, run) => sum + run.done / run.seconds, 0),
    cpuMs: (1000 * runs.reduce((sum, run) => sum + run.cpuSeconds, 0)) / runs.reduce((sum, run) => sum + run.done, 0),
  };
}

async function timed(seconds, call) {
  let done = 0;
  const begin = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - begin < seconds * 1000) {
    await call(done);
    done += 1;
  }
  const used = process.cpuUsage(cpu);
  return { done, seconds: (performance.now() - begin) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

export async function run({ full = false, progress = () => {} } = {}) {
  const size = 10_000;
  // Contenders run in alternating slices (a, b, c, a, b, c, …) so that the load other work puts on
  // the machine falls on all of them alike.
  const rounds = full ? 8 : 4;
  const slice = 2;
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-rest-'));
  const servers = [];
  try {
    // One 10k-memory file, closed (so its index snapshots are written), copied for every contender.
    const seed = join(directory, 'seed.db');
    {
      const writer = new Memory({ store: sqliteStore({ path: seed }), embedder: hashEmbedder(), logger: false });
      for (let offset = 0; offset < size; offset += 1000) await writer.addMany(memories(offset, offset + 1000));
      await writer.close();
    }
    const [path, ...copies] = ['in-process', 'one', 'two', 'eager', 'loop-a', 'loop-b'].map((name) => {
      const copy = join(directory, `${name}.db`);
      copyStore(seed, copy);
      return copy;
    });
    const memory = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder(), logger: false });
    const ids = (await memory.list({ limit: 1000 })).items.map((item) => item.id);
    const searchQueries = queries(500, 11);
    progress(`${formatCount(size)} memories`);
    const app = createEngramApp({ memory, log: () => {} });
    const one = await startServer(copies[0], 1);
    servers.push(one);
    const two = await startServer(copies[1], 2);
    servers.push(two);
    // The same 2 workers writing each search's access statistics right after it (before batching):
    // search slices alternate with the others, so the comparison holds on a busy machine.
    const eager = await startServer(copies[2], 2, ['--access-flush-ms', '0']);
    servers.push(eager);

    const generator = await startLoadGenerator(searchQueries, ids);
    servers.push(generator);
    // Cold: the first request to each fresh server opens the store and loads its indexes (reported
    // on its own, not hidden in a slice). Then a warm-up: 2 s of searches reach every worker, a
    // second of gets, and 200 adds (the write path's first use), none of them measured; the adds
    // get 4 s more right before their slices (below).
    const cold = {};
    for (const [name, server] of Object.entries({ 1: one, 2: two })) {
      cold[name] = await firstRequest(server.url, JSON.stringify({ query: searchQueries[0], limit: 10 }));
    }
    for (const server of [one, two, eager]) {
      await generator.run(server.url, 'search', { duration: 2 });
      await generator.run(server.url, 'get', { duration: 1 });
      await generator.run(server.url, 'add', { amount: 200 });
    }
    // The search path's own warm-up, unmeasured, right before the read rounds: 4 s more per server.
    // Measured (per-slice p99 in the JSON): with only the warm-up above, each contender's first
    // measured search slice was its slowest — p99 37 / 28 / 62 ms (1 worker / 2 / access written
    // per search) against 21–31, 21–28 and 32–45 in the three slices after — slower per request,
    // with no long pause; a scratch harness (searches, then gets and adds, then search slices 4 s
    // apart) showed the same in 9 of 11 starts: the first search slice after other routes is slow.
    for (const server of [one, two, eager]) await generator.run(server.url, 'search', { duration: 4 });
    const eagerSlices = [];

    const inProcess = { done: 0, seconds: 0 };
    const viaApp = { done: 0, seconds: 0 };
    const slices = { 1: { search: [], add: [], get: [] }, 2: { search: [], add: [], get: [] } };
    // Reads first (search, get), in alternating rounds; the writes (add) after every read, since
    // they grow the corpus and make the other worker of a pair catch up.
    const inProcessCpu = { seconds: 0 };
    for (let round = 0; round < rounds; round++) {
      const direct = await timed(slice, (index) => memory.search(searchQueries[index % searchQueries.length], { limit: 10 }));
      inProcess.done += direct.done;
      inProcess.seconds += direct.seconds;
      inProcessCpu.seconds += direct.cpuSeconds;
      const throughApp = await timed(slice, async (index) => {
        const response = await app.request('http://localhost/api/search', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: searchQueries[index % searchQueries.length], limit: 10 }),
        });
        await response.text();
      });
      viaApp.done += throughApp.done;
      viaApp.seconds += throughApp.seconds;
      for (const [workers, server] of [
        [1, one],
        [2, two],
      ]) {
        for (const name of ['search', 'get']) {
          if (name === 'get' && round % 2 === 1) continue; // get: every other round
          slices[workers][name].push(await measuredLoad(generator, server, slice, name));
        }
      }
      eagerSlices.push(await measuredLoad(generator, eager, slice, 'search'));
      progress(`round ${round + 1} of ${rounds}`);
    }
    // The add path's own warm-up, unmeasured, after every read (it grows the corpus the reads ran
    // on): 200 adds leave it half compiled. Measured: over the first ~4 s of adds a server's user
    // CPU an add falls from 1.2 to 0.47 ms (2 workers) as V8 optimises request parsing,
    // validation and the write, and the first two 2-second slices were the slowest (p99 35–44 ms
    // against 15–20 once settled).
    for (const server of [one, two]) await generator.run(server.url, 'add', { duration: 2 * slice });
    for (let round = 0; round < rounds / 2; round++) {
      for (const [workers, server] of [
        [1, one],
        [2, two],
      ]) {
        slices[workers].add.push(await measuredLoad(generator, server, slice, 'add'));
      }
    }
    await app.engram.close();
    await memory.close();
    // How this machine shares its cores between two busy processes, beside the 2-worker target:
    // in-process searches in two processes at once (each its own copy: no HTTP, no shared file, no
    // load generator) against one alone, in alternating 3-second runs, after everything else stopped.
    for (const server of servers.splice(0)) await server.stop();
    const pair = { one: [], two: [] };
    for (let round = 0; round < 3; round++) {
      pair.one.push(await searchLoops([copies[3]], 3));
      pair.two.push(await searchLoops([copies[3], copies[4]], 3));
    }

    const results = {
      memories: size,
      loadGenerator: generator.name,
      connections: CONNECTIONS,
      rounds,
      sliceSeconds: slice,
      inProcessSearchPerSecond: round(inProcess.done / inProcess.seconds, 1),
      inProcessAppSearchPerSecond: round(viaApp.done / viaApp.seconds, 1),
      inProcessSearchCpuMs: round((inProcessCpu.seconds * 1000) / Math.max(1, inProcess.done), 3),
      coldFirstSearchMs: cold,
      workers: {},
      twoProcessScaling: {
        onePerSecond: round(medianOf(pair.one.map((run) => run.perSecond)), 1),
        twoPerSecond: round(medianOf(pair.two.map((run) => run.perSecond)), 1),
        oneCpuMs: round(medianOf(pair.one.map((run) => run.cpuMs)), 3),
        twoCpuMs: round(medianOf(pair.two.map((run) => run.cpuMs)), 3),
      },
    };
    results.twoProcessScaling.ratio = round(results.twoProcessScaling.twoPerSecond / results.twoProcessScaling.onePerSecond, 2);
    for (const workers of [1, 2]) {
      results.workers[workers] = Object.fromEntries(Object.entries(slices[workers]).map(([name, parts]) => [name, combine(parts)]));
    }
    const single = results.workers[1];
    const double = results.workers[2];
    const errors = Object.values(results.workers).flatMap((byRoute) => Object.values(byRoute).map((route) => route.errors));
    results.searchRatioToInProcess = round(single.search.requestsPerSecond / results.inProcessSearchPerSecond, 2);
    results.twoWorkerSpeedup = round(double.search.requestsPerSecond / single.search.requestsPerSecond, 2);
    results.eagerAccess = combine(eagerSlices);
    results.batchedVsEagerAccess = round(double.search.requestsPerSecond / results.eagerAccess.requestsPerSecond, 2);
    progress(
      `in-process ${results.inProcessSearchPerSecond}/s, app.request ${results.inProcessAppSearchPerSecond}/s, REST ${single.search.requestsPerSecond}/s (1 worker), ${double.search.requestsPerSecond}/s (2)`,
    );
    const worstP99 = Math.max(single.search.p99, single.add.p99, single.get.p99);
    const worstP99Two = Math.max(double.search.p99, double.add.p99, double.get.p99);
    const targets = [
      {
        target: 'REST search vs in-process memory.search (1 worker)',
        goal: '≥ 0.8',
        value: results.searchRatioToInProcess,
        met: results.searchRatioToInProcess >= 0.8,
      },
      { target: 'REST search, 2 workers vs 1', goal: '≥ 1.6×', value: results.twoWorkerSpeedup, met: results.twoWorkerSpeedup >= 1.6 },
      {
        target: 'REST errors under load',
        goal: '0',
        value: errors.reduce((sum, count) => sum + count, 0),
        met: errors.every((count) => count === 0),
      },
      { target: 'REST p99 at 16 connections (worst route, 1 worker)', goal: '≤ 30 ms', value: worstP99, unit: 'ms', met: worstP99 <= 30 },
      {
        target: 'REST p99 at 16 connections (worst route, 2 workers)',
        goal: '≤ 30 ms',
        value: worstP99Two,
        unit: 'ms',
        met: worstP99Two <= 30,
      },
    ];
    return { suite: 'rest', results, markdown: markdown(results), targets };
  } finally {
    for (const server of servers) await server.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

function markdown(results) {
  const cpu = (figures) =>
    figures.serverCpuMsPerRequest === null
      ? '–'
      : `${figures.serverCpuMsPerRequest.toFixed(2)}${figures.serverSystemCpuMsPerRequest === null ? '' : ` (${figures.serverSystemCpuMsPerRequest.toFixed(3)})`}`;
  const waiting = (figures) => (figures.serverCpuWaitMsPerSecond === null ? '–' : String(figures.serverCpuWaitMsPerSecond));
  const generator = (figures) =>
    `${figures.loadGeneratorCpuMsPerRequest.toFixed(2)}${figures.loadGeneratorGcLongestMs === null ? '' : ` (${figures.loadGeneratorGcLongestMs})`}`;
  const lines = [
    '### REST',
    '',
    `engram-server on ${formatCount(results.memories)}-memory SQLite files (one copy per server); the load generator is ${results.loadGenerator === 'autocannon' ? 'autocannon in a process of its own (not the bench process, which holds an in-process Memory; wrk, when installed, is used instead: it takes less of the CPU the servers share)' : `${results.loadGenerator} (one thread, a Lua script making every request afresh; p50/p99 pooled from 1,000 quantiles a slice)`}, loopback, ${results.connections} connections; ` +
      `search in ${results.rounds} alternating ${results.sliceSeconds}-second slices per contender (after 6 s of unmeasured searches per server), get in half as many, then add in half as many (writes last, after 4 s of unmeasured adds: the add path takes that long to be optimised; per-slice p99s in the JSON). ` +
      `In-process \`memory.search\` (same queries, back to back): ${results.inProcessSearchPerSecond} /s, ${results.inProcessSearchCpuMs} ms of CPU each; through \`app.request()\` (routing, validation, JSON; no socket): ${results.inProcessAppSearchPerSecond} /s. ` +
      `REST search at 1 worker is ${results.searchRatioToInProcess}× the in-process rate; 2 workers are ${results.twoWorkerSpeedup}× one. The load generator runs on the same cores as the server: its CPU a request and its longest garbage-collection pause in a slice are in the table, with the time the server's processes spent ready to run but waiting for a CPU (\`/proc/<pid>/schedstat\`; a busy machine shows here first). ` +
      `Cold first search (fresh server: the store opens, its indexes load): ${results.coldFirstSearchMs[1]} ms (1 worker), ${results.coldFirstSearchMs[2]} ms (2); every slice below is measured after a warm-up.`,
    '',
    `| workers | route | req/s | p50 / p99 ms (every response) | p99 ms: worst / median slice | server CPU ms / request (of it in the kernel) | server waiting for a CPU, ms / s | load generator CPU ms / request${results.loadGenerator === 'autocannon' ? ' (longest GC pause ms)' : ''} | errors |`,
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [workers, routes] of Object.entries(results.workers)) {
    for (const [route, figures] of Object.entries(routes)) {
      lines.push(
        `| ${workers} | ${route} | ${figures.requestsPerSecond} | ${formatMs(figures.p50)} / ${formatMs(figures.p99)} | ${formatMs(figures.worstSliceP99)} / ${formatMs(figures.medianSliceP99)} | ${cpu(figures)} | ${waiting(figures)} | ${generator(figures)} | ${figures.errors} |`,
      );
    }
  }
  lines.push(
    `| 2 (access written per search) | search | ${results.eagerAccess.requestsPerSecond} | ${formatMs(results.eagerAccess.p50)} / ${formatMs(results.eagerAccess.p99)} | ${formatMs(results.eagerAccess.worstSliceP99)} / ${formatMs(results.eagerAccess.medianSliceP99)} | ${cpu(results.eagerAccess)} | ${waiting(results.eagerAccess)} | ${generator(results.eagerAccess)} | ${results.eagerAccess.errors} |`,
  );
  lines.push('');
  const pair = results.twoProcessScaling;
  lines.push(
    `How this machine shares its cores between two busy processes (beside the 2-worker target; measured last, after the servers stopped): in-process \`memory.search\` in two processes at once, each on its own copy of the file, no HTTP and no load generator, against one alone (medians of 3 alternating 3-second runs): ${pair.twoPerSecond} /s against ${pair.onePerSecond} /s, **${pair.ratio}×**; CPU a search ${pair.twoCpuMs} ms against ${pair.oneCpuMs} ms.`,
  );
  lines.push('');
  lines.push(
    `Access statistics gathered per second and written in one batch (the default) against written after each search (\`--access-flush-ms 0\`), 2 workers, search: ${results.batchedVsEagerAccess}×.`,
  );
  lines.push('');
  return lines.join('\n');
}
