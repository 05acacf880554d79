import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '@engram/adapters/sqlite';
import { hashEmbedder, inMemoryStore, Memory, type MemoryStore, memoryArchive } from '@engram/core';
import { COMPAT_TOOL_NAMES, createEngramMcpServer, type EngramMcpServerOptions, splitTimeExpression } from '@engram/mcp';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { argumentName } from '../packages/mcp/src/tools/tool-kit.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const backends: Array<[string, () => MemoryStore]> = [
  ['memory', () => inMemoryStore()],
  [
    'sqlite',
    () => {
      const directory = mkdtempSync(join(tmpdir(), 'engram-mcp-test-'));
      directories.push(directory);
      return sqliteStore({ path: join(directory, 'memory.db') });
    },
  ],
];

interface ToolResult {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: test assertions walk structured results
type Data = Record<string, any>;

const PRIMARY_TOOLS = [
  'memory_store',
  'memory_search',
  'memory_context',
  'memory_get',
  'memory_list',
  'memory_update',
  'memory_delete',
  'memory_link',
  'memory_unlink',
  'memory_graph',
  'memory_resolve',
  'memory_stats',
  'memory_forget',
  'memory_consolidate',
  'memory_ingest',
  'memory_reindex',
];

describe.each(backends)('MCP tools on %s', (_name, createStore) => {
  const open: Array<{ client: Client; memory: Memory }> = [];
  afterEach(async () => {
    for (const { client, memory } of open.splice(0)) {
      await client.close();
      await memory.close();
    }
  });

  async function connect(options: Partial<EngramMcpServerOptions> = {}) {
    const memory = new Memory({ store: createStore(), embedder: hashEmbedder({ dimensions: 64 }), logger: false });
    const server = createEngramMcpServer({ memory, log: () => {}, ...options });
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await server.connect(serverTransport);
    const client = new Client({ name: 'engram-test', version: '1.0.0' });
    await client.connect(clientTransport);
    open.push({ client, memory });
    const call = async (name: string, args: Record<string, unknown> = {}) =>
      (await client.callTool({ name, arguments: args })) as ToolResult;
    const ok = async (name: string, args: Record<string, unknown> = {}): Promise<Data> => {
      const result = await call(name, args);
      if (result.isError) throw new Error(`${name} failed: ${result.content[0]?.text}`);
      expect(result.content[0]?.type).toBe('text');
      expect(result.content[0]?.text?.length).toBeGreaterThan(0);
      return result.structuredContent as Data;
    };
    const fails = async (name: string, args: Record<string, unknown>): Promise<string> => {
      const result = await call(name, args);
      expect(result.isError, `${name} should fail`).toBe(true);
      return result.content[0]?.text ?? '';
    };
    return { client, memory, call, ok, fails };
  }

  it('lists the tools with snake_case JSON schemas and annotations', async () => {
    const { client } = await connect();
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(PRIMARY_TOOLS);
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    for (const name of ['memory_search', 'memory_context', 'memory_get', 'memory_list', 'memory_graph', 'memory_stats']) {
      expect(byName.get(name)?.annotations?.readOnlyHint, name).toBe(true);
      expect(byName.get(name)?.annotations?.destructiveHint, name).toBe(false);
    }
    for (const name of ['memory_delete', 'memory_update', 'memory_resolve']) {
      expect(byName.get(name)?.annotations?.destructiveHint, name).toBe(true);
      expect(byName.get(name)?.annotations?.readOnlyHint, name).toBe(false);
    }
    const store = byName.get('memory_store');
    // content is required unless messages is given (with infer): checked when the tool runs.
    expect(store?.inputSchema.required ?? []).toEqual([]);
    expect(Object.keys(store?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining([
        'content',
        'messages',
        'infer',
        'type',
        'tags',
        'metadata',
        'conversation_id',
        'importance',
        'key',
        'user_id',
        'agent_id',
        'run_id',
      ]),
    );
    expect(Object.keys(byName.get('memory_search')?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining([
        'query',
        'content',
        'mode',
        'types',
        'tags',
        'tag_match',
        'time',
        'after',
        'before',
        'limit',
        'include_superseded',
        'expand',
      ]),
    );
    expect(byName.get('memory_graph')?.inputSchema.required).toEqual(['action']);
    for (const tool of tools) {
      expect(tool.outputSchema, `${tool.name} declares its structured result`).toBeDefined();
      expect(tool.description?.length).toBeGreaterThan(20);
    }
  });

  it('stores, reports duplicates and keyed updates, and emits core events', async () => {
    const { ok, memory } = await connect();
    const added: string[] = [];
    memory.on('memory:added', ({ memory: record }) => added.push(record.id));
    const first = await ok('memory_store', {
      content: 'The billing API retries must be idempotent',
      type: 'gotcha',
      tags: ['Billing', 'API'],
      metadata: { file: 'billing.ts' },
      importance: 0.9,
      conversation_id: 'conv-1',
    });
    expect(first.status).toBe('created');
    expect(first.memory).toMatchObject({
      type: 'learning',
      subtype: 'gotcha',
      tags: ['billing', 'api'],
      importance: 0.9,
      conversation_id: 'conv-1',
      metadata: { file: 'billing.ts' },
    });
    expect(added).toEqual([first.memory.id]);
    const again = await ok('memory_store', {
      content: 'The billing API retries must be idempotent',
      conversation_id: 'conv-1',
      type: 'gotcha',
      tags: ['billing', 'api'],
    });
    expect(again.status).toBe('duplicate');
    expect(again.memory.id).toBe(first.memory.id);
    const keyed = await ok('memory_store', { content: 'Deploy with make deploy', key: 'deploy' });
    const updated = await ok('memory_store', { content: 'Deploy with make release', key: 'deploy' });
    expect(updated.status).toBe('updated');
    expect(updated.memory.id).toBe(keyed.memory.id);
    const unknown = await ok('memory_store', { content: 'Something of an odd kind', type: 'strange_kind' });
    expect(unknown.memory.type).toBe('observation');
    expect(unknown.warnings.length).toBe(1);
  });

  it('names the bad argument and keeps serving', async () => {
    const { ok, fails, call } = await connect();
    expect(await fails('memory_store', {})).toMatch(/content/);
    expect(await fails('memory_store', { content: 'x', importance: 2 })).toMatch(/importance/);
    expect(await fails('memory_store', { content: 'x', tags: 'not-a-list' })).toMatch(/tags/);
    expect(await fails('memory_store', { content: 'x', colour: 'blue' })).toMatch(/colour/);
    expect(await fails('memory_search', { query: 'x', limit: 0 })).toMatch(/limit/);
    expect(await fails('memory_search', { query: 'x', limit: 'ten' })).toMatch(/limit/);
    expect(await fails('memory_search', { query: 'x', after: 'not a date' })).toMatch(/after/);
    expect(await fails('memory_search', { query: 'x', time: 'the day the music died' })).toMatch(/Invalid argument time/);
    expect(await fails('memory_search', { query: 'x', mode: 'fuzzy' })).toMatch(/mode/);
    expect(await fails('memory_search', { query: 'x', after: '2025-02-01', before: '2025-01-01' })).toMatch(/Invalid argument after/);
    expect(await fails('memory_search', { query: 'x', where: { priority: { between: 3 } } })).toMatch(/Invalid argument where/);
    expect(await fails('memory_search', { query: 'x', expand_depth: 2 })).toMatch(/expand/);
    expect(await fails('memory_search', { query: 'x', expand: true, expand_types: ['nope'] })).toMatch(
      /Invalid argument expand_types\[0\]/,
    );
    expect(await fails('memory_get', { id: '' })).toMatch(/id/);
    expect(await fails('memory_link', { source_id: 'a', target_id: 'b' })).toMatch(/type/);
    expect(await fails('memory_graph', { action: 'sideways', id: 'x' })).toMatch(/action/);
    expect(await fails('memory_context', { query: 'x', token_budget: 1 })).toMatch(/token_budget/);
    expect(await fails('memory_store', { content: 'x', user_id: '' })).toMatch(/user_id/);
    const unknownTool = await call('memory_teleport', {});
    expect(unknownTool.isError).toBe(true);
    expect((await ok('memory_store', { content: 'still serving after bad calls' })).status).toBe('created');
  });

  it('searches with filters, the content alias, time windows and graph expansion', async () => {
    const { ok, fails } = await connect();
    const bug = (
      await ok('memory_store', { content: 'Checkout times out when the database pool is exhausted', type: 'bug', tags: ['checkout', 'db'] })
    ).memory;
    const fix = (
      await ok('memory_store', {
        content: 'Raised the pool to 50 connections with a 5 second acquire timeout',
        type: 'insight',
        tags: ['db'],
      })
    ).memory;
    await ok('memory_store', {
      content: 'We chose Postgres for the checkout service',
      type: 'tool_choice',
      tags: ['checkout'],
      metadata: { ticket: 'ENG-7' },
    });
    await ok('memory_link', { source_id: fix.id, target_id: bug.id, type: 'fixes' });

    const hits = await ok('memory_search', { query: 'checkout database pool' });
    expect(hits.count).toBeGreaterThan(0);
    expect(hits.hits[0].memory.id).toBe(bug.id);
    expect(hits.hits[0].score).toBeGreaterThan(0);

    const alias = await ok('memory_search', { content: 'checkout database pool' });
    expect(alias.hits[0].memory.id).toBe(bug.id);
    expect(await fails('memory_search', {})).toMatch(/query/);

    const onlyErrors = await ok('memory_search', { query: 'checkout', types: ['error'] });
    expect(onlyErrors.hits.map((hit: Data) => hit.memory.type)).toEqual(['error']);
    const allTags = await ok('memory_search', { query: 'checkout pool', tags: ['checkout', 'db'], tag_match: 'all' });
    expect(allTags.hits.map((hit: Data) => hit.memory.id)).toEqual([bug.id]);
    const anyTags = await ok('memory_search', { query: 'checkout pool postgres', tags: ['checkout', 'db'], limit: 10 });
    expect(anyTags.count).toBe(3);
    const byMetadata = await ok('memory_search', { query: 'checkout', where: { ticket: 'ENG-7' } });
    expect(byMetadata.count).toBe(1);
    expect((await ok('memory_search', { query: 'checkout', time: 'last year' })).count).toBe(0);
    expect((await ok('memory_search', { query: 'checkout', time: 'today' })).count).toBeGreaterThan(0);
    expect((await ok('memory_search', { query: 'checkout', before: '2000-01-01' })).count).toBe(0);
    expect((await ok('memory_search', { query: 'checkout', after: '2000-01-01', mode: 'lexical', limit: 1 })).count).toBe(1);
    expect((await ok('memory_search', { query: 'checkout', as_of: '2000-01-01' })).count).toBe(0);

    const plain = await ok('memory_search', { query: 'Checkout times out', types: ['error'], limit: 5 });
    expect(plain.hits.map((hit: Data) => hit.memory.id)).toEqual([bug.id]);
    const expanded = await ok('memory_search', {
      query: 'Checkout times out',
      types: ['error', 'learning'],
      limit: 5,
      expand: true,
      expand_depth: 1,
      expand_types: ['fixes'],
    });
    expect(expanded.hits.map((hit: Data) => hit.memory.id)).toContain(fix.id);
  });

  it('builds a context block within the token budget', async () => {
    const { ok } = await connect();
    await ok('memory_store', { content: 'Retries on the billing API must be idempotent', type: 'learning', tags: ['billing'] });
    await ok('memory_store', { content: 'Billing webhooks arrive out of order; sort by event time', type: 'gotcha', tags: ['billing'] });
    const context = await ok('memory_context', { query: 'billing webhooks and retries', token_budget: 200 });
    expect(context.text).toContain('Relevant memories');
    expect(context.text).toContain('billing');
    expect(context.tokens).toBeLessThanOrEqual(200);
    expect(context.memory_ids.length).toBe(2);
    const filtered = await ok('memory_context', { query: 'billing', types: ['error'] });
    expect(filtered.memory_ids).toEqual([]);
  });

  it('gets one memory, with links and history, and hides other scopes', async () => {
    const { ok, fails } = await connect({ defaults: { userId: 'alice' } });
    const a = (await ok('memory_store', { content: 'Alice prefers small pull requests' })).memory;
    expect(a.user_id).toBe('alice');
    const b = (await ok('memory_store', { content: 'Alice reviews in the morning' })).memory;
    await ok('memory_link', { source_id: a.id, target_id: b.id, type: 'related' });
    await ok('memory_update', { id: a.id, importance: 0.8 });
    const got = await ok('memory_get', { id: a.id, include_relations: true, include_history: true });
    expect(got.memory.content).toBe('Alice prefers small pull requests');
    expect(got.relations).toHaveLength(1);
    expect(got.history.map((entry: Data) => entry.event)).toEqual(['created', 'updated']);
    expect(await fails('memory_get', { id: '01900000-0000-7000-8000-000000000000' })).toMatch(/does not exist/);

    const bobs = (await ok('memory_store', { content: 'Bob prefers big pull requests', user_id: 'bob' })).memory;
    expect(bobs.user_id).toBe('bob');
    expect(await fails('memory_get', { id: bobs.id })).toMatch(/does not exist/);
    expect((await ok('memory_get', { id: bobs.id, user_id: 'bob' })).memory.id).toBe(bobs.id);
    expect((await ok('memory_search', { query: 'pull requests' })).hits.map((hit: Data) => hit.memory.id)).not.toContain(bobs.id);
    expect((await ok('memory_search', { query: 'pull requests', user_id: 'bob' })).hits.map((hit: Data) => hit.memory.id)).toEqual([
      bobs.id,
    ]);
    expect(await fails('memory_update', { id: bobs.id, content: 'hijacked' })).toMatch(/does not exist/);
    expect(await fails('memory_delete', { id: bobs.id })).toMatch(/does not exist/);
    expect(await fails('memory_link', { source_id: a.id, target_id: bobs.id, type: 'related' })).toMatch(/does not exist/);
  });

  it('lists newest first with a cursor', async () => {
    const { ok } = await connect();
    for (let index = 0; index < 5; index++)
      await ok('memory_store', { content: `note number ${index}`, tags: index % 2 === 0 ? ['even'] : ['odd'] });
    const first = await ok('memory_list', { limit: 2 });
    expect(first.items.map((item: Data) => item.content)).toEqual(['note number 4', 'note number 3']);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await ok('memory_list', { limit: 2, cursor: first.next_cursor });
    expect(second.items.map((item: Data) => item.content)).toEqual(['note number 2', 'note number 1']);
    const even = await ok('memory_list', { tags: ['even'] });
    expect(even.count).toBe(3);
    expect(even.next_cursor).toBeNull();
    expect((await ok('memory_list', { types: ['decision'] })).count).toBe(0);
    expect((await ok('memory_list', { after: '2000-01-01', before: '2999-01-01', time: 'today' })).count).toBe(5);
  });

  it('updates a memory and refuses an empty patch', async () => {
    const { ok, fails, memory } = await connect();
    const updates: string[] = [];
    memory.on('memory:updated', ({ memory: record }) => updates.push(record.content));
    const { id } = (await ok('memory_store', { content: 'Use npm workspaces' })).memory;
    const updated = await ok('memory_update', {
      id,
      content: 'Use pnpm workspaces',
      tags: ['build'],
      type: 'tool_choice',
      metadata: { why: 'speed' },
      importance: 0.7,
    });
    expect(updated.memory).toMatchObject({
      content: 'Use pnpm workspaces',
      tags: ['build'],
      type: 'decision',
      subtype: 'tool_choice',
      metadata: { why: 'speed' },
      importance: 0.7,
    });
    expect(updates).toEqual(['Use pnpm workspaces']);
    expect(await fails('memory_update', { id })).toMatch(/nothing to update/);
    expect(await fails('memory_update', { id, content: '' })).toMatch(/content/);
  });

  it('deletes by id, previews filtered deletes, and refuses an empty filter', async () => {
    const { ok, fails, memory } = await connect();
    const deleted: string[] = [];
    memory.on('memory:deleted', ({ id }) => deleted.push(id));
    const one = (await ok('memory_store', { content: 'temporary note', tags: ['scratch'] })).memory;
    await ok('memory_store', { content: 'another temporary note', tags: ['scratch'] });
    await ok('memory_store', { content: 'a keeper', tags: ['keep'] });

    expect(await fails('memory_delete', {})).toMatch(/refusing to delete every memory/);
    expect(await fails('memory_delete', { dry_run: false })).toMatch(/refusing/);
    expect(await fails('memory_delete', { id: one.id, tags: ['scratch'] })).toMatch(/either an id or a filter/);

    const preview = await ok('memory_delete', { tags: ['scratch'] });
    expect(preview).toMatchObject({ dry_run: true, matched: 2, deleted: 0 });
    expect((await ok('memory_list', {})).count).toBe(3);

    const byId = await ok('memory_delete', { id: one.id });
    expect(byId).toMatchObject({ dry_run: false, deleted: 1, ids: [one.id] });
    expect(deleted).toEqual([one.id]);

    const real = await ok('memory_delete', { tags: ['scratch'], dry_run: false });
    expect(real).toMatchObject({ dry_run: false, matched: 1, deleted: 1 });
    expect((await ok('memory_list', {})).items.map((item: Data) => item.content)).toEqual(['a keeper']);
    expect((await ok('memory_delete', { types: ['decision'], dry_run: false })).deleted).toBe(0);
    expect((await ok('memory_delete', { before: '2000-01-01' })).matched).toBe(0);
  });

  it('links, explores and unlinks', async () => {
    const { ok, fails, memory } = await connect();
    const events: string[] = [];
    memory.on('relation:added', ({ relation }) => events.push(`+${relation.type}`));
    memory.on('relation:removed', ({ relation }) => events.push(`-${relation.type}`));
    const ids: string[] = [];
    for (const content of [
      'deploy failed on friday',
      'the migration locked the users table',
      'run migrations concurrently',
      'unrelated note about lunch',
    ]) {
      ids.push((await ok('memory_store', { content })).memory.id);
    }
    const [failed, cause, fix, lonely] = ids as [string, string, string, string];
    const link = await ok('memory_link', { source_id: cause, target_id: failed, type: 'causes', weight: 0.9 });
    expect(link.relation).toMatchObject({ source_id: cause, target_id: failed, type: 'causes', weight: 0.9 });
    expect(link.created).toBe(true);
    await ok('memory_link', { source_id: fix, target_id: cause, type: 'fixes' });
    expect(await fails('memory_link', { source_id: fix, target_id: cause, type: 'blames' })).toMatch(/Invalid argument type/);
    expect(await fails('memory_link', { source_id: fix, target_id: fix, type: 'related' })).toMatch(/target_id/);

    const connected = await ok('memory_graph', { action: 'connected', id: cause });
    expect(connected.nodes.map((node: Data) => node.id).sort()).toEqual([failed, fix].sort());
    const outOnly = await ok('memory_graph', { action: 'connected', id: cause, direction: 'out' });
    expect(outOnly.nodes.map((node: Data) => node.id)).toEqual([failed]);
    const deep = await ok('memory_graph', { action: 'connected', id: fix, depth: 2, types: ['fixes', 'causes'] });
    expect(deep.neighbors.map((neighbor: Data) => neighbor.distance)).toEqual([1, 2]);

    const path = await ok('memory_graph', { action: 'path', from: fix, to: failed });
    expect(path.found).toBe(true);
    expect(path.nodes.map((node: Data) => node.id)).toEqual([fix, cause, failed]);
    expect(path.edges).toHaveLength(2);
    const none = await ok('memory_graph', { action: 'path', from: fix, to: lonely });
    expect(none).toMatchObject({ found: false, nodes: [] });
    expect(await fails('memory_graph', { action: 'path', from: fix })).toMatch(/Invalid argument to/);
    expect(await fails('memory_graph', { action: 'connected' })).toMatch(/Invalid argument id/);

    const subgraph = await ok('memory_graph', { action: 'subgraph', id: cause });
    expect(subgraph.nodes).toHaveLength(3);
    expect(subgraph.edges).toHaveLength(2);

    expect((await ok('memory_unlink', { source_id: cause, target_id: failed, type: 'causes' })).removed).toBe(1);
    expect((await ok('memory_unlink', { source_id: cause, target_id: failed, type: 'causes' })).removed).toBe(0);
    expect(events).toEqual(['+causes', '+fixes', '-causes']);
  });

  it('resolves a contradiction: the loser leaves search unless include_superseded', async () => {
    const { ok, fails } = await connect();
    const old = (await ok('memory_store', { content: 'The staging database runs on port 5432' })).memory;
    const current = (await ok('memory_store', { content: 'The staging database now runs on port 6432 behind pgbouncer' })).memory;
    const resolved = await ok('memory_resolve', { winner_id: current.id, loser_id: old.id, reason: 'pgbouncer added' });
    expect(resolved.loser.superseded_by).toBe(current.id);
    expect(resolved.loser.valid_to).toEqual(expect.any(String));
    const visible = await ok('memory_search', { query: 'staging database port' });
    expect(visible.hits.map((hit: Data) => hit.memory.id)).toEqual([current.id]);
    const all = await ok('memory_search', { query: 'staging database port', include_superseded: true });
    expect(all.hits.map((hit: Data) => hit.memory.id).sort()).toEqual([current.id, old.id].sort());
    expect(await fails('memory_resolve', { winner_id: current.id, loser_id: current.id })).toMatch(/loser_id/);
    expect(await fails('memory_resolve', { winner_id: old.id, loser_id: current.id })).toMatch(/superseded/);
  });

  it('reports stats and health', async () => {
    const { ok } = await connect({ defaults: { agentId: 'coder' } });
    await ok('memory_store', { content: 'a decision about caching', type: 'decision' });
    await ok('memory_store', { content: 'a bug in the cache', type: 'bug' });
    await ok('memory_store', { content: 'a note for another agent', agent_id: 'reviewer' });
    const stats = await ok('memory_stats');
    expect(stats.health.ok).toBe(true);
    expect(stats.total).toBe(2);
    expect(stats.by_type).toMatchObject({ decision: 1, error: 1, observation: 0, learning: 0, pattern: 0 });
    expect(stats.embedder).toEqual({ id: 'hash-v1-64', dimensions: 64 });
    expect(stats.scope).toEqual({ agent_id: 'coder' });
    expect(stats.store.name).toBeTruthy();
    expect((await ok('memory_stats', { agent_id: 'reviewer' })).total).toBe(1);
  });

  it('offers the memory_guide prompt', async () => {
    const { client } = await connect();
    const { prompts } = await client.listPrompts();
    expect(prompts.map((prompt) => prompt.name)).toEqual(['memory_guide']);
    const guide = await client.getPrompt({ name: 'memory_guide', arguments: { project: 'Engram' } });
    const text = (guide.messages[0]?.content as { text: string }).text;
    expect(text).toContain('Search first');
    expect(text).toContain('project:engram');
    expect(client.getInstructions()).toContain('memory_search');
  });

  it('adds the compatibility names only with compat', async () => {
    const plain = await connect();
    expect((await plain.client.listTools()).tools.map((tool) => tool.name)).toEqual(PRIMARY_TOOLS);
    const { client } = await connect({ compat: true });
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual([...PRIMARY_TOOLS, ...COMPAT_TOOL_NAMES]);
    expect(COMPAT_TOOL_NAMES).toEqual([
      'store_memory',
      'retrieve_memory',
      'recall_memory',
      'search_by_tag',
      'delete_memory',
      'check_database_health',
      'add_memory',
      'search_memories',
      'get_memories',
      'get_memory',
      'update_memory',
      'delete_all_memories',
    ]);
  });

  it('serves the mcp-memory-service names', async () => {
    const { ok, fails } = await connect({ compat: true });
    const stored = await ok('store_memory', {
      content: 'Redis is the session store',
      tags: 'infra, redis',
      memory_type: 'tool_choice',
      metadata: { owner: 'ops' },
    });
    expect(stored.memory).toMatchObject({ tags: ['infra', 'redis'], type: 'decision', metadata: { owner: 'ops' } });
    const viaMetadata = await ok('store_memory', { content: 'Memcached was dropped', metadata: { tags: ['infra'], type: 'decision' } });
    expect(viaMetadata.memory).toMatchObject({ tags: ['infra'], type: 'decision', metadata: {} });
    expect((await ok('retrieve_memory', { query: 'session store', n_results: 3 })).hits[0].memory.content).toBe(
      'Redis is the session store',
    );
    const recalled = await ok('recall_memory', { query: 'what did we store today about redis' });
    expect(recalled.time).toBe('today');
    expect(recalled.hits[0].memory.content).toBe('Redis is the session store');
    expect((await ok('recall_memory', { query: 'last year' })).count).toBe(0);
    expect((await ok('search_by_tag', { tags: ['infra'] })).count).toBe(2);
    expect((await ok('search_by_tag', { tags: 'infra,redis', match_all: true })).count).toBe(1);
    expect(await fails('search_by_tag', { tags: ' , ' })).toMatch(/tags/);
    const health = await ok('check_database_health');
    expect(health).toMatchObject({ status: 'healthy', total: 2 });
    const removed = await ok('delete_memory', { content_hash: stored.content_hash });
    expect(removed.id).toBe(stored.memory.id);
    expect(await fails('delete_memory', { content_hash: stored.content_hash })).toMatch(/does not exist/);
    expect(await fails('delete_memory', {})).toMatch(/memory_id/);
  });

  it('serves the mem0 names, with a guarded delete_all_memories', async () => {
    const { ok, fails } = await connect({ compat: true });
    const added = await ok('add_memory', { text: 'Likes dark mode', user_id: 'u1', metadata: { source: 'chat' } });
    const id = added.results[0].id;
    expect(added.results[0].event).toBe('ADD');
    await ok('add_memory', { messages: [{ role: 'user', content: 'I moved to Lisbon' }], user_id: 'u1' });
    const other = (await ok('add_memory', { text: 'Likes dark mode too', user_id: 'u2' })).results[0].id;
    expect(await fails('add_memory', { user_id: 'u1' })).toMatch(/text/);
    const found = await ok('search_memories', { query: 'dark mode', filters: { AND: [{ user_id: 'u1' }] } });
    expect(found.results[0].id).toBe(id);
    expect(found.results.map((result: Data) => result.id)).not.toContain(other);
    expect((await ok('search_memories', { query: 'dark mode', user_id: 'u2' })).results.map((result: Data) => result.id)).toEqual([other]);
    const page = await ok('get_memories', { user_id: 'u1', page: 1, page_size: 1 });
    expect(page.results).toHaveLength(1);
    expect((await ok('get_memories', { user_id: 'u1', page: 2, page_size: 1 })).results).toHaveLength(1);
    expect((await ok('get_memories', { user_id: 'u1', page: 3, page_size: 1 })).results).toHaveLength(0);
    expect((await ok('get_memory', { memory_id: id, user_id: 'u1' })).memory).toBe('Likes dark mode');
    expect((await ok('update_memory', { memory_id: id, text: 'Likes light mode', user_id: 'u1' })).memory).toBe('Likes light mode');
    expect(await fails('update_memory', { memory_id: id, user_id: 'u1' })).toMatch(/text/);
    expect((await ok('delete_memory', { memory_id: id, user_id: 'u1' })).deleted).toBe(1);

    const dry = await ok('delete_all_memories', { user_id: 'u1' });
    expect(dry).toMatchObject({ dry_run: true, matched: 1, deleted: 0 });
    expect(await fails('delete_all_memories', { user_id: 'u1', dry_run: false })).toMatch(/confirm/);
    const done = await ok('delete_all_memories', { user_id: 'u1', confirm: true });
    expect(done).toMatchObject({ dry_run: false, deleted: 1 });
    expect((await ok('get_memories', { user_id: 'u2' })).results).toHaveLength(1);
  });
});

describe('MCP server with a lazily built memory', () => {
  it('reports a failing store as a tool error, keeps serving, and retries', async () => {
    let attempts = 0;
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder({ dimensions: 16 }), logger: false });
    const server = createEngramMcpServer({
      memory: async () => {
        attempts++;
        if (attempts === 1) throw new Error('the disk is on fire');
        return memory;
      },
      log: () => {},
    });
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await server.connect(serverTransport);
    const client = new Client({ name: 'engram-test', version: '1.0.0' });
    await client.connect(clientTransport);
    const failed = (await client.callTool({ name: 'memory_store', arguments: { content: 'x' } })) as ToolResult;
    expect(failed.isError).toBe(true);
    expect(failed.content[0]?.text).toContain('the disk is on fire');
    const stored = (await client.callTool({ name: 'memory_store', arguments: { content: 'x' } })) as ToolResult;
    expect(stored.isError).toBeFalsy();
    expect(attempts).toBe(2);
    await client.close();
    await memory.close();
  });

  it('reports an unhealthy store in memory_stats instead of failing', async () => {
    const server = createEngramMcpServer({ memory: () => Promise.reject(new Error('cannot open /nope/memory.db')), log: () => {} });
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await server.connect(serverTransport);
    const client = new Client({ name: 'engram-test', version: '1.0.0' });
    await client.connect(clientTransport);
    const result = (await client.callTool({ name: 'memory_stats', arguments: {} })) as ToolResult;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ health: { ok: false, error: 'cannot open /nope/memory.db' } });
    await client.close();
  });
});

