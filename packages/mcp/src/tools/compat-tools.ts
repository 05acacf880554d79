import { type Memory, type MemoryRecord, NotFoundError, parseTimeWindow, type Scope } from '@engram/core';
import { z } from 'zod';
import { deleteMatching } from './memory-tools.js';
import { collectStats, statsText } from './stats-tool.js';
import { type AnyToolDefinition, defined, defineTool, invalid, plural, scopeArguments, scopeOf, visibleMemory } from './tool-kit.js';
import { hitView, memoryLine, memoryView } from './views.js';

// Names and arguments that clients of two reference servers already use: mcp-memory-service
// (store_memory, retrieve_memory, recall_memory, search_by_tag, delete_memory,
// check_database_health) and mem0's MCP server (add_memory, search_memories, get_memories,
// get_memory, update_memory, delete_memory, delete_all_memories). Their schemas are lenient:
// unknown arguments those servers accept are ignored rather than refused.

const tagsArgument = z
  .union([z.array(z.string().max(200)).max(100), z.string().max(2000)])
  .describe('Tags, as a list or a comma-separated string.');

function tagsOf(value: string[] | string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : value.split(',');
  const tags = list.map((tag) => tag.trim()).filter((tag) => tag.length > 0);
  return tags.length > 0 ? tags : undefined;
}

const limitArgument = z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100');

function hitsText(query: string, hits: Array<{ memory: MemoryRecord; score: number }>): string {
  return hits.length === 0
    ? `No memories match ${JSON.stringify(query)}.`
    : `${plural(hits.length, 'memory')} for ${JSON.stringify(query)}:\n${hits.map((hit, index) => `${index + 1}. ${memoryLine(hit.memory, { score: hit.score })}`).join('\n')}`;
}

function listText(records: MemoryRecord[]): string {
  return records.length === 0 ? 'No memories.' : records.map((record) => `- ${memoryLine(record, { max: 300 })}`).join('\n');
}

