import { CONSOLIDATION_STEPS } from '@engram/core';
import { z } from '@hono/zod-openapi';

/**
 * Request and response schemas: the server validates with them and the OpenAPI document is
 * generated from them, so the two cannot drift. Requests are checked for shape here; the finer
 * rules (ranges, the `where` grammar, time expressions) are core's, whose ValidationError names
 * the field the same way.
 */

const dateTime = z.string().openapi({ format: 'date-time', example: '2026-01-31T12:00:00.000Z' });
const nullableDateTime = dateTime.nullable();
const identifier = z.string().min(1).max(256);
const dateInput = z.union([z.string(), z.number()]).openapi({ description: 'An ISO 8601 date-time or epoch milliseconds' });

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'VALIDATION_ERROR' }),
      message: z.string().openapi({ example: 'Invalid content: is required and must be a string' }),
      field: z.string().optional().openapi({ example: 'content' }),
    }),
  })
  .openapi('Error');

export const ScopeSchema = z
  .strictObject({ userId: identifier.optional(), agentId: identifier.optional(), runId: identifier.optional() })
  .openapi('Scope', { description: 'Who a memory belongs to, inside the caller’s tenant.' });

export const MemorySchema = z
  .object({
    id: z.string().openapi({ example: '0193a7f2-5a1e-7c3b-9d4e-2f1a6b8c9d0e' }),
    content: z.string(),
    context: z.string().optional(),
    contentHash: z.string(),
    type: z.string().openapi({ example: 'learning' }),
    subtype: z.string().nullable(),
    tags: z.array(z.string()),
    metadata: z.record(z.string(), z.unknown()),
    scope: ScopeSchema,
    conversationId: z.string().nullable(),
    importance: z.number(),
    quality: z.number().nullable(),
    accessCount: z.number(),
    lastAccessedAt: nullableDateTime,
    createdAt: dateTime,
    updatedAt: dateTime,
    validFrom: nullableDateTime,
    validTo: nullableDateTime,
    supersededBy: z.string().nullable(),
    deletedAt: nullableDateTime,
    key: z.string().nullable(),
    source: z.string().nullable(),
    confidence: z.number().nullable(),
    emotion: z.string().nullable(),
    emotionalValence: z.number().nullable(),
    emotionalArousal: z.number().nullable(),
    episodeId: z.string().nullable(),
    sequenceNumber: z.number().nullable(),
    precedingMemoryId: z.string().nullable(),
    sourceType: z.string().nullable(),
    credibility: z.number().nullable(),
    sensitive: z
      .boolean()
      .optional()
      .openapi({ description: 'true when the content is stored encrypted; without the server’s key it reads "[encrypted: …]"' }),
  })
  .openapi('Memory');

