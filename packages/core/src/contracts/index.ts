export type * from './embedder.js';
export type * from './language-model.js';
export type * from './memory-store.js';
export type * from './model.js';
export type * from './vector-collections.js';
export type * from './vector-index.js';
