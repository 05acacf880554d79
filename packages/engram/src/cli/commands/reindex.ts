import type { ReindexContextResult } from '@engram/core';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { type CliState, Invocation } from '../invocation.js';
import { addScopeOptions, parseInteger, type ScopeFlags, scopeFrom } from '../options.js';

interface ReindexFlags extends ScopeFlags {
  context?: boolean;
  turns?: number;
}

export function registerReindex(program: Command, state: CliState): void {
  const command = program
    .command('reindex')
    .description("Rebuild derived index data. --context: re-derive each conversation memory's context from the turns before it.")
    .option('--context', 'Re-derive conversation context (memories with a conversation id and no context of their own)')
    .option('--turns <n>', 'Preceding turns per memory (default 2; 0 removes derived contexts)', parseInteger);
  addScopeOptions(command, 'filter').addHelpText(
    'after',
    `
A context the caller gave (through the API) is never changed.

Examples:
  $ engram reindex --context
  $ engram reindex --context --conversation chat-42
  $ engram reindex --context --turns 0        # remove derived contexts`,
  );
  command.action(async (flags: ReindexFlags, self: Command) => {
    const invocation = new Invocation(state, self);
    if (!flags.context) throw new UsageError('say what to rebuild: engram reindex --context');
    const scope = scopeFrom(flags);
    const result = await invocation.withMemory(
      'read',
      (memory): Promise<ReindexContextResult> =>
        memory.reindexContext({
          ...(scope ? { scope } : {}),
          ...(flags.conversation !== undefined ? { conversationId: flags.conversation } : {}),
          ...(flags.turns !== undefined ? { turns: flags.turns } : {}),
        }),
    );
    await invocation.result(result, () => [
      `conversations  ${result.conversations}`,
      `memories       ${result.memories}`,
      `updated        ${result.updated}`,
    ]);
  });
}