export const RelationSchema = z
  .object({
    sourceId: z.string(),
    targetId: z.string(),
    type: z.string().openapi({ example: 'fixes' }),
    weight: z.number(),
    confidence: z.number(),
    metadata: z.record(z.string(), z.unknown()),
    inferred: z.boolean(),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .openapi('Relation');

const metadata = z.record(z.string(), z.unknown());
const unit = z.number().min(0).max(1);

export const AddMemorySchema = z
  .strictObject({
    content: z.string().openapi({ example: 'The CI cache key must include the lockfile hash' }),
    context: z.string().optional(),
    type: z.string().optional().openapi({ description: 'A base type or subtype (bug, insight, …)', example: 'gotcha' }),
    memory_type: z.string().optional().openapi({ description: 'mcp-memory-service alias of `type`' }),
    tags: z.array(z.string()).optional(),
    metadata: metadata.optional(),
    scope: ScopeSchema.optional(),
    conversationId: identifier.optional(),
    importance: unit.optional(),
    key: identifier.optional(),
    createdAt: dateInput.optional(),
    quality: unit.optional(),
    source: z.string().optional(),
    confidence: unit.optional(),
    emotion: z.string().optional(),
    emotionalValence: z.number().min(-1).max(1).optional(),
    emotionalArousal: unit.optional(),
    episodeId: identifier.optional(),
    sequenceNumber: z.number().int().min(0).optional(),
    precedingMemoryId: identifier.optional(),
    sourceType: z.string().optional(),
    credibility: unit.optional(),
    client_hostname: z.string().optional().openapi({ description: 'mcp-memory-service field, kept in metadata.clientHostname' }),
    sensitive: z.boolean().optional().openapi({
      description:
        'Encrypt content and context at rest (AES-256-GCM) under the server’s ENGRAM_ENCRYPTION_KEY; a server without one answers 400 naming it',
    }),
  })
  .openapi('AddMemory');

export const AddResultSchema = z
  .object({
    memory: MemorySchema,
    status: z.enum(['created', 'updated', 'duplicate']),
    warnings: z.array(z.string()),
  })
  .openapi('AddResult');

const messageRole = z.enum(['user', 'assistant', 'system', 'tool']);

export const ConversationMessageSchema = z
  .strictObject({
    role: messageRole,
    content: z.string(),
    id: identifier.optional().openapi({ description: 'Your id for the message: kept as provenance on what is learned from it' }),
    createdAt: dateTime.optional(),
  })
  .openapi('ConversationMessage');

export const InferMemoriesSchema = z
  .strictObject({
    messages: z
      .union([z.string().min(1), z.array(ConversationMessageSchema).min(1).max(500)])
      .openapi({ description: 'The conversation to learn from, oldest first; a string is one user message' }),
    infer: z.literal(true, { error: 'must be true to learn from messages (to store text as given, send content without infer)' }),
    scope: ScopeSchema.optional(),
    conversationId: identifier.optional(),
    instructions: z
      .string()
      .max(10_000)
      .optional()
      .openapi({ description: 'Extra guidance for the model, e.g. "only remember facts about the codebase"' }),
    dryRun: z.boolean().optional().openapi({ description: 'Return the plan without writing anything' }),
    onFailure: z.enum(['store-raw', 'throw']).optional().openapi({
      description:
        'When the model fails: store-raw (default) stores the messages verbatim as one observation and warns; throw writes nothing and answers 502',
    }),
    tags: z.array(z.string()).optional().openapi({ description: 'Added to every memory written' }),
    metadata: metadata.optional().openapi({ description: 'Merged into every memory written' }),
  })
  .openapi('InferMemories', {
    description:
      'Learn from a conversation with the server’s language model (ENGRAM_MODEL): extract facts, reconcile them with what is stored.',
  });

export const InferResultSchema = z
  .object({
    results: z.array(
      z.object({
        memory: MemorySchema,
        status: z.enum(['created', 'updated', 'superseded', 'unchanged']),
        fact: z.number().optional().openapi({ description: 'Index in plan.facts; absent for the raw fallback' }),
        previous: MemorySchema.optional().openapi({ description: 'updated: the memory before; superseded: the one it replaced' }),
      }),
    ),
    plan: z.object({
      facts: z.array(
        z.object({ content: z.string(), type: z.string().nullable(), tags: z.array(z.string()), importance: z.number().nullable() }),
      ),
      related: z.array(z.object({ alias: z.string(), id: z.string(), content: z.string() })),
      operations: z.array(
        z.object({
          op: z.enum(['add', 'update', 'supersede', 'none']),
          fact: z.number(),
          target: z.string().nullable(),
          targetId: z.string().nullable(),
          content: z.string().nullable(),
          reason: z.string(),
        }),
      ),
      rejected: z.array(z.object({ operation: z.unknown(), reason: z.string() })),
      reconciled: z.boolean(),
    }),
    usage: z.object({ inputTokens: z.number(), outputTokens: z.number(), calls: z.number() }),
    warnings: z.array(z.string()),
  })
  .openapi('InferResult');

export const AddOrInferSchema = z.union([AddMemorySchema, InferMemoriesSchema]);
export const AddOrInferResultSchema = z.union([AddResultSchema, InferResultSchema]);

export const BatchSchema = z.strictObject({ memories: z.array(AddMemorySchema).min(1).max(1000) }).openapi('AddBatch');
export const BatchResultSchema = z.object({ results: z.array(AddResultSchema) }).openapi('AddBatchResult');

export const UpdateMemorySchema = z
  .strictObject({
    content: z.string().optional(),
    type: z.string().optional(),
    tags: z.array(z.string()).optional(),
    metadata: metadata.optional(),
    importance: unit.optional(),
  })
  .openapi('UpdateMemory');

const tagFilter = z.union([
  z.array(z.string()),
  z.strictObject({ any: z.array(z.string()).optional(), all: z.array(z.string()).optional() }),
]);

const filterFields = {
  scope: ScopeSchema.optional(),
  conversationId: identifier.optional(),
  types: z.array(z.string()).optional(),
  tags: tagFilter.optional().openapi({ description: 'A list (any of them) or { any, all }' }),
  time: z.string().optional().openapi({ description: 'A natural time window: "last week", "yesterday", "since 2026-01-01"' }),
  after: dateInput.optional(),
  before: dateInput.optional(),
  where: z.unknown().optional().openapi({ description: 'Metadata conditions: { "priority": { "gte": 2 } }, with and/or/not' }),
  includeSuperseded: z.boolean().optional(),
  asOf: dateInput.optional(),
};

export const SearchSchema = z
  .strictObject({
    query: z.string().openapi({ example: 'ci cache' }),
    limit: z.number().int().min(1).max(1000).optional(),
    mode: z.enum(['hybrid', 'vector', 'lexical']).optional(),
    minScore: unit.optional(),
    explain: z.boolean().optional(),
    expand: z
      .strictObject({
        depth: z.number().int().optional(),
        types: z.array(z.string()).optional(),
        seeds: z.number().int().optional(),
        decay: z.number().optional(),
      })
      .optional(),
    ...filterFields,
  })
  .openapi('Search');

export const HitSchema = z
  .object({ memory: MemorySchema, score: z.number(), explanation: z.record(z.string(), z.unknown()).optional() })
  .openapi('Hit');
export const SearchResultSchema = z.object({ hits: z.array(HitSchema) }).openapi('SearchResult');

export const ContextSchema = z
  .strictObject({
    query: z.string(),
    tokenBudget: z.number().int().optional(),
    limit: z.number().int().optional(),
    mode: z.enum(['hybrid', 'vector', 'lexical']).optional(),
    ...filterFields,
  })
  .openapi('ContextRequest');
export const ContextResultSchema = z.object({ text: z.string(), tokens: z.number(), hits: z.array(HitSchema) }).openapi('ContextResult');

/** Query parameters that name a scope (GET routes). */
const scopeQuery = {
  userId: identifier.optional(),
  agentId: identifier.optional(),
  runId: identifier.optional(),
};
const booleanQuery = z.enum(['true', 'false']).optional();
const listQuery = z.string().optional().openapi({ description: 'Comma-separated' });

export const ListQuerySchema = z.strictObject({
  ...scopeQuery,
  limit: z.string().regex(/^\d+$/, 'must be a positive integer').optional().openapi({ example: '50' }),
  cursor: z.string().optional(),
  conversationId: identifier.optional(),
  types: listQuery,
  tags: listQuery.openapi({ description: 'Comma-separated; a memory matches with any of them' }),
  tagsAll: listQuery.openapi({ description: 'Comma-separated; a memory matches with all of them' }),
  time: z.string().optional(),
  after: z.string().optional(),
  before: z.string().optional(),
  where: z.string().optional().openapi({ description: 'Metadata conditions as JSON, e.g. {"priority":{"gte":2}}' }),
  includeSuperseded: booleanQuery,
  asOf: z.string().optional(),
});
export const ListResultSchema = z.object({ items: z.array(MemorySchema), nextCursor: z.string().nullable() }).openapi('MemoryPage');

export const ExportQuerySchema = ListQuerySchema.omit({ limit: true, cursor: true });

export const IdParamSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(256)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

export const MemoryResultSchema = z.object({ memory: MemorySchema }).openapi('MemoryResult');
export const DeleteResultSchema = z.object({ deleted: z.literal(true), id: z.string() }).openapi('DeleteResult');

export const LinkSchema = z
  .strictObject({
    sourceId: identifier,
    targetId: identifier,
    type: z.string().min(1).openapi({ example: 'fixes' }),
    weight: unit.optional(),
    confidence: unit.optional(),
    metadata: metadata.optional(),
  })
  .openapi('Link');
export const RelationResultSchema = z.object({ relation: RelationSchema }).openapi('RelationResult');
export const UnlinkQuerySchema = z.strictObject({ sourceId: identifier, targetId: identifier, type: z.string().optional() });
export const UnlinkResultSchema = z.object({ removed: z.number() }).openapi('UnlinkResult');

const directionQuery = z.enum(['out', 'in', 'both']).optional();
const integerQuery = z.string().regex(/^\d+$/, 'must be a non-negative integer').optional();

export const RelationsQuerySchema = z.strictObject({ direction: directionQuery, types: listQuery });
export const RelationsResultSchema = z.object({ relations: z.array(RelationSchema) }).openapi('Relations');

export const NeighborsQuerySchema = z.strictObject({
  direction: directionQuery,
  types: listQuery,
  depth: integerQuery,
  limit: integerQuery,
  includeSuperseded: booleanQuery,
});
export const NeighborsResultSchema = z
  .object({ neighbors: z.array(z.object({ memory: MemorySchema, distance: z.number(), via: RelationSchema })) })
  .openapi('Neighbors');

export const SubgraphQuerySchema = z.strictObject({
  radius: integerQuery,
  types: listQuery,
  maxNodes: integerQuery,
  includeSuperseded: booleanQuery,
});
export const SubgraphResultSchema = z.object({ nodes: z.array(MemorySchema), edges: z.array(RelationSchema) }).openapi('Subgraph');

export const HistoryResultSchema = z
  .object({
    history: z.array(
      z.object({
        memoryId: z.string(),
        event: z.enum(['created', 'updated', 'superseded', 'deleted']),
        at: dateTime,
        changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })),
        reason: z.string().nullable(),
      }),
    ),
  })
  .openapi('History');

