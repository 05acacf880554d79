import type { Memory, Scope } from '@engram/core';
import { type Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { type CliState, Invocation } from '../invocation.js';

interface ForgetFlags {
  user?: string;
  agent?: string;
  run?: string;
  id?: string[];
  deletedOlderThan?: string;
  yes?: boolean;
}

/** Every memory (deleted and superseded included) of the scope: what `forget` would erase. */
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

export function registerForget(program: Command, state: CliState): void {
  program
    .command('forget')
    .description('Erase memories for good (right to erasure): rows, history, links, vectors and index entries, then reclaim the space.')
    .option('--user <id>', 'Every memory of this user id')
    .option('--agent <id>', 'Every memory of this agent id (with --user: of both)')
    .option('--run <id>', 'Every memory of this run id')
    .addOption(new Option('--id <id...>', 'These memory ids'))
    .option('--deleted-older-than <days>', 'Deleted memories (tombstones) deleted more than this many days ago')
    .option('-y, --yes', 'Erase without asking: without it, forget only says what it would erase')
    .addHelpText(
      'after',
      `
Unlike delete (a soft delete that keeps history), forget cannot be undone: back up first
(engram backup <file>) if you may need the data. Without --yes nothing is erased and the
command exits with 1 after saying how many memories would be.

Examples:
  $ engram forget --user alice            # how many memories of alice would be erased
  $ engram forget --user alice --yes      # erase them
  $ engram forget --id 0190f0c2-7a3b-7c1e-9a55-2b1f4e6d8a90 --yes
  $ engram forget --deleted-older-than 30 --yes`,
    )
    .action(async (flags: ForgetFlags, self: Command) => {
      const invocation = new Invocation(state, self);
      const scope: Scope = {
        ...(flags.user !== undefined ? { userId: flags.user } : {}),
        ...(flags.agent !== undefined ? { agentId: flags.agent } : {}),
        ...(flags.run !== undefined ? { runId: flags.run } : {}),
      };
      const modes = [Object.keys(scope).length > 0, flags.id !== undefined, flags.deletedOlderThan !== undefined].filter(Boolean).length;
      if (modes !== 1) {
        throw new UsageError(
          'say what to forget: --user/--agent/--run (a scope), --id <id...>, or --deleted-older-than <days> (one of them)',
        );
      }
      let days: number | undefined;
      if (flags.deletedOlderThan !== undefined) {
        days = Number(flags.deletedOlderThan);
        if (!(Number.isFinite(days) && days >= 0)) {
          throw new UsageError(`--deleted-older-than must be a number of days, 0 or more (got "${flags.deletedOlderThan}")`);
        }
      }
      const what =
        flags.id !== undefined
          ? `${flags.id.length} id${flags.id.length === 1 ? '' : 's'}`
          : days !== undefined
            ? `memories deleted more than ${days} days ago`
            : Object.entries(scope)
                .map(([field, value]) => `${field.replace('Id', '')} ${value}`)
                .join(', ');
      await invocation.withMemory('read', async (memory) => {
        if (!flags.yes) {
          // A scope is counted; ids and tombstones are named (erasing them is what would tell).
          const count = flags.id === undefined && days === undefined ? await countScope(memory, scope) : undefined;
          invocation.fail(1);
          await invocation.result({ dryRun: true, scope: what, wouldForget: count ?? null }, () => [
            `${count === undefined ? 'The memories' : `${count} ${count === 1 ? 'memory' : 'memories'}`} (${what}) would be erased for good.`,
            'Nothing was erased: run again with --yes to erase.',
          ]);
          return;
        }
        const result =
          flags.id !== undefined
            ? await memory.forget({ ids: flags.id })
            : days !== undefined
              ? await memory.purgeDeleted({ olderThanDays: days })
              : await memory.forget({ scope });
        await invocation.result(result, () =>
          invocation.quiet
            ? []
            : [`Erased ${result.forgotten} ${result.forgotten === 1 ? 'memory' : 'memories'} (${what}) and reclaimed their space.`],
        );
      });
    });
}
