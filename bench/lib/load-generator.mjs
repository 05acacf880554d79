// The REST suite's load generator: autocannon in a process of its own (forked by the suite), so that
// the latency it measures is the server's and not the pauses of a bench process holding a Memory of
// its own. The suite sends `init` once (the queries and ids requests are made from), then `run` per
// slice; each `run` answers with autocannon's summary, every response's latency (the suite pools
// them over slices), this process's CPU time and its longest garbage-collection pause.
import { PerformanceObserver } from 'node:perf_hooks';
import autocannon from 'autocannon';

const gcPauses = { on: false, total: 0, longest: 0 };
new PerformanceObserver((list) => {
  if (!gcPauses.on) return;
  for (const entry of list.getEntries()) {
    gcPauses.total += entry.duration;
    gcPauses.longest = Math.max(gcPauses.longest, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });

let queries = [];
let ids = [];
let counter = 0;
/** Each route's request, made afresh for every request autocannon sends (a new query, a new memory, another id). */
const routes = {
  search: {
    method: 'POST',
    path: '/api/search',
    setupRequest: (request) => ({ ...request, body: JSON.stringify({ query: queries[counter++ % queries.length], limit: 10 }) }),
  },
  add: {
    method: 'POST',
    path: '/api/memories',
    setupRequest: (request) => ({
      ...request,
      body: JSON.stringify({ content: `bench rest write ${counter++} ${queries[counter % queries.length]}` }),
    }),
  },
  get: {
    method: 'GET',
    path: '/api/memories',
    setupRequest: (request) => ({ ...request, path: `/api/memories/${ids[counter++ % ids.length]}` }),
  },
};

function run({ url, connections, route, duration, amount }) {
  const { method, path, setupRequest } = routes[route];
  const latencies = [];
  const cpu = process.cpuUsage();
  Object.assign(gcPauses, { on: true, total: 0, longest: 0 });
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        ...(amount !== undefined ? { amount } : { duration }),
        requests: [{ method, path, headers: { 'content-type': 'application/json' }, setupRequest }],
      },
      (error, result) => {
        gcPauses.on = false;
        if (error) return reject(error);
        const used = process.cpuUsage(cpu);
        resolve({
          result,
          latencies,
          cpuMs: (used.user + used.system) / 1000,
          gc: { totalMs: gcPauses.total, longestMs: gcPauses.longest },
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
}

process.on('message', async (message) => {
  if (message.type === 'init') {
    ({ queries, ids } = message);
    process.send({ type: 'ready' });
    return;
  }
  try {
    process.send({ type: 'done', ...(await run(message)) });
  } catch (error) {
    process.send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