export const PathQuerySchema = z.strictObject({
  from: identifier,
  to: identifier,
  direction: directionQuery,
  types: listQuery,
  maxDepth: integerQuery,
  includeSuperseded: booleanQuery,
});
export const PathResultSchema = z.object({ path: z.array(MemorySchema).nullable() }).openapi('Path');

export const ResolveSchema = z
  .strictObject({ winnerId: identifier, loserId: identifier, reason: z.string().max(10_000).optional() })
  .openapi('Resolve');
export const ResolveResultSchema = z.object({ winner: MemorySchema, loser: MemorySchema }).openapi('ResolveResult');

export const ScopeQuerySchema = z.strictObject(scopeQuery);
export const TagsResultSchema = z.object({ tags: z.array(z.object({ tag: z.string(), count: z.number() })) }).openapi('Tags');
export const TypesResultSchema = z
  .object({ types: z.array(z.object({ type: z.string(), subtypes: z.array(z.string()), count: z.number() })) })
  .openapi('Types');
export const StatsResultSchema = z
  .object({
    total: z.number(),
    superseded: z.number(),
    byType: z.record(z.string(), z.number()),
    store: z.object({ name: z.string() }),
    embedder: z.object({ id: z.string(), dimensions: z.number() }),
    tenant: z.string(),
  })
  .openapi('Stats');

