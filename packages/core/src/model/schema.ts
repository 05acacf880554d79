import * as z from 'zod';
import { ValidationError } from './errors.js';
import { guardInput, isIllFormed } from './input-guards.js';

/** Largest content accepted by default (bytes of UTF-8). Configurable with `maxContentBytes`. */
export const DEFAULT_MAX_CONTENT_BYTES = 1_000_000;

const calendarDate = /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})(?![\d])/;

/**
 * True when a string starting YYYY-MM-DD names a day that exists: `Date` parsing rolls
 * 2024-02-30 over to March 1st, which would store a different date than the caller wrote.
 */
export function isRealCalendarDate(text: string): boolean {
  const match = calendarDate.exec(text.trim());
  if (!match) return true;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1) return false;
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate();
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return day <= (month === 2 ? (leap ? 29 : 28) : daysInMonth);
}

const date = z.union([z.date(), z.string(), z.number()]).transform((value, context) => {
  if (typeof value === 'string' && !isRealCalendarDate(value)) {
    context.addIssue({
      code: 'custom',
      message: `is not a real calendar date (${JSON.stringify(value.slice(0, 40))}): check the month and day`,
    });
    return z.NEVER;
  }
  const parsed = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(parsed.getTime())) {
    context.addIssue({ code: 'custom', message: 'is not a valid date (use a Date, an ISO string or epoch milliseconds)' });
    return z.NEVER;
  }
  return parsed;
});

const identifier = z.string().trim().min(1, 'must not be empty').max(256, 'must be at most 256 characters');

export const scopeSchema = z
  .object({
    userId: identifier.optional(),
    agentId: identifier.optional(),
    runId: identifier.optional(),
  })
  .strict();

const tagList = z.array(z.string().max(200, 'a tag is at most 200 characters')).max(100, 'at most 100 tags');
const metadataSchema = z.record(z.string(), z.unknown()).refine((value) => {
  try {
    JSON.stringify(value);
    return true;
  } catch {
    return false;
  }
}, 'must be JSON-serialisable');
const unit = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');

export const addInputSchema = z
  .object({
    content: z.string({ error: 'is required and must be a string' }),
    /** Encrypt content (and context) at rest with the configured key (see docs/data-safety.md). */
    sensitive: z.boolean().optional(),
    /** Text that helps find the memory without being part of it (see `MemoryRecord.context`). */
    context: z.string().optional(),
    type: z.string().trim().min(1).max(100).optional(),
    tags: tagList.optional(),
    metadata: metadataSchema.optional(),
    scope: scopeSchema.optional(),
    conversationId: identifier.optional(),
    importance: unit.optional(),
    key: identifier.optional(),
    createdAt: date.optional(),
    quality: unit.optional(),
    source: z.string().max(1000).optional(),
    confidence: unit.optional(),
    emotion: z.string().max(100).optional(),
    emotionalValence: z.number().min(-1, 'must be between -1 and 1').max(1, 'must be between -1 and 1').optional(),
    emotionalArousal: unit.optional(),
    episodeId: identifier.optional(),
    sequenceNumber: z.number().int().min(0).optional(),
    precedingMemoryId: identifier.optional(),
    sourceType: z.string().max(100).optional(),
    credibility: unit.optional(),
  })
  .strict();

export type AddInput = z.input<typeof addInputSchema>;
export type ParsedAddInput = z.output<typeof addInputSchema>;

export const tagFilterSchema = z.union([tagList, z.object({ any: tagList.optional(), all: tagList.optional() }).strict()]);

export const filterOptionsSchema = z.object({
  scope: scopeSchema.optional(),
  conversationId: identifier.optional(),
  types: z.array(z.string()).max(100).optional(),
  tags: tagFilterSchema.optional(),
  after: date.optional(),
  before: date.optional(),
  time: z.string().max(200).optional(),
  where: z.unknown().optional(),
  includeSuperseded: z.boolean().optional(),
  asOf: date.optional(),
});

