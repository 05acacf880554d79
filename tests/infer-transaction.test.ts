import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresStore } from '@engram/adapters/postgres';
import { sqliteStore } from '@engram/adapters/sqlite';
import { hashEmbedder, type LanguageModelRequest, Memory, type MemoryRecord, type MemoryStore } from '@engram/core';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { scriptedModel } from '../packages/core/src/extraction/test-fixtures/scripted-model.js';
import { usePglite } from './support/postgres.js';

/**
 * Issue 14: a reconcile plan (add, update, supersede) is applied in one store transaction. A real
 * store failure — a trigger that raises when the plan's supersession reaches the database — is
 * injected half-way through a real plan, after its new memories and its update were written in
 * the same transaction: the store must be exactly as it was before.
 */

const pglite = usePglite();
const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const USER = { userId: 'ada' };
const fact = (content: string) => ({ content, type: null, tags: null, importance: null });

interface Backend {
  store: MemoryStore;
  /** Makes every later supersession fail inside the database; `heal` removes it. */
  breakSupersession(): Promise<void>;
  heal(): Promise<void>;
}

const backends: Array<[string, () => Promise<Backend>]> = [
  [
    'sqlite',
    async () => {
      const directory = mkdtempSync(join(tmpdir(), 'engram-infer-tx-'));
      directories.push(directory);
      const database = new Database(join(directory, 'memory.db'));
      const store = sqliteStore({ database });
      return {
        store,
        async breakSupersession() {
          await store.open();
          database.exec(`CREATE TRIGGER injected_failure BEFORE UPDATE OF superseded_by ON memories
                         BEGIN SELECT RAISE(ABORT, 'injected store failure'); END`);
        },
        async heal() {
          database.exec('DROP TRIGGER injected_failure');
        },
      };
    },
  ],
  [
    'postgres (PGlite)',
    async () => {
      const schema = pglite.nextSchema();
      const store = postgresStore({ pglite: pglite.database, schema });
      return {
        store,
        async breakSupersession() {
          await store.open();
          await pglite.database.exec(`
            CREATE FUNCTION ${schema}.injected_failure() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN RAISE EXCEPTION 'injected store failure'; END $$;
            CREATE TRIGGER injected_failure BEFORE UPDATE OF superseded_by ON ${schema}.memories
              FOR EACH ROW EXECUTE FUNCTION ${schema}.injected_failure();`);
        },
        async heal() {
          await pglite.database.exec(`DROP TRIGGER injected_failure ON ${schema}.memories`);
        },
      };
    },
  ],
];

describe.each(backends)('an inference plan on %s', (_name, createBackend) => {
  it('is applied in one transaction: a store failure half-way leaves the store exactly as before', async () => {
    const backend = await createBackend();
    let clock = Date.parse('2026-03-01T10:00:00Z');
    const now = () => clock;
    const seeder = new Memory({ store: backend.store, embedder: hashEmbedder(), logger: false, now });
    const editor = (await seeder.add({ content: 'The user prefers light mode in the editor.', type: 'decision', scope: USER })).memory;
    const database = (await seeder.add({ content: 'The project uses PostgreSQL 15 for storage.', scope: USER })).memory;
    const tea = (await seeder.add({ content: 'The user likes green tea.', scope: USER })).memory;
    clock += 86_400_000;

    const model = scriptedModel({
      engram_facts: {
        facts: [
          fact('The user works on Engram, a memory layer.'),
          fact('The project uses PostgreSQL 16 for storage.'),
          fact('The user prefers dark mode in the editor.'),
          fact('The user likes green tea.'),
        ],
      },
      engram_reconcile: (request: LanguageModelRequest) => {
        const prompt = request.messages[0]?.content ?? '';
        const shown = (prompt.split('EXISTING MEMORIES:')[1] ?? '')
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as { alias: string; content: string });
        const alias = (record: MemoryRecord) => shown.find((item) => item.content === record.content)?.alias ?? null;
        return {
          operations: [
            { op: 'add', fact: 0, target: null, content: null, reason: 'new' },
            { op: 'update', fact: 1, target: alias(database), content: 'The project uses PostgreSQL 16 (was 15).', reason: 'bump' },
            { op: 'supersede', fact: 2, target: alias(editor), content: null, reason: 'preference changed' },
            { op: 'none', fact: 3, target: alias(tea), content: null, reason: 'known' },
          ],
        };
      },
    });
    const learner = new Memory({ store: backend.store, embedder: hashEmbedder(), model, logger: false, now });
    const events: string[] = [];
    for (const name of ['memory:added', 'memory:updated', 'memory:superseded', 'relation:added'] as const) {
      learner.on(name, () => events.push(name));
    }
    const ids = [editor.id, database.id, tea.id];
    const snapshot = async () => ({
      records: (await learner.list({ scope: USER, includeSuperseded: true, limit: 100 })).items,
      all: (await backend.store.list({}, { limit: 100, includeDeleted: true })).items,
      histories: await Promise.all(ids.map((id) => learner.history(id))),
      relations: await backend.store.relationsOf(ids, { direction: 'both' }),
      // The store's own search: a Memory search would count as an access and change the records.
      lexical: await backend.store.lexicalSearch?.('editor mode PostgreSQL Engram', {}, 10),
      vectors: await backend.store.vectors?.count(),
    });
    const before = await snapshot();

    await backend.breakSupersession();
    const transcript = 'I moved to dark mode; we are on PostgreSQL 16 now; I work on Engram.';
    await expect(learner.add(transcript, { infer: true, scope: USER })).rejects.toThrow(/injected store failure/);
    expect(await snapshot()).toEqual(before);
    expect(events).toEqual([]);
    expect(model.requests).toHaveLength(2);

    // The same plan, with the store healthy, applies whole: proof the failure struck half-way.
    await backend.heal();
    const result = await learner.add(transcript, { infer: true, scope: USER });
    expect(result.results.map((item) => item.status)).toEqual(['created', 'updated', 'superseded', 'unchanged']);
    expect((await learner.get(editor.id))?.supersededBy).toBe(result.results[2]?.memory.id);
    expect((await learner.get(database.id))?.content).toBe('The project uses PostgreSQL 16 (was 15).');
    expect((await learner.relations(editor.id)).map((edge) => edge.type)).toEqual(['contradicts']);
    expect(events.sort()).toEqual(['memory:added', 'memory:added', 'memory:superseded', 'memory:updated', 'relation:added']);
    await learner.close();
  });
});