export const ImportResultSchema = z
  .object({ records: z.number(), created: z.number(), updated: z.number(), duplicates: z.number(), skipped: z.number() })
  .openapi('ImportResult');

export const HealthSchema = z.object({ ok: z.boolean() }).openapi('Health');

export const EventsQuerySchema = z.strictObject({ ...scopeQuery, tags: listQuery });

// Compatibility aliases.
export const CompatSearchSchema = z
  .object({
    query: z.string(),
    n_results: z.number().int().min(1).max(1000).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
    tags: z.array(z.string()).optional(),
    memory_type: z.string().optional(),
    similarity_threshold: unit.optional(),
  })
  .openapi('CompatSearch');
export const CompatSearchResultSchema = z
  .object({
    results: z.array(z.object({ memory: MemorySchema, similarity_score: z.number() })),
    query: z.string(),
    total_found: z.number(),
  })
  .openapi('CompatSearchResult');

export const RememberSchema = z
  .object({
    content: z.string(),
    user_id: identifier.optional(),
    memory_type: z.string().optional(),
    tags: z.array(z.string()).optional(),
    metadata: metadata.optional(),
  })
  .openapi('Remember');
export const RememberResultSchema = z.object({ id: z.string(), success: z.boolean(), memory: MemorySchema }).openapi('RememberResult');
export const RecallSchema = z
  .object({ query: z.string(), user_id: identifier.optional(), limit: z.number().int().min(1).max(1000).optional() })
  .openapi('Recall');
