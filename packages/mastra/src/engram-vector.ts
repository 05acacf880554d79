import { randomUUID } from 'node:crypto';
import { ConflictError, type Memory, type MemoryStore, ValidationError, type VectorCollections } from '@engram/core';
import type {
  CreateIndexParams,
  DeleteIndexParams,
  DeleteVectorParams,
  DeleteVectorsParams,
  DescribeIndexParams,
  IndexStats,
  QueryResult,
  QueryVectorParams,
  UpdateVectorParams,
  UpsertVectorParams,
  VectorFilter,
} from '@mastra/core/vector';
import { MastraVector } from '@mastra/core/vector';
import { isEmptyFilter, translateFilter } from './mastra-filter.js';

/** Mastra's filter syntax; see `translateFilter` for the operators EngramVector supports. */
export type EngramVectorFilter = VectorFilter;

/** Where the vectors live: give exactly one. */
export interface EngramVectorOptions {
  /** A Memory: its store's collections are used (same file or database as the memories). */
  memory?: Memory;
  /** A store with collections: `sqliteStore`, `postgresStore`, `inMemoryStore`. */
  store?: MemoryStore;
  /** Any `VectorCollections` implementation. */
  collections?: VectorCollections;
}

function fail(field: string, message: string): never {
  throw new ValidationError([{ field, message }]);
}

/**
 * Mastra's `MastraVector` over Engram's raw-vector collections: a Mastra index is an Engram
 * collection with a fixed dimension and metric, in the SQLite file or Postgres database the
 * memories already use. Use it wherever Mastra takes a vector store (`new Memory({ vector })`
 * from `@mastra/memory`, RAG tools, `mastra.vectors`).
 *
 *   const vector = new EngramVector({ store: sqliteStore({ path: './memory.db' }) });
 *   await vector.createIndex({ indexName: 'docs', dimension: 1536 });
 *
 * Queries are exact and apply the filter before the top k (see `VectorCollections`). Filters are
 * Mastra's MongoDB-style syntax (see `EngramVectorFilter` for what is supported). Errors are
 * Engram's (`ValidationError`, `NotFoundError`, `ConflictError`), naming the field at fault.
 */
export class EngramVector extends MastraVector<VectorFilter> {
  readonly collections: VectorCollections;

  constructor(options: EngramVectorOptions) {
    super();
    const given = (['memory', 'store', 'collections'] as const).filter((key) => options?.[key] !== undefined);
    if (given.length !== 1) {
      fail(
        given.length === 0 ? 'options' : (given[1] as string),
        given.length === 0
          ? 'pass { store: sqliteStore({ path }) } (or { memory } or { collections })'
          : `give exactly one of memory, store and collections (got ${given.join(' and ')})`,
      );
    }
    const store = options.memory?.store ?? options.store;
    const collections = options.collections ?? store?.collections;
    if (!collections) {
      fail(
        given[0] as string,
        `the ${store?.name ?? 'given'} store keeps no vector collections: use sqliteStore, postgresStore or inMemoryStore`,
      );
    }
    this.collections = collections;
  }

  async createIndex({ indexName, dimension, metric = 'cosine' }: CreateIndexParams): Promise<void> {
    try {
      await this.collections.createCollection(indexName, { dimensions: dimension, metric });
    } catch (error) {
      // As Mastra's own stores do: an index of the same dimension is kept (its metric too).
      if (!ConflictError.isInstance(error)) throw error;
      const existing = await this.collections.describeCollection(indexName);
      if (existing.dimensions !== dimension) throw error;
      this.logger?.warn(
        `Index "${indexName}" already exists with the ${existing.metric} metric; it is kept. Delete it first to use ${metric}.`,
      );
    }
  }

  listIndexes(): Promise<string[]> {
    return this.collections.listCollections();
  }

  async describeIndex({ indexName }: DescribeIndexParams): Promise<IndexStats> {
    const { dimensions, count, metric } = await this.collections.describeCollection(indexName);
    return { dimension: dimensions, count, metric };
  }

  async deleteIndex({ indexName }: DeleteIndexParams): Promise<void> {
    await this.collections.deleteCollection(indexName);
  }

