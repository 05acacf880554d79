export * from '@engram/core';
export { DEFAULT_PATH, Memory } from './memory.js';
export type { EngramMemoryOptions } from './memory.js';
export { defaultEmbedder } from './default-embedder.js';
export type { DefaultEmbedderOptions } from './default-embedder.js';
export { sqliteStore } from '@engram/adapters/sqlite';
