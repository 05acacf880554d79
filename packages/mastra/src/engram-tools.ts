import type { AddResult, Memory, MemoryRecord, Scope } from '@engram/core';
import { createTool } from '@mastra/core/tools';
import { z } from 'zod';

export interface EngramToolsOptions {
  /**
   * Default scope. Mastra's `resourceId` (the user, as passed to `agent.generate(…, { resourceId })`)
   * becomes `userId` and overrides `scope.userId`; `threadId` becomes the `conversationId` of writes.
   */
  scope?: { userId?: string; agentId?: string };
  /** Token budget of the `context` tool when the model does not name one. Default 1000. */
  tokenBudget?: number;
  /** Most hits `recall` returns when the model does not say. Default 5. */
  recallLimit?: number;
}

/** What Mastra passes a tool about the call, besides its input. */
interface CallScope {
  resourceId?: string | undefined;
  threadId?: string | undefined;
}

const memoryShape = z.object({
  id: z.string(),
  content: z.string(),
  type: z.string(),
  tags: z.array(z.string()),
  createdAt: z.string(),
  score: z.number().optional(),
});
type ToolMemory = z.infer<typeof memoryShape>;

function toolMemory(record: MemoryRecord, score?: number): ToolMemory {
  return {
    id: record.id,
    content: record.content,
    type: record.subtype ?? record.type,
    tags: record.tags,
    createdAt: record.createdAt.toISOString(),
    ...(score === undefined ? {} : { score: Math.round(score * 1000) / 1000 }),
  };
}

/**
 * Mastra tools over an Engram `Memory`: `remember`, `recall`, `context`, `link`, `forget`. Pass
 * them to `new Agent({ tools })`. Each call is scoped to the run's `resourceId` (Engram `userId`);
 * memories written carry its `threadId` as `conversationId`.
 */
export function engramTools(memory: Memory, options: EngramToolsOptions = {}) {
  const recallLimit = options.recallLimit ?? 5;

  function scopeOf(call: CallScope): Scope {
    const scope: Scope = {};
    const userId = call.resourceId ?? options.scope?.userId;
    if (userId !== undefined) scope.userId = userId;
    if (options.scope?.agentId !== undefined) scope.agentId = options.scope.agentId;
    return scope;
  }

  async function inScope(id: string, scope: Scope): Promise<MemoryRecord | null> {
    const record = await memory.get(id);
    if (!record) return null;
    return (Object.keys(scope) as (keyof Scope)[]).every((field) => record.scope[field] === scope[field]) ? record : null;
  }

  const remember = createTool({
    id: 'remember',
    description:
      'Store something worth remembering across conversations: a user preference, a fact, a decision, a lesson learned. One fact per call.',
    inputSchema: z.object({
      content: z.string().min(1).describe('The fact, preference, decision or lesson, as one self-contained sentence'),
      type: z.string().optional().describe('observation, decision, learning, error or pattern, or a subtype such as insight or bug'),
      tags: z.array(z.string()).optional(),
      importance: z.number().min(0).max(1).optional(),
    }),
    outputSchema: z.object({ id: z.string(), status: z.enum(['created', 'duplicate', 'updated']), type: z.string() }),
    execute: async ({ context, resourceId, threadId }) => {
      const result: AddResult = await memory.add({
        content: context.content,
        ...(context.type === undefined ? {} : { type: context.type }),
        ...(context.tags === undefined ? {} : { tags: context.tags }),
        ...(context.importance === undefined ? {} : { importance: context.importance }),
        scope: scopeOf({ resourceId }),
        ...(threadId === undefined ? {} : { conversationId: threadId }),
        source: 'mastra',
      });
      return { id: result.memory.id, status: result.status, type: result.memory.subtype ?? result.memory.type };
    },
  });

  const recall = createTool({
    id: 'recall',
    description: 'Search long-term memory. Returns the best matching memories with their ids and 0-1 scores.',
    inputSchema: z.object({
      query: z.string().min(1),
      limit: z.number().int().min(1).max(50).optional(),
      types: z.array(z.string()).optional(),
      tags: z.array(z.string()).optional(),
    }),
    outputSchema: z.object({ memories: z.array(memoryShape) }),
    execute: async ({ context, resourceId }) => {
      const hits = await memory.search(context.query, {
        scope: scopeOf({ resourceId }),
        limit: context.limit ?? recallLimit,
        ...(context.types === undefined ? {} : { types: context.types }),
        ...(context.tags === undefined ? {} : { tags: context.tags }),
      });
      return { memories: hits.map((hit) => toolMemory(hit.memory, hit.score)) };
    },
  });

  const contextTool = createTool({
    id: 'context',
    description: 'Get a prompt-ready block of the memories most relevant to a task, within a token budget.',
    inputSchema: z.object({ query: z.string().min(1), tokenBudget: z.number().int().min(16).max(100_000).optional() }),
    outputSchema: z.object({ text: z.string(), memoryIds: z.array(z.string()) }),
    execute: async ({ context, resourceId }) => {
      const result = await memory.context({
        query: context.query,
        tokenBudget: context.tokenBudget ?? options.tokenBudget ?? 1000,
        scope: scopeOf({ resourceId }),
      });
      return { text: result.text, memoryIds: result.hits.map((hit) => hit.memory.id) };
    },
  });

  const link = createTool({
    id: 'link',
    description: 'Record a typed relationship between two memories (for example a fix that fixes a bug).',
    inputSchema: z.object({
      sourceId: z.string().min(1),
      targetId: z.string().min(1),
      type: z.string().min(1).describe('related, contradicts, causes, fixes, supports or follows'),
    }),
    outputSchema: z.object({ linked: z.boolean(), sourceId: z.string(), targetId: z.string(), type: z.string() }),
    execute: async ({ context, resourceId }) => {
      const scope = scopeOf({ resourceId });
      for (const id of [context.sourceId, context.targetId]) {
        if (!(await inScope(id, scope))) throw new Error(`No memory with id "${id}" in this scope; use recall to find ids.`);
      }
      await memory.link(context.sourceId, context.targetId, context.type);
      return { linked: true, sourceId: context.sourceId, targetId: context.targetId, type: context.type };
    },
  });

  const forget = createTool({
    id: 'forget',
    description: 'Forget a memory that is wrong or no longer wanted, by id.',
    inputSchema: z.object({ id: z.string().min(1) }),
    outputSchema: z.object({ forgotten: z.boolean(), id: z.string() }),
    execute: async ({ context, resourceId }) => {
      if (!(await inScope(context.id, scopeOf({ resourceId })))) return { forgotten: false, id: context.id };
      return { forgotten: await memory.delete(context.id), id: context.id };
    },
  });

  return { remember, recall, context: contextTool, link, forget };
}

export type EngramTools = ReturnType<typeof engramTools>;
