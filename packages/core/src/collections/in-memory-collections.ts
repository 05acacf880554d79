import type { Condition } from '../contracts/model.js';
import type {
  CollectionChanges,
  CollectionInfo,
  CollectionItem,
  CollectionMatch,
  CollectionQuery,
  CollectionSpec,
  CollectionTarget,
  CollectionUpsertOptions,
  StoredCollectionItem,
  VectorCollections,
  VectorMetric,
} from '../contracts/vector-collections.js';
import { evaluateCondition } from '../filter/filter.js';
import {
  checkCollectionName,
  checkIds,
  collectionConflict,
  collectionNotFound,
  collectionScore,
  prepareChanges,
  prepareItems,
  prepareQuery,
  prepareTarget,
  resolveCollectionSpec,
  TopMatches,
} from './collection-input.js';

interface StoredItem {
  vector: Float32Array;
  metadata: Record<string, unknown>;
}

interface Collection {
  dimensions: number;
  metric: VectorMetric;
  items: Map<string, StoredItem>;
}

/**
 * The reference `VectorCollections`: everything in process memory, an exact scan per query.
 * `inMemoryStore().collections` is one of these.
 */
export function inMemoryVectorCollections(): VectorCollections {
  const collections = new Map<string, Collection>();
  const open = (name: string): Collection => {
    const collection = collections.get(checkCollectionName(name));
    if (!collection) throw collectionNotFound(name);
    return collection;
  };
  const read = (id: string, item: StoredItem, includeVectors: boolean): StoredCollectionItem => ({
    id,
    metadata: structuredClone(item.metadata),
    ...(includeVectors ? { vector: Float32Array.from(item.vector) } : {}),
  });
  const targeted = (collection: Collection, target: CollectionTarget): string[] => {
    const prepared = prepareTarget(target);
    if ('ids' in prepared) return prepared.ids.filter((id) => collection.items.has(id));
    return matching(collection, prepared.filter);
  };
  const matching = (collection: Collection, filter: Condition): string[] =>
    [...collection.items].filter(([, item]) => evaluateCondition(item.metadata, filter)).map(([id]) => id);

  return {
    specificationVersion: 'v1',
    name: 'memory',
    search: 'exact',

    async createCollection(name: string, spec: CollectionSpec): Promise<boolean> {
      checkCollectionName(name);
      const { dimensions, metric } = resolveCollectionSpec(spec);
      const existing = collections.get(name);
      if (existing) {
        if (existing.dimensions === dimensions && existing.metric === metric) return false;
        throw collectionConflict(name, existing, { dimensions, metric });
      }
      collections.set(name, { dimensions, metric, items: new Map() });
      return true;
    },

    async listCollections(): Promise<string[]> {
      return [...collections.keys()].sort();
    },

    async describeCollection(name: string): Promise<CollectionInfo> {
      const collection = open(name);
      return { name, dimensions: collection.dimensions, metric: collection.metric, count: collection.items.size };
    },

    async deleteCollection(name: string): Promise<boolean> {
      return collections.delete(checkCollectionName(name));
    },

    async upsert(name: string, items: readonly CollectionItem[], options: CollectionUpsertOptions = {}): Promise<void> {
      const collection = open(name);
      const prepared = prepareItems(items, collection.dimensions);
      if (options.replace !== undefined) for (const id of matching(collection, options.replace)) collection.items.delete(id);
      for (const item of prepared) collection.items.set(item.id, { vector: item.vector, metadata: JSON.parse(item.metadata) });
    },

    async query(name: string, query: CollectionQuery): Promise<CollectionMatch[]> {
      const collection = open(name);
      const prepared = prepareQuery(query, collection.dimensions);
      const top = new TopMatches<{ id: string; score: number; item: StoredItem }>(prepared.topK);
      for (const [id, item] of collection.items) {
        if (prepared.filter && !evaluateCondition(item.metadata, prepared.filter)) continue;
        top.offer({ id, score: collectionScore(collection.metric, prepared.vector, item.vector), item });
      }
      return top.result().map(({ id, score, item }) => ({ ...read(id, item, prepared.includeVectors), score }));
    },

    async get(name: string, ids: readonly string[], options: { includeVectors?: boolean } = {}): Promise<StoredCollectionItem[]> {
      const collection = open(name);
      return checkIds(ids).flatMap((id) => {
        const item = collection.items.get(id);
        return item ? [read(id, item, options.includeVectors === true)] : [];
      });
    },

    async update(name: string, target: CollectionTarget, changes: CollectionChanges): Promise<number> {
      const collection = open(name);
      const prepared = prepareChanges(changes, collection.dimensions);
      const ids = targeted(collection, target);
      for (const id of ids) {
        const item = collection.items.get(id) as StoredItem;
        collection.items.set(id, {
          vector: prepared.vector ? Float32Array.from(prepared.vector) : item.vector,
          metadata: prepared.metadata !== undefined ? JSON.parse(prepared.metadata) : item.metadata,
        });
      }
      return ids.length;
    },

    async delete(name: string, target: CollectionTarget): Promise<number> {
      const collection = open(name);
      const ids = targeted(collection, target);
      for (const id of ids) collection.items.delete(id);
      return ids.length;
    },
  };
}
