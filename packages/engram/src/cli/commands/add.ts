import type { AddInput } from '@engram/core';
import { type Command, Option } from 'commander';
import { CliError, UsageError } from '../errors.js';
import { toJsonRecord, typeLabel } from '../format.js';
import { type CliState, Invocation } from '../invocation.js';
import { readAll } from '../io.js';
import { addScopeOptions, parseJsonObject, parseList, parseNumber, resolveSlashType, type ScopeFlags, scopeFrom } from '../options.js';

interface AddFlags extends ScopeFlags {
  type?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
  importance?: number;
  key?: string;
  sensitive?: boolean;
}

export function registerAdd(program: Command, state: CliState): void {
  const command = program
    .command('add')
    .description('Store a memory. An exact duplicate in the same scope returns the stored one.')
    .argument('<content...>', 'The text to remember (words are joined with spaces); "-" reads it from stdin')
    .addOption(new Option('--type <type>', 'A base type or subtype: observation, decision, learning, error, pattern, bug, insight, …'))
    .option('--tags <list>', 'Comma-separated tags (repeatable)', parseList)
    .option('--metadata <json>', 'Metadata as a JSON object', parseJsonObject)
    .option('--importance <0..1>', 'How much it matters (default 0.5)', parseNumber)
    .option('--key <key>', 'Caller key: adding the same key in the same scope updates that memory')
    .option('--sensitive', 'Encrypt the content at rest (needs ENGRAM_ENCRYPTION_KEY; see docs/data-safety.md)');
  addScopeOptions(command, 'store');
  command.addHelpText(
    'after',
    `
Examples:
  $ engram add "The CI cache key must include the lockfile hash" --type learning/insight --tags ci,cache
  $ engram add "Null pointer in the parser on empty input" --type bug --importance 0.8 --user alice
  $ engram add --key deploy-target "Deploys go to eu-west-1" --metadata '{"source": "runbook"}'
  $ git log -1 --format=%B | engram add - --type observation --tags git
  $ engram add "Chose Postgres for the queue" --type decision --json   # prints the stored memory as JSON`,
  );
  command.action(async (words: string[], flags: AddFlags, self: Command) => {
    const invocation = new Invocation(state, self);
    const content = await readContent(words, state);
    const scope = scopeFrom(flags);
    const input: AddInput = {
      content,
      ...(flags.type !== undefined ? { type: flags.type } : {}),
      ...(flags.tags !== undefined ? { tags: flags.tags } : {}),
      ...(flags.metadata !== undefined ? { metadata: flags.metadata } : {}),
      ...(scope ? { scope } : {}),
      ...(flags.conversation !== undefined ? { conversationId: flags.conversation } : {}),
      ...(flags.importance !== undefined ? { importance: flags.importance } : {}),
      ...(flags.key !== undefined ? { key: flags.key } : {}),
      ...(flags.sensitive ? { sensitive: true } : {}),
    };
    const result = await invocation.withMemory('write', (memory) => {
      if (input.type !== undefined) input.type = resolveSlashType(input.type, memory.ontology);
      return memory.add(input);
    });
    for (const warning of result.warnings) invocation.warning(warning);
    const { memory, status } = result;
    await invocation.result({ status, memory: toJsonRecord(memory), warnings: result.warnings }, () => {
      if (invocation.quiet) return memory.id;
      if (status === 'duplicate') return `duplicate: already stored as ${memory.id} (${typeLabel(memory)})`;
      return `${status} ${memory.id} (${typeLabel(memory)})`;
    });
  });
}

async function readContent(words: string[], state: CliState): Promise<string> {
  if (words.length === 1 && words[0] === '-') {
    if (!state.io.stdin) throw new UsageError('"-" reads the content from stdin, but no stdin is available');
    const text = (await readAll(state.io.stdin)).replace(/(\r?\n)+$/, '');
    if (text.trim().length === 0) throw new CliError('nothing to add: stdin was empty');
    return text;
  }
  if (words.includes('-') && words.length > 1) throw new UsageError('"-" (read from stdin) must be the only content argument');
  return words.join(' ');
}
