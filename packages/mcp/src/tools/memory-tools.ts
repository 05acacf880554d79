import type { Memory, Scope } from '@engram/core';
import { z } from 'zod';
import {
  type AnyToolDefinition,
  defined,
  defineTool,
  idArgument,
  invalid,
  isoDate,
  plural,
  scopeArguments,
  scopeOf,
  TYPE_HELP,
  tagFilter,
  tagList,
  typeList,
  visibleMemory,
} from './tool-kit.js';
import {
  historyView,
  historyViewSchema,
  hitView,
  hitViewSchema,
  memoryBlock,
  memoryLine,
  memoryView,
  memoryViewSchema,
  relationLine,
  relationView,
  relationViewSchema,
} from './views.js';

const metadata = z.record(z.string(), z.unknown()).describe('Free-form JSON object, e.g. {"file": "src/app.ts", "ticket": "ENG-42"}.');
const importance = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
const tagMatch = z.enum(['any', 'all']).describe('any (default): at least one of the tags; all: every tag.');
const mode = z
  .enum(['hybrid', 'vector', 'lexical'])
  .describe('hybrid (default): keywords and meaning; lexical: keywords only; vector: meaning only.');

// ---------------------------------------------------------------- memory_store

const storeInput = z.strictObject({
  content: z
    .string()
    .min(1, 'must not be empty')
    .optional()
    .describe(
      'What to remember: one self-contained fact, decision or lesson (include names and the why). Required unless messages is given.',
    ),
  messages: z
    .array(
      z.strictObject({
        role: z.enum(['user', 'assistant', 'system', 'tool']),
        content: z.string(),
        id: z.string().min(1).max(256).optional(),
      }),
    )
    .min(1)
    .max(500)
    .optional()
    .describe('With infer: a conversation to learn from, oldest first, instead of content.'),
  infer: z
    .boolean()
    .optional()
    .describe(
      'Let the configured model (ENGRAM_MODEL) extract the facts worth keeping from content or messages and reconcile them with what is stored: new facts are added, changed ones replace the old, known ones are left alone. Default false: content is stored as given.',
    ),
  dry_run: z.boolean().optional().describe('With infer: return what would be stored without writing. Default false.'),
  type: z.string().trim().min(1).max(100).optional().describe(`A base type or a subtype. Default observation. ${TYPE_HELP}`),
  tags: tagList.optional().describe('Labels to filter by later, e.g. ["billing", "project:engram"]. Lower-cased.'),
  metadata: metadata.optional(),
  conversation_id: z.string().trim().min(1).max(256).optional().describe('The conversation this came from.'),
  importance: importance.optional().describe('0–1, default 0.5. Use 0.8+ for things that must not be forgotten.'),
  sensitive: z
    .boolean()
    .optional()
    .describe('Encrypt the content at rest (secrets, personal data). Needs the server to have ENGRAM_ENCRYPTION_KEY.'),
  key: z
    .string()
    .trim()
    .min(1)
    .max(256)
    .optional()
    .describe('Your own stable key: storing again with the same key (in the same scope) updates that memory instead of adding one.'),
  ...scopeArguments,
});

const inferredView = z.object({
  memory: memoryViewSchema,
  status: z.enum(['created', 'updated', 'superseded', 'unchanged']),
  replaced_id: z.string().optional(),
});

const memoryStore = defineTool({
  name: 'memory_store',
  title: 'Store a memory',
  description:
    'Remember something for later sessions: a decision and why, a learning or gotcha, a bug and its fix, a user preference. ' +
    'An exact duplicate in the same scope returns the existing memory instead of adding another. ' +
    'With infer: true (when the server has a model), pass raw content or messages and the facts are extracted and reconciled for you.',
  input: storeInput,
  output: z.object({
    memory: memoryViewSchema.optional(),
    status: z.enum(['created', 'duplicate', 'updated']).optional(),
    results: z.array(inferredView).optional(),
    plan: z.record(z.string(), z.unknown()).optional(),
    usage: z.object({ input_tokens: z.number(), output_tokens: z.number(), calls: z.number() }).optional(),
    warnings: z.array(z.string()),
  }),
  kind: 'write',
  async run(args, context) {
    if (args.infer) return storeInferred(args, context);
    if (args.messages !== undefined) throw invalid('messages', 'needs infer: true (or pass the text as content to store it as given)');
    if (args.dry_run !== undefined) throw invalid('dry_run', 'only applies with infer: true');
    if (args.content === undefined) throw invalid('content', 'required (the text to remember)');
    const memory = await context.memory();
    const scope = scopeOf(args, context.defaults);
    const result = await memory.add(
      defined({
        content: args.content,
        type: args.type,
        tags: args.tags,
        metadata: args.metadata,
        conversationId: args.conversation_id,
        importance: args.importance,
        key: args.key,
        sensitive: args.sensitive,
        scope,
      }),
    );
    const verb = { created: 'Stored', duplicate: 'Already stored (exact duplicate, nothing added)', updated: 'Updated (same key)' }[
      result.status
    ];
    const warnings = result.warnings.length > 0 ? `\nWarnings: ${result.warnings.join('; ')}` : '';
    return {
      text: `${verb}: ${memoryLine(result.memory)}${warnings}`,
      data: { memory: memoryView(result.memory), status: result.status, warnings: result.warnings },
    };
  },
});

