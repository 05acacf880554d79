import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type McpServerHandle, startMcpServer } from '@engram/mcp';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/**
 * MCP over HTTP with API keys: each key's tenant bounds every tool. Tenant A (key A) tries every
 * tool on tenant B's memories, by id, by user_id, by filter and by link; all of it must look
 * like B's memories do not exist.
 */
interface ToolResult {
  isError?: boolean;
  content: Array<{ type: string; text: string }>;
  structuredContent?: Record<string, unknown>;
}

const keys = { team_a: 'mcp-key-of-team-a-0123456789', team_b: 'mcp-key-of-team-b-0123456789' };
const directory = mkdtempSync(join(tmpdir(), 'engram-mcp-tenants-'));
let server: McpServerHandle;
const clients: Client[] = [];

async function connect(key: string | undefined): Promise<Client> {
  const client = new Client({ name: 'tenant-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(
      new URL(server.url as string),
      key ? { requestInit: { headers: { Authorization: `Bearer ${key}` } } } : {},
    ),
  );
  clients.push(client);
  return client;
}

async function tool(client: Client, name: string, args: Record<string, unknown>): Promise<ToolResult> {
  return (await client.callTool({ name, arguments: args })) as ToolResult;
}

let a: Client;
let b: Client;
let bId: string;
let bOther: string;
const secret = 'Team B vault combination is 4-8-15-16';

beforeAll(async () => {
  server = await startMcpServer({
    transport: 'http',
    port: 0,
    path: join(directory, 'memory.db'),
    embedder: 'hash',
    userId: 'alice',
    keys,
    compat: true,
    warmUp: false,
    env: {},
    log: () => {},
  });
  a = await connect(keys.team_a);
  b = await connect(keys.team_b);
  const stored = await tool(b, 'memory_store', { content: secret, user_id: 'carol', tags: ['vault'] });
  bId = (stored.structuredContent?.memory as { id: string }).id;
  bOther = (
    (await tool(b, 'memory_store', { content: 'Team B standup is at 9', user_id: 'carol' })).structuredContent?.memory as { id: string }
  ).id;
  await tool(b, 'memory_link', { source_id: bId, target_id: bOther, type: 'related', user_id: 'carol' });
  await tool(a, 'memory_store', { content: 'Team A ships on Mondays' });
});

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => {});
  await server?.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('MCP over HTTP with API keys', () => {
  it('refuses requests without a valid key', async () => {
    await expect(connect(undefined)).rejects.toThrow(/401|Unauthorized/);
    await expect(connect('not-a-key-0123456789')).rejects.toThrow(/401|Unauthorized/);
  });

  it("keeps every tool of tenant A away from tenant B's memories, whatever user_id it sends", async () => {
    expect(bId).toBeTruthy();
    const byId: Array<[string, Record<string, unknown>]> = [
      ['memory_get', { id: bId, user_id: 'carol' }],
      ['memory_update', { id: bId, content: 'overwritten', user_id: 'carol' }],
      ['memory_delete', { id: bId, user_id: 'carol' }],
      ['memory_link', { source_id: bId, target_id: bOther, type: 'supports', user_id: 'carol' }],
      ['memory_resolve', { winner_id: bOther, loser_id: bId, user_id: 'carol' }],
      ['memory_graph', { action: 'connected', id: bId, user_id: 'carol' }],
      ['memory_graph', { action: 'subgraph', id: bId }],
      ['memory_graph', { action: 'path', from: bId, to: bOther }],
      ['get_memory', { memory_id: bId }],
      ['delete_memory', { memory_id: bId, user_id: 'carol' }],
      ['update_memory', { memory_id: bId, data: 'overwritten' }],
    ];
    for (const [name, args] of byId) {
      const result = await tool(a, name, args);
      expect(result.isError, `${name} ${JSON.stringify(args)}: ${result.content[0]?.text}`).toBe(true);
      expect(result.content[0]?.text).toMatch(/does not exist|not found/i);
    }
    const unlink = await tool(a, 'memory_unlink', { source_id: bId, target_id: bOther, type: 'related' });
    expect(JSON.stringify(unlink.structuredContent ?? unlink.content)).toMatch(/"removed":0|does not exist/i);

    const reads: Array<[string, Record<string, unknown>]> = [
      ['memory_search', { query: secret, user_id: 'carol' }],
      ['memory_search', { query: 'vault combination' }],
      ['memory_list', { user_id: 'carol' }],
      ['memory_list', {}],
      ['memory_context', { query: 'vault combination', user_id: 'carol' }],
      ['memory_stats', { user_id: 'carol' }],
      ['retrieve_memory', { query: 'vault combination' }],
      ['search_by_tag', { tags: ['vault'] }],
      ['search_memories', { query: 'vault combination', user_id: 'carol' }],
      ['get_memories', { user_id: 'carol' }],
      ['recall_memory', { query: 'vault combination last week', user_id: 'carol' }],
      ['check_database_health', { user_id: 'carol' }],
    ];
    for (const [name, args] of reads) {
      const result = await tool(a, name, args);
      const text = JSON.stringify(result);
      // Queries are echoed back, so look for B's ids and B's other memory, never asked for.
      expect(text, `${name} ${JSON.stringify(args)}`).not.toContain(bId);
      expect(text, `${name} ${JSON.stringify(args)}`).not.toContain(bOther);
      expect(text).not.toContain('standup');
    }
    const own0 = (await tool(b, 'memory_get', { id: bId, user_id: 'carol' })).structuredContent;
    const stats = (await tool(a, 'memory_stats', {})).structuredContent as { total: number };
    expect(stats.total).toBe(1);
    const wipe = await tool(a, 'delete_all_memories', { user_id: 'carol' });
    expect(wipe.isError ?? false).toBe(false);
    const byHash = await tool(a, 'delete_memory', { content_hash: (own0 as { memory: { content_hash: string } }).memory.content_hash });
    expect(JSON.stringify(byHash)).not.toContain(bId);

    // B still has everything, untouched.
    const own = (await tool(b, 'memory_get', { id: bId, user_id: 'carol', include_relations: true })).structuredContent as {
      memory: { content: string };
      relations: unknown[];
    };
    expect(own.memory.content).toBe(secret);
    expect(own.relations).toHaveLength(1);
    expect(((await tool(b, 'memory_stats', { user_id: 'carol' })).structuredContent as { total: number }).total).toBe(2);
  });

  it('gives each tenant its own consolidation archive: applying and forgetting work on keyed tenant stores', async () => {
    const stored = await tool(a, 'memory_store', { content: 'Team A temporary scratch note', user_id: 'dave' });
    const scratch = (stored.structuredContent?.memory as { id: string }).id;
    const applied = await tool(a, 'memory_consolidate', { apply: true, steps: ['relevance', 'forgetting'] });
    expect(applied.isError ?? false, applied.content[0]?.text).toBe(false);
    expect((applied.structuredContent as { dry_run: boolean }).dry_run).toBe(false);
    const erased = await tool(a, 'memory_forget', { id: scratch, confirm: true, user_id: 'dave' });
    expect(erased.isError ?? false, erased.content[0]?.text).toBe(false);
    expect((erased.structuredContent as { forgotten: number }).forgotten).toBe(1);
    // Nothing was old enough to forget: the archive file is only created when something is archived.
    expect(existsSync(join(directory, 'memory.tenants', 'team_b.archive.jsonl'))).toBe(false);
  });
});

