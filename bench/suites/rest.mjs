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

const BIN = fileURLToPath(new URL('../../packages/rest/dist/bin.js', import.meta.url));
const CONNECTIONS = 16;

function startServer(path, workers) {
  const child = spawn(process.execPath, [BIN, '--path', path, '--port', '0', '--workers', String(workers), '--rate-limit', '0'], {
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

function figures(result) {
  return {
    requestsPerSecond: round(result.requests.average, 1),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

export async function run({ full = false, progress = () => {} } = {}) {
  const size = 10_000;
  const duration = full ? 20 : 8;
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-rest-'));
  const path = join(directory, 'memory.db');
  try {
    const memory = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder(), logger: false });
    for (let offset = 0; offset < size; offset += 1000) await memory.addMany(memories(offset, offset + 1000));
    const ids = (await memory.list({ limit: 1000 })).items.map((item) => item.id);
    const searchQueries = queries(500, 11);
    progress(`${formatCount(size)} memories`);

    // The in-process rate: the same searches, back to back, for the same time as one load.
    let done = 0;
    const begin = performance.now();
    while (performance.now() - begin < duration * 1000) {
      await memory.search(searchQueries[done % searchQueries.length], { limit: 10 });
      done += 1;
    }
    const inProcess = round(done / ((performance.now() - begin) / 1000), 1);
    // The same searches through the Hono app in process (routing, validation, JSON), without HTTP.
    const app = createEngramApp({ memory, log: () => {} });
    let viaApp = 0;
    const appBegin = performance.now();
    while (performance.now() - appBegin < duration * 1000) {
      const response = await app.request('http://localhost/api/search', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: searchQueries[viaApp % searchQueries.length], limit: 10 }),
      });
      await response.text();
      viaApp += 1;
    }
    const inProcessApp = round(viaApp / ((performance.now() - appBegin) / 1000), 1);
    await app.engram.close();
    await memory.close();
    progress(`in-process memory.search: ${inProcess} /s; through app.request(): ${inProcessApp} /s`);

    const results = {
      memories: size,
      connections: CONNECTIONS,
      durationSeconds: duration,
      inProcessSearchPerSecond: inProcess,
      inProcessAppSearchPerSecond: inProcessApp,
      workers: {},
    };
    let counter = 0;
    for (const workers of [1, 2]) {
      const server = await startServer(path, workers);
      try {
        const search = (request) => ({
          ...request,
          body: JSON.stringify({ query: searchQueries[counter++ % searchQueries.length], limit: 10 }),
        });
        const add = (request) => ({
          ...request,
          body: JSON.stringify({ content: `bench rest write ${workers}-${counter++} ${searchQueries[counter % 500]}` }),
        });
        const get = (request) => ({ ...request, path: `/api/memories/${ids[counter++ % ids.length]}` });
        // A short warm-up: the first requests open the store and load its indexes.
        await load(server.url, 2, search, 'POST', '/api/search');
        const measured = {
          search: figures(await load(server.url, duration, search, 'POST', '/api/search')),
          add: figures(await load(server.url, duration, add, 'POST', '/api/memories')),
          get: figures(await load(server.url, duration, get, 'GET', '/api/memories')),
        };
        results.workers[workers] = measured;
        progress(`${workers} worker(s): search ${measured.search.requestsPerSecond} req/s p99 ${measured.search.p99} ms`);
      } finally {
        await server.stop();
      }
    }
    const one = results.workers[1];
    const two = results.workers[2];
    const errors = Object.values(results.workers).flatMap((routes) => Object.values(routes).map((route) => route.errors));
    results.searchRatioToInProcess = round(one.search.requestsPerSecond / inProcess, 2);
    results.twoWorkerSpeedup = round(two.search.requestsPerSecond / one.search.requestsPerSecond, 2);
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
      {
        target: 'REST p99 at 16 connections (worst route, 1 worker)',
        goal: '≤ 30 ms',
        value: Math.max(one.search.p99, one.add.p99, one.get.p99),
        unit: 'ms',
        met: Math.max(one.search.p99, one.add.p99, one.get.p99) <= 30,
      },
    ];
    return { suite: 'rest', results, markdown: markdown(results), targets };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function markdown(results) {
  const lines = [
    '### REST',
    '',
    `engram-server on a ${formatCount(results.memories)}-memory SQLite file; autocannon in another process, loopback, ${results.connections} connections, ${results.durationSeconds} s a route. ` +
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
  lines.push('');
  return lines.join('\n');
}