async function storeInferred(args: z.output<typeof storeInput>, context: Parameters<AnyToolDefinition['run']>[1]) {
  for (const field of ['type', 'importance', 'key'] as const) {
    if (args[field] !== undefined) throw invalid(field, 'does not apply with infer: true (the model chooses types and importance)');
  }
  if ((args.content === undefined) === (args.messages === undefined)) {
    throw invalid(args.content === undefined ? 'messages' : 'content', 'with infer: true, pass either content or messages (one of them)');
  }
  const memory = await context.memory();
  if (!memory.model) {
    throw invalid(
      'infer',
      'needs a language model, and this server has none: set ENGRAM_MODEL (e.g. openai:gpt-4o-mini, ollama:qwen2.5:7b), plus ENGRAM_MODEL_URL and ENGRAM_MODEL_KEY as needed, in its environment',
    );
  }
  const result = await memory.add(
    args.messages ?? (args.content as string),
    defined({
      infer: true as const,
      scope: scopeOf(args, context.defaults),
      conversationId: args.conversation_id,
      tags: args.tags,
      metadata: args.metadata,
      dryRun: args.dry_run,
    }),
  );
  const lines = args.dry_run
    ? result.plan.operations.map((operation) => {
        const fact = result.plan.facts[operation.fact];
        return `- would ${operation.op}${operation.target ? ` ${operation.targetId}` : ''}: ${fact?.content ?? ''} (${operation.reason})`;
      })
    : result.results.map(
        (item) =>
          `- ${item.status}: ${memoryLine(item.memory)}${item.previous && item.status === 'superseded' ? ` (replaces ${item.previous.id})` : ''}`,
      );
  const heading = args.dry_run
    ? `Dry run: ${plural(result.plan.facts.length, 'fact')} extracted, nothing written.`
    : `Learned ${plural(result.results.filter((item) => item.status !== 'unchanged').length, 'change')} from ${plural(result.plan.facts.length, 'fact')}.`;
  const warnings = result.warnings.length > 0 ? `\nWarnings: ${result.warnings.join('; ')}` : '';
  return {
    text: `${heading}${lines.length > 0 ? `\n${lines.join('\n')}` : ''}${warnings}`,
    data: {
      results: result.results.map((item) =>
        defined({
          memory: memoryView(item.memory),
          status: item.status,
          replaced_id: item.status === 'superseded' ? item.previous?.id : undefined,
        }),
      ),
      plan: result.plan as unknown as Record<string, unknown>,
      usage: { input_tokens: result.usage.inputTokens, output_tokens: result.usage.outputTokens, calls: result.usage.calls },
      warnings: result.warnings,
    },
  };
}

// ---------------------------------------------------------------- memory_search

const filterArguments = {
  types: typeList.optional().describe('Only these types or subtypes, e.g. ["decision", "bug"].'),
  tags: tagList.optional().describe('Only memories with these tags (see tag_match).'),
  tag_match: tagMatch.optional(),
  after: isoDate.optional().describe('Created at or after this instant (ISO 8601).'),
  before: isoDate.optional().describe('Created before this instant (ISO 8601).'),
};

