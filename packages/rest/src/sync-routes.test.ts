import { hashEmbedder, inMemoryStore, Memory, type MemoryRecord } from '@engram/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngramApp, type EngramApp } from './create-engram-app.js';
import { call } from './testing/call.js';
import { testMemory } from './testing/test-memory.js';

/** Sync through `app.request` (no socket): the protocol and conflict policy, fast. Real processes: tests/sync-*.test.ts. */
const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

function server(): { app: EngramApp; memory: Memory } {
  const memory = testMemory();
  const app = createEngramApp({ memory, rateLimit: false, log: () => {} });
  opened.push(memory, app.engram);
  return { app, memory };
}

function replica(app: EngramApp): Memory {
  const memory = new Memory({
    store: inMemoryStore(),
    embedder: hashEmbedder(),
    logger: false,
    sync: {
      url: 'http://127.0.0.1',
      interval: '1h',
      pushDelayMs: false,
      fetch: ((input: string | URL | Request, init?: RequestInit) => app.request(String(input), init)) as typeof fetch,
    },
  });
  opened.push(memory);
  return memory;
}

const view = (records: MemoryRecord[]) =>
  records
    .map((record) => ({ id: record.id, content: record.content, tags: record.tags, supersededBy: record.supersededBy }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));

async function contents(memory: Memory) {
  const { items } = await memory.list({ limit: 1000, includeSuperseded: true });
  const edges = new Set<string>();
  for (const record of items) {
    for (const edge of await memory.relations(record.id)) edges.add(`${edge.sourceId}-${edge.type}-${edge.targetId}`);
  }
  return { memories: view(items), edges: [...edges].sort() };
}

describe('sync over the REST routes', () => {
  it('pushes adds, updates, links, supersessions and deletes, and pulls them into another replica', async () => {
    const { app, memory: central } = server();
    const one = replica(app);
    const two = replica(app);
    const a = (await one.add({ content: 'Postgres 16 runs the main database', tags: ['db'] })).memory;
    const b = (await one.add({ content: 'The main database moved to Postgres 17' })).memory;
    await one.link(b.id, a.id, 'related');
    await one.update(a.id, { tags: ['db', 'old'] });
    await one.resolve(b.id, a.id, { reason: 'upgrade' });
    const c = (await one.add({ content: 'a note to delete' })).memory;
    await one.delete(c.id);
    await one.sync.now();
    expect(await one.sync.status()).toMatchObject({ pending: 0, lastError: null });
    await two.sync.now();
    expect(await contents(two)).toEqual(await contents(one));
    expect(await contents(central)).toEqual(await contents(one));
    expect((await two.get(a.id))?.supersededBy).toBe(b.id);
    expect(await two.get(c.id)).toBeNull();
    // Nothing pulled is pushed back.
    expect((await two.sync.now()).pushed).toBe(0);
    expect(await two.sync.status()).toMatchObject({ pending: 0 });
  });

  it('answers a retried push with duplicate, applying nothing twice', async () => {
    const { app, memory: central } = server();
    const record = (await testMemory().add({ content: 'retried once' })).memory;
    const body = {
      replicaId: 'replica-1',
      operations: [
        {
          seq: 1,
          kind: 'create',
          record: {
            ...record,
            createdAt: record.createdAt.toISOString(),
            updatedAt: record.updatedAt.toISOString(),
            validFrom: record.validFrom?.toISOString() ?? null,
          },
        },
        { seq: 2, kind: 'update', id: record.id, fields: { content: 'retried twice' } },
      ],
    };
    const first = await call(app, 'POST', '/api/sync/push', body);
    expect(first.status).toBe(200);
    expect(first.json.results.map((result: { status: string }) => result.status)).toEqual(['applied', 'applied']);
    const again = await call(app, 'POST', '/api/sync/push', body);
    expect(again.json.results.map((result: { status: string }) => result.status)).toEqual(['duplicate', 'duplicate']);
    expect((await central.history(record.id)).map((entry) => entry.event)).toEqual(['created', 'updated']);
    const bad = await call(app, 'POST', '/api/sync/push', { replicaId: 'r', operations: [{ seq: 0, kind: 'create' }] });
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toMatch(/^operations\.0/);
  });

  it('resolves conflicts by server order: concurrent updates, same key, delete over update', async () => {
    const { app } = server();
    const one = replica(app);
    const two = replica(app);
    const shared = (await one.add({ content: 'the deploy day is Tuesday' })).memory;
    await one.sync.now();
    await two.sync.now();
    // Concurrent updates of one memory: the later push wins, the earlier stays in history.
    await one.update(shared.id, { content: 'the deploy day is Wednesday' });
    await two.update(shared.id, { content: 'the deploy day is Thursday' });
    await one.sync.now();
    await two.sync.now();
    await one.sync.now();
    expect((await one.get(shared.id))?.content).toBe('the deploy day is Thursday');
    expect((await two.get(shared.id))?.content).toBe('the deploy day is Thursday');
    // Same key written on both replicas: one memory, the later write's content.
    const keyedOne = (await one.add({ content: 'editor: vim', key: 'editor' })).memory;
    const keyedTwo = (await two.add({ content: 'editor: helix', key: 'editor' })).memory;
    await one.sync.now();
    await two.sync.now();
    await one.sync.now();
    const editors = async (memory: Memory) => (await memory.list({ limit: 100 })).items.filter((item) => item.key === 'editor');
    expect((await editors(one)).map((item) => [item.id, item.content])).toEqual([[keyedOne.id, 'editor: helix']]);
    expect((await editors(two)).map((item) => [item.id, item.content])).toEqual([[keyedOne.id, 'editor: helix']]);
    expect(await two.get(keyedTwo.id)).toBeNull();
    // Delete on one, update on the other: the delete wins everywhere.
    await one.delete(shared.id);
    await two.update(shared.id, { content: 'the deploy day is Friday' });
    await one.sync.now();
    await two.sync.now();
    await one.sync.now();
    expect(await one.get(shared.id)).toBeNull();
    expect(await two.get(shared.id)).toBeNull();
    expect(await contents(one)).toEqual(await contents(two));
  });
});
