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
    expect(breakdown).toMatchObject({ total: 1, tenant: 'team_a', byUser: [{ userId: null, count: 1 }], relations: 0 });
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

  it('by sync: A pulls only its own changes, and pushed operations naming B’s ids reach nothing of B', async () => {
    const pulled = await call(app, 'GET', '/api/sync/changes?since=0', undefined, asA);
    expect(pulled.status).toBe(200);
    // (A's feed holds A's own copy of the text from the write test; never B's memories.)
    const ids = pulled.json.changes.flatMap((change: { id?: string; relation?: { sourceId: string; targetId: string } }) =>
      change.id ? [change.id] : [change.relation?.sourceId, change.relation?.targetId],
    );
    expect(ids).not.toContain(bId);
    expect(ids).not.toContain(bOther);
    const at = new Date().toISOString();
    const relation = {
      sourceId: bId,
      targetId: bOther,
      type: 'related',
      weight: 1,
      confidence: 1,
      metadata: {},
      inferred: false,
      createdAt: at,
      updatedAt: at,
    };
    const pushed = await call(
      app,
      'POST',
      '/api/sync/push',
      {
        replicaId: 'intruder',
        operations: [
          { seq: 1, kind: 'update', id: bId, fields: { content: 'overwritten through sync' } },
          { seq: 2, kind: 'link', relation: { ...relation, targetId: aId } },
          { seq: 3, kind: 'unlink', relation },
          { seq: 4, kind: 'delete', id: bId, at },
        ],
      },
      asA,
    );
    expect(pushed.status).toBe(200);
    expect(pushed.json.results.map((result: { status: string }) => result.status)).toEqual(['ignored', 'ignored', 'applied', 'applied']);
    expect(pushed.json.results[0].memory).toBeNull();
    // B's memory, its edge and its change feed are untouched; B's own replica mark is separate from A's.
    expect((await call(app, 'GET', `/api/memories/${bId}`, undefined, asB)).json.memory.content).toBe(secret);
    expect((await call(app, 'GET', `/api/memories/${bId}/relations`, undefined, asB)).json.relations).toHaveLength(1);
    const replay = await call(
      app,
      'POST',
      '/api/sync/push',
      { replicaId: 'intruder', operations: [{ seq: 1, kind: 'delete', id: bId, at }] },
      asB,
    );
    expect(replay.json.results[0].status).toBe('applied');
    expect(
      (await call(app, 'GET', `/api/sync/changes?since=0`, undefined, asB)).json.changes.some(
        (change: { id?: string }) => change.id === bId,
      ),
    ).toBe(true);
    expect((await call(app, 'GET', '/api/sync/changes?since=0', undefined, { authorization: 'Bearer wrong-key-0123456789' })).status).toBe(
      401,
    );
    expect((await call(app, 'GET', '/api/sync/changes?since=0')).status).toBe(401);
  });

  it('by reindex: A rebuilding conversation contexts never reaches B’s conversations', async () => {
    const turns = ['Bob: the vault code?', 'Carol: 4711', 'Bob: thanks'];
    for (const [minute, content] of turns.entries()) {
      const createdAt = new Date(Date.UTC(2025, 0, 1, 9, minute)).toISOString();
      await call(app, 'POST', '/api/memories', { content, conversationId: 'vault', scope: { userId: 'bob' }, createdAt }, asB);
    }
    for (const body of [{ turns: 0 }, { scope: { userId: 'bob' }, turns: 0 }, { conversationId: 'vault', turns: 0 }]) {
      const attempt = await call(app, 'POST', '/api/reindex/context', body, asA);
      expect(attempt.status).toBe(200);
      expect(attempt.json).toEqual({ conversations: 0, memories: 0, updated: 0 });
    }
    const search = (await call(app, 'POST', '/api/search', { query: 'vault code', scope: { userId: 'bob' }, explain: true }, asB)).json;
    const answer = search.hits.find((hit: { memory: { content: string } }) => hit.memory.content === 'Carol: 4711');
    expect(answer.memory.context).toBe('Bob: the vault code?');
    expect((await call(app, 'POST', '/api/reindex/context', { conversationId: 'vault' }, asB)).json).toEqual({
      conversations: 1,
      memories: 3,
      updated: 0,
    });
  });

  it('by maintenance: consolidation, erasure and ingestion by A never see or touch B', async () => {
    // A holds one live memory of its own scoped to a user named bob (imported above): all A's consolidation sees.
    const dry = await call(app, 'POST', '/api/consolidate', { scope: { userId: 'bob' } }, asA);
    expect(dry.json.scanned).toBe(1);
    const whole = await call(app, 'POST', '/api/consolidate', { steps: ['relevance', 'compression'], dryRun: false }, asA);
    expect(JSON.stringify(whole.json)).not.toContain(bId);
    expect(JSON.stringify(whole.json)).not.toContain('swordfish');
    const byIds = await call(app, 'POST', '/api/forget', { ids: [bId, bOther], confirm: true }, asA);
    expect(byIds.json).toEqual({ dryRun: false, matched: 0, forgotten: 0, ids: [] });
    const byScope = await call(app, 'POST', '/api/forget', { scope: { userId: 'bob' }, confirm: true }, asA);
    expect(byScope.json.forgotten).toBe(2); // A's own: the copy deleted above and the import
    expect(byScope.json.ids).not.toContain(bId);
    expect(byScope.json.ids).not.toContain(bOther);
    const ingestedByB = await call(app, 'POST', '/api/ingest', { text: 'B handbook: rotate keys monthly', title: 'Handbook' }, asB);
    expect(ingestedByB.json.documents[0].status).toBe('created');
    // The same source in A is a new document for A: it neither replaces nor sees B's chunks.
    const sameSourceInA = await call(app, 'POST', '/api/ingest', { text: 'A handbook: never rotate', title: 'Handbook' }, asA);
    expect(sameSourceInA.json.documents[0].status).toBe('created');
    expect(sameSourceInA.json.chunks.deleted).toBe(0);
    // (B deleted bId itself in the sync test above: its history shows A's erasure never reached it.)
    const own = await call(app, 'GET', `/api/memories/${bId}/history`, undefined, asB);
    expect(own.json.history[0].changes.content?.to ?? secret).toBe(secret);
    expect(own.json.history.length).toBeGreaterThan(0);
    expect((await call(app, 'GET', `/api/memories/${bOther}`, undefined, asB)).status).toBe(200);
    const handbook = (await call(app, 'POST', '/api/search', { query: 'handbook rotate', mode: 'lexical' }, asB)).json.hits;
    expect(handbook.map((hit: { memory: { content: string } }) => hit.memory.content)).toEqual(['B handbook: rotate keys monthly']);
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
