export { ConformanceEmbeddings } from './conformance-embeddings.js';
export type { ConformanceStoreOptions, StoreConformanceOptions, TtlStore, TtlStoreOptions } from './store-conformance.js';
export { IN_MEMORY_STORE_QUIRKS, runStoreConformance } from './store-conformance.js';
