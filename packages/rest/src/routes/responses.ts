import type { z } from '@hono/zod-openapi';
import { ErrorSchema } from '../schemas.js';

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
export const CONFLICT = { 409: error('Conflict') } as const;

export const SECURITY: Array<Record<string, string[]>> = [{ bearer: [] }, { apiKey: [] }];
