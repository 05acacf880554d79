import type { Memory, Scope } from '@engram/core';
import { z } from 'zod';
import { type AnyToolDefinition, defineTool, idArgument, invalid, plural, scopeArguments, scopeOf, visibleMemory } from './tool-kit.js';

/** Every memory of the scope (deleted and superseded included): what an erasure would remove. */
async function countScope(memory: Memory, scope: Scope): Promise<number> {
  let total = 0;
  let cursor: string | undefined;
  do {
    const page = await memory.list({ scope, includeDeleted: true, includeSuperseded: true, limit: 1000, ...(cursor ? { cursor } : {}) });
    total += page.items.length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return total;
}

const memoryForget = defineTool({
  name: 'memory_forget',
  title: 'Erase memories for good',
  description:
    'Right to erasure: permanently erase one memory (id) or every memory of a user/agent/run — with its history, links and ' +
    'vectors. Cannot be undone (unlike memory_delete). A dry run unless confirm is true: check the count first. ' +
    'Only use it when the user asks for their data to be erased.',
  input: z.strictObject({
    id: idArgument('The memory to erase. Without it, every memory of the scope is erased.').optional(),
    confirm: z.boolean().optional().describe('true to erase. Default false: only report what would be erased.'),
    ...scopeArguments,
  }),
  output: z.object({ dry_run: z.boolean(), matched: z.number(), forgotten: z.number() }),
  kind: 'destructive',
  idempotent: true,
  async run(args, context) {
    const scope = scopeOf(args, context.defaults);
    const confirm = args.confirm ?? false;
    const memory = await context.memory();
    if (args.id !== undefined) {
      const record = await visibleMemory(memory, args.id, scope);
      if (!confirm) {
        return {
          text: `Dry run: 1 memory would be erased for good. Call again with confirm: true to erase it.`,
          data: { dry_run: true, matched: 1, forgotten: 0 },
        };
      }
      const { forgotten } = await memory.forget({ ids: [record.id] });
      return { text: `Erased ${plural(forgotten, 'memory')} for good.`, data: { dry_run: false, matched: 1, forgotten } };
    }
    if (Object.keys(scope).length === 0) {
      throw invalid('user_id', 'or agent_id, run_id or id is required: refusing to erase every memory of the store');
    }
    const matched = await countScope(memory, scope);
    if (!confirm || matched === 0) {
      return {
        text:
          matched === 0
            ? 'No memories in this scope: nothing to erase.'
            : `Dry run: ${plural(matched, 'memory')} would be erased for good. Call again with confirm: true to erase ${matched === 1 ? 'it' : 'them'}.`,
        data: { dry_run: !confirm, matched, forgotten: 0 },
      };
    }
    const { forgotten } = await memory.forget({ scope });
    return { text: `Erased ${plural(forgotten, 'memory')} for good.`, data: { dry_run: false, matched, forgotten } };
  },
});

export const erasureTools: AnyToolDefinition[] = [memoryForget];
