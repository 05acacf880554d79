import * as z from 'zod';

/**
 * The two JSON answers the pipeline asks a model for, as zod schemas (what Engram accepts) and as
 * JSON Schemas (what the model is shown). The JSON Schemas follow OpenAI's strict structured
 * output rules — every property required, optional ones nullable, no additional properties — so
 * the same schema works with `json_schema` response formats, Anthropic tool input schemas and in
 * a JSON-mode prompt. The zod schemas are a little more lenient (missing optional fields are fine).
 */

export const FACTS_SCHEMA_NAME = 'engram_facts';
export const RECONCILE_SCHEMA_NAME = 'engram_reconcile';

export const extractedFactSchema = z.object({
  content: z.string().trim().min(1, 'is empty').max(10_000),
  type: z.string().trim().min(1).max(100).nullish(),
  tags: z.array(z.string().trim().min(1).max(100)).max(20).nullish(),
  importance: z.number().min(0).max(1).nullish(),
});

/** `engram_facts`: the atomic facts worth remembering from a conversation. */
export const factsSchema = z.object({ facts: z.array(extractedFactSchema).max(100) });

export type ExtractedFact = z.output<typeof extractedFactSchema>;
export type FactsAnswer = z.output<typeof factsSchema>;

export const RECONCILE_OPERATIONS = ['add', 'update', 'supersede', 'none'] as const;
export type ReconcileOperationName = (typeof RECONCILE_OPERATIONS)[number];

export const reconcileOperationSchema = z.object({
  op: z.enum(RECONCILE_OPERATIONS),
  /** Index of the fact in the `facts` list (0-based). */
  fact: z.number().int().min(0),
  /** Alias of an existing memory (`m1`, `m2`…) for update, supersede and none. */
  target: z.string().trim().min(1).max(20).nullish(),
  /** For update: the merged content that replaces the target's. */
  content: z.string().trim().min(1).max(10_000).nullish(),
  reason: z.string().max(1000).default(''),
});

/** `engram_reconcile`: what to do with each new fact given the related memories already stored. */
export const reconcileSchema = z.object({ operations: z.array(reconcileOperationSchema).max(200) });

export type ReconcileOperation = z.output<typeof reconcileOperationSchema>;
export type ReconcileAnswer = z.output<typeof reconcileSchema>;

/** JSON Schema of `engram_facts` (OpenAI strict-mode compatible). */
export const FACTS_JSON_SCHEMA = {
  type: 'object',
  properties: {
    facts: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          content: { type: 'string', description: 'One self-contained fact, in the third person ("The user prefers…").' },
          type: { type: ['string', 'null'], description: 'A type or subtype from the ontology, e.g. "decision", "bug", "insight".' },
          tags: { type: ['array', 'null'], items: { type: 'string' }, description: 'A few lower-case keywords.' },
          importance: { type: ['number', 'null'], description: '0 (trivia) to 1 (must never be forgotten).' },
        },
        required: ['content', 'type', 'tags', 'importance'],
        additionalProperties: false,
      },
    },
  },
  required: ['facts'],
  additionalProperties: false,
} as const;

/** JSON Schema of `engram_reconcile` (OpenAI strict-mode compatible). */
export const RECONCILE_JSON_SCHEMA = {
  type: 'object',
  properties: {
    operations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          op: { type: 'string', enum: [...RECONCILE_OPERATIONS] },
          fact: { type: 'integer', description: 'Index of the new fact (0-based).' },
          target: { type: ['string', 'null'], description: 'Alias of the existing memory (m1, m2…); null for add.' },
          content: { type: ['string', 'null'], description: 'For update: the merged content; else null.' },
          reason: { type: 'string', description: 'Why, in a few words.' },
        },
        required: ['op', 'fact', 'target', 'content', 'reason'],
        additionalProperties: false,
      },
    },
  },
  required: ['operations'],
  additionalProperties: false,
} as const;
