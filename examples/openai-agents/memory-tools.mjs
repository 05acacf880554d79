// Engram memory as OpenAI Agents SDK function tools. Copy this file into your project.
//
//   const tools = engramAgentTools(memory, { scope: (context) => ({ userId: context.userId }) });
//   const agent = new Agent({ name: 'assistant', instructions: '…', tools });
//   await run(agent, 'Hi again', { context: { userId: 'ada' } });
//
// `scope` is an Engram scope, or a function of the run's context (what you pass to `run(…, { context })`),
// so each user's memories stay theirs. Writes carry `source: 'openai-agents'`.
import { tool } from '@openai/agents';
import { z } from 'zod';

export function engramAgentTools(memory, options = {}) {
  const scopeOf = (runContext) => {
    const scope = typeof options.scope === 'function' ? options.scope(runContext?.context ?? {}) : (options.scope ?? {});
    return Object.fromEntries(Object.entries(scope).filter(([, value]) => value !== undefined));
  };
  const inScope = async (id, scope) => {
    const record = await memory.get(id);
    return record !== null && Object.entries(scope).every(([field, value]) => record.scope[field] === value);
  };
  const shown = (record, score) => ({
    id: record.id,
    content: record.content,
    type: record.subtype ?? record.type,
    tags: record.tags,
    createdAt: record.createdAt.toISOString(),
    ...(score === undefined ? {} : { score: Math.round(score * 1000) / 1000 }),
  });

  return [
    tool({
      name: 'remember',
      description: 'Store a fact, preference, decision or lesson worth keeping across conversations. One fact per call.',
      parameters: z.object({
        content: z.string().min(1).describe('One self-contained sentence'),
        type: z
          .string()
          .nullable()
          .describe('observation, decision, learning, error, pattern or a subtype such as insight; null for observation'),
        tags: z.array(z.string()).describe('Short lower-case keywords; may be empty'),
      }),
      execute: async ({ content, type, tags }, runContext) => {
        const result = await memory.add({ content, ...(type ? { type } : {}), tags, scope: scopeOf(runContext), source: 'openai-agents' });
        return { id: result.memory.id, status: result.status, type: result.memory.subtype ?? result.memory.type };
      },
    }),
    tool({
      name: 'recall',
      description: 'Search long-term memory; returns the best matches with ids and 0-1 scores.',
      parameters: z.object({ query: z.string().min(1), limit: z.number().int().min(1).max(50).nullable() }),
      execute: async ({ query, limit }, runContext) => {
        const hits = await memory.search(query, { scope: scopeOf(runContext), limit: limit ?? 5 });
        return { memories: hits.map((hit) => shown(hit.memory, hit.score)) };
      },
    }),
    tool({
      name: 'memory_context',
      description: 'A prompt-ready block of the memories most relevant to a task, within a token budget.',
      parameters: z.object({ query: z.string().min(1), tokenBudget: z.number().int().min(16).max(100000).nullable() }),
      execute: async ({ query, tokenBudget }, runContext) => {
        const result = await memory.context({ query, tokenBudget: tokenBudget ?? 1000, scope: scopeOf(runContext) });
        return { text: result.text, memoryIds: result.hits.map((hit) => hit.memory.id) };
      },
    }),
    tool({
      name: 'link',
      description: 'Record a typed relationship between two memories: related, contradicts, causes, fixes, supports or follows.',
      parameters: z.object({ sourceId: z.string(), targetId: z.string(), type: z.string() }),
      execute: async ({ sourceId, targetId, type }, runContext) => {
        const scope = scopeOf(runContext);
        for (const id of [sourceId, targetId]) {
          if (!(await inScope(id, scope)))
            return { linked: false, reason: `no memory with id "${id}" in this scope; use recall to find ids` };
        }
        await memory.link(sourceId, targetId, type);
        return { linked: true, sourceId, targetId, type };
      },
    }),
    tool({
      name: 'forget',
      description: 'Forget a memory that is wrong or no longer wanted, by id.',
      parameters: z.object({ id: z.string() }),
      execute: async ({ id }, runContext) => ({
        forgotten: (await inScope(id, scopeOf(runContext))) && (await memory.delete(id)),
        id,
      }),
    }),
  ];
}
