import { CONSOLIDATION_STEPS, type ConsolidationProgress, type ConsolidationReport, type ConsolidationStep } from '@engram/core';
import { type Command, InvalidArgumentError } from 'commander';
import { UsageError } from '../errors.js';
import { formatCount, formatRows, formatScore } from '../format.js';
import { type CliState, Invocation } from '../invocation.js';
import { parseDate, parseList, type ScopeFlags, scopeFrom } from '../options.js';

interface ConsolidateFlags extends ScopeFlags {
  apply?: boolean;
  steps?: string[];
  now?: string | number;
  rows: number;
}

const ROWS_DEFAULT = 20;

export function registerConsolidate(program: Command, state: CliState): void {
  program
    .command('consolidate')
    .description('Score, forget (archive first), compress and link memories. Shows what would happen unless --apply.')
    .option('--apply', 'Write the changes (default: a dry run that writes nothing)')
    .option(
      '--steps <list>',
      `Steps to run, comma-separated: ${CONSOLIDATION_STEPS.join(', ')} (default: relevance,forgetting,compression)`,
      parseList,
    )
    .option('--user <id>', 'Only memories of this userId')
    .option('--agent <id>', 'Only memories of this agentId')
    .option('--run <id>', 'Only memories of this runId')
    .option('--now <date>', 'Measure ages from this instant (ISO date or epoch ms) instead of now', parseDate)
    .option('--rows <n>', `Rows shown per table (the JSON report has them all)`, parseRows, ROWS_DEFAULT)
    .addHelpText(
      'after',
      `
Steps:
  relevance     a decay score per memory (importance × e^(−age/retention) × access and link boosts),
                stored with --apply so search can rerank by it (retrieval.decay)
  forgetting    memories under the score threshold and older than the minimum age are appended to
                the archive (<store>.archive.jsonl beside the store file), then soft-deleted.
                Never: memories with links, importance ≥ 0.7, a key, or the "keep" tag.
                Restore with: engram import <store>.archive.jsonl
  compression   near-duplicate memories of one type and scope, created within 30 days, become one
                pattern memory linked "supports" from each source (the sources stay)
  associations  link suggestions above the confidence floor, written as inferred edges with --apply
                (one search per memory: opt-in)

Examples:
  $ engram consolidate                       # what would happen
  $ engram consolidate --apply
  $ engram consolidate --steps forgetting --user alice --json | jq '.forgetting.forgotten[].id'
  $ engram consolidate --steps relevance,associations --apply`,
    )
    .action(async (flags: ConsolidateFlags, self: Command) => {
      const invocation = new Invocation(state, self);
      const steps = flags.steps?.map((step) => step.toLowerCase());
      for (const step of steps ?? []) {
        if (!(CONSOLIDATION_STEPS as readonly string[]).includes(step)) {
          throw new UsageError(`--steps: unknown step "${step}" (choose from ${CONSOLIDATION_STEPS.join(', ')})`);
        }
      }
      const scope = scopeFrom(flags);
      const bar = new ProgressBar(invocation);
      let report: ConsolidationReport;
      try {
        report = await invocation.withMemory(flags.apply ? 'write' : 'read', (memory) =>
          memory.consolidate({
            dryRun: !flags.apply,
            ...(steps ? { steps: steps as ConsolidationStep[] } : {}),
            ...(scope ? { scope } : {}),
            ...(flags.now !== undefined ? { now: flags.now } : {}),
            onProgress: (progress) => bar.update(progress),
          }),
        );
      } finally {
        bar.clear();
      }
      await invocation.result(report, () => describeReport(report, flags.rows, invocation.width));
    });
}

function parseRows(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new InvalidArgumentError('Must be a whole number >= 0.');
  return number;
}

