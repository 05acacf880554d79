export type { MastraVectorConformanceOptions } from './mastra-vector-conformance.js';
export { runMastraVectorConformance } from './mastra-vector-conformance.js';