describe('argument names in errors', () => {
  it('maps core field paths to tool arguments', () => {
    expect(argumentName('options.includeSuperseded')).toBe('include_superseded');
    expect(argumentName('scope.userId')).toBe('user_id');
    expect(argumentName('options.scope.agentId')).toBe('agent_id');
    expect(argumentName('options.expand.types.0')).toBe('expand_types[0]');
    expect(argumentName('fromId')).toBe('from');
    expect(argumentName('options.maxDepth')).toBe('depth');
    expect(argumentName('patch.content')).toBe('content');
    expect(argumentName('time')).toBe('time');
    expect(argumentName('options.where.priority.gt')).toBe('where.priority.gt');
  });

  it('splits a time expression out of a question', () => {
    expect(splitTimeExpression('what did we decide last week about auth')).toEqual({
      time: 'last week',
      rest: 'what did we decide about auth',
    });
    expect(splitTimeExpression('what may break the build')).toEqual({ rest: 'what may break the build' });
    expect(splitTimeExpression('yesterday?')).toEqual({ time: 'yesterday', rest: '' });
  });
});

describe('memory_consolidate', () => {
  async function connect(withArchive: boolean) {
    const archive = memoryArchive();
    const memory = new Memory({
      store: inMemoryStore(),
      embedder: hashEmbedder({ dimensions: 64 }),
      logger: false,
      ...(withArchive ? { consolidation: { archive } } : {}),
    });
    const server = createEngramMcpServer({ memory, log: () => {} });
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await server.connect(serverTransport);
    const client = new Client({ name: 'engram-test', version: '1.0.0' });
    await client.connect(clientTransport);
    const call = async (args: Record<string, unknown>) =>
      (await client.callTool({ name: 'memory_consolidate', arguments: args })) as ToolResult;
    const close = async () => {
      await client.close();
      await memory.close();
    };
    return { memory, archive, call, close };
  }
  const longAgo = new Date(Date.now() - 400 * 86_400_000);

  it('reports a dry run by default and forgets (archived) only with apply', async () => {
    const { memory, archive, call, close } = await connect(true);
    const faded = (await memory.add({ content: 'Opened the settings page once', importance: 0.1, createdAt: longAgo })).memory;
    await memory.add({ content: 'The office wifi is Engram-5G', importance: 0.1, tags: ['keep'], createdAt: longAgo });
    const dry = await call({});
    expect(dry.isError).toBeFalsy();
    expect(dry.content[0]?.text).toContain('1 would be forgotten (protected: 0 linked, 0 important, 0 keyed, 1 keep-tag)');
    expect(dry.content[0]?.text).toContain('Call again with apply: true');
    expect(dry.structuredContent).toMatchObject({ dry_run: true, forgetting: { forgotten: [{ id: faded.id, age_days: 400 }] } });
    expect(await memory.get(faded.id)).not.toBeNull();
    const applied = await call({ apply: true });
    expect(applied.structuredContent).toMatchObject({ dry_run: false, forgetting: { archive: 'memory' } });
    expect(await memory.get(faded.id)).toBeNull();
    expect(archive.entries.map((entry) => entry.record.id)).toEqual([faded.id]);
    await close();
  });

  it('explains that forgetting needs an archive, and rejects unknown steps', async () => {
    const { memory, call, close } = await connect(false);
    await memory.add({ content: 'Opened the settings page once', importance: 0.1, createdAt: longAgo });
    const refused = await call({ apply: true });
    expect(refused.isError).toBe(true);
    expect(refused.content[0]?.text).toContain('forgetting archives every memory before it deletes it');
    const relevance = await call({ apply: true, steps: ['relevance'] });
    expect(relevance.structuredContent).toMatchObject({ relevance: { scored: 1, stored: 1 } });
    const bad = await call({ steps: ['dream'] });
    expect(bad.isError).toBe(true);
    await close();
  });
});

