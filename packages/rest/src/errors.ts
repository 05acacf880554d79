import { EngramError, ValidationError } from '@engram/core';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The body of every error response: `{ error: { code, message, field? } }`. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** An error a route or middleware answers with directly (status, stable code, message). */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const STATUS_OF_CODE: Record<string, ContentfulStatusCode> = {
  VALIDATION_ERROR: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  CLOSED: 503,
  ADAPTER_ERROR: 503,
  EMBEDDER_ERROR: 503,
  EMBEDDER_MISMATCH: 500,
};

export function errorBody(code: string, message: string, field?: string): ErrorBody {
  return { error: { code, message, ...(field !== undefined ? { field } : {}) } };
}

/**
 * Maps anything a route throws to a status and an `ErrorBody`. Engram errors keep their code and
 * message (they say what to do next); anything else is a 500 whose details stay in the log.
 */
export function toErrorResponse(
  error: unknown,
  log: (message: string) => void,
): { status: ContentfulStatusCode; body: ErrorBody; headers: Record<string, string> } {
  if (error instanceof HttpError)
    return { status: error.status, body: errorBody(error.code, error.message, error.field), headers: error.headers };
  if (ValidationError.isInstance(error)) {
    if (/(^|\.)sensitive$/.test(error.field) && error.message.includes('needs an encryption key')) {
      // Core's message speaks to SDK users (new Memory({ encryption })); a server's operator sets a variable.
      return {
        status: 400,
        body: errorBody(
          error.code,
          `Invalid ${error.field}: this server has no encryption key, so it cannot store sensitive memories. Start it with ENGRAM_ENCRYPTION_KEY set (64 hex characters, e.g. \`openssl rand -hex 32\`), or leave sensitive out`,
          error.field,
        ),
        headers: {},
      };
    }
    return { status: 400, body: errorBody(error.code, error.message, error.field), headers: {} };
  }
  if (EngramError.isInstance(error) && error.code === 'MODEL_ERROR') {
    // The model's error may name its URL or provider details: those stay in the server log.
    log(`MODEL_ERROR: ${error.message}`);
    return {
      status: 502,
      body: errorBody(
        'MODEL_ERROR',
        'The language model failed, and nothing was written (onFailure "throw"); try again, or leave onFailure out to keep the messages verbatim. The server log has the details.',
      ),
      headers: {},
    };
  }
  if (EngramError.isInstance(error)) {
    const status = STATUS_OF_CODE[error.code] ?? 500;
    if (status >= 500) log(`${error.code}: ${error.message}`);
    // Store and embedder failures may carry paths and connection details: the client gets the code only.
    const message =
      status >= 500 ? 'The memory store is unavailable right now; try again shortly (the server log has the details).' : error.message;
    return { status, body: errorBody(error.code, message), headers: {} };
  }
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 400 ? 'BAD_REQUEST' : 'HTTP_ERROR';
    return { status, body: errorBody(code, error.message || 'Bad request'), headers: {} };
  }
  log(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return { status: 500, body: errorBody('INTERNAL', 'Internal server error (the server log has the details).'), headers: {} };
}

export function sendError(context: Context, error: unknown, log: (message: string) => void): Response {
  const { status, body, headers } = toErrorResponse(error, log);
  for (const [name, value] of Object.entries(headers)) context.header(name, value);
  return context.json(body, status);
}
