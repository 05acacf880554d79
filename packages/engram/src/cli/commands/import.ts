import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { CliError, describeError, UsageError } from '../errors.js';
import { formatCount } from '../format.js';
import { type CliState, Invocation } from '../invocation.js';
import { readLines } from '../io.js';
import { parsePositiveInteger, type ScopeFlags, scopeFrom } from '../options.js';
import { type ImportSummary, importMemories } from '../transfer.js';

interface ImportFlags extends ScopeFlags {
  batchSize: number;
  progressEvery: number;
}

export function registerImport(program: Command, state: CliState): void {
  program
    .command('import')
    .description('Add memories from JSON Lines: an `engram export` file, or minimal {"content": "…"} lines.')
    .argument('<file>', 'A .jsonl file, or "-" for stdin')
    .option('--batch-size <n>', 'Memories per transaction', parsePositiveInteger, 500)
    .option('--progress-every <n>', 'When stderr is not a terminal, print progress every n lines', parsePositiveInteger, 10_000)
    .option('--user <id>', 'Scope (userId) for lines that have no scope')
    .option('--agent <id>', 'Scope (agentId) for lines that have no scope')
    .option('--run <id>', 'Scope (runId) for lines that have no scope')
    .addHelpText(
      'after',
      `
Each line is one memory. Kept from an export: content, type/subtype, tags, metadata, scope,
conversationId, key, importance, createdAt, quality, source, confidence and the episodic fields
(emotion, emotionalValence, emotionalArousal, episodeId, sequenceNumber, precedingMemoryId,
sourceType, credibility). New ids are minted; contentHash, access statistics, updatedAt and
validFrom are recomputed; deleted memories are skipped. Exact duplicates already in the store
are not added again, so an interrupted import can simply be re-run.

Each batch is written in one transaction. A bad line is reported with its line number and left
out; the import goes on and exits with 1 at the end.

Examples:
  $ engram import backup.jsonl
  $ engram import backup.jsonl --path ~/agents/new/memory.db
  $ echo '{"content": "Staging uses port 8443", "type": "learning", "tags": ["staging"]}' | engram import -
  $ engram import notes.jsonl --user alice --json`,
    )
    .action(async (file: string, flags: ImportFlags, self: Command) => {
      const invocation = new Invocation(state, self);
      // Open the input before the store so a wrong file name creates nothing.
      let input: Readable;
      let close = async () => {};
      if (file === '-') {
        if (!state.io.stdin) throw new UsageError('"-" reads from stdin, but no stdin is available');
        input = state.io.stdin;
      } else {
        const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
          throw new CliError(`cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`, error.code ?? 'CLI_ERROR');
        });
        if ((await handle.stat()).isDirectory()) {
          await handle.close();
          throw new CliError(
            `cannot read ${file}: it is a folder. Pass a JSON Lines file (one memory per line, as \`engram export\` writes), or - to read stdin.`,
            'EISDIR',
          );
        }
        input = handle.createReadStream({ encoding: 'utf8' });
        close = () => handle.close().catch(() => {});
      }
      const progress = new Progress(invocation, flags.progressEvery);
      const scope = scopeFrom(flags);
      let summary: ImportSummary;
      try {
        summary = await invocation.withMemory('write', (memory) =>
          importMemories(memory, readLines(input), {
            batchSize: flags.batchSize,
            ...(scope ? { scope } : {}),
            onProblem: ({ line, reason }) => {
              progress.clear();
              invocation.problem(`line ${line}: ${reason}`);
            },
            onWarning: (line, warning) => {
              progress.clear();
              invocation.warning(`line ${line}: ${warning}`);
            },
            onProgress: (current) => progress.update(current),
          }),
        );
      } finally {
        progress.clear();
        await close();
      }

      const stopped = summary.stoppedAt;
      if (summary.failed > 0 || stopped) invocation.fail(1);
      const stoppedDocument = stopped ? stoppedReport(stopped) : undefined;
      if (stopped && stoppedDocument) {
        invocation.problem(
          `import stopped at line ${stopped.line}: ${stoppedDocument.message}. Lines before the batch starting there are imported; fix the cause and re-run the same command (already imported memories are recognised as duplicates).`,
        );
      }
      await invocation.result(
        {
          file,
          records: summary.records,
          created: summary.created,
          updated: summary.updated,
          duplicates: summary.duplicates,
          skipped: summary.skipped,
          failed: summary.failed,
          problems: summary.problems,
          ...(stopped && stoppedDocument ? { stoppedAt: { line: stopped.line, error: stoppedDocument } } : {}),
        },
        () => (invocation.quiet ? [] : describeSummary(file, summary)),
      );
    });
}

function stoppedReport(stopped: { error: unknown }): { code: string; message: string } {
  const described = describeError(stopped.error);
  return { code: described.code, message: described.messages.join('; ') };
}

function describeSummary(file: string, summary: ImportSummary): string {
  const parts = [`${formatCount(summary.created)} created`];
  if (summary.updated > 0) parts.push(`${formatCount(summary.updated)} updated`);
  parts.push(`${formatCount(summary.duplicates)} already stored`);
  if (summary.skipped > 0) parts.push(`${formatCount(summary.skipped)} skipped (deleted)`);
  parts.push(`${formatCount(summary.failed)} failed`);
  const source = file === '-' ? 'stdin' : file;
  return `imported ${formatCount(summary.records)} ${summary.records === 1 ? 'line' : 'lines'} from ${source}: ${parts.join(', ')}`;
}

/** A self-updating line on a terminal; a line every `every` records otherwise; nothing with --quiet. */
class Progress {
  private shown = false;
  private nextMark: number;

  constructor(
    private readonly invocation: Invocation,
    private readonly every: number,
  ) {
    this.nextMark = every;
  }

  update(summary: ImportSummary): void {
    if (this.invocation.quiet) return;
    const text = `importing: ${formatCount(summary.records)} lines read, ${formatCount(summary.created + summary.updated)} written, ${formatCount(summary.duplicates)} already stored, ${formatCount(summary.failed)} failed`;
    if (this.invocation.stderr.isTTY) {
      this.invocation.stderr.write(`\r\u001b[K${text}`);
      this.shown = true;
    } else if (summary.records >= this.nextMark) {
      this.invocation.stderr.write(`${text}\n`);
      while (this.nextMark <= summary.records) this.nextMark += this.every;
    }
  }

  clear(): void {
    if (!this.shown) return;
    this.invocation.stderr.write('\r\u001b[K');
    this.shown = false;
  }
}
