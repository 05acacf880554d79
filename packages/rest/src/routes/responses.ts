import type { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { errorBody } from '../errors.js';
import { ErrorSchema } from '../schemas.js';

/** The 400 answer to a request that fails its schema: `field` names what to fix. */
export function validationResponse(context: Context, given: z.core.$ZodIssue | undefined, target: string): Response {
  let issue = given;
  // A value that may take several shapes (a string or a list of messages): report the shape that got furthest.
  while (issue?.code === 'invalid_union' && issue.errors.length > 0) {
    const parent: z.core.$ZodIssue = issue;
    const deepest = issue.errors
      .map((branch) => branch[0])
      .filter((candidate) => candidate !== undefined)
      .reduce((best, candidate) => (candidate.path.length > best.path.length ? candidate : best));
    issue = { ...deepest, path: [...parent.path, ...deepest.path] } as z.core.$ZodIssue;
  }
  const field = issue?.path.map(String).join('.') || (target === 'json' ? '(body)' : `(${target})`);
  let message = issue?.message ?? 'invalid';
  if (issue?.code === 'unrecognized_keys') message = `unknown field(s) ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
  return context.json(errorBody('VALIDATION_ERROR', `Invalid ${field}: ${message}`, field), 400);
}

export function jsonContent<Schema extends z.ZodType>(schema: Schema, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

export function jsonBody<Schema extends z.ZodType>(schema: Schema) {
  return { body: { content: { 'application/json': { schema } }, required: true } };
}

const error = (description: string) => jsonContent(ErrorSchema, description);

/** The error responses every authenticated route can give. */
export const ERRORS = {
  400: error('Invalid input: `field` names what to fix'),
  401: error('Missing or unknown API key'),
  403: error('Forbidden (Host or Origin not allowed, or the tenant has no store here)'),
  413: error('Body larger than the limit'),
  429: error('Rate limit reached: retry after the Retry-After header’s seconds'),
  500: error('Internal error'),
  503: error('Store unavailable or request timed out'),
} as const;

export const NOT_FOUND = { 404: error('No such memory in your tenant') } as const;
export const MODEL_FAILED = {
  502: error('The language model failed (infer with onFailure "throw"): nothing was written'),
} as const;
export const CONFLICT = { 409: error('Conflict') } as const;

export const SECURITY: Array<Record<string, string[]>> = [{ bearer: [] }, { apiKey: [] }];
