import * as z from 'zod';

/** Zod schemas of what a server accepts from replicas (the replica is not trusted to be well-formed). */
const id = z.string().trim().min(1).max(256);
const isoDate = z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'must be an ISO date');
const nullableText = (max: number) => z.string().max(max).nullable();
const unit = z.number().min(0).max(1);
const metadata = z.record(z.string(), z.unknown());

export const wireRecordSchema = z
  .object({
    id,
    content: z.string().min(1),
    context: z.string().optional(),
    contextSource: z.literal('conversation').optional(),
    contentHash: z.string().min(1).max(256),
    type: z.string().trim().min(1).max(100),
    subtype: nullableText(100),
    tags: z.array(z.string().max(200)).max(100),
    metadata,
    scope: z.object({ userId: id.optional(), agentId: id.optional(), runId: id.optional() }).strict(),
    conversationId: nullableText(256),
    importance: unit,
    quality: z.number().nullable(),
    accessCount: z.number().int().min(0),
    lastAccessedAt: isoDate.nullable(),
    createdAt: isoDate,
    updatedAt: isoDate,
    validFrom: isoDate.nullable(),
    validTo: isoDate.nullable(),
    supersededBy: nullableText(256),
    deletedAt: isoDate.nullable(),
    key: nullableText(256),
    source: nullableText(1000),
    confidence: z.number().nullable(),
    emotion: nullableText(100),
    emotionalValence: z.number().min(-1).max(1).nullable(),
    emotionalArousal: unit.nullable(),
    episodeId: nullableText(256),
    sequenceNumber: z.number().nullable(),
    precedingMemoryId: nullableText(256),
    sourceType: nullableText(100),
    credibility: unit.nullable(),
    decayScore: z.number().optional(),
  })
  .strict();

export const wireRelationSchema = z
  .object({
    sourceId: id,
    targetId: id,
    type: z.string().trim().min(1).max(100),
    weight: unit,
    confidence: unit,
    metadata,
    inferred: z.boolean(),
    createdAt: isoDate,
    updatedAt: isoDate,
  })
  .strict();

const seq = z.number().int().positive();

export const syncOperationSchema = z.discriminatedUnion('kind', [
  z.object({ seq, kind: z.literal('create'), record: wireRecordSchema }).strict(),
  z
    .object({
      seq,
      kind: z.literal('update'),
      id,
      fields: z
        .object({
          content: z.string().min(1).optional(),
          type: z.string().trim().min(1).max(100).optional(),
          subtype: nullableText(100).optional(),
          tags: z.array(z.string().max(200)).max(100).optional(),
          metadata: metadata.optional(),
          importance: unit.optional(),
          supersededBy: nullableText(256).optional(),
          validTo: isoDate.nullable().optional(),
        })
        .strict(),
    })
    .strict(),
  z.object({ seq, kind: z.literal('delete'), id, at: isoDate }).strict(),
  z.object({ seq, kind: z.literal('link'), relation: wireRelationSchema }).strict(),
  z.object({ seq, kind: z.literal('unlink'), relation: wireRelationSchema }).strict(),
]);

export const syncPushSchema = z
  .object({
    replicaId: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .regex(/^[A-Za-z0-9_.:-]+$/, 'must be letters, digits, _ . : -'),
    operations: z.array(syncOperationSchema).max(5000, 'at most 5000 operations per push: send batches'),
    erasures: z
      .array(z.object({ seq, ids: z.array(id).min(1, 'must list at least one id').max(1000, 'at most 1000 ids per erasure') }).strict())
      .max(100, 'at most 100 erasures per push: send batches')
      .optional(),
  })
  .strict();
