import type { Command } from 'commander';
import { type CliState, Invocation } from '../invocation.js';

export function registerDelete(program: Command, state: CliState): void {
  program
    .command('delete')
    .alias('rm')
    .description('Delete memories (soft delete: they disappear from get, search, list and export).')
    .argument('<id...>', 'One or more memory ids')
    .addHelpText(
      'after',
      `
Exits with 1 when any id is unknown (the others are still deleted).

Examples:
  $ engram delete 0190f0c2-7a3b-7c1e-9a55-2b1f4e6d8a90
  $ engram list --types observation --json | jq -r '.items[].id' | xargs engram delete`,
    )
    .action(async (ids: string[], _flags: unknown, self: Command) => {
      const invocation = new Invocation(state, self);
      const deleted: string[] = [];
      const notFound: string[] = [];
      await invocation.withMemory('read', async (memory) => {
        for (const id of ids) {
          if (await memory.delete(id)) deleted.push(id);
          else notFound.push(id);
        }
      });
      if (notFound.length > 0) invocation.fail(1);
      for (const id of notFound) invocation.problem(`no memory with id "${id}" (unknown or already deleted)`);
      await invocation.result({ deleted, notFound }, () => (invocation.quiet ? [] : deleted.map((id) => `deleted ${id}`)));
    });
}