const searchInput = z
  .strictObject({
    query: z.string().max(100_000).optional().describe('Required: what you are looking for, in natural language or keywords.'),
    content: z.string().max(100_000).optional().describe('Accepted instead of query (for clients of other memory servers).'),
    mode: mode.optional(),
    ...filterArguments,
    time: z
      .string()
      .max(200)
      .optional()
      .describe('A natural time window: "yesterday", "last week", "3 days ago", "since monday", "between march and may".'),
    as_of: isoDate.optional().describe('See the memories as they stood at this instant (what was true then).'),
    limit: z
      .number()
      .int()
      .min(1, 'must be at least 1')
      .max(100, 'must be at most 100')
      .optional()
      .describe('How many results, 1–100. Default 10.'),
    include_superseded: z.boolean().optional().describe('Also return memories replaced by a newer one (memory_resolve). Default false.'),
    expand: z
      .boolean()
      .optional()
      .describe('Also return memories linked to the best hits (graph neighbours), scored lower. Default false.'),
    expand_depth: z.number().int().min(1).max(5).optional().describe('Hops to follow when expand is true. Default 1.'),
    expand_types: z.array(z.string()).max(50).optional().describe('Relationship types to follow when expand is true. Default all.'),
    where: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'Metadata conditions, e.g. {"ticket": "ENG-42"} or {"priority": {"gt": 3}}; operators eq ne in nin gt gte lt lte contains exists, and/or/not.',
      ),
    ...scopeArguments,
  })
  .superRefine((value, context) => {
    if (value.query === undefined && value.content === undefined) {
      context.addIssue({ code: 'custom', path: ['query'], message: 'required (what to search for; content is accepted instead)' });
    }
  });

function filterOptions(args: {
  types?: string[] | undefined;
  tags?: string[] | undefined;
  tag_match?: 'any' | 'all' | undefined;
  after?: string | undefined;
  before?: string | undefined;
}) {
  return defined({ types: args.types, tags: tagFilter(args.tags, args.tag_match), after: args.after, before: args.before });
}

const memorySearch = defineTool({
  name: 'memory_search',
  title: 'Search memories',
  description:
    'Find what was remembered before: hybrid keyword + semantic search, best first, with filters on type, tags and time. ' +
    'Search before starting a task, and whenever the user refers to earlier work.',
  input: searchInput,
  output: z.object({ query: z.string(), count: z.number(), hits: z.array(hitViewSchema) }),
  kind: 'read',
  async run(args, context) {
    const memory = await context.memory();
    const query = (args.query ?? args.content ?? '').trim();
    const expand = args.expand ? defined({ depth: args.expand_depth, types: args.expand_types }) : undefined;
    if (!args.expand && (args.expand_depth !== undefined || args.expand_types !== undefined)) {
      throw invalid('expand', 'must be true when expand_depth or expand_types is given');
    }
    const hits = await memory.search(
      query,
      defined({
        scope: scopeOf(args, context.defaults),
        ...filterOptions(args),
        mode: args.mode,
        time: args.time,
        asOf: args.as_of,
        limit: args.limit ?? 10,
        includeSuperseded: args.include_superseded,
        expand,
        where: args.where,
      }),
    );
    const text =
      hits.length === 0
        ? `No memories match ${JSON.stringify(query)}.`
        : `${plural(hits.length, 'memory')} for ${JSON.stringify(query)}, best first:\n${hits.map((hit, index) => `${index + 1}. ${memoryLine(hit.memory, { score: hit.score })}`).join('\n')}`;
    return { text, data: { query, count: hits.length, hits: hits.map(hitView) } };
  },
});

// ---------------------------------------------------------------- memory_context

const memoryContext = defineTool({
  name: 'memory_context',
  title: 'Memory context for a task',
  description:
    'The most relevant memories for a task, packed into one prompt-ready block that fits a token budget. ' +
    'Call it at the start of a task with a description of the task.',
  input: z.strictObject({
    query: z.string({ error: 'required (the task or question)' }).max(100_000).describe('The task or question to gather memories for.'),
    token_budget: z
      .number()
      .int()
      .min(16, 'must be at least 16')
      .max(100_000, 'must be at most 100000')
      .optional()
      .describe('Largest size of the block, in tokens (about 4 characters each). Default 1000.'),
    types: filterArguments.types,
    tags: filterArguments.tags,
    tag_match: filterArguments.tag_match,
    time: z.string().max(200).optional().describe('A natural time window, e.g. "last month".'),
    ...scopeArguments,
  }),
  output: z.object({ text: z.string(), tokens: z.number(), memory_ids: z.array(z.string()) }),
  kind: 'read',
  async run(args, context) {
    const memory = await context.memory();
    const result = await memory.context(
      defined({
        query: args.query,
        tokenBudget: args.token_budget ?? 1000,
        scope: scopeOf(args, context.defaults),
        types: args.types,
        tags: tagFilter(args.tags, args.tag_match),
        time: args.time,
      }),
    );
    return {
      text: result.text || `No memories relevant to ${JSON.stringify(args.query)}.`,
      data: { text: result.text, tokens: result.tokens, memory_ids: result.hits.map((hit) => hit.memory.id) },
    };
  },
});

