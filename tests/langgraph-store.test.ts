import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresStore } from '@engram/adapters/postgres';
import { sqliteStore } from '@engram/adapters/sqlite';
import { hashEmbedder, inMemoryStore, type MemoryStore } from '@engram/core';
import { EngramStore } from '@engram/langgraph';
import { IN_MEMORY_STORE_QUIRKS, runStoreConformance, type TtlStoreOptions } from '@engram/langgraph/testing';
import { InMemoryStore } from '@langchain/langgraph-checkpoint';
import { afterAll } from 'vitest';
import { usePglite, usePostgres } from './support/postgres.js';

// The suite first runs LangGraph's InMemoryStore against itself: it proves every expectation the
// suite makes holds for the reference. Then EngramStore on each Engram backend, compared with it.
runStoreConformance({
  name: 'LangGraph InMemoryStore (the oracle)',
  create: () => new InMemoryStore(),
  ranked: false,
  skipCases: IN_MEMORY_STORE_QUIRKS,
});

function engramOn(name: string, backend: () => MemoryStore, skip?: string): void {
  const create = (options: { fields?: string[] }, ttl?: TtlStoreOptions) =>
    new EngramStore({
      store: backend(),
      index: { embed: hashEmbedder(), ...(options.fields ? { fields: options.fields } : {}) },
      ...(ttl
        ? { ttl: { ...(ttl.defaultTtl ? { defaultTtl: ttl.defaultTtl } : {}), refreshOnRead: ttl.refreshOnRead ?? true }, now: ttl.now }
        : {}),
    });
  runStoreConformance({
    name: `EngramStore on ${name}`,
    ...(skip ? { skip } : {}),
    create: (options) => create(options),
    ttl: (options) => create(options, options),
  });
}

engramOn('the in-memory reference store', () => inMemoryStore());

const folder = mkdtempSync(join(tmpdir(), 'engram-langgraph-'));
let files = 0;
afterAll(() => rmSync(folder, { recursive: true, force: true }));
engramOn('SQLite', () => sqliteStore({ path: join(folder, `store-${++files}.db`) }));

// Debian's PostgreSQL has no pgvector: the store is lexical-only there, so the query cases also
// exercise EngramStore's unranked fallback; PGlite brings pgvector for the hybrid path.
const postgres = usePostgres();
engramOn('Postgres (server, lexical)', () => postgresStore({ pool: postgres.pool, schema: postgres.nextSchema() }), postgres.skip);
const pglite = usePglite();
engramOn('Postgres (PGlite + pgvector)', () => postgresStore({ pglite: pglite.database, schema: pglite.nextSchema(), vectors: true }));
