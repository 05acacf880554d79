import { hashEmbedder, inMemoryStore, Memory, type MemoryRecord } from '@engram/core';
import { type ServerHandle, serve, tenantMemoryFactory } from '@engram/rest';
import { afterAll, describe, expect, it } from 'vitest';
import { usePostgres } from './support/postgres.js';

/**
 * Sync against servers on Postgres (a throwaway cluster): two REST servers on one database, as
 * behind a load balancer, each replica talking to a different one. Changes pushed through either
 * reach both replicas; the conflict policy holds across servers.
 */
const postgres = usePostgres();
const suite = postgres.skip ? describe.skip : describe;
const key = 'pg-sync-key-0123456789abcdef';
const servers: ServerHandle[] = [];
const memories: Memory[] = [];

afterAll(async () => {
  for (const memory of memories) await memory.close().catch(() => {});
  for (const server of servers) await server.close();
});

async function start(): Promise<ServerHandle> {
  const server = await serve({
    memory: tenantMemoryFactory({ store: { kind: 'postgres', connectionString: postgres.url }, embedder: 'hash' }),
    auth: { keys: { sync_pg: key } },
    port: 0,
    rateLimit: false,
    log: () => {},
  });
  servers.push(server);
  return server;
}

function replica(url: string): Memory {
  const memory = new Memory({
    store: inMemoryStore(),
    embedder: hashEmbedder(),
    logger: false,
    sync: { url, apiKey: key, interval: '1h', pushDelayMs: false },
  });
  memories.push(memory);
  return memory;
}

const view = async (memory: Memory) =>
  (await memory.list({ limit: 1000, includeSuperseded: true })).items
    .map((record: MemoryRecord) => [record.id, record.content, record.supersededBy])
    .sort();

suite(`sync on Postgres${postgres.skip ? ` (skipped: ${postgres.skip})` : ''}`, () => {
  it('converges two replicas talking to two servers on one database', async () => {
    const [first, second] = [await start(), await start()];
    const one = replica(first.url);
    const two = replica(second.url);
    const a = (await one.add({ content: 'the staging database is Postgres 15' })).memory;
    const b = (await two.add({ content: 'the staging database is Postgres 16 since May' })).memory;
    await one.sync.now();
    await two.sync.now();
    await one.sync.now();
    await one.resolve(b.id, a.id, { reason: 'upgraded' });
    await two.update(b.id, { tags: ['staging'] });
    await two.add({ content: 'the staging database is Postgres 15' }); // a duplicate of a: merged on the server
    await one.sync.now();
    await two.sync.now();
    await one.sync.now();
    expect(await view(two)).toEqual(await view(one));
    expect((await two.get(a.id))?.supersededBy).toBe(b.id);
    expect((await one.get(b.id))?.tags).toEqual(['staging']);
    expect((await one.relations(a.id)).map((edge) => edge.type)).toEqual(['contradicts']);
    expect((await two.relations(a.id)).map((edge) => edge.type)).toEqual(['contradicts']);
  });
});