export const RecallResultSchema = z
  .object({ memories: z.array(z.object({ memory: MemorySchema, score: z.number() })), count: z.number() })
  .openapi('RecallResult');

// Sync (docs/sync.md): replicas push their local changes and pull everyone's.
export const SyncChangesQuerySchema = z.strictObject({
  since: z
    .string()
    .regex(/^\d{1,15}$/, 'must be a cursor: 0, or the cursor of the previous page')
    .openapi({ description: 'The cursor of the previous page (0: from the beginning)', example: '0' }),
  limit: z.string().regex(/^\d+$/, 'must be an integer from 1 to 5000').optional().openapi({ description: '1–5000, default 500' }),
});

export const SyncChangesHeadersSchema = z.object({
  'x-engram-erased-since': z
    .string()
    .regex(/^\d{1,15}$/, 'must be an erasure cursor: 0, or `erased.cursor` of the previous page')
    .optional()
    .openapi({ description: 'The erasure cursor of the previous page (0: from the beginning); without it, `erased` is left out' }),
});

const SyncChangeSchema = z
  .union([
    z.object({ seq: z.number(), kind: z.literal('memory'), id: z.string(), memory: MemorySchema.nullable() }),
    z.object({ seq: z.number(), kind: z.literal('relation'), event: z.enum(['added', 'removed']), relation: RelationSchema }),
  ])
  .openapi('SyncChange', { description: 'A memory as the server holds it now (null once erased), or a graph change.' });

export const SyncChangesResultSchema = z
  .object({
    changes: z.array(SyncChangeSchema),
    cursor: z.number().openapi({ description: 'Pass it as `since` next time' }),
    head: z.number(),
    more: z.boolean().openapi({ description: 'More changes wait after `cursor`' }),
    erased: z
      .object({
        ids: z.array(z.string()),
        cursor: z.number().openapi({ description: 'Send it as X-Engram-Erased-Since next time' }),
        more: z.boolean(),
        resync: z.boolean().optional().openapi({
          description:
            'true: erasures after your cursor were dropped (older than the server keeps them): pull every change again from since=0 and erase your memories the server no longer holds',
        }),
      })
      .optional()
      .openapi({ description: 'Memories erased after X-Engram-Erased-Since (only with that header): erase your copies' }),
  })
  .openapi('SyncChanges');

const SyncOperationSchema = z
  .object({
    seq: z
      .number()
      .int()
      .positive()
      .openapi({ description: "The operation's number in the replica's change log; (replicaId, seq) is its id" }),
    kind: z.enum(['create', 'update', 'delete', 'link', 'unlink']),
    record: z.record(z.string(), z.unknown()).optional().openapi({ description: 'create: the memory (the Memory schema)' }),
    id: z.string().optional().openapi({ description: 'update, delete: the memory id' }),
    fields: z.record(z.string(), z.unknown()).optional().openapi({
      description: 'update: new values of content, type, subtype, tags, metadata, importance, supersededBy, validTo',
    }),
    at: z.string().optional().openapi({ description: 'delete: when' }),
    relation: z.record(z.string(), z.unknown()).optional().openapi({ description: 'link, unlink: the edge (the Relation schema)' }),
  })
  .openapi('SyncOperation');

export const SyncPushSchema = z
  .object({
    replicaId: z.string().min(1).max(100),
    operations: z.array(SyncOperationSchema).max(5000),
    erasures: z
      .array(z.object({ seq: z.number().int().positive(), ids: z.array(z.string()).min(1).max(1000) }))
      .max(100)
      .optional()
      .openapi({
        description: "Memories the replica erased, numbered by its erasure log ((replicaId, seq) is the erasure's id); applied first",
      }),
  })
  .openapi('SyncPush');

export const SyncPushResultSchema = z
  .object({
    results: z.array(
      z.object({
        seq: z.number(),
        status: z.enum(['applied', 'duplicate', 'merged', 'ignored']),
        memory: MemorySchema.nullable().optional(),
        reason: z.string().optional(),
      }),
    ),
    erasures: z.array(z.object({ seq: z.number(), status: z.enum(['applied', 'duplicate']), erased: z.number() })).optional(),
  })
  .openapi('SyncPushResult');

