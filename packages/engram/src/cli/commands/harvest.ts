import { existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { modelFromEnvironment } from '@engram/models';
import type { Command } from 'commander';
import { CliError, UsageError } from '../errors.js';
import { formatRows } from '../format.js';
import { type CliState, Invocation } from '../invocation.js';
import { addScopeOptions, type ScopeFlags, scopeFrom } from '../options.js';

interface HarvestFlags extends ScopeFlags {
  dryRun?: boolean;
  apply?: boolean;
  project?: string;
}

export function registerHarvest(program: Command, state: CliState): void {
  const command = program
    .command('harvest')
    .description(
      'Learn from a Claude Code session transcript (JSONL). Shows what would be stored unless --apply. ' +
        'Uses the language model when ENGRAM_MODEL is set, else keyword rules.',
    )
    .argument('<transcript>', 'A Claude Code transcript, e.g. ~/.claude/projects/<project>/<session>.jsonl')
    .option('--dry-run', 'Show what would be stored, write nothing (the default)')
    .option('--apply', 'Store it')
    .option('--project <name>', 'Project name for the project:<name> tag (default: the git root folder of the current folder)');
  addScopeOptions(command, 'store');
  command.addHelpText(
    'after',
    `
With ENGRAM_MODEL set, the model extracts facts from the latest 48,000 characters of the session and
reconciles them with what is stored (added, updated, superseded, unchanged). Without one, decision and
learning statements are picked by keyword rules into one record per kind and session (what the
Claude Code Stop hook stores).

Examples:
  $ engram harvest ~/.claude/projects/-home-ada-shop/0b6c…e1.jsonl
  $ ENGRAM_MODEL=ollama:qwen2.5:7b engram harvest session.jsonl --apply --user ada`,
  );
  command.action(async (transcript: string, flags: HarvestFlags, self: Command) => {
    const invocation = new Invocation(state, self);
    if (flags.dryRun && flags.apply) throw new UsageError('--dry-run and --apply contradict each other: pick one');
    if (!existsSync(transcript)) throw new CliError(`no transcript at ${transcript}`, 'NOT_FOUND');
    // Loaded on demand: the MCP package is only needed here.
    const { harvestTranscript, projectOf, readTranscript } = await import('@engram/mcp');
    const messages = await readTranscript(transcript);
    const model = modelFromEnvironment(state.env);
    const dryRun = flags.apply !== true;
    const scope = scopeFrom(flags);
    const sessionId = flags.conversation ?? basename(transcript, extname(transcript));
    const result = await invocation.withMemory(
      'write',
      (memory) =>
        harvestTranscript(memory, messages, {
          project: flags.project ?? projectOf(process.cwd()).name,
          ...(scope ? { scope } : {}),
          sessionId,
          dryRun,
          source: 'engram-harvest',
        }),
      model,
    );
    for (const warning of result.warnings) invocation.warning(warning);
    await invocation.result({ dryRun, sessionId, messages: messages.length, ...result }, () => {
      const rows = formatRows(
        result.items.map((item) => ({ cells: [dryRun ? `would ${item.action}` : item.action, item.type], content: item.content })),
        invocation.width,
      );
      if (invocation.quiet) return rows;
      const how = result.method === 'model' ? `with ${model?.id}` : 'with keyword rules (set ENGRAM_MODEL to use a model)';
      const footer =
        result.items.length === 0
          ? `nothing to store from ${messages.length} messages (${how})`
          : `${result.items.length} item${result.items.length === 1 ? '' : 's'} from ${messages.length} messages ${how}${dryRun ? '; dry run: run again with --apply to store' : ''}`;
      return [...rows, footer];
    });
  });
}
