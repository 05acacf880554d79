import type { Condition } from './model.js';

/**
 * How a collection compares vectors. Every score is "higher is more similar":
 * - 'cosine': cosine similarity, -1..1;
 * - 'euclidean': 1 / (1 + Euclidean distance), 0..1 (1 = the same point);
 * - 'dotproduct': the inner product.
 */
export type VectorMetric = 'cosine' | 'euclidean' | 'dotproduct';

export interface CollectionSpec {
  /** Length of every vector in the collection, fixed when it is created. */
  dimensions: number;
  /** Default 'cosine'. */
  metric?: VectorMetric;
}

export interface CollectionInfo {
  name: string;
  dimensions: number;
  metric: VectorMetric;
  /** Vectors stored. */
  count: number;
}

/** One vector of a collection, as written. `metadata` is a JSON object (default `{}`). */
export interface CollectionItem {
  id: string;
  vector: Float32Array | readonly number[];
  metadata?: Record<string, unknown>;
}

/** One vector of a collection, as read back. */
export interface StoredCollectionItem {
  id: string;
  metadata: Record<string, unknown>;
  /** Present when asked for (`includeVectors`). */
  vector?: Float32Array;
}

export interface CollectionMatch extends StoredCollectionItem {
  /** Higher is more similar (see `VectorMetric`). */
  score: number;
}

export interface CollectionQuery {
  vector: Float32Array | readonly number[];
  /** How many matches at most; a positive integer. */
  topK: number;
  /** Metadata condition applied inside the query, before the top k are chosen. */
  filter?: Condition;
  /** Return each match's stored vector too. Default false. */
  includeVectors?: boolean;
}

/** Which items an update or delete touches: these ids, or every item whose metadata matches. */
export type CollectionTarget = { ids: readonly string[] } | { filter: Condition };

export interface CollectionChanges {
  /** Replaces the vector (same dimension as the collection). */
  vector?: Float32Array | readonly number[];
  /** Replaces the metadata object as a whole. */
  metadata?: Record<string, unknown>;
}

export interface CollectionUpsertOptions {
  /**
   * Deletes every item whose metadata matches this condition first, in the same transaction as
   * the upsert (re-indexing a document: drop its old chunks, write the new ones).
   */
  replace?: Condition;
}

/**
 * Raw-vector collections: named sets of caller-supplied vectors with a fixed dimension and
 * metric, each vector with an id and a JSON metadata object. For frameworks that bring their own
 * embeddings (Mastra's `MastraVector`, RAG pipelines); memories use `VectorIndex` instead.
 *
 * Rules every implementation follows (`runVectorCollectionsConformance` checks them):
 * - Names are 1–128 characters: letters, digits, `_`, `-`, `.`; the first a letter, digit or `_`.
 * - `createCollection` of an existing name with the same dimension and metric is a no-op
 *   (answers false); with another dimension or metric it throws a ConflictError.
 * - Every operation on an unknown collection throws a NotFoundError, except `deleteCollection`
 *   (answers false).
 * - A vector of another length than the collection's, or with a non-finite number, is rejected
 *   with a ValidationError naming the item, and nothing of that call is written.
 * - `upsert` writes all items or none; an existing id is replaced (vector and metadata).
 * - `query` applies `filter` inside the query, before the top k: it answers the k best vectors
 *   *that match*, best first (ties by id), never "top k, then filter". Filters follow `Condition`.
 * - Deleting a collection deletes its vectors.
 */
export interface VectorCollections {
  readonly specificationVersion: 'v1';
  /** Short name for logs and errors, e.g. 'memory', 'sqlite', 'postgres'. */
  readonly name: string;
  /** 'exact': every vector that passes the filter is scored (recall 1). */
  readonly search: 'exact' | 'approximate';

  /** Creates the collection; false when it already exists with this dimension and metric. */
  createCollection(name: string, spec: CollectionSpec): Promise<boolean>;
  /** Every collection's name, sorted. */
  listCollections(): Promise<string[]>;
  describeCollection(name: string): Promise<CollectionInfo>;
  /** Deletes the collection and its vectors; false when there was none. */
  deleteCollection(name: string): Promise<boolean>;

  upsert(name: string, items: readonly CollectionItem[], options?: CollectionUpsertOptions): Promise<void>;
  query(name: string, query: CollectionQuery): Promise<CollectionMatch[]>;
  /** The items with these ids, in the order asked; unknown ids are left out. */
  get(name: string, ids: readonly string[], options?: { includeVectors?: boolean }): Promise<StoredCollectionItem[]>;
  /** Changes the targeted items in one transaction; answers how many changed. */
  update(name: string, target: CollectionTarget, changes: CollectionChanges): Promise<number>;
  /** Deletes the targeted items in one transaction; answers how many were deleted. */
  delete(name: string, target: CollectionTarget): Promise<number>;
}
