import type { AddResult, Memory, MemoryRecord } from '@engram/core';
import { type Tool, tool } from 'ai';
import { z } from 'zod';
import { isInScope, type MemoryScope, scopeOf } from './memory-scope.js';

export interface EngramToolsOptions {
  /**
   * Every memory the tools write carries this scope, and they read, link and forget only
   * memories inside it. Pass at least a `userId` in a multi-user application.
   */
  scope?: MemoryScope;
  /** Token budget of the `context` tool when the model does not name one. Default 1000. */
  tokenBudget?: number;
  /** Most hits `recall` returns when the model does not say. Default 5. */
  recallLimit?: number;
}

/** A memory as the tools show it to a model: what it needs to cite, link or forget it. */
export interface ToolMemory {
  id: string;
  content: string;
  type: string;
  tags: string[];
  createdAt: string;
  score?: number;
}

function toolMemory(record: MemoryRecord, score?: number): ToolMemory {
  const shown: ToolMemory = {
    id: record.id,
    content: record.content,
    type: record.subtype ?? record.type,
    tags: record.tags,
    createdAt: record.createdAt.toISOString(),
  };
  if (score !== undefined) shown.score = Math.round(score * 1000) / 1000;
  return shown;
}

const rememberInput = z.object({
  content: z.string().min(1).describe('The fact, preference, decision or lesson to keep, as one self-contained sentence.'),
  type: z.string().optional().describe('observation, decision, learning, error or pattern, or a subtype such as insight, bug, tool_choice'),
  tags: z.array(z.string()).optional().describe('Short lower-case keywords'),
  importance: z.number().min(0).max(1).optional().describe('0 to 1; 0.5 when not given'),
});

const recallInput = z.object({
  query: z.string().min(1).describe('What to look for, in plain words'),
  limit: z.number().int().min(1).max(50).optional(),
  types: z.array(z.string()).optional().describe('Only these types or subtypes'),
  tags: z.array(z.string()).optional().describe('Only memories with at least one of these tags'),
});

const contextInput = z.object({
  query: z.string().min(1).describe('The task or question the context is for'),
  tokenBudget: z.number().int().min(16).max(100_000).optional(),
});

const linkInput = z.object({
  sourceId: z.string().min(1),
  targetId: z.string().min(1),
  type: z.string().min(1).describe('related, contradicts, causes, fixes, supports or follows'),
});

const forgetInput = z.object({ id: z.string().min(1).describe('The id of the memory to forget') });

export type EngramTools = {
  remember: Tool<z.infer<typeof rememberInput>, { id: string; status: AddResult['status']; type: string; warnings: string[] }>;
  recall: Tool<z.infer<typeof recallInput>, { memories: ToolMemory[] }>;
  context: Tool<z.infer<typeof contextInput>, { text: string; memoryIds: string[] }>;
  link: Tool<z.infer<typeof linkInput>, { linked: true; sourceId: string; targetId: string; type: string }>;
  forget: Tool<z.infer<typeof forgetInput>, { forgotten: boolean; id: string }>;
};

/**
 * AI SDK tools over an Engram `Memory`: `remember`, `recall`, `context`, `link` and `forget`.
 * Spread them into `generateText({ tools })` / `streamText({ tools })`, or pick the ones you want.
 */
export function engramTools(memory: Memory, options: EngramToolsOptions = {}): EngramTools {
  const bounds = options.scope ?? {};
  const scope = scopeOf(bounds);
  const recallLimit = options.recallLimit ?? 5;

  async function memoryInScope(id: string): Promise<MemoryRecord | null> {
    const record = await memory.get(id);
    return record && isInScope(record, bounds) ? record : null;
  }

  return {
    remember: tool({
      description:
        'Store something worth remembering across conversations: a user preference, a fact, a decision, a lesson learned. One fact per call.',
      inputSchema: rememberInput,
      execute: async (input) => {
        const result = await memory.add({
          content: input.content,
          ...(input.type === undefined ? {} : { type: input.type }),
          ...(input.tags === undefined ? {} : { tags: input.tags }),
          ...(input.importance === undefined ? {} : { importance: input.importance }),
          scope,
          ...(bounds.conversationId === undefined ? {} : { conversationId: bounds.conversationId }),
          source: 'ai-sdk',
        });
        return {
          id: result.memory.id,
          status: result.status,
          type: result.memory.subtype ?? result.memory.type,
          warnings: result.warnings,
        };
      },
    }),
    recall: tool({
      description: 'Search long-term memory. Returns the best matching memories with their ids and 0-1 scores.',
      inputSchema: recallInput,
      execute: async (input) => {
        const hits = await memory.search(input.query, {
          scope,
          limit: input.limit ?? recallLimit,
          ...(input.types === undefined ? {} : { types: input.types }),
          ...(input.tags === undefined ? {} : { tags: input.tags }),
        });
        return { memories: hits.map((hit) => toolMemory(hit.memory, hit.score)) };
      },
    }),
    context: tool({
      description: 'Get a prompt-ready block of the memories most relevant to a task, within a token budget.',
      inputSchema: contextInput,
      execute: async (input) => {
        const result = await memory.context({
          query: input.query,
          tokenBudget: input.tokenBudget ?? options.tokenBudget ?? 1000,
          scope,
        });
        return { text: result.text, memoryIds: result.hits.map((hit) => hit.memory.id) };
      },
    }),
    link: tool({
      description: 'Record a typed relationship between two memories (for example a fix that fixes a bug).',
      inputSchema: linkInput,
      execute: async (input) => {
        for (const id of [input.sourceId, input.targetId]) {
          if (!(await memoryInScope(id))) throw new Error(`No memory with id "${id}" in this scope; use recall to find ids.`);
        }
        await memory.link(input.sourceId, input.targetId, input.type);
        return { linked: true, sourceId: input.sourceId, targetId: input.targetId, type: input.type };
      },
    }),
    forget: tool({
      description: 'Forget a memory that is wrong or no longer wanted, by id.',
      inputSchema: forgetInput,
      execute: async (input) => {
        if (!(await memoryInScope(input.id))) return { forgotten: false, id: input.id };
        return { forgotten: await memory.delete(input.id), id: input.id };
      },
    }),
  };
}
