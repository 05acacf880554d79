import { postgresStore } from '@engram/adapters/postgres';
import { type MemoryStore, ValidationError } from '@engram/core';
import { makeRecord } from '@engram/core/testing';
import { describe, expect, it } from 'vitest';
import { pgClient } from '../packages/adapters/src/postgres/postgres-client.js';
import { lexicalPostingsEnabled, migrateToLatest, migrations } from '../packages/adapters/src/postgres/postgres-migrations.js';
import { usePostgres } from './support/postgres.js';

// Issue 18: `lexicalPostings` keeps `memory_lexemes` (one row per lexeme of each live, current
// memory, by length) in the write transaction. These tests check that the table always equals what
// the memories say, through every write path, that an older database fills it when turned on, and
// that search answers the same with and without it.
const postgres = usePostgres();
const suite = postgres.skip ? describe.skip : describe;

/** What `memory_lexemes` should hold: every lexeme of every live, current memory. */
async function expected(schema: string) {
  const { rows } = await postgres.pool.query(
    `SELECT lexeme, coalesce(m.search_length, 0) AS search_length, m.id AS memory_id, m.user_id
     FROM "${schema}".memories m, unnest(tsvector_to_array(m.search)) AS lexeme
     WHERE m.deleted_at IS NULL AND m.superseded_by IS NULL
     ORDER BY 1, 2, 3`,
  );
  return rows;
}

async function held(schema: string) {
  const { rows } = await postgres.pool.query(
    `SELECT lexeme, search_length, memory_id, user_id FROM "${schema}".memory_lexemes ORDER BY 1, 2, 3`,
  );
  return rows;
}

const words = ['deploy', 'rollback', 'index', 'migration', 'timeout', 'cache', 'replica', 'schema', 'queue', 'retry', 'shard'];
const contentOf = (index: number) =>
  `${Array.from({ length: 3 + (index % 7) }, (_, offset) => words[(index * 7 + offset * 3) % words.length]).join(' ')} note ${index}`;

