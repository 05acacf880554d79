export type { EmbedderConformanceOptions } from './embedder-conformance.js';
export { runEmbedderConformance } from './embedder-conformance.js';
export { makeRecord, nearVector, seededVector } from './records.js';
export type { StoreConformanceOptions } from './store-conformance.js';
export { runStoreConformance } from './store-conformance.js';
export type { VectorCollectionsConformanceOptions } from './vector-collections-conformance.js';
export { runVectorCollectionsConformance } from './vector-collections-conformance.js';
export type { VectorIndexConformanceOptions } from './vector-index-conformance.js';
export { runVectorIndexConformance } from './vector-index-conformance.js';
