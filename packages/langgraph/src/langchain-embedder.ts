import type { Embedder } from '@engram/core';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';

export interface LangChainEmbedderOptions {
  /** Length of the vectors the model returns (LangGraph's `index.dims`). */
  dimensions: number;
  /**
   * Identity the Engram store records, so vectors of two models are never mixed. Default:
   * `langchain:<class name>:<dimensions>`; set it when the class name does not say the model.
   */
  id?: string;
  /** Most texts per call. Default: unlimited. */
  maxBatchSize?: number;
}

/** True for an Engram `Embedder` (as opposed to a LangChain `Embeddings`). */
export function isEngramEmbedder(value: unknown): value is Embedder {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Partial<Embedder>).specificationVersion === 'v1' &&
    typeof (value as Partial<Embedder>).embed === 'function'
  );
}

/** A LangChain `Embeddings` (OpenAIEmbeddings, OllamaEmbeddings…) as an Engram `Embedder`. */
export function langchainEmbedder(embeddings: EmbeddingsInterface, options: LangChainEmbedderOptions): Embedder {
  if (!Number.isInteger(options.dimensions) || options.dimensions < 1) {
    throw new TypeError('langchainEmbedder: `dimensions` must be a positive integer, the length of the vectors the model returns');
  }
  const name = (embeddings as { constructor?: { name?: string } }).constructor?.name || 'embeddings';
  return {
    specificationVersion: 'v1',
    id: options.id ?? `langchain:${name}:${options.dimensions}`,
    dimensions: options.dimensions,
    ...(options.maxBatchSize === undefined ? {} : { maxBatchSize: options.maxBatchSize }),
    embed: (texts) => embeddings.embedDocuments(texts),
  };
}
