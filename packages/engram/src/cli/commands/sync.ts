import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { type CliState, Invocation } from '../invocation.js';

export interface SyncDocument {
  pushed: number;
  pulled: number;
  pending: number;
  lastPushAt: string | null;
  lastPullAt: string | null;
  lastError: string | null;
  url: string;
  replicaId: string | null;
}

export function registerSync(program: Command, state: CliState): void {
  program
    .command('sync')
    .description('Push this store’s local changes to the Engram server in ENGRAM_SYNC_URL and pull everyone else’s (see docs/sync.md).')
    .option('--status', 'only show what is pending and when the last push and pull ran; no network')
    .addHelpText(
      'after',
      `
Environment:
  ENGRAM_SYNC_URL       the server (engram serve, engram-server), e.g. http://127.0.0.1:8000
  ENGRAM_SYNC_KEY       an API key of your tenant on it (engram keys create)
  ENGRAM_SYNC_INTERVAL  how often a long-running process (engram mcp) syncs: 30s by default

Every command that writes pushes before it exits (2 s at most; what is left stays queued).

Examples:
  $ ENGRAM_SYNC_URL=http://127.0.0.1:8000 engram sync
  $ engram sync --status --json`,
    )
    .action(async (flags: { status?: boolean }, self: Command) => {
      const invocation = new Invocation(state, self);
      if (!state.env.ENGRAM_SYNC_URL?.trim()) {
        throw new CliError(
          'ENGRAM_SYNC_URL is not set: point it at an Engram server (engram serve), e.g. ENGRAM_SYNC_URL=http://127.0.0.1:8000',
          'SYNC_NOT_CONFIGURED',
        );
      }
      const document = await invocation.withMemory('write', async (memory): Promise<SyncDocument> => {
        await memory.ready();
        let round = { pushed: 0, pulled: 0 };
        if (flags.status !== true) {
          try {
            round = await memory.sync.now();
          } catch (error) {
            throw new CliError(
              `sync failed: ${(error as Error).message}. Local changes stay queued; run engram sync again.`,
              'SYNC_FAILED',
            );
          }
        }
        const status = await memory.sync.status();
        return {
          ...round,
          pending: status.pending,
          lastPushAt: status.lastPushAt?.toISOString() ?? null,
          lastPullAt: status.lastPullAt?.toISOString() ?? null,
          lastError: status.lastError,
          url: status.url,
          replicaId: status.replicaId,
        };
      });
      await invocation.result(document, () =>
        flags.status === true
          ? [`${document.pending} local change(s) pending for ${document.url}`]
          : [`pushed ${document.pushed} operation(s), pulled ${document.pulled} change(s); ${document.pending} pending (${document.url})`],
      );
    });
}
