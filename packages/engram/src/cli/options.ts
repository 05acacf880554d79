import { type Ontology, type Scope, ValidationError } from '@engram/core';
import { type Command, InvalidArgumentError, Option } from 'commander';

/** `a,b , c` → ['a', 'b', 'c']; a repeated flag adds to the list. */
export function parseList(value: string, previous: string[] | undefined): string[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  return [...(previous ?? []), ...items];
}

export function parseNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number)) throw new InvalidArgumentError('Not a number.');
  return number;
}

export function parseInteger(value: string): number {
  const number = parseNumber(value);
  if (!Number.isInteger(number)) throw new InvalidArgumentError('Not a whole number.');
  return number;
}

export function parsePositiveInteger(value: string): number {
  const number = parseInteger(value);
  if (number < 1) throw new InvalidArgumentError('Must be at least 1.');
  return number;
}

export function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`Not valid JSON (${(error as Error).message}). Quote it for the shell, e.g. '{"priority": 3}'.`);
  }
}

export function parseJsonObject(value: string): Record<string, unknown> {
  const parsed = parseJson(value);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`Must be a JSON object such as '{"priority": 3}'.`);
  }
  return parsed as Record<string, unknown>;
}

/** Dates for --after/--before: ISO strings as given, all-digit values as epoch milliseconds. */
export function parseDate(value: string): string | number {
  return /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
}

export interface ScopeFlags {
  user?: string;
  agent?: string;
  run?: string;
  conversation?: string;
}

export interface FilterFlags extends ScopeFlags {
  types?: string[];
  tags?: string[];
  tagMatch?: 'any' | 'all';
  after?: string | number;
  before?: string | number;
  time?: string;
  where?: Record<string, unknown>;
}

export function addScopeOptions(command: Command, verb: 'store' | 'filter'): Command {
  const what = verb === 'store' ? 'Store it for' : 'Only memories of';
  return command
    .option('--user <id>', `${what} this user (scope.userId)`)
    .option('--agent <id>', `${what} this agent (scope.agentId)`)
    .option('--run <id>', `${what} this run (scope.runId)`)
    .option(
      '--conversation <id>',
      verb === 'store' ? 'Conversation id (skips near-duplicate checks)' : 'Only memories of this conversation',
    );
}

export function addFilterOptions(command: Command, features: { time: boolean; where: boolean }): Command {
  addScopeOptions(command, 'filter')
    .option('--types <list>', 'Comma-separated base types and/or subtypes, e.g. error,insight', parseList)
    .option('--tags <list>', 'Comma-separated tags', parseList)
    .addOption(new Option('--tag-match <how>', 'any: at least one tag; all: every tag').choices(['any', 'all']).default('any'))
    .option('--after <date>', 'Created at or after this ISO date/time (or epoch ms)', parseDate)
    .option('--before <date>', 'Created before this ISO date/time (or epoch ms)', parseDate);
  if (features.time)
    command.option(
      '--time <expression>',
      "A time window in words: 'last week', 'yesterday', 'since march', 'between 2024-01-01 and 2024-02-01'",
    );
  if (features.where) command.option('--where <json>', 'Metadata conditions as JSON, e.g. \'{"priority": {"gte": 3}}\'', parseJsonObject);
  return command;
}

export function scopeFrom(flags: ScopeFlags): Scope | undefined {
  const scope: Scope = {};
  if (flags.user !== undefined) scope.userId = flags.user;
  if (flags.agent !== undefined) scope.agentId = flags.agent;
  if (flags.run !== undefined) scope.runId = flags.run;
  return Object.keys(scope).length > 0 ? scope : undefined;
}

/** The filter options core's search, list, count and context accept, from the shared flags. */
export function filterFrom(
  flags: FilterFlags,
  ontology: Ontology,
): {
  scope?: Scope;
  conversationId?: string;
  types?: string[];
  tags?: string[] | { all: string[] };
  after?: string | number;
  before?: string | number;
  time?: string;
  where?: Record<string, unknown>;
} {
  const scope = scopeFrom(flags);
  return {
    ...(scope ? { scope } : {}),
    ...(flags.conversation !== undefined ? { conversationId: flags.conversation } : {}),
    ...(flags.types && flags.types.length > 0 ? { types: flags.types.map((type) => resolveSlashType(type, ontology, 'types')) } : {}),
    ...(flags.tags && flags.tags.length > 0 ? { tags: flags.tagMatch === 'all' ? { all: flags.tags } : flags.tags } : {}),
    ...(flags.after !== undefined ? { after: flags.after } : {}),
    ...(flags.before !== undefined ? { before: flags.before } : {}),
    ...(flags.time !== undefined ? { time: flags.time } : {}),
    ...(flags.where !== undefined ? { where: flags.where } : {}),
  };
}

/** `learning/insight` → `insight`, after checking that the subtype belongs to that base type. */
export function resolveSlashType(type: string, ontology: Ontology, field = 'type'): string {
  const slash = type.indexOf('/');
  if (slash === -1) return type;
  const base = type.slice(0, slash).trim().toLowerCase();
  const subtype = type
    .slice(slash + 1)
    .trim()
    .toLowerCase();
  if (!ontology.subtypesOf(base).includes(subtype)) {
    const known = ontology.subtypesOf(base);
    throw new ValidationError([
      {
        field,
        message:
          known.length > 0
            ? `"${type}": ${base} has the subtypes ${known.join(', ')}`
            : `"${type}": unknown base type "${base}". Known: ${ontology.types.join(', ')}`,
      },
    ]);
  }
  return subtype;
}