// ---------------------------------------------------------------- memory_get

const memoryGet = defineTool({
  name: 'memory_get',
  title: 'Get a memory',
  description: 'One memory by id, in full; optionally with its links and its change history.',
  input: z.strictObject({
    id: idArgument('The memory id (from memory_search, memory_list or memory_store).'),
    include_relations: z.boolean().optional().describe('Also return its links to other memories. Default false.'),
    include_history: z.boolean().optional().describe('Also return every change made to it, oldest first. Default false.'),
    ...scopeArguments,
  }),
  output: z.object({
    memory: memoryViewSchema,
    relations: z.array(relationViewSchema).optional(),
    history: z.array(historyViewSchema).optional(),
  }),
  kind: 'read',
  async run(args, context) {
    const memory = await context.memory();
    const record = await visibleMemory(memory, args.id, scopeOf(args, context.defaults));
    const data: Record<string, unknown> = { memory: memoryView(record) };
    let text = memoryBlock(record);
    if (args.include_relations) {
      const relations = await memory.relations(record.id);
      data.relations = relations.map(relationView);
      text += `\n\nLinks (${relations.length}):${relations.map((relation) => `\n- ${relationLine(relation)}`).join('') || ' none'}`;
    }
    if (args.include_history) {
      const history = await memory.history(record.id);
      data.history = history.map(historyView);
      text += `\n\nHistory:${history.map((entry) => `\n- ${entry.at.toISOString()} ${entry.event}${Object.keys(entry.changes).length > 0 ? ` (${Object.keys(entry.changes).join(', ')})` : ''}${entry.reason ? `: ${entry.reason}` : ''}`).join('')}`;
    }
    return { text, data };
  },
});

// ---------------------------------------------------------------- memory_list

const memoryList = defineTool({
  name: 'memory_list',
  title: 'List memories',
  description: 'Browse memories newest first, with filters and a cursor for the next page. Use memory_search to find by meaning.',
  input: z.strictObject({
    ...filterArguments,
    time: z.string().max(200).optional().describe('A natural time window, e.g. "last week".'),
    limit: z
      .number()
      .int()
      .min(1, 'must be at least 1')
      .max(100, 'must be at most 100')
      .optional()
      .describe('Page size, 1–100. Default 20.'),
    cursor: z.string().max(1000).optional().describe('next_cursor from the previous page.'),
    ...scopeArguments,
  }),
  output: z.object({ count: z.number(), items: z.array(memoryViewSchema), next_cursor: z.string().nullable() }),
  kind: 'read',
  async run(args, context) {
    const memory = await context.memory();
    const page = await memory.list(
      defined({
        scope: scopeOf(args, context.defaults),
        ...filterOptions(args),
        time: args.time,
        limit: args.limit ?? 20,
        cursor: args.cursor,
      }),
    );
    const more = page.nextCursor ? `\nMore: call memory_list again with cursor ${JSON.stringify(page.nextCursor)}.` : '';
    const text =
      page.items.length === 0
        ? 'No memories match.'
        : `${plural(page.items.length, 'memory')}, newest first:\n${page.items.map((record) => `- ${memoryLine(record, { max: 300 })}`).join('\n')}${more}`;
    return { text, data: { count: page.items.length, items: page.items.map(memoryView), next_cursor: page.nextCursor } };
  },
});

// ---------------------------------------------------------------- memory_update

const memoryUpdate = defineTool({
  name: 'memory_update',
  title: 'Update a memory',
  description:
    "Change a memory's content, tags, metadata, type or importance (the old values stay in its history). " +
    'To record that a fact was replaced by a newer one, prefer memory_resolve.',
  input: z.strictObject({
    id: idArgument('The memory to change.'),
    content: z.string().min(1, 'must not be empty').optional().describe('The new text (re-embedded).'),
    tags: tagList.optional().describe('The new tags (replace the old ones).'),
    metadata: metadata.optional().describe('The new metadata (replaces the old object).'),
    type: z.string().trim().min(1).max(100).optional().describe(`The new type or subtype. ${TYPE_HELP}`),
    importance: importance.optional().describe('The new importance, 0–1.'),
    ...scopeArguments,
  }),
  output: z.object({ memory: memoryViewSchema }),
  kind: 'destructive',
  idempotent: true,
  async run(args, context) {
    const patch = defined({
      content: args.content,
      tags: args.tags,
      metadata: args.metadata,
      type: args.type,
      importance: args.importance,
    });
    if (Object.keys(patch).length === 0)
      throw invalid('content', 'nothing to update: give at least one of content, tags, metadata, type, importance');
    const memory = await context.memory();
    await visibleMemory(memory, args.id, scopeOf(args, context.defaults));
    const updated = await memory.update(args.id, patch);
    return { text: `Updated: ${memoryLine(updated)}`, data: { memory: memoryView(updated) } };
  },
});