suite(`Postgres lexical postings${postgres.skip ? ` (skipped: ${postgres.skip})` : ''}`, () => {
  it('rejects a lexicalPostings that is not a boolean, naming the field', () => {
    expect(() => postgresStore({ pool: postgres.pool, lexicalPostings: 'yes' as unknown as boolean })).toThrow(ValidationError);
    expect(() => postgresStore({ pool: postgres.pool, lexicalPostings: 'yes' as unknown as boolean })).toThrow(/lexicalPostings/);
  });

  it('is off by default: the table stays empty and writes do not fill it', async () => {
    const schema = postgres.nextSchema();
    const store = postgresStore({ pool: postgres.pool, schema, vectors: false });
    try {
      await store.write([{ record: makeRecord({ content: 'deploy rollback index' }) }]);
      expect(await lexicalPostingsEnabled(pgClient(postgres.pool, false), schema)).toBe(false);
      expect(await held(schema)).toEqual([]);
      expect((await store.lexicalSearch?.('rollback', {}, 10))?.length).toBe(1);
    } finally {
      await store.close();
      await postgres.dropSchema(schema);
    }
  });

  it('mirrors the live, current memories through add, update, supersede, delete, purge and access', async () => {
    const schema = postgres.nextSchema();
    const store = postgresStore({ pool: postgres.pool, schema, vectors: false, lexicalPostings: true });
    try {
      const records = Array.from({ length: 40 }, (_, index) =>
        makeRecord({ content: contentOf(index), scope: { userId: `user-${index % 3}` }, tags: [words[index % words.length] as string] }),
      );
      await store.write(records.map((record) => ({ record })));
      await store.write([{ record: makeRecord({ content: 'one more single write about caches' }) }]);
      expect(await held(schema)).toEqual(await expected(schema));
      expect((await held(schema)).length).toBeGreaterThan(100);
      const [first, second, third, fourth, fifth] = records as [
        ReturnType<typeof makeRecord>,
        ReturnType<typeof makeRecord>,
        ReturnType<typeof makeRecord>,
        ReturnType<typeof makeRecord>,
        ReturnType<typeof makeRecord>,
      ];
      const later = () => new Date(Date.now() + 1000);
      // New text (other lexemes, another length), new tags.
      await store.update(first.id, { content: 'completely different words now, longer than before by far', updatedAt: later() });
      await store.update(second.id, { tags: ['brandnewtag'], updatedAt: later() });
      // Superseded, then deleted (soft), then erased (hard): each leaves the table.
      await store.update(third.id, { supersededBy: fourth.id, updatedAt: later() });
      await store.delete(fourth.id, later());
      if (!store.purge || !store.recordAccess || !store.apply)
        throw new Error('the Postgres store implements purge, recordAccess and apply');
      await store.purge([fifth.id]);
      // Access statistics and decay scores do not touch the text: nothing changes (and no trigger runs).
      await store.recordAccess(
        records.slice(10, 20).map((record) => record.id),
        later(),
      );
      await store.apply([
        { kind: 'update', id: (records[6] as ReturnType<typeof makeRecord>).id, patch: { content: 'applied rewrite', updatedAt: later() } },
        { kind: 'delete', id: (records[7] as ReturnType<typeof makeRecord>).id, at: later() },
      ]);
      expect(await held(schema)).toEqual(await expected(schema));
      const lexemes = (await held(schema)).filter((row) => row.memory_id === first.id).map((row) => row.lexeme);
      expect(lexemes).toEqual(expect.arrayContaining(['complet', 'differ', 'longer']));
      for (const gone of [third.id, fourth.id, fifth.id]) expect((await held(schema)).filter((row) => row.memory_id === gone)).toEqual([]);
      // A failed write leaves nothing behind (the postings insert is in the same transaction).
      const clash = makeRecord({ content: 'a record whose id is taken', id: (records[9] as ReturnType<typeof makeRecord>).id });
      await store.write([{ record: clash }]).catch(() => undefined);
      expect(await held(schema)).toEqual(await expected(schema));
    } finally {
      await store.close();
      await postgres.dropSchema(schema);
    }
  });

  it('fills an older database (written before migration 0009) when turned on, and search answers the same', async () => {
    const schema = postgres.nextSchema();
    const client = pgClient(postgres.pool, false);
    const { '0009-lexical-postings': _added, ...older } = migrations(schema);
    await migrateToLatest(client, schema, older);
    // Rows written by the older schema: straight into the table, as an older version of the store did.
    for (let index = 0; index < 300; index++) {
      await postgres.pool.query(
        `INSERT INTO "${schema}".memories (id, content, content_hash, type, scope_key, importance, created_at, updated_at, user_id)
         VALUES ($1, $2, $3, 'observation', $4, 0.5, now(), now(), $5)`,
        [`old-${index}`, contentOf(index), `hash-${index}`, JSON.stringify([`user-${index % 4}`, '', '']), `user-${index % 4}`],
      );
    }
    const queries = ['deploy rollback', 'index migration timeout', 'cache replica schema queue', 'retry', 'shard deploy cache'];
    const plain = postgresStore({ pool: postgres.pool, schema, vectors: false });
    const before: string[][] = [];
    const beforeUser: string[][] = [];
    for (const query of queries) {
      before.push(((await plain.lexicalSearch?.(query, {}, 10)) ?? []).map((match) => match.id));
      beforeUser.push(((await plain.lexicalSearch?.(query, { scope: { userId: 'user-1' } }, 10)) ?? []).map((match) => match.id));
    }
    await plain.close();
    expect(await held(schema)).toEqual([]);

    const stores: MemoryStore[] = Array.from({ length: 3 }, () =>
      postgresStore({ pool: postgres.pool, schema, vectors: false, lexicalPostings: true }),
    );
    try {
      // Several processes turning it on at once: one fills, the others find it on.
      await Promise.all(stores.map((store) => store.open()));
      expect(await lexicalPostingsEnabled(client, schema)).toBe(true);
      expect(await held(schema)).toEqual(await expected(schema));
      const store = stores[0] as MemoryStore;
      for (const [index, query] of queries.entries()) {
        expect(((await store.lexicalSearch?.(query, {}, 10)) ?? []).map((match) => match.id)).toEqual(before[index]);
        expect(((await store.lexicalSearch?.(query, { scope: { userId: 'user-1' } }, 10)) ?? []).map((match) => match.id)).toEqual(
          beforeUser[index],
        );
      }
      // A store opened without the option still keeps the table (the triggers belong to the database).
      const other = postgresStore({ pool: postgres.pool, schema, vectors: false });
      await other.write([{ record: makeRecord({ content: 'written by a store without the option' }) }]);
      await other.close();
      expect(await held(schema)).toEqual(await expected(schema));
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await postgres.dropSchema(schema);
    }
  });

  it('finds superseded memories when asked (includeSuperseded, asOf) although they are not in the table', async () => {
    const schema = postgres.nextSchema();
    const store = postgresStore({ pool: postgres.pool, schema, vectors: false, lexicalPostings: true });
    try {
      const old = makeRecord({ content: 'the replica lag alert fired twice' });
      const current = makeRecord({ content: 'the replica lag alert is fixed' });
      await store.write([{ record: old }, { record: current }]);
      await store.update(old.id, { supersededBy: current.id, validTo: new Date(Date.now() + 60_000), updatedAt: new Date() });
      expect(((await store.lexicalSearch?.('replica lag', {}, 10)) ?? []).map((match) => match.id)).toEqual([current.id]);
      const all = ((await store.lexicalSearch?.('replica lag', { includeSuperseded: true }, 10)) ?? []).map((match) => match.id);
      expect(all.sort()).toEqual([old.id, current.id].sort());
      const asOf = ((await store.lexicalSearch?.('replica lag twice', { asOf: new Date() }, 10)) ?? []).map((match) => match.id);
      expect(asOf).toContain(old.id);
    } finally {
      await store.close();
      await postgres.dropSchema(schema);
    }
  });
});
