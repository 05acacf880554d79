import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import type { MemoryStore, VectorCollections } from '@engram/core';
import { runVectorCollectionsConformance } from '@engram/core/testing';
import { afterAll } from 'vitest';
import { postgresStore } from './index.js';

// PGlite with pgvector: collections are scored by pgvector's operators. The plain-SQL scoring of a
// server without pgvector runs the same suite in tests/postgres-store.test.ts.
const database = await PGlite.create({ extensions: { vector } });
afterAll(() => database.close());

let counter = 0;
const schemas = new Map<VectorCollections, { store: MemoryStore; schema: string }>();

runVectorCollectionsConformance({
  name: 'postgres on PGlite (pgvector)',
  create: () => {
    const schema = `collections_${++counter}`;
    const store = postgresStore({ pglite: database, schema, vectors: true });
    const collections = store.collections as VectorCollections;
    schemas.set(collections, { store, schema });
    return collections;
  },
  cleanup: async (collections) => {
    const entry = schemas.get(collections);
    await entry?.store.close();
    await database.query(`DROP SCHEMA IF EXISTS "${entry?.schema}" CASCADE`);
  },
});
