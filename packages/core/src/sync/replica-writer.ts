import type { MemoryStore, RecordPatch, StoreOperation, StoreOperationResult, StoreWriteResult } from '../contracts/memory-store.js';
import type { MemoryRecord, Relation } from '../contracts/model.js';
import type { VectorIndex } from '../contracts/vector-index.js';
import type { Embedding } from '../embedding/embedding.js';
import { isEnvelope } from '../encryption/envelope.js';
import type { EventHub } from '../events/event-hub.js';
import { EngramError } from '../model/errors.js';
import { contentHash } from '../text/text.js';
import { SYNCED_FIELDS } from './sync-wire.js';

export interface ReplicaWriterContext {
  store: MemoryStore;
  /** Opens the store (once); answers the vector index in use, if any. */
  open: () => Promise<VectorIndex | undefined>;
  embedding: Embedding;
  events: EventHub;
  now: () => number;
}

/** What changed between a stored record and the state it should take, as a store patch (null: nothing). */
export function statePatch(current: MemoryRecord, wanted: MemoryRecord, at: Date): RecordPatch | null {
  const patch: RecordPatch = { updatedAt: at };
  let changed = false;
  for (const field of SYNCED_FIELDS) {
    const from = current[field] instanceof Date ? (current[field] as Date).toISOString() : current[field];
    const to = wanted[field] instanceof Date ? (wanted[field] as Date).toISOString() : wanted[field];
    if (JSON.stringify(from) === JSON.stringify(to)) continue;
    (patch as Record<string, unknown>)[field] = wanted[field];
    changed = true;
  }
  if (!changed) return null;
  if (patch.content !== undefined) patch.contentHash = wanted.contentHash;
  return patch;
}

/**
 * Operations a write takes along into its own transaction (`MemoryStore.apply`): the server's
 * applied mark for the sync operation it writes, so the two land together or not at all.
 */
export type Along = StoreOperation[];

/**
 * Writes other replicas' changes into a store as they are — ids, timestamps and scope kept — with
 * the store's own write transactions, embedding content with this side's embedder, and emitting
 * the usual events. `reason` goes to the change log (a replica marks what it pulled 'sync' so it
 * never pushes it back).
 */
export class ReplicaWriter {
  constructor(private readonly context: ReplicaWriterContext) {}

  /** The record in any state (live, superseded, deleted), or null. */
  async find(id: string): Promise<MemoryRecord | null> {
    const page = await this.context.store.list({ ids: [id], includeSuperseded: true }, { limit: 1, includeDeleted: true });
    return page.items[0] ?? null;
  }

  async findMany(ids: string[]): Promise<Map<string, MemoryRecord>> {
    const found = new Map<string, MemoryRecord>();
    for (let start = 0; start < ids.length; start += 500) {
      const chunk = [...new Set(ids.slice(start, start + 500))];
      const page = await this.context.store.list({ ids: chunk, includeSuperseded: true }, { limit: chunk.length, includeDeleted: true });
      for (const record of page.items) found.set(record.id, record);
    }
    return found;
  }

  private async vectorFor(content: string): Promise<{ index: VectorIndex | undefined; vector: Float32Array | undefined }> {
    const index = await this.context.open();
    // Sensitive content travels sealed: it is not embedded here (only the key holder could).
    if (!index || isEnvelope(content)) return { index, vector: undefined };
    const [vector] = await this.context.embedding.embedMany([content]);
    return { index, vector };
  }

  /** Inserts a record with its own id. Answers the store's result: another id means a live record with its key or content was there. */
  async insert(record: MemoryRecord, reason?: string): Promise<StoreWriteResult> {
    return (await this.insertMany([record], reason))[0] as StoreWriteResult;
  }

  /** `insert` for many records: one embedding batch and one store transaction. Results in order. */
  async insertMany(records: MemoryRecord[], reason?: string): Promise<StoreWriteResult[]> {
    if (records.length === 0) return [];
    const { store, events } = this.context;
    const index = await this.context.open();
    const stored = records.map((record) => ({
      ...record,
      contentHash: isEnvelope(record.content) ? record.contentHash : contentHash(record.content),
    }));
    // Sealed (sensitive) content is not embedded here (only the key holder could), nor a deleted record.
    const embeddable = stored.flatMap((record, position) =>
      index && record.deletedAt === null && !isEnvelope(record.content) ? [position] : [],
    );
    const vectors: Array<Float32Array | undefined> = stored.map(() => undefined);
    if (embeddable.length > 0) {
      const embedded = await this.context.embedding.embedMany(embeddable.map((position) => (stored[position] as MemoryRecord).content));
      embeddable.forEach((position, at) => {
        vectors[position] = embedded[at];
      });
    }
    const ownVectors = index !== undefined && index === store.vectors;
    const written = await store.write(
      stored.map((record, position) => {
        const vector = vectors[position];
        return { record, ...(ownVectors && vector ? { vector } : {}), ...(reason ? { reason } : {}) };
      }),
    );
    if (index && !ownVectors) {
      const upserts = written.flatMap((result, position) => {
        const vector = vectors[position];
        return result.status === 'duplicate' || !vector ? [] : [{ id: result.record.id, vector, payload: result.record }];
      });
      if (upserts.length > 0) await index.upsert(upserts);
    }
    for (const result of written) {
      if (result.status !== 'duplicate') events.emit('memory:added', { memory: result.record, status: result.status });
    }
    return written;
  }

