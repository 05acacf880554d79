import { ModelError, serverMessage } from '@engram/core';

/** Parses a successful answer's JSON body, or explains that the server is not the API expected. */
export function parseBody(url: string, body: string, api: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new ModelError(`${url} returned a response that is not a JSON object: ${serverMessage(body)}. Is it ${api}?`);
}

export function checkCommonOptions(
  options: { timeoutMs?: number | undefined; maxRetries?: number | undefined; maxOutputTokens?: number | undefined },
  invalid: (field: string, message: string) => Error,
): void {
  for (const [field, minimum] of [
    ['timeoutMs', 1],
    ['maxRetries', 0],
    ['maxOutputTokens', 1],
  ] as const) {
    const value = options[field];
    if (value !== undefined && (!Number.isInteger(value) || value < minimum))
      throw invalid(field, `must be an integer ≥ ${minimum}, got ${value}`);
  }
}

/** `postJson`'s final error for a request that kept failing, in the models' own terms. */
export function modelFailure(message: string, options: { cause?: unknown; retryable: boolean }): ModelError {
  return new ModelError(message, options);
}
