export type { QdrantCondition, QdrantFilter, QdrantFilterTranslation } from './qdrant-filter.js';
export { toQdrantFilter } from './qdrant-filter.js';
export { pointId } from './qdrant-ids.js';
export type { QdrantIndexOptions } from './qdrant-index.js';
export { qdrantIndex } from './qdrant-index.js';
export type { QdrantPayload } from './qdrant-payload.js';
export { toPayload } from './qdrant-payload.js';
export type { ReindexOptions, ReindexProgress } from './reindex.js';
export { reindex } from './reindex.js';
