import { AdapterError, EngramError } from '@engram/core';

/** Attempts after the first for a transaction Postgres aborted to resolve a conflict. */
const conflictRetries = 4;
const firstBackoffMs = 20;

/** SQLSTATEs after which running the whole operation again is safe and likely to succeed. */
const retryable = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

export interface ErrorContext {
  /** Where the data lives, for messages (a redacted URL). */
  location: string;
  statementTimeoutMs: number | undefined;
  poolSize: number | undefined;
}

/**
 * Runs one store operation. Transactions Postgres aborted to break a deadlock or a serialization
 * conflict are retried a few times with jittered backoff; any other driver error becomes an
 * `AdapterError('postgres', operation, cause, hint)` whose hint says what to do. Engram errors
 * (validation, closed store…) pass through unchanged.
 */
export async function withErrors<T>(operation: string, context: ErrorContext, run: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (EngramError.isInstance(error)) throw error;
      if (retryable.has(sqlState(error) ?? '') && attempt < conflictRetries) {
        await sleep(firstBackoffMs * 2 ** attempt * (0.5 + Math.random()));
        continue;
      }
      throw adapterError(operation, error, context);
    }
  }
}

export function adapterError(operation: string, error: unknown, context: ErrorContext): AdapterError {
  return new AdapterError('postgres', operation, error, hint(error, context));
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function hint(error: unknown, context: ErrorContext): string | undefined {
  const code = sqlState(error);
  const message = error instanceof Error ? error.message : String(error);
  switch (code) {
    case '57014':
      return context.statementTimeoutMs !== undefined
        ? `The statement ran longer than statementTimeoutMs (${context.statementTimeoutMs} ms): raise it, or narrow the query`
        : 'The statement was cancelled (statement_timeout or an administrator)';
    case '53300':
      return `The server has no connection slot left: lower poolSize${context.poolSize !== undefined ? ` (now ${context.poolSize})` : ''} across your processes, or raise max_connections`;
    case '3D000':
      return `The database in ${context.location} does not exist: create it first (e.g. \`createdb <name>\`)`;
    case '28P01':
    case '28000':
      return `Authentication failed for ${context.location}: check the user and password in the connection string`;
    case '42501':
      return 'The database user lacks a privilege: grant it CREATE on the database (the store creates its schema), or create the schema beforehand and grant USAGE and CREATE on it';
    case '55P03':
      return 'A lock could not be taken in time (lock_timeout): another session holds it; retry';
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'ECONNRESET':
    case 'ETIMEDOUT':
      return `Is PostgreSQL running and reachable at ${context.location}?`;
  }
  if (/timeout exceeded when trying to connect/i.test(message)) {
    return `No pooled connection became free in time: raise poolSize${context.poolSize !== undefined ? ` (now ${context.poolSize})` : ''} or connectionTimeoutMs`;
  }
  if (/Connection terminated/i.test(message)) return `The connection to ${context.location} was closed; the next call reconnects`;
  return undefined;
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
