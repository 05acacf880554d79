import { postgresStore } from '@engram/adapters/postgres';
import type { MemoryStore } from '@engram/core';
import { EngramVector } from '@engram/mastra';
import { runMastraVectorConformance } from '@engram/mastra/testing';
import { usePostgres } from './support/postgres.js';

// EngramVector on a real PostgreSQL server without pgvector: collections scored in plain SQL.
// (Memory, SQLite and PGlite with pgvector run in packages/mastra/src/engram-vector.test.ts.)
const postgres = usePostgres();
const entries = new Map<EngramVector, { store: MemoryStore; schema: string }>();

runMastraVectorConformance({
  name: 'postgres (server, no pgvector)',
  skip: postgres.skip,
  create: () => {
    const schema = postgres.nextSchema();
    const store = postgresStore({ pool: postgres.pool, schema });
    const vector = new EngramVector({ store });
    entries.set(vector, { store, schema });
    return vector;
  },
  cleanup: async (vector) => {
    const entry = entries.get(vector) as { store: MemoryStore; schema: string };
    await entry.store.close();
    await postgres.dropSchema(entry.schema);
  },
});
