import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngramApp, type EngramApp } from './create-engram-app.js';
import { call } from './testing/call.js';
import { tenantFactory } from './testing/test-memory.js';

/**
 * The isolation matrix: tenant A, holding a valid key, tries to reach tenant B's memories by id,
 * by filter (B's userId, B's exact content), by link, by key, by export and by stream. Every
 * attempt must look exactly like asking for something that does not exist.
 */
const keys = { team_a: 'key-of-team-a-0123456789', team_b: 'key-of-team-b-0123456789' };
const asA = { authorization: `Bearer ${keys.team_a}` };
const asB = { authorization: `Bearer ${keys.team_b}` };

let app: EngramApp;
let aId: string;
let bId: string;
let bOther: string;
const secret = 'Team B launch code is swordfish';

beforeAll(async () => {
  app = createEngramApp({ memory: tenantFactory().factory, auth: { keys }, rateLimit: false, log: () => {} });
  aId = (await call(app, 'POST', '/api/memories', { content: 'Team A uses Postgres 16' }, asA)).json.memory.id;
  const b = await call(app, 'POST', '/api/memories', { content: secret, tags: ['secret'], scope: { userId: 'bob' }, key: 'launch' }, asB);
  bId = b.json.memory.id;
  bOther = (await call(app, 'POST', '/api/memories', { content: 'Team B deploys on Fridays', scope: { userId: 'bob' } }, asB)).json.memory
    .id;
  await call(app, 'POST', '/api/relations', { sourceId: bId, targetId: bOther, type: 'related' }, asB);
});

afterAll(async () => {
  await app.engram.close();
});

