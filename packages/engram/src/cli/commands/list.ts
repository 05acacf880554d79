import type { Command } from 'commander';
import { formatRows, memoryRow, toJsonRecord } from '../format.js';
import { type CliState, Invocation } from '../invocation.js';
import { addFilterOptions, type FilterFlags, filterFrom, parsePositiveInteger } from '../options.js';

interface ListFlags extends FilterFlags {
  limit: number;
  cursor?: string;
}

export function registerList(program: Command, state: CliState): void {
  const command = program
    .command('list')
    .description('List memories, newest first, a page at a time.')
    .option('-n, --limit <n>', 'Memories per page', parsePositiveInteger, 20)
    .option('--cursor <cursor>', 'Continue after a previous page (the cursor it printed)');
  addFilterOptions(command, { time: true, where: true });
  command.addHelpText(
    'after',
    `
Output: one memory per line: id, type/subtype, creation date, content. When there is more, the
command for the next page is printed on stderr (and as "nextCursor" with --json).

Examples:
  $ engram list
  $ engram list --types decision --limit 50
  $ engram list --user alice --tags billing --after 2024-06-01
  $ engram list --cursor eyJjIjoxNzE4...   # the next page
  $ engram list --json | jq -r '.items[].content'`,
  );
  command.action(async (flags: ListFlags, self: Command) => {
    const invocation = new Invocation(state, self);
    const page = await invocation.withMemory('read', (memory) =>
      memory.list({
        ...filterFrom(flags, memory.ontology),
        limit: flags.limit,
        ...(flags.cursor !== undefined ? { cursor: flags.cursor } : {}),
      }),
    );
    await invocation.result({ items: page.items.map(toJsonRecord), nextCursor: page.nextCursor }, () => {
      if (page.items.length === 0) invocation.note('no memories');
      return formatRows(page.items.map(memoryRow), invocation.width);
    });
    if (!invocation.json && page.nextCursor) invocation.note(`more: engram list --cursor ${page.nextCursor} (with the same filters)`);
  });
}
