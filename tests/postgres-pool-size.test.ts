import type { PgPoolClientLike, PgPoolLike } from '@engram/adapters/postgres';
import { postgresStore } from '@engram/adapters/postgres';
import { hashEmbedder, Memory } from '@engram/core';
import { makeRecord } from '@engram/core/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePostgres } from './support/postgres.js';

/**
 * A pool of one connection (`max: 1`, common on small hosted plans and in serverless functions)
 * must serve every operation: nothing may hold a connection while it asks for another, or it
 * waits for itself until the pool's timeout. The pool below records every request for a
 * connection made while one of its connections is out — the wait itself, not its duration.
 */
const postgres = usePostgres();
const suite = postgres.skip ? describe.skip : describe;

interface WatchedPool extends PgPoolLike {
  /** Stacks of the requests made while a connection was checked out. */
  readonly waits: string[];
}

function watchedPool(pool: pg.Pool): WatchedPool {
  let out = 0;
  const waits: string[] = [];
  const note = () => {
    if (out > 0) waits.push(new Error('a connection was requested while this pool’s only connection was held').stack ?? '');
  };
  return {
    waits,
    async query(config) {
      note();
      out += 1;
      try {
        return await pool.query(config);
      } finally {
        out -= 1;
      }
    },
    async connect(): Promise<PgPoolClientLike> {
      note();
      out += 1;
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        out -= 1;
        throw error;
      }
      return {
        query: (config) => client.query(config),
        release(destroy) {
          out -= 1;
          client.release(destroy);
        },
      };
    },
    end: () => pool.end(),
  };
}

// Both write paths: the default, and `lexicalPostings` (its triggers and its open-time fill).
for (const lexicalPostings of [false, true]) {
  suite(
    `postgres with a pool of one connection, lexicalPostings ${lexicalPostings}${postgres.skip ? ` (skipped: ${postgres.skip})` : ''}`,
    () => {
      let pool: pg.Pool;
      let watched: WatchedPool;
      let memory: Memory;
      const schema = postgres.nextSchema();

      beforeAll(async () => {
        // A short timeout so a regression fails in seconds instead of hanging the file.
        pool = new pg.Pool({ connectionString: postgres.url, max: 1, connectionTimeoutMillis: 3_000 });
        watched = watchedPool(pool);
        memory = new Memory({
          store: postgresStore({ pool: watched, schema, lexicalPostings }),
          embedder: hashEmbedder({ dimensions: 32 }),
          logger: false,
        });
        await memory.ready();
        watched.waits.length = 0;
      }, 60_000);

      afterAll(async () => {
        await memory?.close();
        await pool?.end();
        await postgres.dropSchema(schema);
      });

      const expectNoWait = () => expect(watched.waits, watched.waits.join('\n\n')).toEqual([]);

      it('addMany writes a batch without asking for a second connection', async () => {
        const results = await memory.addMany(
          Array.from({ length: 50 }, (_, index) => ({ content: `pooled note ${index}`, scope: { userId: 'one' } })),
        );
        expect(results.map((result) => result.status)).toEqual(Array(50).fill('created'));
        expectNoWait();
      });

      it('add, search, update, history and delete each run on the one connection', async () => {
        const added = await memory.add({ content: 'a single connection serves the kettle note', scope: { userId: 'one' } });
        expect(added.status).toBe('created');
        const hits = await memory.search('kettle', { scope: { userId: 'one' } });
        expect(hits[0]?.memory.id).toBe(added.memory.id);
        const updated = await memory.update(added.memory.id, { content: 'a single connection serves the teapot note' });
        expect(updated.content).toContain('teapot');
        expect((await memory.history(added.memory.id)).map((entry) => entry.event)).toEqual(['created', 'updated']);
        expect(await memory.delete(added.memory.id)).toBe(true);
        expectNoWait();
      });

      it('apply runs a mixed batch in one transaction on the one connection', async () => {
        const store = postgresStore({ pool: watched, schema, lexicalPostings });
        try {
          await store.open();
          watched.waits.length = 0;
          const record = makeRecord({ content: 'applied through one connection' });
          const results = await store.apply?.([
            { kind: 'write', items: [{ record }] },
            { kind: 'update', id: record.id, patch: { importance: 0.9, updatedAt: new Date() }, required: true },
          ]);
          expect(results?.map((result) => result.kind)).toEqual(['write', 'update']);
          expect((await store.get([record.id]))[0]?.importance).toBe(0.9);
          expectNoWait();
        } finally {
          await store.close();
        }
      });
    },
  );
}
