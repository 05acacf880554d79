import { runStoreConformance, runVectorIndexConformance } from '../testing/index.js';
import { inMemoryStore } from './in-memory-store.js';
import { inMemoryVectorIndex } from './in-memory-vector-index.js';

runStoreConformance({ name: 'memory', create: () => inMemoryStore() });
runVectorIndexConformance({ name: 'memory', create: () => inMemoryVectorIndex() });
