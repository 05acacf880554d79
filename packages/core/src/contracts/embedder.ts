/**
 * Turns text into vectors. Any object of this shape works: core does batching (by
 * `maxBatchSize`), caching and cancellation.
 */
export interface Embedder {
  readonly specificationVersion: 'v1';
  /**
   * Stable identity of the model and its settings, e.g. 'hash-v1-384' or
   * 'transformers:Xenova/all-MiniLM-L6-v2:q8'. A store remembers it: vectors from two
   * different embedders are never mixed.
   */
  readonly id: string;
  readonly dimensions: number;
  /** Most texts per `embed` call; core splits larger batches. Default: unlimited. */
  readonly maxBatchSize?: number;
  embed(texts: string[], options?: { signal?: AbortSignal }): Promise<Float32Array[] | number[][]>;
}