/** mem0 passes scope inside `filters` ({ user_id } or { AND: [{ user_id }, …] }): pick the ids out. */
function scopeFromFilters(filters: unknown): { user_id?: string; agent_id?: string; run_id?: string } {
  const found: Record<string, string> = {};
  const visit = (value: unknown, depth: number) => {
    if (depth > 4 || typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    for (const [name, entry] of Object.entries(value)) {
      if ((name === 'user_id' || name === 'agent_id' || name === 'run_id') && typeof entry === 'string' && !(name in found))
        found[name] = entry;
      else visit(entry, depth + 1);
    }
  };
  visit(filters, 0);
  return found;
}

/**
 * Splits a natural time expression out of a question ("what did we decide last week about auth"
 * → "last week" + "what did we decide about auth"): the longest run of words that parses.
 */
export function splitTimeExpression(query: string, now?: Date): { time?: string; rest: string } {
  const words = query.trim().split(/\s+/).slice(0, 60);
  for (let size = Math.min(6, words.length); size >= 1; size--) {
    for (let start = 0; start + size <= words.length; start++) {
      const candidate = words
        .slice(start, start + size)
        .join(' ')
        .replace(/[?.!,;:]+$/, '');
      // "may" alone is far more often the verb than the month.
      if (!/[a-z0-9]/i.test(candidate) || /^may$/i.test(candidate)) continue;
      try {
        parseTimeWindow(candidate, now ? { now } : {});
      } catch {
        continue;
      }
      return { time: candidate, rest: [...words.slice(0, start), ...words.slice(start + size)].join(' ') };
    }
  }
  return { rest: query.trim() };
}

// ---------------------------------------------------------------- mcp-memory-service

const storeMemory = defineTool({
  name: 'store_memory',
  title: 'Store a memory (compat)',
  description: 'Compatibility alias of memory_store (mcp-memory-service).',
  input: z.object({
    content: z.string({ error: 'required (the text to remember)' }).min(1, 'must not be empty'),
    tags: tagsArgument.optional(),
    memory_type: z.string().max(100).optional().describe('The type (see memory_store).'),
    type: z.string().max(100).optional(),
    metadata: z.record(z.string(), z.unknown()).optional().describe('May also carry tags and type.'),
    ...scopeArguments,
  }),
  kind: 'write',
  async run(args, context) {
    const memory = await context.memory();
    const { tags: metadataTags, type: metadataType, ...metadata } = args.metadata ?? {};
    const tags =
      tagsOf(args.tags) ??
      (typeof metadataTags === 'string' || Array.isArray(metadataTags) ? tagsOf(metadataTags as string | string[]) : undefined);
    const type = args.memory_type ?? args.type ?? (typeof metadataType === 'string' ? metadataType : undefined);
    const result = await memory.add(
      defined({
        content: args.content,
        tags,
        type,
        metadata: Object.keys(metadata).length > 0 ? metadata : undefined,
        scope: scopeOf(args, context.defaults),
      }),
    );
    return {
      text: `${result.status === 'duplicate' ? 'Already stored' : 'Stored'}: ${memoryLine(result.memory)}`,
      data: { success: true, status: result.status, content_hash: result.memory.contentHash, memory: memoryView(result.memory) },
    };
  },
});

const searchArguments = {
  query: z.string({ error: 'required (what to look for)' }).max(100_000),
  n_results: limitArgument.optional().describe('How many results. Default 5.'),
  ...scopeArguments,
};

const retrieveMemory = defineTool({
  name: 'retrieve_memory',
  title: 'Retrieve memories (compat)',
  description: 'Compatibility alias of memory_search (mcp-memory-service).',
  input: z.object(searchArguments),
  kind: 'read',
  async run(args, context) {
    const memory = await context.memory();
    const hits = await memory.search(args.query, { scope: scopeOf(args, context.defaults), limit: args.n_results ?? 5 });
    return { text: hitsText(args.query, hits), data: { query: args.query, count: hits.length, hits: hits.map(hitView) } };
  },
});

const recallMemory = defineTool({
  name: 'recall_memory',
  title: 'Recall memories by time (compat)',
  description:
    'Compatibility tool (mcp-memory-service): a question with a time expression, e.g. "what did we decide last week about auth". ' +
    'The time expression filters, the rest is searched.',
  input: z.object(searchArguments),
  kind: 'read',
  async run(args, context) {
    const memory = await context.memory();
    const { time, rest } = splitTimeExpression(args.query);
    const scope = scopeOf(args, context.defaults);
    const limit = args.n_results ?? 5;
    if (
      rest.replace(/\b(what|did|we|i|do|from|in|during|since|on|about|the|happened|memories|remember)\b/gi, '').trim().length === 0 &&
      time
    ) {
      // Only a time: list what was stored then.
      const page = await memory.list({ scope, time, limit });
      return {
        text: `${plural(page.items.length, 'memory')} from ${time}:\n${listText(page.items)}`,
        data: { time, count: page.items.length, items: page.items.map(memoryView) },
      };
    }
    const hits = await memory.search(rest, defined({ scope, time, limit }));
    return {
      text: `${time ? `(${time}) ` : ''}${hitsText(rest, hits)}`,
      data: { query: rest, ...(time ? { time } : {}), count: hits.length, hits: hits.map(hitView) },
    };
  },
});

const searchByTag = defineTool({
  name: 'search_by_tag',
  title: 'Find memories by tag (compat)',
  description: 'Compatibility tool (mcp-memory-service): memories with any of the tags (all of them with match_all), newest first.',
  input: z.object({
    tags: tagsArgument,
    match_all: z.boolean().optional(),
    limit: limitArgument.optional(),
    ...scopeArguments,
  }),
  kind: 'read',
  async run(args, context) {
    const tags = tagsOf(args.tags);
    if (!tags) throw invalid('tags', 'is required: at least one tag');
    const memory = await context.memory();
    const page = await memory.list({
      scope: scopeOf(args, context.defaults),
      tags: args.match_all ? { all: tags } : tags,
      limit: args.limit ?? 20,
    });
    return { text: listText(page.items), data: { count: page.items.length, items: page.items.map(memoryView) } };
  },
});

async function byContentHash(memory: Memory, hash: string, scope: Scope): Promise<MemoryRecord> {
  await memory.ready();
  const [record] = await memory.store.findByHashes(scope, [hash.trim().toLowerCase()]);
  if (!record) throw new NotFoundError('Memory', hash);
  return record;
}

const deleteMemory = defineTool({
  name: 'delete_memory',
  title: 'Delete a memory (compat)',
  description: 'Compatibility tool: delete one memory by memory_id (mem0) or content_hash (mcp-memory-service).',
  input: z.object({
    memory_id: z.string().trim().min(1).max(256).optional(),
    id: z.string().trim().min(1).max(256).optional(),
    content_hash: z.string().trim().min(1).max(128).optional(),
    ...scopeArguments,
  }),
  kind: 'destructive',
  idempotent: true,
  async run(args, context) {
    const memory = await context.memory();
    const scope = scopeOf(args, context.defaults);
    const id = args.memory_id ?? args.id;
    if (id === undefined && args.content_hash === undefined) throw invalid('memory_id', 'or content_hash is required');
    const record =
      id !== undefined ? await visibleMemory(memory, id, scope) : await byContentHash(memory, args.content_hash as string, scope);
    await memory.delete(record.id);
    return {
      text: `Deleted: ${memoryLine(record, { max: 200 })}`,
      data: { success: true, deleted: 1, id: record.id, content_hash: record.contentHash },
    };
  },
});

const checkDatabaseHealth = defineTool({
  name: 'check_database_health',
  title: 'Check the store (compat)',
  description: 'Compatibility alias of memory_stats (mcp-memory-service).',
  input: z.object({ ...scopeArguments }),
  kind: 'read',
  async run(args, context) {
    const stats = await collectStats(args, context);
    return { text: statsText(stats), data: { status: stats.health.ok ? 'healthy' : 'unhealthy', ...stats } };
  },
});

// ---------------------------------------------------------------- mem0

const addMemory = defineTool({
  name: 'add_memory',
  title: 'Add a memory (compat)',
  description: 'Compatibility alias of memory_store (mem0): text, or messages joined into one memory.',
  input: z.object({
    text: z.string().min(1, 'must not be empty').optional(),
    content: z.string().min(1, 'must not be empty').optional(),
    messages: z
      .array(z.object({ role: z.string(), content: z.string() }))
      .max(200)
      .optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    ...scopeArguments,
  }),
  kind: 'write',
  async run(args, context) {
    const text = args.text ?? args.content ?? args.messages?.map((message) => `${message.role}: ${message.content}`).join('\n');
    if (!text) throw invalid('text', 'is required: the text to remember (or messages)');
    const memory = await context.memory();
    const result = await memory.add(
      defined({
        content: text,
        type: args.messages && !args.text && !args.content ? 'conversation' : undefined,
        metadata: args.metadata,
        scope: scopeOf(args, context.defaults),
      }),
    );
    return {
      text: `${result.status === 'duplicate' ? 'Already stored' : 'Stored'}: ${memoryLine(result.memory)}`,
      data: {
        results: [
          {
            id: result.memory.id,
            memory: result.memory.content,
            event: result.status === 'created' ? 'ADD' : result.status === 'updated' ? 'UPDATE' : 'NONE',
          },
        ],
      },
    };
  },
});

const searchMemories = defineTool({
  name: 'search_memories',
  title: 'Search memories (compat)',
  description: 'Compatibility alias of memory_search (mem0).',
  input: z.object({
    query: z.string({ error: 'required (what to look for)' }).max(100_000),
    limit: limitArgument.optional(),
    filters: z.record(z.string(), z.unknown()).optional().describe('mem0-style filters: user_id, agent_id and run_id are honoured.'),
    ...scopeArguments,
  }),
  kind: 'read',
  async run(args, context) {
    const memory = await context.memory();
    const scope = scopeOf(
      { ...scopeFromFilters(args.filters), ...defined({ user_id: args.user_id, agent_id: args.agent_id, run_id: args.run_id }) },
      context.defaults,
    );
    const hits = await memory.search(args.query, { scope, limit: args.limit ?? 10 });
    return {
      text: hitsText(args.query, hits),
      data: {
        results: hits.map((hit) => ({
          id: hit.memory.id,
          memory: hit.memory.content,
          score: hitView(hit).score,
          metadata: hit.memory.metadata,
          created_at: hit.memory.createdAt.toISOString(),
        })),
      },
    };
  },
});

const getMemories = defineTool({
  name: 'get_memories',
  title: 'List memories (compat)',
  description: 'Compatibility alias of memory_list (mem0): newest first, paged with page and page_size.',
  input: z.object({
    page: z.number().int().min(1).max(10_000).optional(),
    page_size: limitArgument.optional(),
    limit: limitArgument.optional(),
    filters: z.record(z.string(), z.unknown()).optional(),
    ...scopeArguments,
  }),
  kind: 'read',
  async run(args, context) {
    const memory = await context.memory();
    const scope = scopeOf(
      { ...scopeFromFilters(args.filters), ...defined({ user_id: args.user_id, agent_id: args.agent_id, run_id: args.run_id }) },
      context.defaults,
    );
    const size = args.page_size ?? args.limit ?? 50;
    const page = args.page ?? 1;
    let cursor: string | undefined;
    let items: MemoryRecord[] = [];
    for (let index = 1; index <= page; index++) {
      const result = await memory.list({ scope, limit: size, ...(cursor ? { cursor } : {}) });
      items = result.items;
      cursor = result.nextCursor ?? undefined;
      if (!cursor && index < page) {
        items = [];
        break;
      }
    }
    return {
      text: listText(items),
      data: {
        page,
        page_size: size,
        results: items.map((record) => ({
          id: record.id,
          memory: record.content,
          metadata: record.metadata,
          created_at: record.createdAt.toISOString(),
        })),
      },
    };
  },
});

const getMemory = defineTool({
  name: 'get_memory',
  title: 'Get a memory (compat)',
  description: 'Compatibility alias of memory_get (mem0).',
  input: z.object({ memory_id: z.string({ error: 'required' }).trim().min(1).max(256), ...scopeArguments }),
  kind: 'read',
  async run(args, context) {
    const memory = await context.memory();
    const record = await visibleMemory(memory, args.memory_id, scopeOf(args, context.defaults));
    return { text: memoryLine(record, { max: 100_000 }), data: { ...memoryView(record), memory: record.content } };
  },
});

const updateMemory = defineTool({
  name: 'update_memory',
  title: 'Update a memory (compat)',
  description: 'Compatibility alias of memory_update (mem0): replaces the text.',
  input: z.object({
    memory_id: z.string({ error: 'required' }).trim().min(1).max(256),
    text: z.string().min(1, 'must not be empty').optional(),
    data: z.string().min(1, 'must not be empty').optional(),
    ...scopeArguments,
  }),
  kind: 'destructive',
  idempotent: true,
  async run(args, context) {
    const text = args.text ?? args.data;
    if (text === undefined) throw invalid('text', 'is required: the new text');
    const memory = await context.memory();
    await visibleMemory(memory, args.memory_id, scopeOf(args, context.defaults));
    const updated = await memory.update(args.memory_id, { content: text });
    return { text: `Updated: ${memoryLine(updated)}`, data: { id: updated.id, memory: updated.content, event: 'UPDATE' } };
  },
});

const deleteAllMemories = defineTool({
  name: 'delete_all_memories',
  title: 'Delete all memories in a scope (compat)',
  description:
    'Compatibility tool (mem0): delete every memory in the scope. Guarded: without confirm: true it is a dry run that only counts.',
  input: z.object({
    confirm: z.boolean().optional().describe('Must be true to really delete. Default false (dry run).'),
    dry_run: z.boolean().optional().describe('Only count. Default true unless confirm is true.'),
    ...scopeArguments,
  }),
  kind: 'destructive',
  idempotent: true,
  async run(args, context) {
    if (args.dry_run === false && args.confirm !== true)
      throw invalid('confirm', 'must be true to delete every memory in the scope (dry_run: false is not enough)');
    const memory = await context.memory();
    const result = await deleteMatching(memory, { scope: scopeOf(args, context.defaults) }, args.confirm !== true || args.dry_run === true);
    const text =
      result.data.dry_run && result.data.matched > 0
        ? result.text.replace('Call again with dry_run: false', 'Call again with confirm: true')
        : result.text;
    return { text, data: result.data };
  },
});

export const compatTools: AnyToolDefinition[] = [
  storeMemory,
  retrieveMemory,
  recallMemory,
  searchByTag,
  deleteMemory,
  checkDatabaseHealth,
  addMemory,
  searchMemories,
  getMemories,
  getMemory,
  updateMemory,
  deleteAllMemories,
];

/** The compatibility names, for docs and tests. */
export const COMPAT_TOOL_NAMES = compatTools.map((tool) => tool.name);
