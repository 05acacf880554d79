import type { IngestFilesReport } from '@engram/adapters/files';
import type { Command } from 'commander';
import { formatBytes, formatCount } from '../format.js';
import { type CliState, Invocation } from '../invocation.js';
import { parseList, parsePositiveInteger, type ScopeFlags, scopeFrom } from '../options.js';

interface IngestFlags extends ScopeFlags {
  tags?: string[];
  type?: string;
  prune?: boolean;
  chunkTokens: number;
  overlapTokens: number;
  maxMb: number;
}

export function registerIngest(program: Command, state: CliState): void {
  program
    .command('ingest')
    .description('Read documents (Markdown, text, HTML, JSON, JSONL, CSV, PDF, code) into memories, one per chunk.')
    .argument('<paths...>', 'Files, folders or globs (quote globs: "docs/**/*.md")')
    .option('--tags <list>', 'Tags for every chunk, comma-separated', parseList)
    .option('--type <type>', 'Memory type of the chunks', 'observation')
    .option('--user <id>', 'Scope (userId)')
    .option('--agent <id>', 'Scope (agentId)')
    .option('--run <id>', 'Scope (runId)')
    .option('--prune', 'Also forget documents ingested from these paths whose file is gone')
    .option('--chunk-tokens <n>', 'Tokens a chunk aims for', parsePositiveInteger, 400)
    .option('--overlap-tokens <n>', 'Tokens repeated from the previous chunk of a section', parseOverlap, 40)
    .option('--max-mb <n>', 'Skip files larger than this (MB)', parsePositiveInteger, 50)
    .addHelpText(
      'after',
      `
Chunks follow the structure: Markdown headings and paragraphs, HTML blocks (navigation, scripts
and footers dropped), PDF pages and paragraphs, CSV rows, JSON records, code blocks. Each chunk's
context is "<title> > <heading> > <subheading>", so search finds it by its headings; metadata has
source, chunk, offset and page. Re-running is cheap: unchanged files write nothing, changed files
replace their chunks. A file that cannot be read is reported; the others are ingested.

Examples:
  $ engram ingest docs/
  $ engram ingest "handbook/**/*.md" manual.pdf --tags handbook
  $ engram ingest docs/ --prune --json`,
    )
    .action(async (paths: string[], flags: IngestFlags, self: Command) => {
      const invocation = new Invocation(state, self);
      const scope = scopeFrom(flags);
      const progress = new IngestProgress(invocation);
      let report: IngestFilesReport;
      try {
        report = await invocation.withMemory('write', async (memory) => {
          const { ingestFiles } = await import('@engram/adapters/files');
          return ingestFiles(memory, paths, {
            ...(scope ? { scope } : {}),
            ...(flags.tags ? { tags: flags.tags } : {}),
            type: flags.type,
            chunk: { targetTokens: flags.chunkTokens, overlapTokens: flags.overlapTokens },
            maxBytes: flags.maxMb * 1024 * 1024,
            ...(flags.prune ? { prune: true } : {}),
            onProgress: (current) => progress.update(current),
          });
        });
      } finally {
        progress.clear();
      }
      for (const document of report.documents) {
        if (document.status === 'failed') invocation.problem(`${document.source}: ${document.error}`);
      }
      if (report.failed > 0) invocation.fail(1);
      await invocation.result(report, () => (invocation.quiet ? [] : describeIngest(report)));
    });
}

function parseOverlap(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new Error('Must be a whole number >= 0.');
  return number;
}

export function describeIngest(report: IngestFilesReport): string[] {
  const count = (status: string) => report.documents.filter((document) => document.status === status).length;
  const seconds = report.durationMs / 1000;
  const rate = seconds > 0 ? `${formatBytes(report.bytes / seconds)}/s` : '-';
  const lines = [
    `ingested ${formatCount(report.documents.length)} files (${formatBytes(report.bytes)}) in ${seconds.toFixed(1)} s, ${rate}: ${count('created')} new, ${count('updated')} changed, ${count('unchanged')} unchanged, ${report.failed} failed`,
    `chunks: ${formatCount(report.chunks.created)} created, ${formatCount(report.chunks.updated)} updated, ${formatCount(report.chunks.unchanged)} unchanged, ${formatCount(report.chunks.deleted)} deleted`,
  ];
  if (report.pruned.sources.length > 0)
    lines.push(`pruned ${report.pruned.sources.length} removed files: ${report.pruned.sources.join(', ')}`);
  return lines;
}

/** Files, chunks and MB/s on a terminal's stderr. */
class IngestProgress {
  private shown = false;
  private readonly started = performance.now();

  constructor(private readonly invocation: Invocation) {}

  update(progress: { documents: number; total: number; chunks: number; bytes: number }): void {
    if (this.invocation.quiet || !this.invocation.stderr.isTTY) return;
    const seconds = (performance.now() - this.started) / 1000;
    const rate = seconds > 0 ? `${formatBytes(progress.bytes / seconds)}/s` : '';
    const share = progress.total > 0 ? progress.documents / progress.total : 1;
    const filled = Math.round(share * 24);
    this.invocation.stderr.write(
      `\r\u001b[Kingesting [${'#'.repeat(filled)}${'-'.repeat(24 - filled)}] ${formatCount(progress.documents)}/${formatCount(progress.total)} files, ${formatCount(progress.chunks)} chunks, ${rate}`,
    );
    this.shown = true;
  }

  clear(): void {
    if (!this.shown) return;
    this.invocation.stderr.write('\r\u001b[K');
    this.shown = false;
  }
}