describe("tenant A on tenant B's data", () => {
  it('by id: every id route answers 404 exactly as for an id that never existed', async () => {
    const attempts: Array<[string, string, unknown?]> = [
      ['GET', `/api/memories/${bId}`],
      ['PATCH', `/api/memories/${bId}`, { content: 'overwritten by A' }],
      ['DELETE', `/api/memories/${bId}`],
      ['GET', `/api/memories/${bId}/relations`],
      ['GET', `/api/memories/${bId}/neighbors`],
      ['GET', `/api/memories/${bId}/subgraph`],
      ['GET', `/api/memories/${bId}/history`],
      ['GET', `/api/path?from=${aId}&to=${bId}`],
      ['GET', `/api/path?from=${bId}&to=${bOther}`],
      ['POST', '/api/resolve', { winnerId: aId, loserId: bId }],
    ];
    for (const [method, path, body] of attempts) {
      const foreign = await call(app, method, path, body, asA);
      const missing = await call(app, method, path.replaceAll(bId, '00000000-0000-7000-8000-000000000000'), body, asA);
      expect(foreign.status, `${method} ${path}`).toBe(404);
      expect(foreign.json.error.code).toBe('NOT_FOUND');
      expect(missing.status, `${method} ${path} (unknown id)`).toBe(404);
    }
    // B's memory is untouched.
    const own = await call(app, 'GET', `/api/memories/${bId}`, undefined, asB);
    expect(own.json.memory.content).toBe(secret);
  });

  it('by link: A cannot link to, or unlink, B’s memories', async () => {
    expect((await call(app, 'POST', '/api/relations', { sourceId: aId, targetId: bId, type: 'related' }, asA)).status).toBe(404);
    expect((await call(app, 'POST', '/api/relations', { sourceId: bId, targetId: aId, type: 'related' }, asA)).status).toBe(404);
    const unlink = await call(app, 'DELETE', `/api/relations?sourceId=${bId}&targetId=${bOther}`, undefined, asA);
    expect(unlink.json).toEqual({ removed: 0 });
    expect((await call(app, 'GET', `/api/memories/${bId}/relations`, undefined, asB)).json.relations).toHaveLength(1);
  });

  it('by filter: lists, searches, context, tags, types, stats and export show only A', async () => {
    const list = await call(app, 'GET', '/api/memories?userId=bob', undefined, asA);
    expect(list.json.items).toEqual([]);
    const all = await call(app, 'GET', '/api/memories?includeSuperseded=true', undefined, asA);
    expect(all.json.items.map((item: { id: string }) => item.id)).toEqual([aId]);
    for (const body of [{ query: secret }, { query: 'swordfish', scope: { userId: 'bob' } }, { query: 'launch code', tags: ['secret'] }]) {
      const hits = (await call(app, 'POST', '/api/search', body, asA)).json.hits;
      expect(hits.map((hit: { memory: { id: string } }) => hit.memory.id).filter((id: string) => id !== aId)).toEqual([]);
    }
    expect((await call(app, 'POST', '/api/context', { query: 'swordfish launch' }, asA)).json.text).not.toContain('swordfish');
    const compat = (await call(app, 'POST', '/api/memories/search', { query: 'swordfish' }, asA)).json.results;
    expect(JSON.stringify(compat)).not.toContain('swordfish');
    expect((await call(app, 'POST', '/api/recall', { query: 'swordfish', user_id: 'bob' }, asA)).json.count).toBe(0);
    expect((await call(app, 'GET', '/api/tags', undefined, asA)).json.tags).toEqual([]);
    expect((await call(app, 'GET', '/api/stats?userId=bob', undefined, asA)).json.total).toBe(0);
    expect((await call(app, 'GET', '/api/stats', undefined, asA)).json).toMatchObject({ total: 1, tenant: 'team_a' });
    const breakdown = (await call(app, 'GET', '/api/stats/breakdown', undefined, asA)).json;
    expect(breakdown).toMatchObject({ total: 1, tenant: 'team_a', byUser: { '(none)': 1 }, relations: 0 });
    expect(JSON.stringify(breakdown)).not.toContain('secret');
    expect((await call(app, 'GET', '/api/stats/breakdown?userId=bob', undefined, asA)).json.total).toBe(0);
    const consolidation = (await call(app, 'POST', '/api/consolidate', { steps: ['relevance', 'compression', 'associations'] }, asA)).json;
    expect(consolidation.scanned).toBe(1);
    expect(JSON.stringify(consolidation)).not.toContain(bId);
    const types = (await call(app, 'GET', '/api/types', undefined, asA)).json.types;
    expect(types.reduce((sum: number, type: { count: number }) => sum + type.count, 0)).toBe(1);
    const exported = await app.request('http://localhost/api/export', { headers: asA });
    const text = await exported.text();
    expect(text).not.toContain('swordfish');
    expect(text.trim().split('\n')).toHaveLength(1);
  });

  it('by write: the same content, scope and key in A neither dedups against nor updates B', async () => {
    const copy = await call(app, 'POST', '/api/memories', { content: secret, scope: { userId: 'bob' }, key: 'launch', tags: ['x'] }, asA);
    expect(copy.status).toBe(201);
    expect(copy.json.status).toBe('created');
    expect(copy.json.memory.id).not.toBe(bId);
    expect((await call(app, 'GET', `/api/memories/${bId}`, undefined, asB)).json.memory.tags).toEqual(['secret']);
    const imported = await app.request('http://localhost/api/import', {
      method: 'POST',
      headers: { ...asA, 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify({ id: bId, content: 'imported over B?', scope: { userId: 'bob' } })}\n`,
    });
    expect(((await imported.json()) as { created: number }).created).toBe(1);
    expect((await call(app, 'GET', `/api/memories/${bId}`, undefined, asB)).json.memory.content).toBe(secret);
    await call(app, 'DELETE', `/api/memories/${copy.json.memory.id}`, undefined, asA);
  });

  it('by stream: A’s event stream never carries B’s writes', async () => {
    const controller = new AbortController();
    const response = await app.request('http://localhost/api/events', { headers: asA, signal: controller.signal });
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    await call(app, 'POST', '/api/memories', { content: 'B writes a second secret: marlin' }, asB);
    await call(app, 'POST', '/api/memories', { content: 'A writes something' }, asA);
    let received = '';
    while (!received.includes('A writes something')) {
      const { value, done } = await reader.read();
      if (done) break;
      received += decoder.decode(value);
    }
    controller.abort();
    expect(received).toContain('event: memory:added');
    expect(received).not.toContain('marlin');
    expect(received).not.toContain('swordfish');
  });
});