export const searchOptionsSchema = filterOptionsSchema
  .extend({
    mode: z.enum(['hybrid', 'vector', 'lexical']).optional(),
    limit: z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000').optional(),
    minScore: unit.optional(),
    explain: z.boolean().optional(),
    expand: z
      .object({
        depth: z.number().int().min(1).max(5).optional(),
        types: z.array(z.string()).max(50).optional(),
        /** How many of the best hits seed the expansion. Default 3. */
        seeds: z.number().int().min(1).max(50).optional(),
        /** Score factor per hop (times the edge weight). Default 0.5. */
        decay: z.number().gt(0).lt(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type SearchOptions = z.input<typeof searchOptionsSchema>;

export const listOptionsSchema = filterOptionsSchema
  .extend({
    limit: z.number().int().min(1).max(10_000).optional(),
    cursor: z.string().max(1000).optional(),
    includeDeleted: z.boolean().optional(),
    /** Open sensitive memories with the key (default true). `false` returns them as stored (exports). */
    decrypt: z.boolean().optional(),
  })
  .strict();

export type ListOptions = z.input<typeof listOptionsSchema>;

export const countFilterSchema = filterOptionsSchema.strict();
export type CountFilter = z.input<typeof countFilterSchema>;

export const updatePatchSchema = z
  .object({
    content: z.string().optional(),
    type: z.string().trim().min(1).max(100).optional(),
    tags: tagList.optional(),
    metadata: metadataSchema.optional(),
    importance: unit.optional(),
  })
  .strict();

export type UpdatePatch = z.input<typeof updatePatchSchema>;

export const contextOptionsSchema = filterOptionsSchema
  .extend({
    query: z.string({ error: 'is required and must be a string' }),
    tokenBudget: z.number().int().min(16, 'must be at least 16').max(1_000_000).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
    mode: z.enum(['hybrid', 'vector', 'lexical']).optional(),
  })
  .strict();

export type ContextOptions = z.input<typeof contextOptionsSchema>;

/** Runs a zod schema and turns failures into a `ValidationError` naming each field. */
export function validate<Schema extends z.ZodType>(schema: Schema, input: unknown, root: string): z.output<Schema> {
  guardInput(input, root);
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.');
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') message = `unknown option(s) ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
      return { field: path ? (root ? `${root}.${path}` : path) : root || '(input)', message };
    }),
    { cause: result.error },
  );
}

/** A memory id argument: a non-empty string of at most 256 characters, trimmed. */
export function validateId(id: unknown): string {
  if (typeof id !== 'string' || id.trim().length === 0 || id.length > 256 || isIllFormed(id)) {
    throw new ValidationError([{ field: 'id', message: 'must be a non-empty string id (as returned by add)' }]);
  }
  return id.trim();
}

export const linkOptionsSchema = z
  .object({
    weight: unit.optional(),
    confidence: unit.optional(),
    metadata: metadataSchema.optional(),
  })
  .strict();
export type LinkOptions = z.input<typeof linkOptionsSchema>;

const directionSchema = z.enum(['out', 'in', 'both']);
const relationTypeList = z.array(z.string()).max(50);

export const relationsOptionsSchema = z.object({ direction: directionSchema.optional(), types: relationTypeList.optional() }).strict();
export type RelationsOptions = z.input<typeof relationsOptionsSchema>;

export const neighborsOptionsSchema = z
  .object({
    direction: directionSchema.optional(),
    types: relationTypeList.optional(),
    depth: z.number().int().min(1, 'must be at least 1').max(10, 'must be at most 10').optional(),
    limit: z.number().int().min(1).max(10_000).optional(),
    includeSuperseded: z.boolean().optional(),
  })
  .strict();
export type NeighborsOptions = z.input<typeof neighborsOptionsSchema>;

export const pathOptionsSchema = z
  .object({
    direction: directionSchema.optional(),
    types: relationTypeList.optional(),
    maxDepth: z.number().int().min(1).max(20, 'must be at most 20').optional(),
    includeSuperseded: z.boolean().optional(),
  })
  .strict();
export type PathOptions = z.input<typeof pathOptionsSchema>;

export const subgraphOptionsSchema = z
  .object({
    radius: z.number().int().min(0).max(10).optional(),
    types: relationTypeList.optional(),
    maxNodes: z.number().int().min(1).max(100_000).optional(),
    includeSuperseded: z.boolean().optional(),
  })
  .strict();
export type SubgraphOptions = z.input<typeof subgraphOptionsSchema>;
