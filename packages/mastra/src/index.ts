export type { EngramTools, EngramToolsOptions } from './engram-tools.js';
export { engramTools } from './engram-tools.js';
export type { EngramVectorFilter, EngramVectorOptions } from './engram-vector.js';
export { EngramVector } from './engram-vector.js';
