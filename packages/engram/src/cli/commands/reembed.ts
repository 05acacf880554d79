import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Embedder, hashEmbedder } from '@engram/core';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { type CliState, Invocation } from '../invocation.js';
import { progressBar } from '../progress.js';

/** `hash`, `hash-v1-<dimensions>`, `transformers`, `transformers:<model id>` (as ENGRAM_EMBEDDER accepts). */
async function embedderFor(id: string, log: (message: string) => void): Promise<Embedder> {
  const hash = /^hash-v1-(\d+)$/.exec(id.trim());
  if (hash) return hashEmbedder({ dimensions: Number(hash[1]) });
  if (id.trim() === 'auto')
    throw new CliError('--embedder must name an embedder (hash, hash-v1-<dimensions>, transformers, transformers:<model id>), not auto');
  const { defaultEmbedder } = await import('@engram/embedders/default');
  return defaultEmbedder({ choice: id, log })({ stored: null });
}

export function registerReembed(program: Command, state: CliState): void {
  program
    .command('reembed')
    .description('Re-embed every memory with another embedder; searches keep working until one atomic switch.')
    .requiredOption('--embedder <id>', 'The new embedder: hash, hash-v1-<dimensions>, transformers, transformers:<model id>')
    .option('--batch-size <n>', 'Memories embedded (and committed) per batch', '256')
    .addHelpText(
      'after',
      `
Interrupted (Ctrl-C, crash)? Run the same command again: it resumes where it stopped. The store
records the new embedder at the switch; restart agents and MCP servers using it afterwards.

Examples:
  $ engram reembed --embedder transformers
  $ engram reembed --embedder hash-v1-256 --path ./.engram/memory.db`,
    )
    .action(async (flags: { embedder: string; batchSize: string }, self: Command) => {
      const invocation = new Invocation(state, self);
      const batchSize = Number(flags.batchSize);
      if (!(Number.isInteger(batchSize) && batchSize >= 1))
        throw new CliError(`--batch-size must be a positive integer (got "${flags.batchSize}")`);
      if (invocation.path === ':memory:' || !existsSync(resolve(invocation.path))) {
        throw new CliError(
          `no memory store at ${invocation.path}: point --path or ENGRAM_PATH at the store to re-embed.`,
          'STORE_NOT_FOUND',
        );
      }
      const embedder = await embedderFor(flags.embedder, (message) => invocation.note(message));
      const { sqliteStore } = await import('@engram/adapters/sqlite');
      const { reembedStore } = await import('@engram/core');
      const store = sqliteStore({ path: invocation.path });
      const bar = progressBar(invocation.stderr, 'reembed', invocation.quiet);
      try {
        const result = await reembedStore({ store, embedder, batchSize, onProgress: ({ embedded, total }) => bar.update(embedded, total) });
        bar.end();
        await invocation.result(result, () => [
          `Re-embedded ${result.total} ${result.total === 1 ? 'memory' : 'memories'} with ${result.to.id} (${result.to.dimensions} dimensions)` +
            `${result.from ? `, replacing ${result.from.id}` : ''}${result.resumed > 0 ? `; resumed after ${result.resumed} already done` : ''}.`,
        ]);
      } finally {
        await store.close();
      }
    });
}
