export type { PreparedChanges, PreparedItem, PreparedQuery, PreparedTarget } from './collections/collection-input.js';
export {
  checkCollectionName,
  checkIds,
  collectionConflict,
  collectionNotFound,
  collectionScore,
  compareMatches,
  MAX_COLLECTION_DIMENSIONS,
  prepareChanges,
  prepareItems,
  prepareQuery,
  prepareTarget,
  resolveCollectionSpec,
  TopMatches,
  VECTOR_METRICS,
} from './collections/collection-input.js';
export { inMemoryVectorCollections } from './collections/in-memory-collections.js';
export type { ArchiveReason, ConsolidationArchive } from './consolidation/archive.js';
export { memoryArchive } from './consolidation/archive.js';
export type {
  ConsolidateOptions,
  ConsolidationOptions,
  ConsolidationProgress,
  ConsolidationStep,
} from './consolidation/consolidation-options.js';
export { CONSOLIDATION_STEPS, DEFAULT_RETENTION_DAYS, DEFAULT_STEPS } from './consolidation/consolidation-options.js';
export type { Protection } from './consolidation/forgetting.js';
export { decayScore } from './consolidation/relevance.js';
export type { CompressedCluster, ConsolidationReport, ForgottenMemory, SuggestedAssociation } from './consolidation/report.js';
export type * from './contracts/index.js';
export { rankingRecordFields } from './contracts/memory-store.js';
export type {
  ConversationContextOptions,
  ReindexContextResult,
} from './conversation/conversation-context.js';
export {
  compareTurns,
  DEFAULT_CONVERSATION_CONTEXT_TURNS,
  derivedContext,
} from './conversation/conversation-context.js';
export type { HashEmbedderOptions } from './embedding/hash-embedder.js';
export { hashEmbedder } from './embedding/hash-embedder.js';
export type { EncryptionKey, EncryptionOptions } from './encryption/encryption.js';
export { encryptionFromEnvironment } from './encryption/encryption-environment.js';
export { isEnvelope, keyFromText } from './encryption/envelope.js';
export type { ForgetInput, ForgetResult, RetentionOptions } from './erasure/eraser.js';
export type { MemoryEventName, MemoryEvents } from './events/events.js';
export * from './extraction/index.js';
export type { Filterable } from './filter/filter.js';
export { evaluateCondition, matchesFilter, metadataAt, scopeKey } from './filter/filter.js';
export type { TimeWindow } from './filter/time-window.js';
export { parseTimeWindow } from './filter/time-window.js';
export type { Where, WhereOperators, WhereValue } from './filter/where.js';
export { parseWhere } from './filter/where.js';
export type { LinkSuggestion } from './graph/link-suggestions.js';
export type { Direction, RelationTypeOptions } from './graph/relation-types.js';
export { BUILT_IN_RELATION_TYPES, RelationTypes } from './graph/relation-types.js';
export type { ChunkOptions, DocumentChunk } from './ingestion/chunk.js';
export { chunkBlocks } from './ingestion/chunk.js';
export type { IngestedDocument, IngestOptions, IngestReport, IngestSource, IngestStatus, PdfReader } from './ingestion/ingester.js';
export type { DocumentBlock, DocumentFormat } from './ingestion/parse.js';
export { formatOf, pageBlocks, parseBlocks } from './ingestion/parse.js';
export type {
  AddResult,
  ContextResult,
  DedupOptions,
  EmbedderFactory,
  ListResult,
  MemoryOptions,
  Neighbor,
  SearchHit,
  Subgraph,
} from './memory.js';
export { Memory } from './memory.js';
export type { EngramErrorCode, ValidationIssue } from './model/errors.js';
export {
  AdapterError,
  ConflictError,
  EmbedderError,
  EmbedderMismatchError,
  EngramError,
  ModelError,
  NotFoundError,
  ValidationError,
} from './model/errors.js';
export { uuidv7 } from './model/ids.js';
export type { MetadataLimits } from './model/input-guards.js';
export { DEFAULT_METADATA_LIMITS, describeValue, isIllFormed } from './model/input-guards.js';
export type { OntologyOptions, ResolvedType } from './model/ontology.js';
export { BUILT_IN_TYPES, DEFAULT_TYPE, LEGACY_TYPES, Ontology } from './model/ontology.js';
export type {
  AddInput,
  ContextOptions,
  CountFilter,
  LinkOptions,
  ListOptions,
  NeighborsOptions,
  PathOptions,
  RelationsOptions,
  SearchOptions,
  SubgraphOptions,
  UpdatePatch,
} from './model/schema.js';
export { DEFAULT_MAX_CONTENT_BYTES } from './model/schema.js';
export type { ReembedStoreOptions } from './reembed/reembed.js';
export { reembedStore } from './reembed/reembed.js';
export type { AccessStatisticsOptions } from './retrieval/access-recorder.js';
export { DEFAULT_ACCESS_FLUSH_MS } from './retrieval/access-recorder.js';
export type { DateCue } from './retrieval/date-cues.js';
export { findDateCues, matchesDateCue } from './retrieval/date-cues.js';
export type { Explanation, RetrievalOptions } from './retrieval/fusion.js';
export { resolveRetrievalOptions } from './retrieval/fusion.js';
export type { RelevanceFloorOptions } from './retrieval/relevance-floor.js';
export { queryNames } from './retrieval/relevance-floor.js';
export type { HttpAnswer, PostJsonOptions } from './retry/post-json.js';
export { checkBaseURL, normaliseHeaders, postJson, serverMessage } from './retry/post-json.js';
export { backoffMs, isRetryableStatus, retryAfterMs, sleep } from './retry/retry.js';
export { seededRandom } from './seeded-random.js';
export type { ListPosition } from './stores/cursor.js';
export { decodeCursor, encodeCursor, isAfterPosition } from './stores/cursor.js';
export { createdHistoryEntry, diffRecords, historyEntry, updateEvent } from './stores/history.js';
export type { InMemoryStoreOptions } from './stores/in-memory-store.js';
export { inMemoryStore } from './stores/in-memory-store.js';
export type { InMemoryVectorIndex, InMemoryVectorIndexOptions } from './stores/in-memory-vector-index.js';
export { cosineSimilarity, inMemoryVectorIndex } from './stores/in-memory-vector-index.js';
export { applyOperations, checkOperations, missingRecord, OperationIds, operationVectors } from './stores/store-operations.js';
export type { Sync } from './sync/sync.js';
export type { SyncRoundResult, SyncStatus } from './sync/sync-client.js';
export { SYNC_REASON } from './sync/sync-client.js';
export type { SyncOptions } from './sync/sync-options.js';
export { parseDuration, syncFromEnvironment } from './sync/sync-options.js';
export type {
  SyncChange,
  SyncChangesPage,
  SyncOperation,
  SyncOperationResult,
  SyncOperationStatus,
  SyncPush,
  SyncPushResult,
  WireRecord,
  WireRelation,
} from './sync/sync-wire.js';
export { parseScheduleDuration } from './text/duration.js';
export { porterStem } from './text/porter-stemmer.js';
export {
  BM25_B,
  BM25_K1,
  contentHash,
  DEFAULT_CONTEXT_WEIGHT,
  estimateTokens,
  MAX_QUERY_TERMS,
  normaliseTags,
  QUERY_STOPWORDS,
  queryTerms,
  searchTerm,
  termFrequencies,
  terms,
  words,
} from './text/text.js';
