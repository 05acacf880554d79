import type { MemoryStore, StoreOperation } from '../contracts/memory-store.js';
import type { MemoryRecord, Relation } from '../contracts/model.js';
import type { VectorIndex } from '../contracts/vector-index.js';
import type { Embedding } from '../embedding/embedding.js';
import type { EventHub } from '../events/event-hub.js';
import { ConflictError, NotFoundError, ValidationError } from '../model/errors.js';
import { type Graph, liveMemory } from './graph.js';
import type { RelationTypes } from './relation-types.js';

export interface ResolverContext {
  store: MemoryStore;
  /** Opens the store (once); answers the vector index in use, if any. */
  open: () => Promise<VectorIndex | undefined>;
  embedding: Embedding;
  graph: Graph;
  relationTypes: RelationTypes;
  events: EventHub;
  now: () => number;
}

/**
 * Settles contradictions: the loser is superseded by the winner (`supersededBy`, `validTo` = now),
 * a `contradicts` edge is written if there is none, history records why; emits `memory:superseded`.
 */
export class Resolver {
  constructor(private readonly context: ResolverContext) {}

  async resolve(
    winnerId: string,
    loserId: string,
    options: { reason?: string } = {},
  ): Promise<{ winner: MemoryRecord; loser: MemoryRecord }> {
    const { store } = this.context;
    if (options.reason !== undefined && typeof options.reason !== 'string') {
      throw new ValidationError([{ field: 'options.reason', message: 'must be a string' }]);
    }
    const vectorIndex = await this.context.open();
    if (winnerId === loserId) throw new ValidationError([{ field: 'loserId', message: 'is the same memory as winnerId' }]);
    const winner = await liveMemory(store, winnerId, 'winnerId');
    const loser = await liveMemory(store, loserId, 'loserId');
    if (winner.supersededBy !== null) {
      throw new ConflictError(`Memory ${winnerId} is itself superseded by ${winner.supersededBy}: resolve in favour of the current one.`);
    }
    if (loser.supersededBy === winnerId) return { winner, loser };
    if (loser.supersededBy !== null) {
      throw new ConflictError(`Memory ${loserId} is already superseded by ${loser.supersededBy}.`);
    }
    const [source, target] = this.context.relationTypes.orient(winnerId, loserId, 'contradicts');
    const existing = await store.relationsOf([source], { direction: 'out', types: ['contradicts'] });
    if (!existing.some((edge) => edge.targetId === target)) await this.context.graph.link(winnerId, loserId, 'contradicts', {}, false);
    const now = new Date(this.context.now());
    const updated = await store.update(loserId, { supersededBy: winnerId, validTo: now, updatedAt: now }, undefined, {
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
    });
    if (!updated) throw new NotFoundError('Memory', loserId);
    await this.refreshExternalPayload(vectorIndex, updated);
    this.context.embedding.forgetQueries();
    this.context.events.emit('memory:superseded', { winner, loser: updated, reason: options.reason ?? null });
    return { winner, loser: updated };
  }

  /**
   * The store operations that supersede `loserId` by `winnerId` — the `contradicts` edge and the
   * loser's update (a `required` one: a loser deleted meanwhile fails the batch) — for a
   * `MemoryStore.apply` batch; `finishSupersession` follows it.
   */
  supersessionOperations(winnerId: string, loserId: string, reason: string | undefined): StoreOperation[] {
    const [source, target] = this.context.relationTypes.orient(winnerId, loserId, 'contradicts');
    const now = new Date(this.context.now());
    return [
      {
        kind: 'upsertRelation',
        relation: {
          sourceId: source,
          targetId: target,
          type: 'contradicts',
          weight: 1,
          confidence: 1,
          metadata: {},
          inferred: false,
          createdAt: now,
          updatedAt: now,
        },
      },
      {
        kind: 'update',
        id: loserId,
        patch: { supersededBy: winnerId, validTo: now, updatedAt: now },
        ...(reason !== undefined ? { reason } : {}),
        required: true,
      },
    ];
  }

  /** After a batch with `supersessionOperations` committed: the events and the external index payload. */
  async finishSupersession(
    winner: MemoryRecord,
    edge: { relation: Relation; created: boolean },
    loser: MemoryRecord,
    reason: string | undefined,
  ): Promise<void> {
    this.context.events.emit('relation:added', edge);
    await this.refreshExternalPayload(await this.context.open(), loser);
    this.context.embedding.forgetQueries();
    this.context.events.emit('memory:superseded', { winner, loser, reason: reason ?? null });
  }

  /**
   * A separate vector index (Qdrant…) keeps a payload copy of the filterable fields: after a change
   * that does not go through `update` (a supersession), write the payload again with the vector.
   */
  private async refreshExternalPayload(vectorIndex: VectorIndex | undefined, record: MemoryRecord): Promise<void> {
    if (!vectorIndex || vectorIndex === this.context.store.vectors) return;
    const [vector] = await this.context.embedding.embedMany([record.content]);
    if (vector) await vectorIndex.upsert([{ id: record.id, vector, payload: record }]);
  }
}
