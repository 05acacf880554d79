import { EngramError, type Memory, type MemoryRecord, NotFoundError, type Scope, ValidationError } from '@engram/core';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/** The default scope of tool calls (ENGRAM_USER_ID / ENGRAM_AGENT_ID). */
export interface ScopeDefaults {
  userId?: string;
  agentId?: string;
}

export interface ToolContext {
  /** The shared Memory, built on first use. */
  memory(): Promise<Memory>;
  defaults: ScopeDefaults;
  log(message: string): void;
  /** Folders memory_ingest may read (`--allow-ingest`); none: it reads no files. */
  allowIngest?: readonly string[];
}

/** What a tool returns: text for the model, data for programs (`structuredContent`). */
export interface ToolOutput {
  text: string;
  data: Record<string, unknown>;
}

type Shape = z.core.$ZodLooseShape;

export interface ToolDefinition<Input extends z.ZodObject<Shape>> {
  name: string;
  title: string;
  description: string;
  input: Input;
  output?: z.ZodObject<Shape>;
  /** readOnly: never changes the store; destructive: may remove or overwrite what is there. */
  kind: 'read' | 'write' | 'destructive';
  idempotent?: boolean;
  run(args: z.output<Input>, context: ToolContext): Promise<ToolOutput>;
}

export interface AnyToolDefinition {
  name: string;
  title: string;
  description: string;
  input: z.ZodObject<Shape>;
  output?: z.ZodObject<Shape>;
  kind: 'read' | 'write' | 'destructive';
  idempotent?: boolean;
  run(args: unknown, context: ToolContext): Promise<ToolOutput>;
}

/** Erases the argument type so definitions can share one list. */
export function defineTool<Input extends z.ZodObject<Shape>>(definition: ToolDefinition<Input>): AnyToolDefinition {
  return { ...definition, run: (args, context) => definition.run(args as z.output<Input>, context) };
}

export function registerTools(server: McpServer, definitions: AnyToolDefinition[], context: ToolContext): void {
  for (const definition of definitions) {
    const annotations: ToolAnnotations = {
      title: definition.title,
      readOnlyHint: definition.kind === 'read',
      destructiveHint: definition.kind === 'destructive',
      idempotentHint: definition.idempotent ?? definition.kind === 'read',
      openWorldHint: false,
    };
    const callback = async (args: unknown): Promise<CallToolResult> => {
      try {
        const { text, data } = await definition.run(args, context);
        return { content: [{ type: 'text', text }], structuredContent: data };
      } catch (error) {
        return toolError(error, context);
      }
    };
    server.registerTool(
      definition.name,
      {
        title: definition.title,
        description: definition.description,
        inputSchema: definition.input,
        ...(definition.output ? { outputSchema: definition.output } : {}),
        annotations,
      },
      callback as never,
    );
  }
}

// ---------------------------------------------------------------- errors

const PREFIXES = /^(options|patch|input|filter|scope)\./;
const RENAMES: Record<string, string> = {
  from_id: 'from',
  to_id: 'to',
  max_depth: 'depth',
  radius: 'depth',
  'expand.types': 'expand_types',
  'expand.depth': 'expand_depth',
};

/** Maps a core field path ('options.includeSuperseded', 'scope.userId', 'options.expand.types.0') to the tool's argument name. */
export function argumentName(field: string): string {
  let path = field;
  while (PREFIXES.test(path)) path = path.replace(PREFIXES, '');
  const snake = path
    .split('.')
    .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : segment.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()))
    .join('.')
    .replace(/\.\[/g, '[');
  for (const [from, to] of Object.entries(RENAMES)) {
    if (snake === from || snake.startsWith(`${from}[`) || snake.startsWith(`${from}.`)) return to + snake.slice(from.length);
  }
  return snake;
}

function describeError(error: unknown): string {
  if (ValidationError.isInstance(error)) {
    const issues = error.issues.length > 0 ? error.issues : [{ field: error.field, message: error.message }];
    return issues.map((issue) => `Invalid argument ${argumentName(issue.field)}: ${issue.message}`).join('\n');
  }
  if (NotFoundError.isInstance(error)) {
    return `Memory ${JSON.stringify(error.id)} does not exist (or was deleted, or belongs to another scope). Find ids with memory_search or memory_list.`;
  }
  if (EngramError.isInstance(error)) return error.message;
  return error instanceof Error ? error.message : String(error);
}

