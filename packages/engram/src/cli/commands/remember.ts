import type { InferResult, LanguageModel } from '@engram/core';
import { modelFromEnvironment } from '@engram/models';
import type { Command } from 'commander';
import { CliError, UsageError } from '../errors.js';
import { formatRows, toJsonRecord, typeLabel } from '../format.js';
import { type CliState, Invocation } from '../invocation.js';
import { readAll } from '../io.js';
import { addScopeOptions, parseList, type ScopeFlags, scopeFrom } from '../options.js';

interface RememberFlags extends ScopeFlags {
  infer?: boolean;
  dryRun?: boolean;
  instructions?: string;
  tags?: string[];
}

/** The model named by ENGRAM_MODEL, or a CliError saying how to configure one. */
export function requireModel(state: CliState, what: string): LanguageModel {
  const model = modelFromEnvironment(state.env);
  if (!model) {
    throw new CliError(
      `${what} needs a language model: set ENGRAM_MODEL (e.g. openai:gpt-4o-mini, anthropic:claude-3-5-haiku-latest, ollama:qwen2.5:7b), ` +
        'plus ENGRAM_MODEL_URL and ENGRAM_MODEL_KEY as needed. See docs/intelligence.md.',
      'MODEL_NOT_CONFIGURED',
    );
  }
  return model;
}

/** The rows of an inference result: what was done (or, in a dry run, would be done) to which memory. */
export function inferRows(result: InferResult, dryRun: boolean): Array<{ cells: string[]; content: string }> {
  if (dryRun) {
    return result.plan.operations.map((operation) => {
      const fact = result.plan.facts[operation.fact];
      return {
        cells: [`would ${operation.op}`, operation.targetId ?? '-', fact?.type ?? 'observation'],
        content: `${fact?.content ?? ''}${operation.reason ? ` (${operation.reason})` : ''}`,
      };
    });
  }
  return result.results.map((item) => ({
    cells: [item.status, item.memory.id, typeLabel(item.memory)],
    content: item.status === 'superseded' && item.previous ? `${item.memory.content} (replaces ${item.previous.id})` : item.memory.content,
  }));
}

export function inferDocument(result: InferResult): Record<string, unknown> {
  return {
    results: result.results.map((item) => ({
      status: item.status,
      memory: toJsonRecord(item.memory),
      ...(item.previous ? { previous: toJsonRecord(item.previous) } : {}),
    })),
    plan: result.plan,
    usage: result.usage,
    warnings: result.warnings,
  };
}

export function registerRemember(program: Command, state: CliState): void {
  const command = program
    .command('remember')
    .description(
      'Learn from text: with --infer, a language model (ENGRAM_MODEL) extracts the facts and reconciles them with what is stored.',
    )
    .argument('<text...>', 'What was said (words are joined with spaces); "-" reads it from stdin')
    .option('--infer', 'Extract facts with the model and add, update or supersede memories (default: store the text as given)')
    .option('--dry-run', 'With --infer: show what would be stored, write nothing')
    .option('--instructions <text>', 'With --infer: extra guidance for the model ("only facts about the build")')
    .option('--tags <list>', 'Comma-separated tags for what is stored (repeatable)', parseList);
  addScopeOptions(command, 'store');
  command.addHelpText(
    'after',
    `
Environment:
  ENGRAM_MODEL      [provider:]model: openai:gpt-4o-mini, anthropic:claude-3-5-haiku-latest, ollama:qwen2.5:7b, …
  ENGRAM_MODEL_URL  the API root for OpenAI-compatible servers (vLLM, LM Studio, OpenRouter, Azure…)
  ENGRAM_MODEL_KEY  the API key (default: OPENAI_API_KEY or ANTHROPIC_API_KEY)

Examples:
  $ engram remember "I moved from Berlin to Lisbon last month" --infer --user ada
  $ engram remember "We switched the queue from Redis to Postgres" --infer --dry-run
  $ cat meeting-notes.md | engram remember - --infer --tags meeting`,
  );
  command.action(async (words: string[], flags: RememberFlags, self: Command) => {
    const invocation = new Invocation(state, self);
    const text = await readText(words, state);
    const scope = scopeFrom(flags);
    if (!flags.infer) {
      if (flags.dryRun || flags.instructions !== undefined) throw new UsageError('--dry-run and --instructions only apply with --infer');
      const result = await invocation.withMemory('write', (memory) =>
        memory.add({
          content: text,
          ...(flags.tags ? { tags: flags.tags } : {}),
          ...(scope ? { scope } : {}),
          ...(flags.conversation !== undefined ? { conversationId: flags.conversation } : {}),
        }),
      );
      await invocation.result({ status: result.status, memory: toJsonRecord(result.memory), warnings: result.warnings }, () =>
        invocation.quiet ? result.memory.id : `${result.status} ${result.memory.id} (${typeLabel(result.memory)})`,
      );
      return;
    }
    const model = requireModel(state, 'remember --infer');
    const result = await invocation.withMemory(
      'write',
      (memory) =>
        memory.add(text, {
          infer: true,
          ...(scope ? { scope } : {}),
          ...(flags.conversation !== undefined ? { conversationId: flags.conversation } : {}),
          ...(flags.instructions !== undefined ? { instructions: flags.instructions } : {}),
          ...(flags.tags ? { tags: flags.tags } : {}),
          ...(flags.dryRun ? { dryRun: true } : {}),
        }),
      model,
    );
    for (const warning of result.warnings) invocation.warning(warning);
    await invocation.result(inferDocument(result), () => {
      const rows = formatRows(inferRows(result, flags.dryRun === true), invocation.width);
      if (invocation.quiet) return rows;
      const summary = `${result.plan.facts.length} fact${result.plan.facts.length === 1 ? '' : 's'} from ${model.id}, ${result.usage.calls} call${result.usage.calls === 1 ? '' : 's'}, ${result.usage.inputTokens}+${result.usage.outputTokens} tokens${flags.dryRun ? ' (dry run: nothing written)' : ''}`;
      return [...rows, rows.length === 0 ? `nothing to remember (${summary})` : summary];
    });
  });
}

async function readText(words: string[], state: CliState): Promise<string> {
  if (words.length === 1 && words[0] === '-') {
    if (!state.io.stdin) throw new UsageError('"-" reads the text from stdin, but no stdin is available');
    const text = (await readAll(state.io.stdin)).trim();
    if (text.length === 0) throw new CliError('nothing to remember: stdin was empty');
    return text;
  }
  if (words.includes('-') && words.length > 1) throw new UsageError('"-" (read from stdin) must be the only text argument');
  return words.join(' ');
}
