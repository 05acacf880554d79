import { EngramError, NotFoundError, ValidationError } from '@engram/core';

/** An expected failure the user can fix (exit code 1): printed as `error: <message>`, no stack. */
export class CliError extends Error {
  readonly exitCode: number = 1;
  readonly code: string;

  constructor(message: string, code = 'CLI_ERROR') {
    super(message);
    this.name = 'CliError';
    this.code = code;
  }
}

/** The command line itself is wrong (exit code 2). */
export class UsageError extends CliError {
  override readonly exitCode: number = 2;

  constructor(message: string) {
    super(message, 'USAGE_ERROR');
    this.name = 'UsageError';
  }
}

/** Core field names (after `options.` / `input.` / `filter.` / `patch.`) and the flag or argument that sets them. */
const FLAGS: Record<string, string> = {
  content: '<content>',
  query: '<query>',
  id: '<id>',
  type: '--type',
  tags: '--tags',
  metadata: '--metadata',
  'scope.userId': '--user',
  'scope.agentId': '--agent',
  'scope.runId': '--run',
  scope: '--user/--agent/--run',
  conversationId: '--conversation',
  importance: '--importance',
  key: '--key',
  limit: '--limit',
  cursor: '--cursor',
  types: '--types',
  after: '--after',
  before: '--before',
  time: '--time',
  where: '--where',
  mode: '--mode',
  minScore: '--min-score',
  tokenBudget: '--budget',
};

/** The flag (or positional argument) behind a core `ValidationError` field, when there is one. */
export function flagForField(field: string): string | undefined {
  const path = field.replace(/^(options|input|filter|patch)\./, '');
  const [first, second] = path.split('.');
  if (first === undefined) return undefined;
  if (first === 'scope' && second !== undefined) return FLAGS[`scope.${second}`] ?? FLAGS.scope;
  return FLAGS[first];
}

export interface DescribedError {
  exitCode: number;
  code: string;
  /** One or more lines, without the `error: ` prefix. */
  messages: string[];
  field?: string;
  flag?: string;
  /** Unexpected failures keep their stack so they can be reported. */
  stack?: string;
}

function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return (
    error instanceof Error &&
    typeof (error as NodeJS.ErrnoException).code === 'string' &&
    /^E[A-Z]+$/.test((error as NodeJS.ErrnoException).code ?? '')
  );
}

/** Turns anything thrown by a command into what the user sees. */
export function describeError(error: unknown): DescribedError {
  if (ValidationError.isInstance(error)) {
    const issues = error.issues.length > 0 ? error.issues : [{ field: error.field, message: error.message }];
    const messages = issues.map((issue) => {
      const flag = flagForField(issue.field);
      return flag ? `invalid ${flag}: ${issue.message}` : `invalid ${issue.field}: ${issue.message}`;
    });
    const flag = flagForField(error.field);
    return { exitCode: 1, code: error.code, messages, field: error.field, ...(flag ? { flag } : {}) };
  }
  if (NotFoundError.isInstance(error)) {
    // Core's message speaks to SDK users (memory.list()); this one to the shell.
    return {
      exitCode: 1,
      code: error.code,
      messages: [
        `no memory with id ${JSON.stringify(error.id)} (it does not exist, or was deleted). Find ids with \`engram list\` or \`engram search\`.`,
      ],
    };
  }
  if (EngramError.isInstance(error)) return { exitCode: 1, code: error.code, messages: [error.message] };
  if (error instanceof CliError) return { exitCode: error.exitCode, code: error.code, messages: [error.message] };
  if (isSystemError(error)) {
    // fs errors carry the path in their message already (ENOENT: no such file or directory, open 'x').
    return { exitCode: 1, code: error.code ?? 'SYSTEM_ERROR', messages: [error.message] };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    exitCode: 1,
    code: 'INTERNAL_ERROR',
    messages: [`unexpected failure: ${message}`],
    ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
  };
}
