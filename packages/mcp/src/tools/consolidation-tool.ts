import { CONSOLIDATION_STEPS, type ConsolidationReport } from '@engram/core';
import { z } from 'zod';
import { type AnyToolDefinition, defineTool, scopeArguments, scopeOf } from './tool-kit.js';

/** A short account of a consolidation report for the model; the full report is the structured data. */
export function consolidationText(report: ConsolidationReport): string {
  const lines = [`${report.dryRun ? 'Dry run (nothing written)' : 'Applied'}: ${report.scanned} memories scanned.`];
  if (report.relevance) {
    lines.push(`relevance: ${report.relevance.scored} scored, mean ${report.relevance.mean.toFixed(3)}, ${report.relevance.stored} stored`);
  }
  if (report.forgetting) {
    const kept = Object.entries(report.forgetting.protected)
      .map(([why, count]) => `${count} ${why}`)
      .join(', ');
    lines.push(`forgetting: ${report.forgetting.forgotten.length} ${report.dryRun ? 'would be ' : ''}forgotten (protected: ${kept})`);
    for (const entry of report.forgetting.forgotten.slice(0, 10))
      lines.push(`  - ${entry.id} [${entry.type}] ${entry.preview} — ${entry.reason}`);
    if (report.forgetting.forgotten.length > 10) lines.push(`  … ${report.forgetting.forgotten.length - 10} more in the structured result`);
  }
  if (report.compression) {
    lines.push(`compression: ${report.compression.clusters.length} clusters ${report.dryRun ? 'would become' : 'became'} patterns`);
    for (const cluster of report.compression.clusters.slice(0, 10)) lines.push(`  - ${cluster.ids.length} memories → ${cluster.summary}`);
  }
  if (report.associations) {
    lines.push(`associations: ${report.associations.suggestions.length} suggested, ${report.associations.written} written`);
  }
  if (report.dryRun) lines.push('Call again with apply: true to write these changes (forgotten memories are archived first).');
  return lines.join('\n');
}

const section = z.record(z.string(), z.unknown());

/** The consolidation report (see `ConsolidationReport`), keys in snake_case. */
export const consolidationOutputSchema = z.object({
  dry_run: z.boolean(),
  now: z.string(),
  scope: z.object({ user_id: z.string().optional(), agent_id: z.string().optional(), run_id: z.string().optional() }),
  steps: z.array(z.enum(CONSOLIDATION_STEPS)),
  scanned: z.number(),
  duration_ms: z.number(),
  relevance: section.optional(),
  forgetting: section.optional(),
  compression: section.optional(),
  associations: section.optional(),
});

/** Keys in snake_case like every other tool's result; what callers stored under `metadata` is left as it is. */
function snakeCase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeCase);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`),
      key === 'metadata' ? inner : snakeCase(inner),
    ]),
  );
}

const memoryConsolidate = defineTool({
  name: 'memory_consolidate',
  title: 'Consolidate memories',
  description:
    'Keeps the memory healthy: scores how relevant each memory still is, forgets faded ones (archived first; never linked, important, keyed or "keep"-tagged ones), folds near-duplicates into pattern memories, and optionally suggests links. A dry run unless apply is true: call it first without apply to see what would change.',
  input: z.strictObject({
    ...scopeArguments,
    apply: z.boolean().optional().describe('Write the changes. Default false: report what would happen.'),
    steps: z
      .array(z.enum(CONSOLIDATION_STEPS))
      .min(1)
      .optional()
      .describe('Steps to run. Default relevance, forgetting, compression (associations cost one search per memory).'),
  }),
  output: consolidationOutputSchema,
  kind: 'destructive',
  async run(args, context) {
    const memory = await context.memory();
    const report = await memory.consolidate({
      scope: scopeOf(args, context.defaults),
      dryRun: args.apply !== true,
      ...(args.steps ? { steps: args.steps } : {}),
    });
    return { text: consolidationText(report), data: snakeCase(JSON.parse(JSON.stringify(report))) as Record<string, unknown> };
  },
});

export const consolidationTools: AnyToolDefinition[] = [memoryConsolidate];
