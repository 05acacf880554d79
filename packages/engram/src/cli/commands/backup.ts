import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { type CliState, Invocation } from '../invocation.js';
import { progressBar } from '../progress.js';

const megabytes = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

export function registerBackup(program: Command, state: CliState): void {
  program
    .command('backup')
    .description("Copy the store into one file with SQLite's online backup API, while agents keep writing.")
    .argument('<file>', 'The backup file to write')
    .option('-f, --force', 'Replace the file if it exists')
    .addHelpText(
      'after',
      `
The copy is consistent (one instant of the store), checked (quick_check) and written under a
temporary name first, so a crash never leaves a half backup. Postgres stores: use pg_dump.

Examples:
  $ engram backup backups/memory-$(date +%F).db
  $ engram restore backups/memory-2026-12-04.db --path restored.db`,
    )
    .action(async (file: string, flags: { force?: boolean }, self: Command) => {
      const invocation = new Invocation(state, self);
      const bar = progressBar(invocation.stderr, 'backup', invocation.quiet);
      const result = await invocation.withMemory('read', (memory) =>
        memory.backup(file, {
          overwrite: flags.force === true,
          onProgress: ({ copiedPages, totalPages }) => bar.update(copiedPages, totalPages),
        }),
      );
      bar.end();
      await invocation.result(result, () => [
        `Backed up ${invocation.path} to ${file} (${megabytes(result.bytes)}, ${result.pages} pages).`,
      ]);
    });

  program
    .command('restore')
    .description('Replace the store (--path) with a backup written by engram backup.')
    .argument('<file>', 'The backup file')
    .option('-f, --force', 'Replace an existing store (stop every process using it first)')
    .addHelpText(
      'after',
      `
The backup is checked (an intact Engram store) before anything is replaced; the store's WAL and
index snapshots are removed with it. Stop agents and MCP servers using the store first.

Examples:
  $ engram restore memory-backup.db --path ./.engram/memory.db --force`,
    )
    .action(async (file: string, flags: { force?: boolean }, self: Command) => {
      const invocation = new Invocation(state, self);
      if (invocation.path === ':memory:') throw new CliError('restore needs a store file: pass --path <file>');
      const { restoreSqliteBackup } = await import('@engram/adapters/sqlite');
      const bar = progressBar(invocation.stderr, 'restore', invocation.quiet);
      const result = await restoreSqliteBackup(file, invocation.path, {
        overwrite: flags.force === true,
        onProgress: ({ copiedPages, totalPages }) => bar.update(copiedPages, totalPages),
      });
      bar.end();
      await invocation.result(result, () => [`Restored ${file} to ${resolve(invocation.path)} (${megabytes(result.bytes)}).`]);
    });
}