  async upsert({
    indexName,
    vectors,
    metadata,
    ids,
    sparseVectors,
    deleteFilter,
  }: UpsertVectorParams<EngramVectorFilter>): Promise<string[]> {
    if (!Array.isArray(vectors) || vectors.length === 0) fail('vectors', 'must be a non-empty array of vectors');
    if (metadata !== undefined && (!Array.isArray(metadata) || metadata.length !== vectors.length)) {
      fail(
        'metadata',
        `must hold one object per vector (${vectors.length}), got ${Array.isArray(metadata) ? metadata.length : typeof metadata}`,
      );
    }
    if (ids !== undefined && (!Array.isArray(ids) || ids.length !== vectors.length)) {
      fail('ids', `must hold one id per vector (${vectors.length}), got ${Array.isArray(ids) ? ids.length : typeof ids}`);
    }
    if (sparseVectors !== undefined) fail('sparseVectors', 'are not supported by EngramVector (dense vectors only)');
    const replace = deleteFilter === undefined ? undefined : translateFilter(deleteFilter, 'deleteFilter');
    const chosen = vectors.map((_, index) => ids?.[index] ?? randomUUID());
    await this.collections.upsert(
      indexName,
      vectors.map((vector, index) => ({ id: chosen[index] as string, vector, metadata: metadata?.[index] ?? {} })),
      replace ? { replace } : {},
    );
    return chosen;
  }

  async query({
    indexName,
    queryVector,
    topK = 10,
    filter,
    includeVector = false,
    sparseVector,
  }: QueryVectorParams<EngramVectorFilter>): Promise<QueryResult[]> {
    if (sparseVector !== undefined) fail('sparseVector', 'is not supported by EngramVector (dense vectors only)');
    const condition = translateFilter(filter);
    const matches = await this.collections.query(indexName, {
      vector: queryVector,
      topK,
      includeVectors: includeVector,
      ...(condition ? { filter: condition } : {}),
    });
    return matches.map((match) => ({
      id: match.id,
      score: match.score,
      metadata: match.metadata,
      ...(match.vector ? { vector: Array.from(match.vector) } : {}),
    }));
  }

  async updateVector(params: UpdateVectorParams<EngramVectorFilter>): Promise<void> {
    const { indexName, update } = params;
    const id = (params as { id?: string }).id;
    const filter = (params as { filter?: EngramVectorFilter }).filter;
    if (id !== undefined && filter !== undefined) fail('id', 'id and filter are mutually exclusive: give one');
    if (id === undefined && filter === undefined) fail('id', 'Either id or filter must be provided');
    if (typeof update !== 'object' || update === null || (update.vector === undefined && update.metadata === undefined)) {
      fail('update', 'give a vector, metadata, or both');
    }
    const changes = {
      ...(update.vector !== undefined ? { vector: update.vector } : {}),
      ...(update.metadata !== undefined ? { metadata: update.metadata } : {}),
    };
    if (id !== undefined) {
      await this.collections.update(indexName, { ids: [id] }, changes);
      return;
    }
    await this.collections.update(indexName, { filter: this.requiredFilter(filter) }, changes);
  }

  async deleteVector({ indexName, id }: DeleteVectorParams): Promise<void> {
    await this.collections.delete(indexName, { ids: [id] });
  }

  async deleteVectors({ indexName, ids, filter }: DeleteVectorsParams<EngramVectorFilter>): Promise<void> {
    if (ids !== undefined && filter !== undefined) fail('ids', 'ids and filter are mutually exclusive: give one');
    if (ids === undefined && filter === undefined) fail('ids', 'Either filter or ids must be provided');
    if (ids !== undefined) {
      if (!Array.isArray(ids) || ids.length === 0) fail('ids', 'is an empty ids array: give at least one id');
      await this.collections.delete(indexName, { ids });
      return;
    }
    await this.collections.delete(indexName, { filter: this.requiredFilter(filter) });
  }

  /** A filter that must select something: an empty one would touch every vector. */
  private requiredFilter(filter: unknown) {
    if (isEmptyFilter(filter)) fail('filter', 'is an empty filter, which would select every vector: give a condition');
    return translateFilter(filter) as NonNullable<ReturnType<typeof translateFilter>>;
  }
}