describe('MCP over HTTP with API keys and --consolidate-every', () => {
  it('consolidates every tenant with a key, each into its own archive', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'engram-mcp-tenant-schedule-'));
    const logs: string[] = [];
    const scheduled = await startMcpServer({
      transport: 'http',
      port: 0,
      path: join(folder, 'memory.db'),
      embedder: 'hash',
      keys,
      warmUp: false,
      env: {},
      consolidateEvery: 60_000,
      log: (message) => logs.push(message),
    });
    try {
      expect(logs.join('\n')).toContain("consolidating every tenant's store every 1 min");
      const { tenantMemoryFactory } = await import('@engram/rest');
      // Faded memories written straight into each tenant's store (the MCP tools cannot backdate).
      const factory = tenantMemoryFactory({ store: { kind: 'sqlite', path: join(folder, 'memory.db') }, embedder: 'hash' });
      for (const tenant of ['team_a', 'team_b']) {
        const memory = await factory(tenant);
        await memory.add({ content: `${tenant} opened a file long ago`, importance: 0.05, createdAt: Date.now() - 500 * 86_400_000 });
        await memory.close();
      }
      // The scheduled run, without waiting a minute: the same call the timer makes.
      const { consolidationTenants, apiKeys } = await import('@engram/rest');
      expect(await consolidationTenants(apiKeys({ keys }))).toEqual(['team_a', 'team_b']);
      await vi.waitFor(
        async () => {
          await scheduled.consolidateNow?.();
          for (const tenant of ['team_a', 'team_b']) {
            const archive = join(folder, 'memory.tenants', `${tenant}.archive.jsonl`);
            expect(existsSync(archive)).toBe(true);
            expect(readFileSync(archive, 'utf8')).toContain(`${tenant} opened a file long ago`);
          }
        },
        { timeout: 10_000, interval: 200 },
      );
      expect(logs.some((line) => line.startsWith('consolidation of tenant team_a: 1 scanned, 1 forgotten'))).toBe(true);
    } finally {
      await scheduled.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
