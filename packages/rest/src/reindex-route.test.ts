import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngramApp, type EngramApp } from './create-engram-app.js';
import { call } from './testing/call.js';
import { testMemory } from './testing/test-memory.js';

/** POST /api/reindex/context: `memory.reindexContext()` over REST (`engram reindex --context`). */
let app: EngramApp;
const ids: string[] = [];

beforeAll(async () => {
  app = createEngramApp({ memory: testMemory(), rateLimit: false, log: () => {} });
  for (const [minute, content] of ['Ben: what did you name the puppy?', 'Ada: Biscuit', 'Ben: cute name'].entries()) {
    const added = await call(app, 'POST', '/api/memories', {
      content,
      conversationId: 'chat',
      scope: { userId: 'ada' },
      createdAt: new Date(Date.UTC(2025, 0, 1, 9, minute)).toISOString(),
    });
    ids.push(added.json.memory.id);
  }
});

afterAll(async () => {
  await app.engram.close();
});

const contextOf = async (id: string) => (await call(app, 'GET', `/api/memories/${id}`)).json.memory.context;

describe('POST /api/reindex/context', () => {
  it('removes (turns 0) and rebuilds the derived contexts, for one conversation or everything', async () => {
    expect(await contextOf(ids[2] as string)).toBe('Ben: what did you name the puppy?\nAda: Biscuit');
    const removed = await call(app, 'POST', '/api/reindex/context', { conversationId: 'chat', turns: 0 });
    expect(removed.status).toBe(200);
    expect(removed.json).toEqual({ conversations: 1, memories: 3, updated: 2 });
    expect(await contextOf(ids[2] as string)).toBeUndefined();
    const other = await call(app, 'POST', '/api/reindex/context', { scope: { userId: 'someone-else' } });
    expect(other.json).toEqual({ conversations: 0, memories: 0, updated: 0 });
    const rebuilt = await call(app, 'POST', '/api/reindex/context', {});
    expect(rebuilt.json).toEqual({ conversations: 1, memories: 3, updated: 2 });
    expect(await contextOf(ids[1] as string)).toBe('Ben: what did you name the puppy?');
    expect((await call(app, 'POST', '/api/reindex/context', { turns: 1 })).json.updated).toBe(1);
    expect(await contextOf(ids[2] as string)).toBe('Ada: Biscuit');
  });

  it('names the field of a bad body', async () => {
    const tooMany = await call(app, 'POST', '/api/reindex/context', { turns: 99 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error.field).toBe('turns');
    const unknown = await call(app, 'POST', '/api/reindex/context', { context: true });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.message).toMatch(/unknown field\(s\) "context"/);
    expect((await call(app, 'POST', '/api/reindex/context', { conversationId: ' ' })).json.error.field).toBe('conversationId');
  });
});
