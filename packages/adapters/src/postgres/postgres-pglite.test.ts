import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import type { MemoryStore } from '@engram/core';
import { makeRecord, runStoreConformance } from '@engram/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresStore } from './index.js';

// PGlite is a real Postgres (17) engine in process, with pgvector 0.8: the pgvector code path
// (vector column, HNSW, filtered KNN) runs here, since Debian's PostgreSQL ships without it.
const database = await PGlite.create({ extensions: { vector } });
afterAll(() => database.close());

let counter = 0;
const schemas = new Map<MemoryStore, string>();

runStoreConformance({
  name: 'postgres on PGlite (pgvector)',
  create: () => {
    const schema = `conformance_${++counter}`;
    const store = postgresStore({ pglite: database, schema, vectors: true });
    schemas.set(store, schema);
    return store;
  },
  cleanup: async (store) => {
    await database.query(`DROP SCHEMA IF EXISTS "${schemas.get(store)}" CASCADE`);
  },
});

describe('context (text that helps find a memory without being part of it)', () => {
  it('round-trips, is searchable below the content, and follows keyed updates', async () => {
    const store = postgresStore({ pglite: database, schema: 'context_field', vectors: false });
    const inContent = makeRecord({ content: 'the invoice service retries payments' });
    const inContext = makeRecord({ content: 'it retries three times', context: 'we were talking about the invoice service' });
    const keyed = makeRecord({ content: 'theme is dark', key: 'theme', context: 'settings page' });
    await store.write([{ record: inContent }, { record: inContext }, { record: keyed }]);
    expect((await store.get([inContext.id]))[0]).toEqual(inContext);
    expect((await store.get([inContent.id]))[0]).not.toHaveProperty('context');
    const ranked = await (store.lexicalSearch as NonNullable<MemoryStore['lexicalSearch']>)('invoice service', {}, 10);
    expect(ranked.map((match) => match.id)).toEqual([inContent.id, inContext.id]);
    // Same content, new context: an update; then no context at all: the context goes.
    const [withNewContext] = await store.write([
      { record: makeRecord({ content: 'theme is dark', key: 'theme', context: 'profile page' }) },
    ]);
    expect(withNewContext).toMatchObject({ status: 'updated', record: { id: keyed.id, context: 'profile page' } });
    const [withoutContext] = await store.write([{ record: makeRecord({ content: 'theme is dark', key: 'theme' }) }]);
    expect(withoutContext?.status).toBe('updated');
    expect(withoutContext?.record).not.toHaveProperty('context');
    expect(await (store.lexicalSearch as NonNullable<MemoryStore['lexicalSearch']>)('profile', {}, 10)).toEqual([]);
    await store.close();
  });
});
