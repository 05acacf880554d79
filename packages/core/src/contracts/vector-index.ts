import type { MemoryFilter, MemoryRecord } from './model.js';

/**
 * What a vector index may filter on: the filterable fields of a memory. An index that keeps
 * payloads (Qdrant) stores these; an index inside a store can read them from the store.
 */
export type VectorPayload = Pick<
  MemoryRecord,
  'scope' | 'conversationId' | 'type' | 'subtype' | 'tags' | 'metadata' | 'createdAt' | 'supersededBy' | 'validTo'
>;

export interface VectorItem {
  id: string;
  vector: Float32Array;
  payload: VectorPayload;
}

export interface VectorMatch {
  id: string;
  /** Cosine similarity, -1..1 (1 = same direction). */
  similarity: number;
}

/**
 * A vector index. Filters are pushed down: `search` returns the k most similar vectors
 * *that match the filter*, never "top k, then filter".
 */
export interface VectorIndex {
  readonly specificationVersion: 'v1';
  /** Short name for logs and errors, e.g. 'sqlite-vec', 'memory', 'qdrant'. */
  readonly name: string;
  /** Prepares the index for vectors of this size (creates collections, checks the stored size). */
  open(dimensions: number): Promise<void>;
  upsert(items: VectorItem[]): Promise<void>;
  search(vector: Float32Array, k: number, filter?: MemoryFilter): Promise<VectorMatch[]>;
  delete(ids: string[]): Promise<void>;
  count(): Promise<number>;
  close?(): Promise<void>;
}
