export type { EngramMiddlewareOptions } from './engram-middleware.js';
export { engramMiddleware, lastUserText } from './engram-middleware.js';
export type { EngramTools, EngramToolsOptions, ToolMemory } from './engram-tools.js';
export { engramTools } from './engram-tools.js';
export type { MemoryScope } from './memory-scope.js';