describe('memory_ingest', () => {
  async function connect(allowIngest?: string[]) {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder({ dimensions: 64 }), logger: false });
    const server = createEngramMcpServer({ memory, log: () => {}, ...(allowIngest ? { allowIngest } : {}) });
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await server.connect(serverTransport);
    const client = new Client({ name: 'engram-test', version: '1.0.0' });
    await client.connect(clientTransport);
    const call = async (args: Record<string, unknown>) => (await client.callTool({ name: 'memory_ingest', arguments: args })) as ToolResult;
    const close = async () => {
      await client.close();
      await memory.close();
    };
    return { memory, call, close };
  }

  it('ingests text with a title; reads no file unless the server allows its folder', async () => {
    const { memory, call, close } = await connect();
    const text = await call({ text: '# Deploy\n\n## Rollback\n\nRun deploy --rollback.', title: 'Runbook', format: 'markdown' });
    expect(text.isError).toBeFalsy();
    expect(text.structuredContent).toMatchObject({ failed: 0, chunks: { created: 1 } });
    expect((await memory.search('rollback', { limit: 1 }))[0]?.memory.context).toBe('Runbook > Deploy > Rollback');
    const refused = await call({ paths: ['/etc/hostname'] });
    expect(refused.isError).toBe(true);
    expect(refused.content[0]?.text).toContain('this server reads no files: start it with --allow-ingest <folder>');
    await close();
  });

  it('reads inside the allowed folder only, symbolic links included', async () => {
    const allowed = mkdtempSync(join(tmpdir(), 'engram-mcp-ingest-'));
    const outside = mkdtempSync(join(tmpdir(), 'engram-mcp-outside-'));
    directories.push(allowed, outside);
    writeFileSync(join(allowed, 'notes.md'), '# Notes\n\nThe staging port is 8443.\n');
    writeFileSync(join(outside, 'secret.md'), '# Secret\n\nDo not read me.\n');
    symlinkSync(outside, join(allowed, 'escape'));
    const { memory, call, close } = await connect([allowed]);
    const ok = await call({ paths: ['notes.md'] });
    expect(ok.structuredContent).toMatchObject({ failed: 0, chunks: { created: 1 } });
    for (const path of [join(outside, 'secret.md'), '../secret.md', 'escape/secret.md', `${outside}/**/*.md`]) {
      const refused = await call({ paths: [path] });
      expect(refused.isError, path).toBe(true);
      expect(refused.content[0]?.text).toContain('is outside the folders this server may read');
    }
    // A directory walk does not follow the link either.
    await call({ paths: [allowed] });
    expect((await memory.search('secret', { limit: 5 })).map((hit) => hit.memory.content)).not.toContain('Do not read me.');
    await close();
  });
});

