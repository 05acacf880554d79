export type { EngramPutOperation, EngramStoreIndexConfig, EngramStoreOptions, EngramStoreTtlConfig, PutOptions } from './engram-store.js';
export { EngramStore } from './engram-store.js';
export { indexedTexts, textsAtPath } from './item-text.js';
export type { LangChainEmbedderOptions } from './langchain-embedder.js';
export { isEngramEmbedder, langchainEmbedder } from './langchain-embedder.js';
export { filterToWhere, InvalidFilterError } from './store-filter.js';
