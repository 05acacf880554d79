import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { formatDetail, toJsonRecord } from '../format.js';
import { type CliState, Invocation } from '../invocation.js';

export function registerGet(program: Command, state: CliState): void {
  program
    .command('get')
    .description('Show one memory with all its fields.')
    .argument('<id>', 'The memory id (as printed by add, search and list)')
    .addHelpText(
      'after',
      `
Examples:
  $ engram get 0190f0c2-7a3b-7c1e-9a55-2b1f4e6d8a90
  $ engram get 0190f0c2-7a3b-7c1e-9a55-2b1f4e6d8a90 --json | jq .memory.metadata`,
    )
    .action(async (id: string, _flags: unknown, self: Command) => {
      const invocation = new Invocation(state, self);
      const memory = await invocation.withMemory('read', (memory) => memory.get(id));
      if (!memory) throw notFound(id);
      await invocation.result({ memory: toJsonRecord(memory) }, () => formatDetail(memory));
    });
}

export function notFound(id: string): CliError {
  return new CliError(
    `no memory with id "${id}" (it may have been deleted). Find ids with \`engram list\` or \`engram search\`.`,
    'NOT_FOUND',
  );
}
