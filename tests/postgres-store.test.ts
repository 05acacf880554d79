import { postgresStore } from '@engram/adapters/postgres';
import { AdapterError, hashEmbedder, Memory, type MemoryStore, ValidationError, type VectorCollections } from '@engram/core';
import { makeRecord, runStoreConformance, runVectorCollectionsConformance } from '@engram/core/testing';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pgClient } from '../packages/adapters/src/postgres/postgres-client.js';
import { migrateToLatest, migrations } from '../packages/adapters/src/postgres/postgres-migrations.js';
import { usePostgres } from './support/postgres.js';

// A real PostgreSQL server (Debian's, without pgvector): the store runs lexical-only and reports
// `vectors: false`; the vector cases skip with that reason (they run on PGlite with pgvector in
// packages/adapters/src/postgres/postgres-pglite.test.ts).
const postgres = usePostgres();
const schemas = new Map<MemoryStore, string>();

runStoreConformance({
  name: 'postgres (server)',
  skip: postgres.skip,
  create: () => {
    const schema = postgres.nextSchema();
    const store = postgresStore({ pool: postgres.pool, schema });
    schemas.set(store, schema);
    return store;
  },
  cleanup: (store) => postgres.dropSchema(schemas.get(store) as string),
});

// Without pgvector, collections score vectors in plain SQL (exact, as with pgvector on PGlite).
const collectionSchemas = new Map<VectorCollections, { store: MemoryStore; schema: string }>();
runVectorCollectionsConformance({
  name: 'postgres (server, no pgvector)',
  skip: postgres.skip,
  create: () => {
    const schema = postgres.nextSchema();
    const store = postgresStore({ pool: postgres.pool, schema });
    const collections = store.collections as VectorCollections;
    collectionSchemas.set(collections, { store, schema });
    return collections;
  },
  cleanup: async (collections) => {
    const entry = collectionSchemas.get(collections) as { store: MemoryStore; schema: string };
    await entry.store.close();
    await postgres.dropSchema(entry.schema);
  },
});

const suite = postgres.skip ? describe.skip : describe;

