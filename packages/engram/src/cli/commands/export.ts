import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatCount } from '../format.js';
import { type CliState, Invocation } from '../invocation.js';
import { writeChunk } from '../io.js';
import { addFilterOptions, type FilterFlags, filterFrom, parsePositiveInteger } from '../options.js';
import { exportMemories } from '../transfer.js';

interface ExportFlags extends FilterFlags {
  includeDeleted?: boolean;
  decrypt?: boolean;
  pageSize: number;
}

export function registerExport(program: Command, state: CliState): void {
  const command = program
    .command('export')
    .description('Write memories as JSON Lines (one memory per line, every field, ISO dates), newest first.')
    .argument('[file]', 'Where to write; stdout when absent or "-"')
    .option('--decrypt', 'Write sensitive memories decrypted (needs the key); by default they stay encrypted')
    .option('--include-deleted', 'Also export deleted memories (with deletedAt set; import skips them)')
    .option('--page-size <n>', 'Memories read per page', parsePositiveInteger, 1000);
  addFilterOptions(command, { time: true, where: true });
  command.addHelpText(
    'after',
    `
A file is written to a temporary name and renamed when complete, so an interrupted export never
leaves a truncated file behind. Filters (scope, types, tags, time, where) export a subset.

Examples:
  $ engram export backup.jsonl
  $ engram export > backup.jsonl
  $ engram export --user alice --types decision,learning alice.jsonl
  $ engram export | gzip > backup.jsonl.gz
  $ engram export --path old.db | engram import - --path new.db   # move to a new store (new embedder)`,
  );
  command.action(async (file: string | undefined, flags: ExportFlags, self: Command) => {
    const invocation = new Invocation(state, self);
    const toStdout = file === undefined || file === '-';
    const count = await invocation.withMemory('read', async (memory) => {
      const options = {
        filter: filterFrom(flags, memory.ontology),
        includeDeleted: flags.includeDeleted === true,
        pageSize: flags.pageSize,
        decrypt: flags.decrypt === true,
      };
      if (toStdout) return exportMemories(memory, (chunk) => writeChunk(invocation.stdout, chunk), options);
      return exportToFile(file, (write) => exportMemories(memory, write, options));
    });
    if (toStdout) invocation.note(`exported ${formatCount(count)} ${count === 1 ? 'memory' : 'memories'}`);
    else
      await invocation.result({ exported: count, file }, () =>
        invocation.quiet ? [] : `exported ${formatCount(count)} ${count === 1 ? 'memory' : 'memories'} to ${file}`,
      );
  });
}

async function exportToFile(file: string, produce: (write: (chunk: string) => Promise<void>) => Promise<number>): Promise<number> {
  const temporary = `${file}.partial-${process.pid}`;
  const stream = createWriteStream(temporary, { flags: 'wx' });
  const failed = new Promise<never>((_, reject) => stream.once('error', reject));
  failed.catch(() => {});
  try {
    await Promise.race([once(stream, 'open'), failed]);
    const count = await Promise.race([
      produce(async (chunk) => {
        if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), failed]);
      }),
      failed,
    ]);
    stream.end();
    await Promise.race([once(stream, 'finish'), failed]);
    await rename(temporary, file);
    return count;
  } catch (error) {
    stream.destroy();
    await rm(temporary, { force: true });
    throw error;
  }
}
