import {
  type Embedder,
  EmbedderError,
  EmbedderMismatchError,
  type MemoryRecord,
  type MemoryStore,
  ValidationError,
  type VectorIndex,
} from '@engram/core';

export interface ReindexOptions {
  /** The source of truth. */
  store: MemoryStore;
  /** The index to rebuild (a Qdrant collection, or the store's own index). */
  vectors: VectorIndex;
  /** The embedder the store was built with (checked against the store's record of it). */
  embedder: Embedder;
  /** Memories read, embedded and written per step. Default 64. */
  batchSize?: number;
  onProgress?: (progress: ReindexProgress) => void;
  signal?: AbortSignal;
}

export interface ReindexProgress {
  /** Live memories embedded and written so far. */
  indexed: number;
  /** Deleted memories whose vectors were removed so far. */
  removed: number;
  /** Live memories in the store when the run started (including superseded ones). */
  total: number;
}

/**
 * Rebuilds a vector index from the store: every live memory (superseded ones too, so `asOf` and
 * `includeSuperseded` searches keep working) is embedded again and upserted with its current
 * payload, and the vectors of soft-deleted memories are removed. Use it after the index was lost
 * or fell behind (a crash between the store write and the index write), or to fill a new
 * collection. Points of memories already purged from the store cannot be found this way: to drop
 * those too, reindex into a fresh collection.
 *
 *   await reindex({ store, vectors: qdrantIndex({ url }), embedder });
 */
export async function reindex(options: ReindexOptions): Promise<ReindexProgress> {
  const { store, vectors, embedder, signal } = options;
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new ValidationError([{ field: 'batchSize', message: `must be a positive integer (got ${options.batchSize})` }]);
  }
  await store.open();
  const stored = await store.getEmbedder();
  const supplied = { id: embedder.id, dimensions: embedder.dimensions };
  if (stored && (stored.id !== supplied.id || stored.dimensions !== supplied.dimensions)) {
    throw new EmbedderMismatchError(stored, supplied, store.location ?? store.name);
  }
  if (!stored) await store.setEmbedder(supplied);
  await vectors.open(embedder.dimensions);

  const progress: ReindexProgress = { indexed: 0, removed: 0, total: await store.count({ includeSuperseded: true }) };
  let cursor: string | undefined;
  do {
    signal?.throwIfAborted();
    const page = await store.list({ includeSuperseded: true }, { limit: batchSize, includeDeleted: true, ...(cursor ? { cursor } : {}) });
    const live = page.items.filter((record) => record.deletedAt === null);
    const deleted = page.items.filter((record) => record.deletedAt !== null).map((record) => record.id);
    if (live.length > 0) {
      const embeddings = await embed(embedder, live, signal);
      await vectors.upsert(live.map((record, index) => ({ id: record.id, vector: embeddings[index] as Float32Array, payload: record })));
      progress.indexed += live.length;
    }
    if (deleted.length > 0) {
      await vectors.delete(deleted);
      progress.removed += deleted.length;
    }
    options.onProgress?.({ ...progress });
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return progress;
}

async function embed(embedder: Embedder, records: MemoryRecord[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
  const vectors: Float32Array[] = [];
  const step = embedder.maxBatchSize && embedder.maxBatchSize > 0 ? embedder.maxBatchSize : records.length;
  for (let start = 0; start < records.length; start += step) {
    const texts = records.slice(start, start + step).map((record) => record.content);
    const output = await embedder.embed(texts, signal ? { signal } : undefined);
    if (!Array.isArray(output) || output.length !== texts.length) {
      throw new EmbedderError(
        `Embedder ${embedder.id} returned ${Array.isArray(output) ? output.length : 'no'} vectors for ${texts.length} texts`,
      );
    }
    for (const vector of output) {
      const typed = vector instanceof Float32Array ? vector : Float32Array.from(vector);
      if (typed.length !== embedder.dimensions) {
        throw new EmbedderError(
          `Embedder ${embedder.id} returned a ${typed.length}-dimensional vector; it declares ${embedder.dimensions}`,
        );
      }
      vectors.push(typed);
    }
  }
  return vectors;
}
