import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatBytes, formatCount } from '../format.js';
import { type CliState, Invocation } from '../invocation.js';

export interface StatsDocument {
  store: { name: string; location: string | null };
  /** Bytes on disk of the store file plus its SQLite write-ahead log; null when the store is not a local file. */
  fileBytes: number | null;
  embedder: { id: string; dimensions: number };
  total: number;
  byType: Record<string, number>;
}

export function registerStats(program: Command, state: CliState): void {
  program
    .command('stats')
    .description('Show how many memories there are (in total and per base type), where they live, and the embedder.')
    .addHelpText(
      'after',
      `
Examples:
  $ engram stats
  $ engram stats --path ~/agents/support/memory.db
  $ engram stats --json | jq .total`,
    )
    .action(async (_flags: unknown, self: Command) => {
      const invocation = new Invocation(state, self);
      const document = await invocation.withMemory('read', async (memory): Promise<StatsDocument> => {
        await memory.ready();
        const byType: Record<string, number> = {};
        for (const type of memory.ontology.types) byType[type] = await memory.count({ types: [type] });
        const location = memory.store.location ?? null;
        return {
          store: { name: memory.store.name, location },
          fileBytes: location ? await fileBytes(location) : null,
          embedder: { id: memory.embedder.id, dimensions: memory.embedder.dimensions },
          total: await memory.count(),
          byType,
        };
      });
      await invocation.result(document, () => {
        const where = document.store.location ?? '(not a file)';
        const size = document.fileBytes !== null ? ` (${formatBytes(document.fileBytes)})` : '';
        const typeWidth = Math.max(...Object.keys(document.byType).map((type) => type.length));
        const countWidth = Math.max(
          ...Object.values(document.byType).map((count) => formatCount(count).length),
          formatCount(document.total).length,
        );
        return [
          `store     ${document.store.name}  ${where}${size}`,
          `embedder  ${document.embedder.id} (${document.embedder.dimensions} dimensions)`,
          `memories  ${formatCount(document.total)}`,
          ...Object.entries(document.byType).map(
            ([type, count]) => `  ${type.padEnd(typeWidth)}  ${formatCount(count).padStart(countWidth)}`,
          ),
        ];
      });
    });
}

/** The file and its write-ahead log (-wal), when the location is a local file. */
async function fileBytes(location: string): Promise<number | null> {
  let total = 0;
  let found = false;
  for (const path of [location, `${location}-wal`]) {
    try {
      const info = await stat(path);
      if (info.isFile()) {
        total += info.size;
        found = true;
      }
    } catch {
      // Absent companions (no WAL yet) and non-file locations (URLs) are normal.
    }
  }
  return found ? total : null;
}
