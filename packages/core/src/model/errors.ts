/**
 * Every error Engram throws is an `EngramError` with a stable `code`. Checks use the static
 * `isInstance` helpers (a marker property), so they work across duplicate installs.
 */
const marker = Symbol.for('engram.error');

export type EngramErrorCode =
  | 'VALIDATION_ERROR'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'ADAPTER_ERROR'
  | 'EMBEDDER_MISMATCH'
  | 'EMBEDDER_ERROR'
  | 'MODEL_ERROR'
  | 'CLOSED'
  | 'UNSUPPORTED';

export class EngramError extends Error {
  readonly [marker] = true;
  readonly code: EngramErrorCode;

  constructor(code: EngramErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngramError';
    this.code = code;
  }

  static isInstance(error: unknown): error is EngramError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. 'scope.userId' or 'where.priority.gt'. */
  field: string;
  message: string;
}

/** Bad input. `field` names the first offending field; `issues` lists all of them. */
export class ValidationError extends EngramError {
  readonly field: string;
  readonly issues: ValidationIssue[];

  constructor(issues: ValidationIssue[], options?: { cause?: unknown }) {
    const first = issues[0] ?? { field: '(input)', message: 'invalid input' };
    const more =
      issues.length > 1
        ? ` (and ${issues.length - 1} more: ${issues
            .slice(1)
            .map((issue) => issue.field)
            .join(', ')})`
        : '';
    super('VALIDATION_ERROR', `Invalid ${first.field}: ${first.message}${more}`, options);
    this.name = 'ValidationError';
    this.field = first.field;
    this.issues = issues;
  }

  static override isInstance(error: unknown): error is ValidationError {
    return EngramError.isInstance(error) && error.code === 'VALIDATION_ERROR';
  }
}

export class NotFoundError extends EngramError {
  readonly id: string;
  constructor(what: string, id: string) {
    super('NOT_FOUND', `${what} ${JSON.stringify(id)} does not exist (or was deleted). Check the id, e.g. with memory.list().`);
    this.name = 'NotFoundError';
    this.id = id;
  }

  static override isInstance(error: unknown): error is NotFoundError {
    return EngramError.isInstance(error) && error.code === 'NOT_FOUND';
  }
}

export class ConflictError extends EngramError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFLICT', message, options);
    this.name = 'ConflictError';
  }

  static override isInstance(error: unknown): error is ConflictError {
    return EngramError.isInstance(error) && error.code === 'CONFLICT';
  }
}

/** A storage or index backend failed. Names the adapter and the operation. */
export class AdapterError extends EngramError {
  readonly adapter: string;
  readonly operation: string;
  constructor(adapter: string, operation: string, cause: unknown, hint?: string) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('ADAPTER_ERROR', `${adapter} adapter failed during ${operation}: ${reason}${hint ? `. ${hint}` : ''}`, { cause });
    this.name = 'AdapterError';
    this.adapter = adapter;
    this.operation = operation;
  }

  static override isInstance(error: unknown): error is AdapterError {
    return EngramError.isInstance(error) && error.code === 'ADAPTER_ERROR';
  }
}

/** The store was built with another embedder (or dimension) than the one supplied. */
export class EmbedderMismatchError extends EngramError {
  readonly stored: { id: string; dimensions: number };
  readonly supplied: { id: string; dimensions: number };
  constructor(stored: { id: string; dimensions: number }, supplied: { id: string; dimensions: number }, where: string) {
    super(
      'EMBEDDER_MISMATCH',
      `The store at ${where} was built with embedder ${stored.id} (${stored.dimensions} dimensions), ` +
        `but this Memory was given ${supplied.id} (${supplied.dimensions} dimensions). Mixing them would corrupt ` +
        `search. Either open it with the original embedder, or re-embed the store in place with the new one: ` +
        `\`engram reembed --embedder ${supplied.id} --path <store>\` (resumable; searches keep working until the switch).`,
    );
    this.name = 'EmbedderMismatchError';
    this.stored = stored;
    this.supplied = supplied;
  }

  static override isInstance(error: unknown): error is EmbedderMismatchError {
    return EngramError.isInstance(error) && error.code === 'EMBEDDER_MISMATCH';
  }
}

/** The embedder failed or returned vectors of the wrong shape. */
export class EmbedderError extends EngramError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EMBEDDER_ERROR', message, options);
    this.name = 'EmbedderError';
  }

  static override isInstance(error: unknown): error is EmbedderError {
    return EngramError.isInstance(error) && error.code === 'EMBEDDER_ERROR';
  }
}

/**
 * A language model failed: the server refused or errored, timed out, or answered something that
 * is not the JSON asked for. `retryable` tells whether trying again later may help.
 */
export class ModelError extends EngramError {
  readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super('MODEL_ERROR', message, options);
    this.name = 'ModelError';
    this.retryable = options?.retryable ?? false;
  }

  static override isInstance(error: unknown): error is ModelError {
    return EngramError.isInstance(error) && error.code === 'MODEL_ERROR';
  }
}
