import { afterEach, describe, expect, it } from 'vitest';
import { createEngramApp, type EngramApp } from './create-engram-app.js';
import { call } from './testing/call.js';
import { tenantFactory, testMemory } from './testing/test-memory.js';

const apps: EngramApp[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.engram.close();
});

function anonymousApp(options: Partial<Parameters<typeof createEngramApp>[0]> = {}): EngramApp {
  const app = createEngramApp({ memory: testMemory(), log: () => {}, ...options });
  apps.push(app);
  return app;
}

describe('memories routes', () => {
  it('adds, answers duplicates with 200, gets, patches, lists, deletes', async () => {
    const app = anonymousApp();
    const created = await call(app, 'POST', '/api/memories', {
      content: 'CI cache key needs the lockfile hash',
      type: 'gotcha',
      tags: ['CI'],
    });
    expect(created.status).toBe(201);
    expect(created.json.status).toBe('created');
    expect(created.json.memory).toMatchObject({ type: 'learning', subtype: 'gotcha', tags: ['ci'] });
    expect(created.json.memory.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const id = created.json.memory.id as string;

    const duplicate = await call(app, 'POST', '/api/memories', { content: 'ci cache key needs the lockfile hash' });
    expect(duplicate.status).toBe(200);
    expect(duplicate.json).toMatchObject({ status: 'duplicate', memory: { id } });

    expect((await call(app, 'GET', `/api/memories/${id}`)).json.memory.content).toBe('CI cache key needs the lockfile hash');
    const patched = await call(app, 'PATCH', `/api/memories/${id}`, { importance: 0.9, tags: ['ci', 'cache'] });
    expect(patched.status).toBe(200);
    expect(patched.json.memory).toMatchObject({ importance: 0.9, tags: ['ci', 'cache'] });

    await call(app, 'POST', '/api/memories', { content: 'Deploys go out on Tuesdays', scope: { userId: 'alice' } });
    const all = await call(app, 'GET', '/api/memories');
    expect(all.json.items).toHaveLength(2);
    const alice = await call(app, 'GET', '/api/memories?userId=alice');
    expect(alice.json.items.map((item: { content: string }) => item.content)).toEqual(['Deploys go out on Tuesdays']);
    const byTag = await call(app, 'GET', '/api/memories?tags=cache');
    expect(byTag.json.items).toHaveLength(1);
    const firstPage = await call(app, 'GET', '/api/memories?limit=1');
    expect(firstPage.json.items).toHaveLength(1);
    const secondPage = await call(app, 'GET', `/api/memories?limit=1&cursor=${encodeURIComponent(firstPage.json.nextCursor)}`);
    expect(secondPage.json.items[0].id).not.toBe(firstPage.json.items[0].id);

    expect((await call(app, 'DELETE', `/api/memories/${id}`)).json).toEqual({ deleted: true, id });
    const gone = await call(app, 'GET', `/api/memories/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.json.error.code).toBe('NOT_FOUND');
    expect((await call(app, 'DELETE', `/api/memories/${id}`)).status).toBe(404);
    expect((await call(app, 'PATCH', `/api/memories/${id}`, { importance: 0.1 })).status).toBe(404);
  });

  it('stores a batch in one transaction, or nothing when one item is bad', async () => {
    const app = anonymousApp();
    const bad = await call(app, 'POST', '/api/memories/batch', { memories: [{ content: 'fine' }, { content: 'bad', importance: 7 }] });
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe('memories.1.importance');
    expect((await call(app, 'GET', '/api/memories')).json.items).toHaveLength(0);
    const good = await call(app, 'POST', '/api/memories/batch', { memories: [{ content: 'one' }, { content: 'two' }] });
    expect(good.status).toBe(201);
    expect(good.json.results.map((result: { status: string }) => result.status)).toEqual(['created', 'created']);
  });

  it('searches and builds context', async () => {
    const app = anonymousApp();
    await call(app, 'POST', '/api/memories/batch', {
      memories: [
        { content: 'Postgres connection pool exhausted under load', type: 'bug', tags: ['db'] },
        { content: 'Use pnpm for the monorepo', type: 'tool_choice' },
      ],
    });
    const search = await call(app, 'POST', '/api/search', { query: 'postgres pool', limit: 5, explain: true });
    expect(search.status).toBe(200);
    expect(search.json.hits[0].memory.content).toContain('Postgres');
    expect(search.json.hits[0].explanation).toBeDefined();
    const filtered = await call(app, 'POST', '/api/search', { query: 'postgres pool', types: ['decision'] });
    expect(filtered.json.hits.every((hit: { memory: { type: string } }) => hit.memory.type === 'decision')).toBe(true);
    const context = await call(app, 'POST', '/api/context', { query: 'postgres', tokenBudget: 200 });
    expect(context.json.text).toContain('Postgres connection pool');
    expect(context.json.tokens).toBeGreaterThan(0);
  });

  it('sets scope.agentId and the agent tag from X-Agent-ID', async () => {
    const app = anonymousApp();
    const created = await call(app, 'POST', '/api/memories', { content: 'Build is green' }, { 'x-agent-id': 'ci-bot' });
    expect(created.json.memory.scope).toEqual({ agentId: 'ci-bot' });
    expect(created.json.memory.tags).toEqual(['agent:ci-bot']);
    const bad = await call(app, 'POST', '/api/memories', { content: 'x' }, { 'x-agent-id': 'bad agent\u0001' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe('X-Agent-ID');
  });
});

describe('graph routes', () => {
  it('links, lists relations, neighbours, subgraph, path, history, resolve, unlinks', async () => {
    const app = anonymousApp();
    const add = async (content: string) => (await call(app, 'POST', '/api/memories', { content })).json.memory.id as string;
    const bug = await add('Login fails when the session cookie is missing');
    const fix = await add('Set SameSite=Lax on the session cookie');
    const note = await add('Cookies are set by the auth middleware');
    const linked = await call(app, 'POST', '/api/relations', { sourceId: fix, targetId: bug, type: 'fixes' });
    expect(linked.status).toBe(201);
    expect(linked.json.relation).toMatchObject({ sourceId: fix, targetId: bug, type: 'fixes' });
    expect((await call(app, 'POST', '/api/relations', { sourceId: fix, targetId: bug, type: 'fixes', weight: 0.5 })).status).toBe(200);
    await call(app, 'POST', '/api/relations', { sourceId: note, targetId: fix, type: 'supports' });

    expect((await call(app, 'GET', `/api/memories/${bug}/relations`)).json.relations).toHaveLength(1);
    const neighbors = await call(app, 'GET', `/api/memories/${bug}/neighbors?direction=both&depth=2`);
    expect(neighbors.json.neighbors.map((item: { memory: { id: string } }) => item.memory.id).sort()).toEqual([fix, note].sort());
    const subgraph = await call(app, 'GET', `/api/memories/${fix}/subgraph?radius=1`);
    expect(subgraph.json.nodes).toHaveLength(3);
    expect(subgraph.json.edges).toHaveLength(2);
    const path = await call(app, 'GET', `/api/path?from=${note}&to=${bug}`);
    expect(path.json.path.map((memory: { id: string }) => memory.id)).toEqual([note, fix, bug]);
    expect((await call(app, 'GET', `/api/path?from=${bug}&to=${note}&direction=out`)).json.path).toBeNull();

    const resolved = await call(app, 'POST', '/api/resolve', { winnerId: fix, loserId: note, reason: 'outdated' });
    expect(resolved.json.loser.supersededBy).toBe(fix);
    const history = await call(app, 'GET', `/api/memories/${note}/history`);
    expect(history.json.history.map((entry: { event: string }) => entry.event)).toEqual(['created', 'superseded']);

    expect((await call(app, 'DELETE', `/api/relations?sourceId=${fix}&targetId=${bug}&type=fixes`)).json).toEqual({ removed: 1 });
    expect((await call(app, 'GET', `/api/memories/${bug}/relations`)).json.relations).toHaveLength(0);
    expect((await call(app, 'GET', '/api/memories/nope/neighbors')).status).toBe(404);
  });
});

describe('catalog, transfer, health', () => {
  it('counts tags and types, reports stats without internals', async () => {
    const app = anonymousApp();
    await call(app, 'POST', '/api/memories/batch', {
      memories: [
        { content: 'a', tags: ['x', 'y'], type: 'bug' },
        { content: 'b', tags: ['x'] },
      ],
    });
    expect((await call(app, 'GET', '/api/tags')).json.tags).toEqual([
      { tag: 'x', count: 2 },
      { tag: 'y', count: 1 },
    ]);
    const types = (await call(app, 'GET', '/api/types')).json.types;
    expect(types.find((type: { type: string }) => type.type === 'error')).toMatchObject({
      count: 1,
      subtypes: expect.arrayContaining(['bug']),
    });
    const stats = (await call(app, 'GET', '/api/stats')).json;
    expect(stats).toMatchObject({ total: 2, superseded: 0, tenant: 'local', store: { name: 'memory' } });
    expect(JSON.stringify(stats)).not.toContain('location');
    const health = await call(app, 'GET', '/api/health');
    expect(health).toMatchObject({ status: 200, json: { ok: true } });
  });

  it('exports JSON Lines and imports them all-or-nothing', async () => {
    const source = anonymousApp();
    await call(source, 'POST', '/api/memories/batch', {
      memories: [
        { content: 'first', tags: ['t'] },
        { content: 'second', type: 'insight' },
      ],
    });
    const exported = await source.request('http://localhost/api/export');
    expect(exported.headers.get('content-type')).toContain('application/x-ndjson');
    const text = await exported.text();
    expect(text.trim().split('\n')).toHaveLength(2);

    const target = anonymousApp();
    const importOf = (body: string) =>
      target.request('http://localhost/api/import', { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
    const broken = await importOf(`${text}{"content": 5}\n`);
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { field: string } }).error.field).toBe('line 3 content');
    expect((await call(target, 'GET', '/api/memories')).json.items).toHaveLength(0);
    const imported = await importOf(text);
    expect(await imported.json()).toEqual({ records: 2, created: 2, updated: 0, duplicates: 0, skipped: 0 });
    const items = (await call(target, 'GET', '/api/memories')).json.items;
    expect(items.map((item: { subtype: string | null }) => item.subtype).sort()).toEqual(['insight', null].sort());
  });
});

describe('compatibility aliases', () => {
  it('takes mcp-memory-service and SHODH bodies', async () => {
    const app = anonymousApp();
    const stored = await call(app, 'POST', '/api/memories', {
      content: 'Redis evicts keys under memory pressure',
      memory_type: 'insight',
      tags: ['redis'],
      metadata: { source: 'ops' },
    });
    expect(stored.status).toBe(201);
    expect(stored.json.memory).toMatchObject({ type: 'learning', subtype: 'insight', metadata: { source: 'ops' } });
    const found = await call(app, 'POST', '/api/memories/search', { query: 'redis eviction', n_results: 3 });
    expect(found.json.total_found).toBe(1);
    expect(found.json.results[0].similarity_score).toBeGreaterThan(0);
    const remembered = await call(app, 'POST', '/api/remember', { user_id: 'bob', content: 'Bob prefers tabs' });
    expect(remembered.json).toMatchObject({ success: true, memory: { scope: { userId: 'bob' } } });
    const recalled = await call(app, 'POST', '/api/recall', { user_id: 'bob', query: 'tabs' });
    expect(recalled.json.count).toBe(1);
    expect((await call(app, 'POST', '/api/recall', { user_id: 'carol', query: 'tabs' })).json.count).toBe(0);
  });
});

describe('errors', () => {
  it('answers bad input with 4xx JSON naming the field', async () => {
    const app = anonymousApp();
    const badJson = await call(app, 'POST', '/api/memories', '{"content": ');
    expect(badJson.status).toBe(400);
    expect(badJson.json.error.code).toBeTypeOf('string');
    const wrongType = await call(app, 'POST', '/api/memories', { content: 42 });
    expect(wrongType.json.error).toMatchObject({ code: 'VALIDATION_ERROR', field: 'content' });
    const unknown = await call(app, 'POST', '/api/memories', { content: 'x', colour: 'red' });
    expect(unknown.json.error.message).toContain('colour');
    const coreRule = await call(app, 'POST', '/api/search', { query: 'x', where: { priority: { between: 1 } } });
    expect(coreRule.status).toBe(400);
    expect(coreRule.json.error.field).toMatch(/where/);
    const route = await call(app, 'GET', '/api/nothing');
    expect(route.status).toBe(404);
    expect(route.json.error.code).toBe('NOT_FOUND');
  });

  it('limits the body size', async () => {
    const app = anonymousApp({ bodyLimit: 1000 });
    const response = await call(app, 'POST', '/api/memories', { content: 'x'.repeat(2000) });
    expect(response.status).toBe(413);
    expect(response.json.error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('auth and tenants', () => {
  const keys = { team_a: 'key-of-team-a-0123456789', team_b: 'key-of-team-b-0123456789' };

  function keyedApp(options: Partial<Parameters<typeof createEngramApp>[0]> = {}) {
    const tenants = tenantFactory();
    const app = createEngramApp({ memory: tenants.factory, auth: { keys }, log: () => {}, rateLimit: false, ...options });
    apps.push(app);
    return { app, tenants };
  }

  it('requires a key once keys exist, by Bearer or X-API-Key', async () => {
    const { app } = keyedApp();
    const anonymous = await call(app, 'GET', '/api/memories');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');
    expect((await call(app, 'GET', '/api/memories', undefined, { authorization: 'Bearer wrong-key-0123456789' })).status).toBe(401);
    expect((await call(app, 'GET', '/api/memories', undefined, { authorization: 'Basic abc' })).status).toBe(401);
    expect((await call(app, 'GET', '/api/memories', undefined, { authorization: `Bearer ${keys.team_a}` })).status).toBe(200);
    expect((await call(app, 'GET', '/api/memories', undefined, { 'x-api-key': keys.team_b })).status).toBe(200);
    expect((await call(app, 'GET', '/api/health')).status).toBe(200);
  });

  it('refuses a single Memory for several tenants', () => {
    expect(() => createEngramApp({ memory: testMemory(), auth: { keys } })).toThrow(/single Memory/);
  });

  it('keeps anonymous mode to loopback hosts and same-origin browsers', async () => {
    const app = anonymousApp();
    expect((await app.request('http://localhost/api/stats')).status).toBe(200);
    expect((await app.request('http://127.0.0.1/api/stats')).status).toBe(200);
    const rebinding = await app.request('http://evil.example/api/stats');
    expect(rebinding.status).toBe(403);
    const crossOrigin = await app.request('http://localhost/api/stats', { headers: { origin: 'https://evil.example' } });
    expect(crossOrigin.status).toBe(403);
    expect((await app.request('http://localhost/api/stats', { headers: { origin: 'http://localhost:3000' } })).status).toBe(200);
  });

  it('answers CORS preflights for allowed origins only', async () => {
    const app = anonymousApp({ corsOrigins: ['https://app.example'] });
    const preflight = await app.request('http://localhost/api/search', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const allowed = await app.request('http://localhost/api/stats', { headers: { origin: 'https://app.example' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await app.request('http://localhost/api/stats', { headers: { origin: 'https://other.example' } });
    expect(other.status).toBe(403);
  });

  it('rate-limits per key with Retry-After', async () => {
    const { app } = keyedApp({ rateLimit: { perSecond: 1, burst: 3 } });
    const statuses: number[] = [];
    for (let index = 0; index < 4; index++)
      statuses.push((await call(app, 'GET', '/api/stats', undefined, { 'x-api-key': keys.team_a })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await call(app, 'GET', '/api/stats', undefined, { 'x-api-key': keys.team_a });
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.json.error.code).toBe('RATE_LIMITED');
    // Another key has its own bucket.
    expect((await call(app, 'GET', '/api/stats', undefined, { 'x-api-key': keys.team_b })).status).toBe(200);
  });

  it('times out slow requests with a JSON 503', async () => {
    const memory = testMemory();
    const slow = Object.assign(Object.create(memory), { count: () => new Promise((resolve) => setTimeout(() => resolve(0), 200)) });
    const app = anonymousApp({ memory: slow, requestTimeoutMs: 50 });
    const response = await call(app, 'GET', '/api/stats');
    expect(response.status).toBe(503);
    expect(response.json.error.code).toBe('TIMEOUT');
  });
});

describe('/docs', () => {
  it('is one offline page: no script, style or font from anywhere else', async () => {
    const app = anonymousApp();
    const response = await app.request('http://localhost/docs');
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("fetch('/openapi.json')");
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    expect(html).not.toMatch(/@import|url\(/);
  });
});
