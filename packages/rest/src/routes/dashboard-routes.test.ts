import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngramApp, type EngramApp } from '../create-engram-app.js';
import { call } from '../testing/call.js';
import { testMemory } from '../testing/test-memory.js';

// The two routes the dashboard needed that no other route gave: GET /api/stats/breakdown (the
// Stats page) and POST /api/consolidate (the Consolidation page).

let app: EngramApp;
const DAY = 86_400_000;

beforeAll(async () => {
  app = createEngramApp({ memory: testMemory(), log: () => {} });
  const now = Date.now();
  const bodies = [
    { content: 'The CI cache key must include the lockfile hash', type: 'gotcha', tags: ['ci', 'cache'], scope: { userId: 'alice' } },
    { content: 'Flaky tests came from a shared temp folder', type: 'bug', tags: ['ci'], scope: { userId: 'alice', agentId: 'coder' } },
    { content: 'Use Postgres 16', type: 'tool_choice', tags: ['db'], scope: { userId: 'bob' }, createdAt: now - 3 * DAY },
    { content: 'Deploys happen on Tuesdays', type: 'decision', createdAt: now - 40 * DAY },
  ];
  const ids: string[] = [];
  for (const body of bodies) ids.push((await call(app, 'POST', '/api/memories', body)).json.memory.id);
  await call(app, 'POST', '/api/relations', { sourceId: ids[0], targetId: ids[1], type: 'related' });
  await call(app, 'POST', '/api/relations', { sourceId: ids[1], targetId: ids[2], type: 'causes' });
});

afterAll(async () => {
  await app.engram.close();
});

describe('GET /api/stats/breakdown', () => {
  it('counts by type, subtype, user, agent and tag, per day, with the store and index', async () => {
    const { status, json } = await call(app, 'GET', '/api/stats/breakdown?days=7');
    expect(status).toBe(200);
    expect(json).toMatchObject({
      total: 4,
      superseded: 0,
      byType: { learning: 1, error: 1, decision: 2 },
      bySubtype: { gotcha: 1, bug: 1, tool_choice: 1 },
      byUser: [
        { userId: 'alice', count: 2 },
        { userId: 'bob', count: 1 },
        { userId: null, count: 1 },
      ],
      byAgent: [
        { agentId: null, count: 3 },
        { agentId: 'coder', count: 1 },
      ],
      relations: 2,
      store: { name: 'memory', bytes: null },
      embedder: { dimensions: expect.any(Number) },
      index: { healthy: true },
      tenant: 'local',
    });
    expect(json.topTags[0]).toEqual({ tag: 'ci', count: 2 });
    // Seven days, oldest first, ending today; the 40-day-old memory is outside the window.
    expect(json.timeline).toHaveLength(7);
    expect(json.timeline[6].day).toBe(new Date().toISOString().slice(0, 10));
    const inWindow = json.timeline.reduce(
      (sum: number, entry: { byType: Record<string, number> }) => sum + Object.values(entry.byType).reduce((a, b) => a + b, 0),
      0,
    );
    expect(inWindow).toBe(3);
    expect(json.timeline[3].byType).toEqual({ decision: 1 });
  });

  it('tells a user named "(none)" from no user: no user is null, the label is the dashboard’s', async () => {
    const named = createEngramApp({ memory: testMemory(), log: () => {} });
    try {
      await call(named, 'POST', '/api/memories', {
        content: 'Written for a user called (none)',
        scope: { userId: '(none)', agentId: '(none)' },
      });
      await call(named, 'POST', '/api/memories', { content: 'Written for nobody in particular' });
      await call(named, 'POST', '/api/memories', { content: 'Also for nobody in particular' });
      const { json } = await call(named, 'GET', '/api/stats/breakdown');
      expect(json.byUser).toEqual([
        { userId: null, count: 2 },
        { userId: '(none)', count: 1 },
      ]);
      expect(json.byAgent).toEqual([
        { agentId: null, count: 2 },
        { agentId: '(none)', count: 1 },
      ]);
    } finally {
      await named.engram.close();
    }
  });

  it('takes a scope, and names a bad days value', async () => {
    const scoped = await call(app, 'GET', '/api/stats/breakdown?userId=alice');
    expect(scoped.json.total).toBe(2);
    expect(scoped.json.timeline).toHaveLength(30);
    const bad = await call(app, 'GET', '/api/stats/breakdown?days=soon');
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe('days');
  });
});

describe('POST /api/consolidate', () => {
  it('is a dry run by default: reports and writes nothing', async () => {
    const before = (await call(app, 'GET', '/api/stats')).json.total;
    const { status, json } = await call(app, 'POST', '/api/consolidate', { steps: ['relevance', 'compression'] });
    expect(status).toBe(200);
    expect(json).toMatchObject({ dryRun: true, steps: ['relevance', 'compression'], scanned: 4 });
    expect(json.relevance.scored).toBe(4);
    expect(json.relevance.stored).toBe(0);
    expect(json.compression).toMatchObject({ clusters: expect.any(Array) });
    expect(json.forgetting).toBeUndefined();
    expect((await call(app, 'GET', '/api/stats')).json.total).toBe(before);
  });

  it('applies with dryRun: false, within a scope', async () => {
    const { json } = await call(app, 'POST', '/api/consolidate', { dryRun: false, steps: ['relevance'], scope: { userId: 'alice' } });
    expect(json).toMatchObject({ dryRun: false, scope: { userId: 'alice' }, scanned: 2 });
  });

  it('names an unknown step', async () => {
    const { status, json } = await call(app, 'POST', '/api/consolidate', { steps: ['tidy'] });
    expect(status).toBe(400);
    expect(json.error.field).toBe('steps.0');
  });

  it('is in the OpenAPI document with its schemas', async () => {
    const document = (await call(app, 'GET', '/openapi.json')).json;
    expect(document.paths['/api/consolidate'].post.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/Consolidate',
    );
    expect(document.paths['/api/stats/breakdown'].get.responses['200']).toBeDefined();
    expect(document.components.schemas.StatsBreakdown).toBeDefined();
  });
});