/** The report as a summary table, then the rows of each step that names memories. */
export function describeReport(report: ConsolidationReport, rows: number, width?: number): string[] {
  const verb = report.dryRun ? 'would' : '';
  const lines: string[] = [
    `${report.dryRun ? 'dry run (nothing written; --apply to apply)' : 'applied'}: ${formatCount(report.scanned)} memories scanned in ${(report.durationMs / 1000).toFixed(1)} s`,
    '',
  ];
  const summary: Array<[string, string]> = [];
  if (report.relevance) {
    const faded = report.relevance.bands[0]?.count ?? 0;
    summary.push([
      'relevance',
      `${formatCount(report.relevance.scored)} scored, mean ${formatScore(report.relevance.mean)}, ${formatCount(faded)} under 0.05${report.dryRun ? '' : `; ${formatCount(report.relevance.stored)} stored`}`,
    ]);
  }
  if (report.forgetting) {
    const kept = Object.entries(report.forgetting.protected)
      .map(([why, count]) => `${count} ${why}`)
      .join(', ');
    const archive = report.forgetting.archive ? `, archived to ${report.forgetting.archive}` : '';
    summary.push([
      'forgetting',
      `${formatCount(report.forgetting.forgotten.length)} ${verb ? 'would be ' : ''}forgotten${archive} (protected: ${kept})`,
    ]);
  }
  if (report.compression) {
    const sources = report.compression.clusters.reduce((total, cluster) => total + cluster.ids.length, 0);
    summary.push([
      'compression',
      `${formatCount(report.compression.clusters.length)} clusters of ${formatCount(sources)} memories ${verb ? 'would become' : 'became'} patterns`,
    ]);
  }
  if (report.associations) {
    summary.push([
      'associations',
      `${formatCount(report.associations.suggestions.length)} links suggested from ${formatCount(report.associations.examined)} memories${report.dryRun ? '' : `, ${formatCount(report.associations.written)} written`}`,
    ]);
  }
  const stepWidth = Math.max(...summary.map(([step]) => step.length), 4);
  lines.push(`${'step'.padEnd(stepWidth)}  result`, ...summary.map(([step, text]) => `${step.padEnd(stepWidth)}  ${text}`));

  const section = (title: string, total: number, body: Array<{ cells: string[]; content: string }>) => {
    if (total === 0 || rows === 0) return;
    lines.push('', `${title}${total > body.length ? ` (first ${body.length} of ${formatCount(total)}; --json for all)` : ''}`);
    lines.push(...formatRows(body, width));
  };
  if (report.forgetting) {
    const forgotten = report.forgetting.forgotten;
    section(
      report.dryRun ? 'would forget' : 'forgotten',
      forgotten.length,
      forgotten.slice(0, rows).map((entry) => ({
        cells: [entry.id, entry.type, formatScore(entry.score), `${entry.ageDays}d`],
        content: entry.preview,
      })),
    );
  }
  if (report.compression) {
    const clusters = report.compression.clusters;
    section(
      report.dryRun ? 'would compress' : 'compressed',
      clusters.length,
      clusters.slice(0, rows).map((cluster) => ({
        cells: [cluster.patternId ?? '(new pattern)', `${cluster.ids.length} × ${cluster.type}`],
        content: cluster.summary,
      })),
    );
  }
  if (report.associations) {
    const suggestions = report.associations.suggestions;
    section(
      report.dryRun ? 'would link' : 'linked',
      suggestions.length,
      suggestions.slice(0, rows).map((suggestion) => ({
        cells: [suggestion.sourceId, `—${suggestion.type}→`, suggestion.targetId, formatScore(suggestion.confidence)],
        content: suggestion.reasons.join('; '),
      })),
    );
  }
  return lines;
}

/** A bar on a terminal's stderr; nothing on a pipe or with --quiet. */
class ProgressBar {
  private shown = false;
  private last = 0;

  constructor(private readonly invocation: Invocation) {}

  update(progress: ConsolidationProgress): void {
    if (this.invocation.quiet || !this.invocation.stderr.isTTY) return;
    const now = Date.now();
    if (now - this.last < 100 && progress.done < progress.total) return;
    this.last = now;
    const share = progress.total > 0 ? Math.min(1, progress.done / progress.total) : 1;
    const filled = Math.round(share * 24);
    this.invocation.stderr.write(
      `\r\u001b[K${progress.step.padEnd(12)} [${'#'.repeat(filled)}${'-'.repeat(24 - filled)}] ${formatCount(progress.done)}/${formatCount(progress.total)}`,
    );
    this.shown = true;
  }

  clear(): void {
    if (!this.shown) return;
    this.invocation.stderr.write('\r\u001b[K');
    this.shown = false;
  }
}