// Consolidation.
export const ConsolidateSchema = z
  .strictObject({
    dryRun: z.boolean().optional().openapi({
      description: 'Default true: report what would happen and write nothing. false applies (forgotten memories are archived first)',
    }),
    scope: ScopeSchema.optional(),
    steps: z
      .array(z.enum(CONSOLIDATION_STEPS))
      .min(1)
      .optional()
      .openapi({ description: 'Default relevance, forgetting, compression (associations cost one search per memory)' }),
    now: dateInput.optional().openapi({ description: 'The instant ages are measured from. Default: now' }),
  })
  .openapi('Consolidate');

const protectedCounts = z.object({ linked: z.number(), important: z.number(), keyed: z.number(), 'keep-tag': z.number() });

// The dashboard's Stats page.
const countMap = z.record(z.string(), z.number());
export const StatsBreakdownQuerySchema = z.strictObject({
  ...scopeQuery,
  days: z.string().regex(/^\d+$/, 'must be a positive integer').optional().openapi({ description: 'Days of timeline, default 30' }),
});
export const StatsBreakdownSchema = z
  .object({
    total: z.number().openapi({ description: 'Live memories, superseded ones included' }),
    superseded: z.number(),
    byType: countMap,
    bySubtype: countMap,
    byUser: z
      .array(z.object({ userId: z.string().nullable(), count: z.number() }))
      .openapi({ description: 'Memories per scope.userId, most first; userId null counts the memories without one' }),
    byAgent: z
      .array(z.object({ agentId: z.string().nullable(), count: z.number() }))
      .openapi({ description: 'Memories per scope.agentId, most first; agentId null counts the memories without one' }),
    topTags: z.array(z.object({ tag: z.string(), count: z.number() })).openapi({ description: 'The 20 most used tags' }),
    timeline: z
      .array(z.object({ day: z.string().openapi({ example: '2026-01-31' }), byType: countMap }))
      .openapi({ description: 'Memories created per UTC day and base type, oldest first, one entry per day of the window' }),
    relations: z.number().openapi({ description: 'Edges leaving the memories counted' }),
    store: z.object({
      name: z.string(),
      bytes: z.number().nullable().openapi({ description: 'The store file plus its write-ahead log; null when not a local file' }),
    }),
    embedder: z.object({ id: z.string(), dimensions: z.number() }),
    index: z.object({
      vectors: z.number().nullable().openapi({ description: 'Vectors in the store’s own index; null when vectors live elsewhere' }),
      lexical: z.string(),
      healthy: z.boolean().openapi({ description: 'Every live memory has its vector (or vectors are not the store’s)' }),
    }),
    tenant: z.string(),
  })
  .openapi('StatsBreakdown');

export const ConsolidationReportSchema = z
  .object({
    dryRun: z.boolean(),
    now: dateTime,
    scope: ScopeSchema,
    steps: z.array(z.enum(CONSOLIDATION_STEPS)),
    scanned: z.number().openapi({ description: 'Live, not superseded memories in scope that were read' }),
    durationMs: z.number(),
    relevance: z
      .object({
        scored: z.number(),
        stored: z.number().openapi({ description: 'Scores written (0 in a dry run)' }),
        mean: z.number(),
        bands: z.array(z.object({ from: z.number(), to: z.number(), count: z.number() })),
        lowest: z.array(z.object({ id: z.string(), score: z.number() })),
      })
      .optional(),
    forgetting: z
      .object({
        forgotten: z.array(
          z.object({ id: z.string(), type: z.string(), preview: z.string(), score: z.number(), ageDays: z.number(), reason: z.string() }),
        ),
        protected: protectedCounts,
        archive: z.string().nullable().openapi({ description: 'Where forgotten memories were archived (null in a dry run)' }),
      })
      .optional(),
    compression: z
      .object({
        clusters: z.array(
          z.object({
            ids: z.array(z.string()),
            type: z.string(),
            summary: z.string(),
            summarySource: z.enum(['extractive', 'model']),
            reason: z.string(),
            patternId: z.string().optional(),
            archivedIds: z.array(z.string()).optional(),
          }),
        ),
        comparisons: z.number(),
      })
      .optional(),
    associations: z
      .object({
        examined: z.number(),
        suggestions: z.array(
          z.object({
            sourceId: z.string(),
            targetId: z.string(),
            type: z.string(),
            confidence: z.number(),
            reasons: z.array(z.string()),
            relation: RelationSchema.optional(),
          }),
        ),
        written: z.number(),
      })
      .optional(),
  })
  .openapi('ConsolidationReport');

