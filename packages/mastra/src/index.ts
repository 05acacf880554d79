export type { EngramTools, EngramToolsOptions } from './engram-tools.js';
export { engramTools } from './engram-tools.js';
