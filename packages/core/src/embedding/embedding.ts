import type { Embedder } from '../contracts/embedder.js';
import type { EmbedderInfo } from '../contracts/model.js';
import { EmbedderError, EngramError, ValidationError } from '../model/errors.js';

/**
 * Chooses the embedder once the store is open, knowing which one (if any) the store was built
 * with: how the `engram` package keeps a store's embedder on reopen.
 */
export type EmbedderFactory = (context: { stored: EmbedderInfo | null }) => Embedder | Promise<Embedder>;

const QUERY_CACHE_SIZE = 512;

/**
 * The embedder a `Memory` uses: given, or chosen by a factory when the store opens. Calls it in
 * batches of its `maxBatchSize`, checks what it returns, and keeps the last query vectors.
 */
export class Embedding {
  private resolved: Embedder | undefined;
  private readonly factory: EmbedderFactory | undefined;
  private readonly queryCache = new Map<string, Float32Array>();

  constructor(embedder: Embedder | EmbedderFactory) {
    if (typeof embedder === 'function') this.factory = embedder;
    else this.resolved = checkEmbedder(embedder);
  }

  /** The embedder in use. With a factory, available once `choose` has run. */
  get embedder(): Embedder {
    if (!this.resolved) {
      throw new EngramError('VALIDATION_ERROR', 'The embedder is chosen when the store opens: await memory.ready() first.');
    }
    return this.resolved;
  }

  /** The embedder's id, or undefined while a factory has not chosen one yet. */
  get id(): string | undefined {
    return this.resolved?.id;
  }

  /** Runs the factory (if any) with the embedder the store records; returns the embedder in use. */
  async choose(stored: EmbedderInfo | null): Promise<Embedder> {
    if (this.factory) this.resolved = checkEmbedder(await this.factory({ stored }));
    return this.embedder;
  }

  async embedMany(texts: string[]): Promise<Float32Array[]> {
    const embedder = this.embedder;
    const batchSize = embedder.maxBatchSize && embedder.maxBatchSize > 0 ? embedder.maxBatchSize : texts.length || 1;
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += batchSize) {
      const batch = texts.slice(start, start + batchSize);
      let output: Float32Array[] | number[][];
      try {
        output = await embedder.embed(batch);
      } catch (error) {
        if (EngramError.isInstance(error)) throw error;
        throw new EmbedderError(`Embedder ${embedder.id} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
      }
      if (!Array.isArray(output) || output.length !== batch.length) {
        throw new EmbedderError(
          `Embedder ${embedder.id} returned ${Array.isArray(output) ? output.length : 'no'} vectors for ${batch.length} texts`,
        );
      }
      for (const raw of output) {
        const vector = raw instanceof Float32Array ? raw : Float32Array.from(raw);
        if (vector.length !== embedder.dimensions) {
          throw new EmbedderError(
            `Embedder ${embedder.id} returned a ${vector.length}-dimensional vector but declares ${embedder.dimensions} dimensions`,
          );
        }
        for (const value of vector) {
          if (!Number.isFinite(value)) throw new EmbedderError(`Embedder ${embedder.id} returned a vector with a non-finite value`);
        }
        vectors.push(vector);
      }
    }
    return vectors;
  }

  /** The query's vector, from a least-recently-used cache of the last 512 queries. */
  async embedQuery(query: string): Promise<Float32Array> {
    const cached = this.queryCache.get(query);
    if (cached) {
      // Refresh its place in the LRU order.
      this.queryCache.delete(query);
      this.queryCache.set(query, cached);
      return cached;
    }
    const [vector] = await this.embedMany([query]);
    this.queryCache.set(query, vector as Float32Array);
    if (this.queryCache.size > QUERY_CACHE_SIZE) this.queryCache.delete(this.queryCache.keys().next().value as string);
    return vector as Float32Array;
  }

  /** Empties the query cache; the writers call it after every change. */
  forgetQueries(): void {
    this.queryCache.clear();
  }
}

export function checkEmbedder(embedder: Embedder | undefined): Embedder {
  if (
    !embedder ||
    typeof embedder.embed !== 'function' ||
    !Number.isInteger(embedder.dimensions) ||
    embedder.dimensions <= 0 ||
    !embedder.id
  ) {
    throw new ValidationError([
      {
        field: 'embedder',
        message: 'is required: an object { specificationVersion, id, dimensions, embed(texts) } such as hashEmbedder()',
      },
    ]);
  }
  return embedder;
}
