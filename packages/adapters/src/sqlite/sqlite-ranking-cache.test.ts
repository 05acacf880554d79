import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashEmbedder, Memory, type MemoryRecord, type MemoryStore, rankingRecordFields } from '@engram/core';
import { makeRecord } from '@engram/core/testing';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteStore } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'engram-sqlite-ranking-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What `getRankingFields` must answer for these records: `get`'s, cut to the ranking fields, by id. */
function projected(records: MemoryRecord[]): Map<string, Record<string, unknown>> {
  return new Map(
    records.map((record) => [
      record.id,
      Object.fromEntries(rankingRecordFields.filter((field) => record[field] !== undefined).map((field) => [field, record[field]])),
    ]),
  );
}

async function rankingOf(store: MemoryStore, ids: string[]): Promise<Map<string, Record<string, unknown>>> {
  const records = (await store.getRankingFields?.(ids)) ?? [];
  return new Map(records.map((record) => [record.id, { ...record }]));
}

async function pair(name: string): Promise<{ path: string; reader: MemoryStore; writer: MemoryStore }> {
  const path = join(root, `${name}.db`);
  const reader = sqliteStore({ path });
  const writer = sqliteStore({ path });
  await reader.open();
  await writer.open();
  return { path, reader, writer };
}

describe('ranking fields (remembered per connection, forgotten through the change log)', () => {
  it('answers the fields get answers, for every kind of record', async () => {
    const { reader, writer } = await pair('fields');
    const records = [
      makeRecord({ content: 'plain', tags: ['a', 'b'], importance: 0.3 }),
      makeRecord({
        content: 'scoped and episodic',
        scope: { userId: 'u', agentId: 'a', runId: 'r' },
        conversationId: 'c',
        type: 'error',
        subtype: 'bug',
        emotion: 'joy',
        validTo: new Date(Date.UTC(2030, 0, 1)),
      }),
      makeRecord({ content: 'with a caller context', context: 'caller words' }),
      makeRecord({ content: 'with a derived context', context: 'the turn before', contextSource: 'conversation', conversationId: 'c' }),
    ];
    await writer.write(records.map((record) => ({ record })));
    await writer.recordDecayScores?.([{ id: records[0]?.id as string, score: 0.42 }], new Date());
    const ids = records.map((record) => record.id);
    const expected = projected(await reader.get(ids));
    expect(expected.get(ids[0] as string)?.decayScore).toBe(0.42);
    expect(expected.get(ids[3] as string)?.contextSource).toBe('conversation');
    // Twice: read from the rows, then from what the connection remembered.
    expect(await rankingOf(reader, ids)).toEqual(expected);
    expect(await rankingOf(reader, ids)).toEqual(expected);
    expect(await reader.getRankingFields?.(['0190c0de-0000-7000-8000-000000000000', ...ids.slice(0, 1)])).toHaveLength(1);
    await reader.close();
    await writer.close();
  });

  it('never answers a field another connection changed, deleted or erased since it was read', async () => {
    const { path, reader, writer } = await pair('stale');
    const [first, second, third, fourth] = [1, 2, 3, 4].map((index) => makeRecord({ content: `note ${index}`, tags: ['old'] }));
    if (!first || !second || !third || !fourth) throw new Error('unreachable');
    await writer.write([first, second, third, fourth].map((record) => ({ record })));
    const ids = [first.id, second.id, third.id, fourth.id];
    await rankingOf(reader, ids); // remembered

    const at = new Date();
    await writer.update(first.id, { content: 'note 1, rewritten', contentHash: 'rewritten', tags: ['new'], updatedAt: at });
    await writer.update(second.id, { importance: 0.9, supersededBy: third.id, validTo: at, updatedAt: at });
    await writer.recordDecayScores?.([{ id: third.id, score: 0.11 }], new Date());
    await writer.delete(fourth.id, at);
    expect(await rankingOf(reader, ids)).toEqual(projected(await reader.get(ids)));
    const now = await rankingOf(reader, ids);
    expect(now.get(first.id)).toMatchObject({ content: 'note 1, rewritten', tags: ['new'] });
    expect(now.get(second.id)).toMatchObject({ importance: 0.9, supersededBy: third.id });
    expect(now.get(third.id)?.decayScore).toBe(0.11);
    expect(now.has(fourth.id)).toBe(false);

    // An erasure, then a new memory given the erased row's rowid: the reader reads the new row.
    await rankingOf(reader, [third.id]);
    const rowid = (id: string) => {
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare('SELECT rowid FROM memories WHERE id = ?').pluck().get(id);
      } finally {
        db.close();
      }
    };
    const lastRowid = rowid(fourth.id);
    expect(await writer.purge?.([fourth.id])).toBe(1);
    const successor = makeRecord({ content: 'the successor' });
    await writer.write([{ record: successor }]);
    expect(rowid(successor.id)).toBe(lastRowid);
    expect(await rankingOf(reader, [successor.id, third.id])).toEqual(projected(await reader.get([successor.id, third.id])));
    await reader.close();
    await writer.close();
  });

  it('never answers importance, decay score or liveness its own connection changed since it was read', async () => {
    // The fields no log entry follows are kept while the file's stamp stands still; a write on the
    // same connection moves total_changes() (data_version moves only for other connections).
    const path = join(root, 'own.db');
    const store = sqliteStore({ path });
    await store.open();
    const records = [1, 2, 3, 4].map((index) => makeRecord({ content: `own note ${index}`, importance: 0.25 }));
    const [first, second, third, fourth] = records;
    if (!first || !second || !third || !fourth) throw new Error('unreachable');
    await store.write(records.map((record) => ({ record })));
    const ids = records.map((record) => record.id);
    expect(await rankingOf(store, ids)).toEqual(projected(await store.get(ids)));
    expect(await rankingOf(store, ids)).toEqual(projected(await store.get(ids))); // answered from memory

    const at = new Date();
    await store.update(first.id, { importance: 0.75, updatedAt: at });
    expect((await rankingOf(store, ids)).get(first.id)?.importance).toBe(0.75);
    await store.recordDecayScores?.([{ id: second.id, score: 0.07 }], at);
    expect((await rankingOf(store, ids)).get(second.id)?.decayScore).toBe(0.07);
    await store.delete(third.id, at);
    expect((await rankingOf(store, ids)).has(third.id)).toBe(false);
    // Another connection's raw write moves data_version.
    const direct = new Database(path);
    direct.prepare('UPDATE memories SET importance = 0.5 WHERE id = ?').run(fourth.id);
    direct.close();
    expect((await rankingOf(store, ids)).get(fourth.id)?.importance).toBe(0.5);
    expect(await rankingOf(store, ids)).toEqual(projected(await store.get(ids)));
    await store.close();
  });

  it('answers the same record object while its fields stand still, a new one once any changed', async () => {
    // Search remembers what it derives from a record object (the relevance floor's terms), so a
    // changed field must never come back in an object answered before.
    const { reader, writer } = await pair('same-objects');
    const records = [1, 2, 3].map((index) => makeRecord({ content: `object note ${index}`, importance: 0.25 }));
    const [first, second, third] = records;
    if (!first || !second || !third) throw new Error('unreachable');
    await writer.write(records.map((record) => ({ record })));
    const ids = records.map((record) => record.id);
    const objects = async () => new Map(((await reader.getRankingFields?.(ids)) ?? []).map((record) => [record.id, record]));
    const before = await objects();
    const again = await objects();
    for (const id of ids) expect(again.get(id)).toBe(before.get(id));

    const at = new Date();
    await writer.update(first.id, { importance: 0.75, updatedAt: at });
    await writer.update(second.id, { content: 'object note 2, rewritten', contentHash: 'rewritten-2', updatedAt: at });
    const after = await objects();
    expect(after.get(first.id)).not.toBe(before.get(first.id));
    expect(after.get(first.id)?.importance).toBe(0.75);
    expect(after.get(second.id)).not.toBe(before.get(second.id));
    expect(after.get(second.id)?.content).toBe('object note 2, rewritten');
    // The file moved (importance is read again) but the third memory's values did not.
    expect(after.get(third.id)).toBe(before.get(third.id));
    await reader.close();
    await writer.close();
  });

  it('ranks a search on what another connection just wrote, and returns whole records', async () => {
    const path = join(root, 'search.db');
    const reader = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder(), logger: false });
    const writer = new Memory({ store: sqliteStore({ path }), embedder: hashEmbedder(), logger: false });
    const { memory: harbour } = await writer.add({
      content: 'The harbour light is painted red',
      importance: 0.2,
      metadata: { kept: true },
    });
    const { memory: other } = await writer.add({ content: 'The harbour office opens at nine', importance: 0.2 });
    const before = await reader.search('harbour light', { limit: 5, explain: true });
    expect(before[0]?.memory.id).toBe(harbour.id);
    expect(before[0]?.memory.metadata).toEqual({ kept: true });

    // The other connection moves the words: the reader ranks on the new text at once.
    await writer.update(harbour.id, { content: 'The pier office closes at five' });
    await writer.update(other.id, { content: 'The harbour light is painted green' });
    const after = await reader.search('harbour light', { limit: 5, explain: true });
    expect(after[0]?.memory.id).toBe(other.id);
    expect(after[0]?.memory.content).toBe('The harbour light is painted green');
    // Its old words (still harbour, light) would have kept it above the relevance floor.
    expect(after.map((hit) => hit.memory.id)).toEqual([other.id]);
    await reader.close();
    await writer.close();
  });
});