suite(`postgres store on a server${postgres.skip ? ` (skipped: ${postgres.skip})` : ''}`, () => {
  describe('migrations', () => {
    it('creates the schema once when many stores open it at the same time', async () => {
      const schema = postgres.nextSchema();
      const pools = Array.from({ length: 8 }, () => new pg.Pool({ connectionString: postgres.url, max: 2 }));
      try {
        const stores = pools.map((pool) => postgresStore({ pool, schema }));
        await Promise.all(stores.map((store) => store.open()));
        await Promise.all(stores.map((store, index) => store.write([{ record: makeRecord({ content: `racer ${index}` }) }])));
        expect(await (stores[0] as MemoryStore).count({})).toBe(8);
        const applied = await postgres.pool.query(`SELECT name FROM "${schema}".engram_migration`);
        expect(applied.rows.map((row) => row.name)).toEqual(Object.keys(migrations(schema)));
        await Promise.all(stores.map((store) => store.close()));
      } finally {
        await Promise.all(pools.map((pool) => pool.end()));
      }
    });

    it('upgrades an older schema in place, once, keeping its data', async () => {
      const schema = postgres.nextSchema();
      const store = postgresStore({ pool: postgres.pool, schema });
      const record = makeRecord({ content: 'written before the upgrade' });
      await store.write([{ record }]);
      // A later version of the adapter that ships one more migration.
      const newer = {
        ...migrations(schema),
        '9999-example': {
          async up(db: Parameters<NonNullable<ReturnType<typeof migrations>[string]>['up']>[0]) {
            const { sql } = await import('kysely');
            await sql.raw(`ALTER TABLE "${schema}".memories ADD COLUMN upgraded_marker integer NOT NULL DEFAULT 7`).execute(db);
          },
        },
      };
      const client = pgClient(postgres.pool, false);
      await Promise.all(Array.from({ length: 5 }, () => migrateToLatest(client, schema, newer)));
      const applied = await postgres.pool.query(`SELECT name FROM "${schema}".engram_migration ORDER BY name`);
      expect(applied.rows.map((row) => row.name)).toEqual([...Object.keys(migrations(schema)), '9999-example'].sort());
      const marker = await postgres.pool.query(`SELECT upgraded_marker FROM "${schema}".memories`);
      expect(marker.rows).toEqual([{ upgraded_marker: 7 }]);
      expect((await store.get([record.id]))[0]?.content).toBe('written before the upgrade');
      await store.close();
    });
  });

  describe('capabilities', () => {
    it('reports vectors: false without pgvector, and Memory warns once that search is lexical', async () => {
      const store = postgresStore({ pool: postgres.pool, schema: postgres.nextSchema() });
      await store.open();
      expect(store.capabilities).toEqual({ lexical: 'bm25', vectors: false, multiProcess: true });
      expect(store.vectors).toBeUndefined();
      const warnings: string[] = [];
      const memory = new Memory({ store, embedder: hashEmbedder({ dimensions: 32 }), logger: (message) => warnings.push(message) });
      await memory.add({ content: 'the deploy failed on a missing index' });
      await memory.add({ content: 'lunch was fine' });
      const hits = await memory.search('deploy index');
      expect(hits[0]?.memory.content).toMatch(/deploy/);
      expect(warnings.filter((warning) => /lexical only/.test(warning))).toHaveLength(1);
      await memory.close();
    });

    it('refuses to open with vectors: true when pgvector is missing, saying what to do', async () => {
      const store = postgresStore({ pool: postgres.pool, schema: postgres.nextSchema(), vectors: true });
      const error = await store.open().catch((caught: unknown) => caught);
      expect(AdapterError.isInstance(error)).toBe(true);
      expect((error as AdapterError).operation).toBe('open');
      expect((error as Error).message).toMatch(/pgvector.*CREATE EXTENSION vector.*vectors: false/s);
    });
  });

  describe('errors', () => {
    it('validates its options up front', () => {
      expect(() => postgresStore({})).toThrow(ValidationError);
      expect(() => postgresStore({ connectionString: postgres.url, pool: postgres.pool })).toThrow(/exactly one/);
      expect(() => postgresStore({ pool: postgres.pool, schema: 'Bad-Name' })).toThrow(/schema/);
      expect(() => postgresStore({ connectionString: postgres.url, poolSize: 0 })).toThrow(/poolSize/);
      expect(() => postgresStore({ connectionString: postgres.url, idleTimeoutMs: -1 })).toThrow(/idleTimeoutMs/);
    });

    it('keeps its idle connections (a new one is a new server process, slow for its first searches) until idleTimeoutMs', async () => {
      const connections = async (name: string) =>
        Number(
          (await postgres.pool.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [name])).rows[0].n,
        );
      const kept = postgresStore({ connectionString: postgres.url, schema: postgres.nextSchema(), applicationName: 'engram-kept' });
      const dropped = postgresStore({
        connectionString: postgres.url,
        schema: postgres.nextSchema(),
        applicationName: 'engram-dropped',
        idleTimeoutMs: 50,
      });
      try {
        await kept.getEmbedder();
        await dropped.getEmbedder();
        await new Promise((resolve) => setTimeout(resolve, 400));
        expect(await connections('engram-kept')).toBeGreaterThan(0);
        expect(await connections('engram-dropped')).toBe(0);
      } finally {
        await kept.close();
        await dropped.close();
      }
    });

    it('names the operation and the fix when the database does not exist', async () => {
      const store = postgresStore({ connectionString: postgres.server.url('no_such_database') });
      await expect(store.open()).rejects.toMatchObject({
        code: 'ADAPTER_ERROR',
        operation: 'open',
        message: expect.stringMatching(/does not exist.*createdb/s),
      });
    });

    it('says where it tried to connect when nothing listens, without the password', async () => {
      const store = postgresStore({ connectionString: 'postgres://user:secret@127.0.0.1:1/engram', connectionTimeoutMs: 2000 });
      const error = (await store.open().catch((caught: unknown) => caught)) as AdapterError;
      expect(error.operation).toBe('open');
      expect(error.message).toMatch(/reachable at postgres:\/\/user:\*\*\*@127\.0\.0\.1:1\/engram/);
      expect(error.message).not.toMatch(/secret/);
    });

    it('maps a statement timeout to an AdapterError naming the operation and the setting', async () => {
      const schema = postgres.nextSchema();
      const store = postgresStore({ connectionString: postgres.url, schema, statementTimeoutMs: 300 });
      await store.open();
      const blocker = await postgres.pool.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query(`LOCK TABLE "${schema}".memories IN ACCESS EXCLUSIVE MODE`);
        await expect(store.count({})).rejects.toMatchObject({
          code: 'ADAPTER_ERROR',
          operation: 'count',
          message: expect.stringMatching(/statementTimeoutMs \(300 ms\)/),
        });
      } finally {
        await blocker.query('ROLLBACK');
        blocker.release();
      }
      expect(await store.count({})).toBe(0);
      await store.close();
      await expect(store.count({})).rejects.toMatchObject({ code: 'CLOSED' });
    });
  });

  it('reads its rows the same whatever global pg type parsers the application installed', async () => {
    const store = postgresStore({ pool: postgres.pool, schema: postgres.nextSchema() });
    const record = makeRecord({ content: 'typed', metadata: { n: 1 }, tags: ['t'], importance: 0.25 });
    await store.write([{ record }]);
    const overridden = [1184, 20, 3802, 701, 16, 1009];
    const originals = overridden.map((oid) => pg.types.getTypeParser(oid, 'text'));
    try {
      for (const oid of overridden) pg.types.setTypeParser(oid, (value: string) => `raw:${value}`);
      expect(await store.get([record.id])).toEqual([record]);
      expect(await store.count({})).toBe(1);
    } finally {
      overridden.forEach((oid, index) => {
        pg.types.setTypeParser(oid, originals[index] as (value: string) => unknown);
      });
    }
    await store.close();
  });
});
