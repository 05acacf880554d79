import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sseReader } from '../testing/sse-reader.js';
import { type ServerHandle, serve } from './serve.js';
import { tenantMemoryFactory } from './tenant-stores.js';

const keys = { team_a: 'key-of-team-a-0123456789', team_b: 'key-of-team-b-0123456789' };
const directory = mkdtempSync(join(tmpdir(), 'engram-rest-serve-'));
const store = { kind: 'sqlite' as const, path: join(directory, 'memory.db') };
let server: ServerHandle;

async function request(handle: ServerHandle, method: string, path: string, body?: unknown, key = keys.team_a) {
  const response = await fetch(`${handle.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {}
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies field by field.
  return { status: response.status, json: json as any, text, headers: response.headers };
}

beforeAll(async () => {
  server = await serve({
    memory: tenantMemoryFactory({ store, embedder: 'hash' }),
    auth: { keys },
    port: 0,
    rateLimit: false,
    heartbeatMs: 100,
    eventPollMs: 50,
    log: () => {},
  });
});

afterAll(async () => {
  await server?.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('serve() over a real socket', () => {
  it('answers every route', async () => {
    expect((await request(server, 'GET', '/api/health')).json).toEqual({ ok: true });
    const first = await request(server, 'POST', '/api/memories', {
      content: 'The staging database is db-stage-2',
      type: 'configuration',
      tags: ['db'],
    });
    expect(first.status).toBe(201);
    const a = first.json.memory.id;
    const batch = await request(server, 'POST', '/api/memories/batch', {
      memories: [{ content: 'Migrations run before deploys' }, { content: 'db-stage-1 was retired' }],
    });
    const [b, c] = batch.json.results.map((result: { memory: { id: string } }) => result.memory.id);
    expect((await request(server, 'GET', '/api/memories?limit=2')).json.items).toHaveLength(2);
    expect((await request(server, 'GET', `/api/memories/${a}`)).json.memory.id).toBe(a);
    expect((await request(server, 'PATCH', `/api/memories/${a}`, { importance: 0.8 })).json.memory.importance).toBe(0.8);
    expect((await request(server, 'POST', '/api/search', { query: 'staging database' })).json.hits[0].memory.id).toBe(a);
    expect((await request(server, 'POST', '/api/context', { query: 'staging database' })).json.text).toContain('db-stage-2');
    expect((await request(server, 'POST', '/api/relations', { sourceId: b, targetId: a, type: 'supports' })).status).toBe(201);
    expect((await request(server, 'POST', '/api/relations', { sourceId: c, targetId: a, type: 'related' })).status).toBe(201);
    expect((await request(server, 'GET', `/api/memories/${a}/relations`)).json.relations).toHaveLength(2);
    expect((await request(server, 'GET', `/api/memories/${a}/neighbors`)).json.neighbors).toHaveLength(2);
    expect((await request(server, 'GET', `/api/memories/${a}/subgraph`)).json.nodes).toHaveLength(3);
    expect((await request(server, 'GET', `/api/path?from=${b}&to=${a}`)).json.path).toHaveLength(2);
    expect((await request(server, 'POST', '/api/resolve', { winnerId: a, loserId: c })).json.loser.supersededBy).toBe(a);
    expect((await request(server, 'GET', `/api/memories/${c}/history`)).json.history).toHaveLength(2);
    expect((await request(server, 'DELETE', `/api/relations?sourceId=${b}&targetId=${a}`)).json.removed).toBe(1);
    expect((await request(server, 'GET', '/api/tags')).json.tags).toEqual([{ tag: 'db', count: 1 }]);
    expect((await request(server, 'GET', '/api/types')).json.types.length).toBeGreaterThanOrEqual(5);
    expect((await request(server, 'GET', '/api/stats')).json).toMatchObject({
      total: 2,
      superseded: 1,
      store: { name: 'sqlite' },
      tenant: 'team_a',
    });
    const exported = await request(server, 'GET', '/api/export');
    expect(exported.text.trim().split('\n')).toHaveLength(2);
    const imported = await fetch(`${server.url}/api/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.team_b}`, 'content-type': 'application/x-ndjson' },
      body: exported.text,
    });
    expect(((await imported.json()) as { created: number }).created).toBe(2);
    expect((await request(server, 'POST', '/api/memories/search', { query: 'migrations' })).json.total_found).toBeGreaterThan(0);
    expect((await request(server, 'POST', '/api/remember', { content: 'Remember me', user_id: 'u1' })).json.success).toBe(true);
    expect((await request(server, 'POST', '/api/recall', { query: 'remember', user_id: 'u1' })).json.count).toBe(1);
    expect((await request(server, 'DELETE', `/api/memories/${b}`)).json.deleted).toBe(true);
    expect((await request(server, 'GET', '/openapi.json')).json.openapi).toBe('3.1.0');
    expect((await fetch(`${server.url}/docs`)).headers.get('content-type')).toContain('text/html');
  });

  it('keeps each tenant in its own store file', async () => {
    await request(server, 'POST', '/api/memories', { content: 'only in team b' }, keys.team_b);
    const a = await request(server, 'POST', '/api/search', { query: 'only in team b' });
    expect(JSON.stringify(a.json)).not.toContain('only in team b');
    const { existsSync } = await import('node:fs');
    expect(existsSync(join(directory, 'memory.tenants', 'team_a.db'))).toBe(true);
    expect(existsSync(join(directory, 'memory.tenants', 'team_b.db'))).toBe(true);
  });

  it('streams events with ids and heartbeats, resumes after Last-Event-ID, and carries writes of another server on the same store', async () => {
    const other = await serve({
      memory: tenantMemoryFactory({ store, embedder: 'hash' }),
      auth: { keys },
      port: 0,
      rateLimit: false,
      eventPollMs: 50,
      log: () => {},
    });
    try {
      const controller = new AbortController();
      const response = await fetch(`${server.url}/api/events?tags=signal`, {
        headers: { authorization: `Bearer ${keys.team_a}` },
        signal: controller.signal,
      });
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      const events = sseReader(response);
      expect((await events.next((event) => event.event === 'comment')).event).toBe('comment');

      await request(server, 'POST', '/api/memories', { content: 'local write', tags: ['signal'] });
      const local = await events.next();
      expect(local.event).toBe('memory:added');
      expect(JSON.parse(local.data as string).memory.content).toBe('local write');
      expect(local.id).toMatch(/^\d+$/);

      // Written through the other server (its own connection to the same file): picked up from the change log.
      await request(other, 'POST', '/api/memories', { content: 'written elsewhere', tags: ['signal'] });
      await request(other, 'POST', '/api/memories', { content: 'not a signal' });
      const remote = await events.next();
      expect(JSON.parse(remote.data as string).memory.content).toBe('written elsewhere');
      expect(Number(remote.id)).toBeGreaterThan(Number(local.id));
      // Team B's writes never reach team A's stream.
      await request(other, 'POST', '/api/memories', { content: 'team b signal', tags: ['signal'] }, keys.team_b);
      const heartbeat = await events.next((event) => event.event === 'comment');
      expect(heartbeat.event).toBe('comment');
      controller.abort();
      await events.cancel();

      // Resume: everything after the local event, and nothing before it.
      const resumed = await fetch(`${server.url}/api/events?tags=signal`, {
        headers: { authorization: `Bearer ${keys.team_a}`, 'last-event-id': local.id as string },
      });
      const replay = sseReader(resumed);
      const again = await replay.next();
      expect(again.id).toBe(remote.id);
      expect(JSON.parse(again.data as string).memory.content).toBe('written elsewhere');
      await replay.cancel();
    } finally {
      await other.close();
    }
  });

  it('refuses a public host without keys', async () => {
    await expect(
      serve({
        memory: tenantMemoryFactory({ store: { kind: 'sqlite', path: ':memory:' }, embedder: 'hash' }),
        host: '0.0.0.0',
        port: 0,
        log: () => {},
      }),
    ).rejects.toThrow(/no API keys/);
  });

  it('finishes in-flight requests on close, then refuses connections', async () => {
    const handle = await serve({
      memory: tenantMemoryFactory({ store: { kind: 'sqlite', path: join(directory, 'slow.db') }, embedder: 'hash' }),
      port: 0,
      log: () => {},
    });
    const memory = await handle.app.engram.tenants.get('local');
    const original = memory.count.bind(memory);
    memory.count = async (filter) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return original(filter);
    };
    const inFlight = fetch(`${handle.url}/api/stats`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = handle.close();
    const response = await inFlight;
    expect(response.status).toBe(200);
    await closing;
    await expect(fetch(`${handle.url}/api/health`)).rejects.toThrow();
  });
});
