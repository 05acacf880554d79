// The REST bench suite's wrk load generator (bench/lib/load-generator-wrk.mjs) against a local
// node:http server that records what it receives: every route's requests are well-formed and made
// afresh (distinct adds, rotating queries and ids), the summary counts what the server answered,
// non-2xx answers are reported as errors, and the latencies handed back (spread from wrk's
// quantiles) are one per response and bounded by what the server did.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWrkGenerator, type WrkGenerator, wrkVersion } from '../bench/lib/load-generator-wrk.mjs';

const version = wrkVersion();
const reason = 'wrk is not installed (apt-get install wrk); the REST bench suite falls back to autocannon without it';
if (version === null && (process.env.CI === 'true' || process.env.CI === '1'))
  throw new Error(`Load generator tests cannot run in CI: ${reason}`);

describe.skipIf(version === null)(`the REST bench suite's wrk load generator${version === null ? ` (skipped: ${reason})` : ''}`, () => {
  const received: Array<{ method: string; url: string; body: string }> = [];
  let failing = false;
  let server: Server;
  let url: string;
  let generator: WrkGenerator;

  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response: ServerResponse) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => {
        body += chunk;
      });
      request.on('end', () => {
        received.push({ method: request.method ?? '', url: request.url ?? '', body });
        // A little work per request, so latencies are not all under a microsecond's resolution.
        const until = performance.now() + 0.2;
        while (performance.now() < until) {}
        response.writeHead(failing ? 500 : request.method === 'POST' && request.url === '/api/memories' ? 201 : 200, {
          'content-type': 'application/json',
        });
        response.end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    generator = startWrkGenerator(['first query', 'second "quoted" query', 'third ]] query'], ['id-a', 'id/b'], { connections: 4 });
  });

  afterAll(async () => {
    generator?.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends each route its own well-formed requests, made afresh', async () => {
    for (const route of ['search', 'add', 'get'] as const) await generator.run(url, route, { duration: 1 });
    const searches = received.filter((request) => request.url === '/api/search');
    const adds = received.filter((request) => request.url === '/api/memories');
    const gets = received.filter((request) => request.url.startsWith('/api/memories/'));
    expect(searches.length).toBeGreaterThan(10);
    expect(adds.length).toBeGreaterThan(10);
    expect(gets.length).toBeGreaterThan(10);
    expect(searches.every((request) => request.method === 'POST')).toBe(true);
    const queries = new Set(searches.map((request) => (JSON.parse(request.body) as { query: string; limit: number }).query));
    expect([...queries].sort()).toEqual(['first query', 'second "quoted" query', 'third ]] query']);
    expect(searches.every((request) => (JSON.parse(request.body) as { limit: number }).limit === 10)).toBe(true);
    const contents = adds.map((request) => (JSON.parse(request.body) as { content: string }).content);
    expect(new Set(contents).size).toBe(contents.length);
    expect(contents.every((content) => /^bench rest write \d+ (first query|second "quoted" query|third \]\] query)$/.test(content))).toBe(
      true,
    );
    expect(new Set(gets.map((request) => request.url))).toEqual(new Set(['/api/memories/id-a', '/api/memories/id%2Fb']));
    expect(gets.every((request) => request.method === 'GET')).toBe(true);
  });

  it('reports what the server answered: counts, latencies one per response, its own CPU', async () => {
    received.length = 0;
    const { result, latencies, cpuMs, gc } = await generator.run(url, 'search', { duration: 1 });
    expect(result.requests.total).toBeGreaterThan(10);
    // wrk drops the requests in flight when its time is up: the server saw at least as many.
    expect(received.length).toBeGreaterThanOrEqual(result.requests.total);
    expect(received.length).toBeLessThanOrEqual(result.requests.total + 4);
    expect(result.errors + result.timeouts + result.non2xx).toBe(0);
    expect(result.duration).toBeGreaterThan(0.9);
    expect(latencies).toHaveLength(result.requests.total);
    const sorted = [...latencies].sort((a, b) => a - b);
    expect(sorted[0]).toBeGreaterThan(0);
    // Spread from quantiles in order: already sorted, and the slice's own p99 is among them.
    expect(latencies).toEqual(sorted);
    expect(result.latency.p99).toBeGreaterThanOrEqual(sorted[Math.floor(sorted.length * 0.5)] as number);
    expect(result.latency.p99).toBeLessThanOrEqual(sorted[sorted.length - 1] as number);
    expect(cpuMs).toBeGreaterThanOrEqual(0);
    expect(gc).toBeNull();
  });

  it('stops at a fixed number of responses', async () => {
    received.length = 0;
    const { result } = await generator.run(url, 'add', { amount: 25 });
    expect(result.requests.total).toBe(25);
    // Requests already sent when the thread stopped (at most one a connection) still reach the server.
    expect(received.length).toBeGreaterThanOrEqual(25);
    expect(received.length).toBeLessThanOrEqual(25 + 4);
  });

  it('counts non-2xx answers as errors', async () => {
    failing = true;
    try {
      const { result } = await generator.run(url, 'get', { duration: 1 });
      expect(result.requests.total).toBeGreaterThan(0);
      expect(result.non2xx).toBe(result.requests.total);
    } finally {
      failing = false;
    }
  });
});
