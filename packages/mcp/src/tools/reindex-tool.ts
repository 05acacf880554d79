import { z } from 'zod';
import { type AnyToolDefinition, defineTool, scopeArguments, scopeOf } from './tool-kit.js';

const identifier = z.string().trim().min(1, 'must not be empty').max(256, 'must be at most 256 characters');

const memoryReindex = defineTool({
  name: 'memory_reindex',
  title: 'Rebuild conversation context',
  description:
    'Rebuilds the context Engram derives for conversation turns (the turns before each one, which lets search find an answer by the question that led to it). Needed only for memories written before this existed, or to change the window: turns 0 removes derived contexts. A context the writer gave is never touched.',
  input: z.strictObject({
    ...scopeArguments,
    conversation_id: identifier.optional().describe('Only this conversation. Default: every conversation in the scope.'),
    turns: z
      .number()
      .int()
      .min(0)
      .max(20)
      .optional()
      .describe('Preceding turns per memory for this run (default: the configured window, 2); 0 removes derived contexts.'),
  }),
  output: z.object({ conversations: z.number(), memories: z.number(), updated: z.number() }),
  kind: 'write',
  idempotent: true,
  async run(args, context) {
    const memory = await context.memory();
    const scope = scopeOf(args, context.defaults);
    const result = await memory.reindexContext({
      ...(Object.keys(scope).length > 0 ? { scope } : {}),
      ...(args.conversation_id !== undefined ? { conversationId: args.conversation_id } : {}),
      ...(args.turns !== undefined ? { turns: args.turns } : {}),
    });
    return {
      text: `${result.updated} of ${result.memories} memories in ${result.conversations} conversation(s) got a new derived context.`,
      data: { ...result },
    };
  },
});

export const reindexTools: AnyToolDefinition[] = [memoryReindex];