// Erasure.
export const ForgetSchema = z
  .strictObject({
    scope: ScopeSchema.optional().openapi({ description: 'Erase every memory of this user / agent / run (at least one of them)' }),
    ids: z.array(identifier).min(1).max(1000).optional().openapi({ description: 'Erase these memories (up to 1,000 a call)' }),
    confirm: z.boolean().optional().openapi({ description: 'true erases. Default false: a dry run that only counts what would be erased' }),
  })
  .openapi('Forget');
export const ForgetResultSchema = z
  .object({
    dryRun: z.boolean(),
    matched: z.number().openapi({ description: 'Memories (live, superseded or deleted) the request names' }),
    forgotten: z.number(),
    ids: z.array(z.string()).openapi({ description: 'The ids matched (dry run) or erased' }),
  })
  .openapi('ForgetResult');

// Ingestion.
const ingestFormat = z.enum(['markdown', 'text', 'html', 'json', 'jsonl', 'csv', 'code']);
const ingestSettings = {
  scope: ScopeSchema.optional(),
  tags: z.array(z.string()).max(100).optional().openapi({ description: 'Added to every chunk' }),
  type: z.string().optional().openapi({ description: 'Memory type of the chunks. Default observation' }),
  chunk: z
    .strictObject({ targetTokens: z.number().int().optional(), overlapTokens: z.number().int().optional() })
    .optional()
    .openapi({ description: 'Chunk size target and overlap, in tokens (default 400 and 40)' }),
};
export const IngestSchema = z
  .strictObject({
    text: z.string().min(1).optional().openapi({ description: 'A document to ingest (with title)' }),
    title: z.string().min(1).max(500).optional().openapi({ description: 'Title of the text; also its source name unless source is given' }),
    source: z
      .string()
      .min(1)
      .max(1000)
      .optional()
      .openapi({ description: 'Names the document: re-ingesting the same source replaces its chunks' }),
    format: ingestFormat.optional().openapi({ description: 'Format of the text. Default text' }),
    documents: z
      .array(
        z.strictObject({
          text: z.string().min(1),
          title: z.string().min(1).max(500),
          source: z.string().min(1).max(1000).optional(),
          format: ingestFormat.optional(),
        }),
      )
      .min(1)
      .max(1000)
      .optional()
      .openapi({ description: 'Several text documents in one call' }),
    paths: z
      .array(z.string().min(1))
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: 'Files, folders or globs on the server, only inside its --allow-ingest folders' }),
    prune: z.boolean().optional().openapi({ description: 'With paths: forget documents under them whose file is gone' }),
    ...ingestSettings,
  })
  .openapi('Ingest', { description: 'One of: text + title, documents, or paths (server files inside --allow-ingest folders).' });

export const IngestUploadSchema = z
  .object({
    file: z
      .union([z.custom<File>((value) => value instanceof File), z.array(z.custom<File>((value) => value instanceof File))])
      .openapi({ type: 'string', format: 'binary', description: 'One or more files (repeat the field); the format follows the file name' }),
    scope: z.string().optional().openapi({ description: 'JSON, e.g. {"userId":"alice"}' }),
    tags: z.string().optional().openapi({ description: 'Comma-separated' }),
    type: z.string().optional(),
  })
  .openapi('IngestUpload');

export const IngestResultSchema = z
  .object({
    documents: z.array(
      z.object({
        source: z.string(),
        title: z.string(),
        status: z.enum(['created', 'updated', 'unchanged', 'failed']),
        chunks: z.number(),
        bytes: z.number(),
        error: z.string().optional().openapi({ description: 'Why it failed: nothing of it was written' }),
      }),
    ),
    chunks: z.object({ created: z.number(), updated: z.number(), unchanged: z.number(), deleted: z.number() }),
    bytes: z.number(),
    failed: z.number(),
    durationMs: z.number(),
    pruned: z
      .object({ sources: z.array(z.string()), chunks: z.number() })
      .optional()
      .openapi({ description: 'With paths and prune: documents whose file is gone, forgotten with their chunks' }),
  })
  .openapi('IngestResult');
