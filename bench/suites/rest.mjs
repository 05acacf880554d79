// REST: the HTTP server (engram-server, a separate process) under load from autocannon in this
// process, over loopback, at 10k memories on one SQLite file: req/s and p50/p99 for search, add
// and get with 1 and 2 workers, against the in-process `memory.search` rate measured in the same
// run. Bounded: each load lasts a fixed time at 16 connections.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngramApp } from '@engram/rest';
import autocannon from 'autocannon';
import { hashEmbedder, Memory, sqliteStore } from 'engram';
import { memories, queries } from '../lib/corpus.mjs';
import { formatCount, formatMs, round } from '../lib/stats.mjs';

const BIN = fileURLToPath(new URL('../../packages/rest/bin/engram-server.js', import.meta.url));
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
      if (match) resolve({ url: match[1], stop: () => stop(child) });
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

function load(url, duration, setupRequest, method, path) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections: CONNECTIONS,
        duration,
        requests: [{ method, path, headers: { 'content-type': 'application/json' }, setupRequest }],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

/** Sums interleaved slices of one contender: req/s over all of them, the median p50 and the worst p99. */
function combine(slices) {
  const requests = slices.reduce((sum, slice) => sum + slice.requests.total, 0);
  const seconds = slices.reduce((sum, slice) => sum + slice.duration, 0);
  const p50s = slices.map((slice) => slice.latency.p50).sort((a, b) => a - b);
  return {
    requestsPerSecond: round(requests / seconds, 1),
    p50: p50s[Math.floor(p50s.length / 2)],
    p99: Math.max(...slices.map((slice) => slice.latency.p99)),
    requests,
    errors: slices.reduce((sum, slice) => sum + slice.errors + slice.timeouts + slice.non2xx, 0),
  };
}

async function timed(seconds, call) {
  let done = 0;
  const begin = performance.now();
  while (performance.now() - begin < seconds * 1000) {
    await call(done);
    done += 1;
  }
  return { done, seconds: (performance.now() - begin) / 1000 };
}

export async function run({ full = false, progress = () => {} } = {}) {
  const size = 10_000;
  // Contenders run in alternating slices (a, b, c, a, b, c, …) so that the load other work puts on
  // the machine falls on all of them alike.
  const rounds = full ? 8 : 4;
  const slice = 2;
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-rest-'));
  const path = join(directory, 'memory.db');
  const servers = [];
  try {
    const memory = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder(), logger: false });
    for (let offset = 0; offset < size; offset += 1000) await memory.addMany(memories(offset, offset + 1000));
    const ids = (await memory.list({ limit: 1000 })).items.map((item) => item.id);
    const searchQueries = queries(500, 11);
    progress(`${formatCount(size)} memories`);
    const app = createEngramApp({ memory, log: () => {} });
    const one = await startServer(path, 1);
    servers.push(one);
    const two = await startServer(path, 2);
    servers.push(two);
    // The same 2 workers writing each search's access statistics right after it (before batching):
    // search slices alternate with the others, so the comparison holds on a busy machine.
    const eager = await startServer(path, 2, ['--access-flush-ms', '0']);
    servers.push(eager);

    let counter = 0;
    const search = (request) => ({
      ...request,
      body: JSON.stringify({ query: searchQueries[counter++ % searchQueries.length], limit: 10 }),
    });
    const add = (request) => ({
      ...request,
      body: JSON.stringify({ content: `bench rest write ${counter++} ${searchQueries[counter % 500]}` }),
    });
    const get = (request) => ({ ...request, path: `/api/memories/${ids[counter++ % ids.length]}` });
    const routes = { search: [search, 'POST', '/api/search'], add: [add, 'POST', '/api/memories'], get: [get, 'GET', '/api/memories'] };
    // Warm-up: the first requests open the store and load its indexes in every worker.
    for (const server of [one, two, eager]) await load(server.url, 2, search, 'POST', '/api/search');
    const eagerSlices = [];

    const inProcess = { done: 0, seconds: 0 };
    const viaApp = { done: 0, seconds: 0 };
    const slices = { 1: { search: [], add: [], get: [] }, 2: { search: [], add: [], get: [] } };
    for (let round = 0; round < rounds; round++) {
      const direct = await timed(slice, (index) => memory.search(searchQueries[index % searchQueries.length], { limit: 10 }));
      inProcess.done += direct.done;
      inProcess.seconds += direct.seconds;
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
        for (const [name, [setup, method, route]] of Object.entries(routes)) {
          if (name !== 'search' && round % 2 === 1) continue; // add and get: every other round
          slices[workers][name].push(await load(server.url, slice, setup, method, route));
        }
      }
      eagerSlices.push(await load(eager.url, slice, search, 'POST', '/api/search'));
      progress(`round ${round + 1} of ${rounds}`);
    }
    await app.engram.close();
    await memory.close();

    const results = {
      memories: size,
      connections: CONNECTIONS,
      rounds,
      sliceSeconds: slice,
      inProcessSearchPerSecond: round(inProcess.done / inProcess.seconds, 1),
      inProcessAppSearchPerSecond: round(viaApp.done / viaApp.seconds, 1),
      workers: {},
    };
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
    ];
    return { suite: 'rest', results, markdown: markdown(results), targets };
  } finally {
    for (const server of servers) await server.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

function markdown(results) {
  const lines = [
    '### REST',
    '',
    `engram-server on a ${formatCount(results.memories)}-memory SQLite file; autocannon in another process, loopback, ${results.connections} connections; ` +
      `search in ${results.rounds} alternating ${results.sliceSeconds}-second slices per contender (add and get in half as many). ` +
      `In-process \`memory.search\` (same queries, back to back): ${results.inProcessSearchPerSecond} /s; through \`app.request()\` (routing, validation, JSON; no socket): ${results.inProcessAppSearchPerSecond} /s. ` +
      `REST search at 1 worker is ${results.searchRatioToInProcess}× the in-process rate; 2 workers are ${results.twoWorkerSpeedup}× one. The load generator runs on the same cores as the server.`,
    '',
    '| workers | route | req/s | p50 / p99 ms | errors |',
    '|---:|---|---:|---:|---:|',
  ];
  for (const [workers, routes] of Object.entries(results.workers)) {
    for (const [route, figures] of Object.entries(routes)) {
      lines.push(
        `| ${workers} | ${route} | ${figures.requestsPerSecond} | ${formatMs(figures.p50)} / ${formatMs(figures.p99)} | ${figures.errors} |`,
      );
    }
  }
  lines.push(
    `| 2 (access written per search) | search | ${results.eagerAccess.requestsPerSecond} | ${formatMs(results.eagerAccess.p50)} / ${formatMs(results.eagerAccess.p99)} | ${results.eagerAccess.errors} |`,
  );
  lines.push('');
  lines.push(
    `Access statistics gathered per second and written in one batch (the default) against written after each search (\`--access-flush-ms 0\`), 2 workers, search: ${results.batchedVsEagerAccess}×.`,
  );
  lines.push('');
  return lines.join('\n');
}
