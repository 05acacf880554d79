import { describe, expect, it } from 'vitest';
import type { ChangeLogPage, MemoryStore } from '../contracts/memory-store.js';
import { hashEmbedder } from '../embedding/hash-embedder.js';
import { Memory } from '../memory.js';
import { inMemoryStore } from '../stores/in-memory-store.js';
import { relationToWire } from './sync-wire.js';

describe('SyncServer.changes', () => {
  it('holds the cursor at a missing sequence number until it is filled or 10 s old (Postgres commits out of order)', async () => {
    let clock = Date.UTC(2026, 0, 1);
    const store = inMemoryStore();
    const memory = new Memory({ store, embedder: hashEmbedder(), logger: false, now: () => clock });
    for (const content of ['first', 'second', 'third', 'fourth']) await memory.add({ content });
    // Entry 2 is "not committed yet": the log skips it.
    const read = store.changesSince?.bind(store) as NonNullable<typeof store.changesSince>;
    let hidden = true;
    store.changesSince = async (after, limit): Promise<ChangeLogPage> => {
      const page = await read(after, limit);
      return { ...page, entries: page.entries.filter((entry) => !(hidden && entry.seq === 2)) };
    };
    const first = await memory.sync.changes({ since: 0 });
    expect(first.changes.map((change) => change.seq)).toEqual([1, 3, 4]);
    expect(first.cursor).toBe(1);
    clock += 5_000;
    hidden = false;
    const filled = await memory.sync.changes({ since: first.cursor });
    expect(filled.changes.map((change) => change.seq)).toEqual([2, 3, 4]);
    expect(filled.cursor).toBe(4);

    // A gap that never fills (a rolled-back transaction) is stepped over after 10 s.
    await memory.add({ content: 'fifth' });
    await memory.add({ content: 'sixth' });
    store.changesSince = async (after, limit) => {
      const page = await read(after, limit);
      return { ...page, entries: page.entries.filter((entry) => entry.seq !== 5) };
    };
    expect((await memory.sync.changes({ since: 4 })).cursor).toBe(4);
    clock += 10_001;
    expect((await memory.sync.changes({ since: 4 })).cursor).toBe(6);
    await memory.close();
  });

  it('refuses a bad cursor or limit, naming the field', async () => {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false });
    await expect(memory.sync.changes({ since: -1 })).rejects.toThrow(/since/);
    await expect(memory.sync.changes({ since: 0, limit: 0 })).rejects.toThrow(/limit/);
    await expect(memory.sync.now()).rejects.toThrow(/does not sync/);
    await memory.close();
  });
});

/** The store methods that commit a write (each is one transaction). */
const WRITES = new Set([
  'write',
  'apply',
  'update',
  'delete',
  'upsertRelation',
  'removeRelations',
  'setMeta',
  'appendErasures',
  'compactErasures',
  'purge',
  'recordAccess',
]);

/**
 * A store whose process "dies" right after its `crashAfter`-th write commits: that write lands,
 * then the call throws and nothing more is written until the store is revived.
 */
function crashingStore(store: MemoryStore) {
  const state = { writes: 0, crashAfter: Number.POSITIVE_INFINITY, crashed: false };
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || !WRITES.has(String(property))) return value;
      return async (...parameters: unknown[]) => {
        if (state.crashed) throw new Error('crashed: the process is gone');
        const result = await value.apply(target, parameters);
        state.writes += 1;
        if (state.writes === state.crashAfter) {
          state.crashed = true;
          throw new Error('crashed right after a commit');
        }
        return result;
      };
    },
  });
  return { store: proxy, state };
}

describe('SyncServer.apply: an operation and its applied mark', () => {
  const at = Date.UTC(2026, 0, 1);
  /** Replica one updates the memory and links it; replica two's update lands between the crash and the retry. */
  async function scenario(crashAfter: number) {
    const { store, state } = crashingStore(inMemoryStore());
    const memory = new Memory({ store, embedder: hashEmbedder(), logger: false, now: () => at });
    const { memory: target } = await memory.add({ content: 'the release train leaves on Mondays' });
    const { memory: other } = await memory.add({ content: 'hotfixes ride any train' });
    const relation = {
      sourceId: target.id,
      targetId: other.id,
      type: 'related',
      weight: 1,
      confidence: 1,
      metadata: {},
      inferred: false,
      createdAt: new Date(at),
      updatedAt: new Date(at),
    };
    const push = {
      replicaId: 'replica-one',
      operations: [
        { seq: 1, kind: 'update', id: target.id, fields: { content: 'the release train leaves on Tuesdays' } },
        { seq: 2, kind: 'link', relation: relationToWire(relation) },
        { seq: 3, kind: 'delete', id: other.id, at: new Date(at).toISOString() },
      ],
    };
    await memory.sync.receive({ replicaId: 'warm-up', operations: [] }); // the store's first serve marks it served
    const before = state.writes;
    state.crashAfter = before + crashAfter;
    const first = await memory.sync.receive(push).then(
      (answer) => answer,
      () => undefined,
    );
    const firstWrites = state.writes - before;
    // The process is back (same store); another replica's update arrives before the retry.
    state.crashed = false;
    state.crashAfter = Number.POSITIVE_INFINITY;
    await memory.sync.receive({
      replicaId: 'replica-two',
      operations: [{ seq: 1, kind: 'update', id: target.id, fields: { content: 'the release train leaves on Wednesdays' } }],
    });
    const retry = await memory.sync.receive(push);
    const history = await store.history(target.id);
    const tuesdays = history.filter((entry) => entry.changes.content?.to === 'the release train leaves on Tuesdays');
    const log = await (store.changesSince as NonNullable<MemoryStore['changesSince']>)(0, 1000);
    const links = log.entries.filter((entry) => entry.event === 'relation:added');
    const deletes = log.entries.filter((entry) => entry.event === 'deleted');
    await memory.close();
    return { first, retry, tuesdays: tuesdays.length, links: links.length, deletes: deletes.length, firstWrites };
  }

  it('applies every operation exactly once whichever write a crash follows', async () => {
    const clean = await scenario(Number.POSITIVE_INFINITY);
    expect(clean.first?.results.map((result) => result.status)).toEqual(['applied', 'applied', 'applied']);
    expect(clean.retry.results.map((result) => result.status)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    // Crash after each write the push makes, in turn: whatever committed is never applied again.
    for (let crashAfter = 1; crashAfter <= clean.firstWrites; crashAfter++) {
      const run = await scenario(crashAfter);
      expect(run.first, `crash after write ${crashAfter}`).toBeUndefined();
      expect({ crashAfter, tuesdays: run.tuesdays, links: run.links, deletes: run.deletes }).toEqual({
        crashAfter,
        tuesdays: 1,
        links: 1,
        deletes: 1,
      });
    }
    // Each operation is one transaction with its mark in it: three writes, so a crash after the
    // n-th leaves the first n answered duplicate on the retry and the rest applied then.
    expect(clean.firstWrites).toBe(3);
    for (let crashAfter = 1; crashAfter <= 3; crashAfter++) {
      const run = await scenario(crashAfter);
      expect(run.retry.results.map((result) => result.status)).toEqual(
        ['applied', 'applied', 'applied'].map((status, index) => (index < crashAfter ? 'duplicate' : status)),
      );
    }
  });
});
