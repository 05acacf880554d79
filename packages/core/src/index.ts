export type * from './contracts/index.js';
export type { ListPosition } from './cursor.js';
export { decodeCursor, encodeCursor, isAfterPosition } from './cursor.js';
export type { DateCue } from './date-cues.js';
export { findDateCues, matchesDateCue } from './date-cues.js';
export type { EngramErrorCode, ValidationIssue } from './errors.js';
export {
  AdapterError,
  ConflictError,
  EmbedderError,
  EmbedderMismatchError,
  EngramError,
  NotFoundError,
  ValidationError,
} from './errors.js';
export type { MemoryEventName, MemoryEvents } from './events.js';
export type { Filterable } from './filter.js';
export { evaluateCondition, matchesFilter, scopeKey } from './filter.js';
export type { Direction, RelationTypeOptions } from './graph.js';
export { BUILT_IN_RELATION_TYPES, RelationTypes } from './graph.js';
export type { HashEmbedderOptions } from './hash-embedder.js';
export { hashEmbedder } from './hash-embedder.js';
export { diffRecords, historyEntry, updateEvent } from './history.js';
export { uuidv7 } from './ids.js';
export type { InMemoryStoreOptions } from './in-memory-store.js';
export { inMemoryStore } from './in-memory-store.js';
export type { InMemoryVectorIndexOptions } from './in-memory-vector-index.js';
export { cosineSimilarity, inMemoryVectorIndex } from './in-memory-vector-index.js';
export type { LinkSuggestion } from './link-suggestions.js';
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
export type { OntologyOptions, ResolvedType } from './ontology.js';
export { BUILT_IN_TYPES, DEFAULT_TYPE, LEGACY_TYPES, Ontology } from './ontology.js';
export { porterStem } from './porter-stemmer.js';
export type { Explanation, RetrievalOptions } from './retrieval.js';
export { resolveRetrievalOptions } from './retrieval.js';
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
} from './schema.js';
export { DEFAULT_MAX_CONTENT_BYTES } from './schema.js';
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
} from './text.js';
export type { TimeWindow } from './time-window.js';
export { parseTimeWindow } from './time-window.js';
export type { Where, WhereOperators, WhereValue } from './where.js';
export { parseWhere } from './where.js';
