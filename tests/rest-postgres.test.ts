import { type ServerHandle, serve, tenantMemoryFactory } from '@engram/rest';
import { afterAll, describe, expect, it } from 'vitest';
import { sseReader } from '../packages/rest/src/testing/sse-reader.js';
import { usePostgres } from './support/postgres.js';

/**
 * Two REST servers on one Postgres database (a throwaway cluster), as behind a load balancer:
 * each tenant gets its own schema, and each server's event stream carries the other's writes.
 */
const postgres = usePostgres();
const suite = postgres.skip ? describe.skip : describe;
const keys = { team_a: 'pg-key-of-team-a-0123456789', team_b: 'pg-key-of-team-b-0123456789' };
const servers: ServerHandle[] = [];

afterAll(async () => {
  for (const server of servers) await server.close();
});

async function start(): Promise<ServerHandle> {
  const server = await serve({
    memory: tenantMemoryFactory({ store: { kind: 'postgres', connectionString: postgres.url }, embedder: 'hash' }),
    auth: { keys },
    port: 0,
    rateLimit: false,
    eventPollMs: 50,
    log: () => {},
  });
  servers.push(server);
  return server;
}

function post(server: ServerHandle, path: string, body: unknown, key: string) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

suite(`REST on Postgres${postgres.skip ? ` (skipped: ${postgres.skip})` : ''}`, () => {
  it('keeps tenants in their own schemas and streams every server’s writes to every server', async () => {
    const first = await start();
    const second = await start();
    const stream = sseReader(await fetch(`${first.url}/api/events`, { headers: { authorization: `Bearer ${keys.team_a}` } }));
    await stream.next((event) => event.event === 'comment');

    expect((await post(second, '/api/memories', { content: 'written through the second server' }, keys.team_a)).status).toBe(201);
    expect((await post(second, '/api/memories', { content: 'team b only' }, keys.team_b)).status).toBe(201);
    expect((await post(first, '/api/memories', { content: 'written through the first server' }, keys.team_a)).status).toBe(201);
    const seen = [await stream.next(), await stream.next()].map((event) => JSON.parse(event.data as string).memory.content);
    expect(seen).toEqual(['written through the second server', 'written through the first server']);
    await stream.cancel();

    const schemas = await postgres.pool.query<{ schema_name: string }>(
      "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'engram_t_%' ORDER BY schema_name",
    );
    expect(schemas.rows.map((row) => row.schema_name)).toEqual(['engram_t_team_a', 'engram_t_team_b']);
    const search = await post(first, '/api/search', { query: 'team b only' }, keys.team_a);
    expect(JSON.stringify(await search.json())).not.toContain('team b only');
  });
});