// ---------------------------------------------------------------- memory_delete

/** Most memories one filtered delete may remove. */
export const MAX_BULK_DELETE = 10_000;

const memoryDelete = defineTool({
  name: 'memory_delete',
  title: 'Delete memories',
  description:
    'Delete one memory by id, or every memory matching a filter (tags, types, before, after). ' +
    'A filtered delete is a dry run unless dry_run is false: check what it would remove first. An empty filter is refused.',
  input: z.strictObject({
    id: idArgument('The memory to delete.').optional(),
    types: filterArguments.types,
    tags: filterArguments.tags,
    tag_match: filterArguments.tag_match,
    before: filterArguments.before,
    after: filterArguments.after,
    dry_run: z.boolean().optional().describe('Only report what would be deleted. Default true for a filter, false for an id.'),
    ...scopeArguments,
  }),
  output: z.object({
    dry_run: z.boolean(),
    matched: z.number(),
    deleted: z.number(),
    ids: z.array(z.string()),
    preview: z.array(memoryViewSchema),
  }),
  kind: 'destructive',
  idempotent: true,
  async run(args, context) {
    const scope = scopeOf(args, context.defaults);
    const filter = filterOptions(args);
    const hasFilter = Object.keys(filter).length > 0;
    if (args.id !== undefined && hasFilter) throw invalid('id', 'give either an id or a filter (tags, types, before, after), not both');
    if (args.id === undefined && !hasFilter) {
      throw invalid(
        'id',
        'or a filter is required: refusing to delete every memory. Give an id, or at least one of tags, types, before, after',
      );
    }
    const memory = await context.memory();
    if (args.id !== undefined) {
      const record = await visibleMemory(memory, args.id, scope);
      const dryRun = args.dry_run ?? false;
      if (!dryRun) await memory.delete(record.id);
      return {
        text: `${dryRun ? 'Would delete' : 'Deleted'}: ${memoryLine(record, { max: 200 })}`,
        data: { dry_run: dryRun, matched: 1, deleted: dryRun ? 0 : 1, ids: [record.id], preview: [memoryView(record)] },
      };
    }
    return deleteMatching(memory, { scope, ...filter }, args.dry_run ?? true);
  },
});

/** Deletes (or previews) every memory matching a filter, up to MAX_BULK_DELETE. */
export async function deleteMatching(
  memory: Memory,
  filter: { scope: Scope; types?: string[]; tags?: string[] | { all: string[] }; after?: string; before?: string },
  dryRun: boolean,
) {
  const matched = await memory.count(filter);
  const first = await memory.list({ ...filter, limit: 10 });
  const preview = first.items;
  if (dryRun || matched === 0) {
    const lines = preview.map((record) => `- ${memoryLine(record, { max: 160 })}`).join('\n');
    const more = matched > preview.length ? `\n… and ${matched - preview.length} more` : '';
    return {
      text:
        matched === 0
          ? 'No memories match: nothing to delete.'
          : `Dry run: ${plural(matched, 'memory')} would be deleted:\n${lines}${more}\nCall again with dry_run: false to delete ${matched === 1 ? 'it' : 'them'}.`,
      data: { dry_run: dryRun, matched, deleted: 0, ids: preview.map((record) => record.id), preview: preview.map(memoryView) },
    };
  }
  if (matched > MAX_BULK_DELETE) {
    throw invalid(
      'tags',
      `the filter matches ${matched} memories, more than the ${MAX_BULK_DELETE} one call may delete: narrow it (tags, types, before, after)`,
    );
  }
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await memory.list({ ...filter, limit: 1000, ...(cursor ? { cursor } : {}) });
    ids.push(...page.items.map((record) => record.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor && ids.length < MAX_BULK_DELETE);
  let deleted = 0;
  for (const id of ids) if (await memory.delete(id)) deleted++;
  return {
    text: `Deleted ${plural(deleted, 'memory')}.`,
    // The ids of a large delete would flood the context: the first ones are enough to check.
    data: { dry_run: false, matched, deleted, ids: ids.slice(0, 100), preview: preview.map(memoryView) },
  };
}

export const memoryTools: AnyToolDefinition[] = [
  memoryStore,
  memorySearch,
  memoryContext,
  memoryGet,
  memoryList,
  memoryUpdate,
  memoryDelete,
];