  /**
   * `operation` and the operations `along` in one transaction (`apply`); answers the operation's
   * result. Alone (nothing along), `alone` does it with the store's own method.
   */
  private async together<T>(
    operation: StoreOperation,
    along: Along,
    alone: () => Promise<T>,
    result: (answer: StoreOperationResult) => T,
  ): Promise<T> {
    if (along.length === 0) return alone();
    return result((await this.applyAll([operation, ...along]))[0] as StoreOperationResult);
  }

  /** Operations in one transaction (the store's `apply`, which sync's server side needs). */
  async applyAll(operations: StoreOperation[]): Promise<StoreOperationResult[]> {
    const { store } = this.context;
    if (!store.apply)
      throw new EngramError(
        'UNSUPPORTED',
        `The ${store.name} store has no apply (several operations in one transaction): serving sync needs SQLite, Postgres or the in-memory store.`,
      );
    return store.apply(operations);
  }

  /** Gives a live record the synced fields of `wanted`; null when it is not live. `along`: see `Along`. */
  async patch(current: MemoryRecord, wanted: MemoryRecord, reason?: string, along: Along = []): Promise<MemoryRecord | null> {
    const { store, events } = this.context;
    const patch = statePatch(current, wanted, new Date(this.context.now()));
    if (!patch) {
      if (along.length > 0) await this.applyAll(along);
      return current;
    }
    if (patch.content !== undefined && !isEnvelope(patch.content)) patch.contentHash = contentHash(patch.content);
    const { index, vector } =
      patch.content !== undefined ? await this.vectorFor(patch.content) : { index: await this.context.open(), vector: undefined };
    const ownVectors = index !== undefined && index === store.vectors;
    const storeVector = ownVectors ? vector : undefined;
    const written = await this.together(
      { kind: 'update', id: current.id, patch, ...(storeVector ? { vector: storeVector } : {}), ...(reason ? { reason } : {}) },
      along,
      () => store.update(current.id, patch, storeVector, reason ? { reason } : {}),
      (answer) => (answer.kind === 'update' ? answer.record : null),
    );
    if (!written) return null;
    if (index && !ownVectors && vector) await index.upsert([{ id: written.id, vector, payload: written }]);
    if (patch.supersededBy && current.supersededBy === null) {
      const [winner] = await store.get([patch.supersededBy]);
      if (winner) events.emit('memory:superseded', { winner, loser: written, reason: reason ?? null });
    }
    events.emit('memory:updated', { memory: written, previous: current });
    return written;
  }

  async remove(current: MemoryRecord, at: Date, reason?: string, along: Along = []): Promise<boolean> {
    const { store, events } = this.context;
    const index = await this.context.open();
    const deleted = await this.together(
      { kind: 'delete', id: current.id, at, ...(reason ? { reason } : {}) },
      along,
      () => store.delete(current.id, at, reason ? { reason } : {}),
      (answer) => answer.kind === 'delete' && answer.deleted,
    );
    if (!deleted) return false;
    if (index && index !== store.vectors) await index.delete([current.id]);
    events.emit('memory:deleted', { id: current.id, memory: current });
    return true;
  }

  async link(relation: Relation, reason?: string, along: Along = []): Promise<void> {
    const { store } = this.context;
    const result = await this.together(
      { kind: 'upsertRelation', relation, ...(reason ? { reason } : {}) },
      along,
      () => store.upsertRelation(relation, reason ? { reason } : {}),
      (answer) => {
        const { relation: stored, created } = answer as Extract<StoreOperationResult, { kind: 'upsertRelation' }>;
        return { relation: stored, created };
      },
    );
    this.context.events.emit('relation:added', result);
  }

  async unlink(relation: Relation, reason?: string, along: Along = []): Promise<number> {
    const { store } = this.context;
    const removed = await this.together(
      {
        kind: 'removeRelations',
        sourceId: relation.sourceId,
        targetId: relation.targetId,
        type: relation.type,
        ...(reason ? { reason } : {}),
      },
      along,
      () => store.removeRelations(relation.sourceId, relation.targetId, relation.type, reason ? { reason } : {}),
      (answer) => (answer.kind === 'removeRelations' ? answer.removed : []),
    );
    for (const edge of removed) this.context.events.emit('relation:removed', { relation: edge });
    return removed.length;
  }
}