export function toolError(error: unknown, context: Pick<ToolContext, 'log'>): CallToolResult {
  if (!EngramError.isInstance(error) || error.code === 'ADAPTER_ERROR' || error.code === 'EMBEDDER_ERROR') {
    context.log(`tool failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  return { content: [{ type: 'text', text: describeError(error) }], isError: true };
}

/** A ValidationError naming one tool argument. */
export function invalid(argument: string, message: string): ValidationError {
  return new ValidationError([{ field: argument, message }]);
}

// ---------------------------------------------------------------- arguments

const identifier = z.string().trim().min(1, 'must not be empty').max(256, 'must be at most 256 characters');

export const scopeArguments = {
  user_id: identifier.optional().describe('Scope: user (default ENGRAM_USER_ID).'),
  agent_id: identifier.optional().describe('Scope: agent (default ENGRAM_AGENT_ID).'),
  run_id: identifier.optional().describe('Scope: run or session.'),
};

export const idArgument = (description: string) => identifier.describe(description);

export const isoDate = z
  .string()
  .trim()
  .refine(
    (value) => value.length > 0 && !Number.isNaN(Date.parse(value)),
    'must be an ISO 8601 date such as 2025-01-31 or 2025-01-31T09:30:00Z',
  );

export const tagList = z.array(z.string().max(200, 'a tag is at most 200 characters')).max(100, 'at most 100 tags');

export const typeList = z.array(z.string().min(1).max(100)).max(100);

export const TYPE_HELP =
  'Base types: observation, decision, learning, error, pattern. Subtypes (resolve to their base): ' +
  'code_edit, file_access, search, command, conversation (observation); architecture, tool_choice, approach, configuration (decision); ' +
  'insight, best_practice, anti_pattern, gotcha (learning); bug, failure, exception, timeout (error); ' +
  'recurring_issue, code_smell, design_pattern, workflow (pattern).';

export const RELATION_HELP =
  'related and contradicts are symmetric; causes, fixes, supports, follows are directed (source → target), e.g. a fix "fixes" a bug.';

interface ScopeArguments {
  user_id?: string | undefined;
  agent_id?: string | undefined;
  run_id?: string | undefined;
}

/** The call's scope: its own user_id/agent_id/run_id, else the server defaults. */
export function scopeOf(args: ScopeArguments, defaults: ScopeDefaults): Scope {
  const scope: Scope = {};
  const userId = args.user_id ?? defaults.userId;
  const agentId = args.agent_id ?? defaults.agentId;
  if (userId !== undefined) scope.userId = userId;
  if (agentId !== undefined) scope.agentId = agentId;
  if (args.run_id !== undefined) scope.runId = args.run_id;
  return scope;
}

/** Every field the scope sets must match, as in search filters. */
export function inScope(record: MemoryRecord, scope: Scope): boolean {
  return (
    (scope.userId === undefined || record.scope.userId === scope.userId) &&
    (scope.agentId === undefined || record.scope.agentId === scope.agentId) &&
    (scope.runId === undefined || record.scope.runId === scope.runId)
  );
}

/** A live memory in the call's scope, or a NotFoundError (a memory of another scope is not revealed). */
export async function visibleMemory(memory: Memory, id: string, scope: Scope): Promise<MemoryRecord> {
  const record = await memory.get(id);
  if (!record || !inScope(record, scope)) throw new NotFoundError('Memory', id);
  return record;
}

/** Tag filter in core's shape. */
export function tagFilter(tags: string[] | undefined, match: 'any' | 'all' | undefined): string[] | { all: string[] } | undefined {
  if (!tags || tags.length === 0) return undefined;
  return match === 'all' ? { all: tags } : tags;
}

/** Drops undefined values so core's strict option schemas see only what was given. */
export function defined<T extends Record<string, unknown>>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as never;
}

/** `1 memory`, `2 memories`, `3 links`: a consonant + y takes -ies. */
export function plural(count: number, noun: string): string {
  if (count === 1) return `${count} ${noun}`;
  return /[^aeiou]y$/.test(noun) ? `${count} ${noun.slice(0, -1)}ies` : `${count} ${noun}s`;
}