describe('memory_reindex', () => {
  it('removes and rebuilds derived conversation contexts within the default scope', async () => {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder({ dimensions: 64 }), logger: false });
    const server = createEngramMcpServer({ memory, defaults: { userId: 'ada' }, log: () => {} });
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await server.connect(serverTransport);
    const client = new Client({ name: 'engram-test', version: '1.0.0' });
    await client.connect(clientTransport);
    const call = async (args: Record<string, unknown>) =>
      (await client.callTool({ name: 'memory_reindex', arguments: args })) as ToolResult;
    const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 9, minute));
    const [, answer] = await memory.addMany([
      { content: 'Ben: what did you name the puppy?', conversationId: 'chat', scope: { userId: 'ada' }, createdAt: at(0) },
      { content: 'Ada: Biscuit', conversationId: 'chat', scope: { userId: 'ada' }, createdAt: at(1) },
      { content: 'Other: hello', conversationId: 'chat', scope: { userId: 'someone-else' }, createdAt: at(0) },
      { content: 'Other: hi', conversationId: 'chat', scope: { userId: 'someone-else' }, createdAt: at(1) },
    ]);
    const answerId = answer?.memory.id as string;
    const removed = await call({ turns: 0 });
    expect(removed.isError).toBeFalsy();
    expect(removed.structuredContent).toEqual({ conversations: 1, memories: 2, updated: 1 });
    expect(removed.content[0]?.text).toContain('1 of 2 memories in 1 conversation(s)');
    expect((await memory.get(answerId))?.context).toBeUndefined();
    // The other scope is left alone.
    expect((await memory.list({ scope: { userId: 'someone-else' } })).items.some((item) => item.context === 'Other: hello')).toBe(true);
    expect((await call({ conversation_id: 'chat' })).structuredContent).toMatchObject({ updated: 1 });
    expect((await memory.get(answerId))?.context).toBe('Ben: what did you name the puppy?');
    const bad = await call({ turns: 21 });
    expect(bad.isError).toBe(true);
    expect(bad.content[0]?.text).toContain('turns');
    await client.close();
    await memory.close();
  });
});
