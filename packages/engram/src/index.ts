export { sqliteStore } from '@engram/adapters/sqlite';
export * from '@engram/core';
export type { AnthropicModel, AnthropicModelOptions, OpenAICompatibleModel, OpenAICompatibleModelOptions } from '@engram/models';
export { anthropicModel, modelFromEnvironment, openaiCompatibleModel } from '@engram/models';
export type { DefaultEmbedderOptions } from './default-embedder.js';
export { defaultEmbedder } from './default-embedder.js';
export type { EngramMemoryOptions } from './memory.js';
export { DEFAULT_PATH, Memory } from './memory.js';
