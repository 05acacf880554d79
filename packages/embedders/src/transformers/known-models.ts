export type TransformersPooling = 'mean' | 'cls' | 'last_token';

export interface KnownTransformersModel {
  dimensions: number;
  /** The pooling the model was trained with. */
  pooling: TransformersPooling;
}

/**
 * Sentence-embedding models with ONNX weights on the Hugging Face Hub, keyed by repository
 * name without the owner (lower case): 'Xenova/bge-small-en-v1.5' and 'BAAI/bge-small-en-v1.5'
 * are the same model. Anything else needs the `dimensions` option.
 */
const KNOWN_MODELS: Record<string, KnownTransformersModel> = {
  'all-minilm-l6-v2': { dimensions: 384, pooling: 'mean' },
  'all-minilm-l12-v2': { dimensions: 384, pooling: 'mean' },
  'paraphrase-minilm-l6-v2': { dimensions: 384, pooling: 'mean' },
  'paraphrase-multilingual-minilm-l12-v2': { dimensions: 384, pooling: 'mean' },
  'multi-qa-minilm-l6-cos-v1': { dimensions: 384, pooling: 'mean' },
  'all-mpnet-base-v2': { dimensions: 768, pooling: 'mean' },
  'bge-small-en-v1.5': { dimensions: 384, pooling: 'cls' },
  'bge-base-en-v1.5': { dimensions: 768, pooling: 'cls' },
  'bge-large-en-v1.5': { dimensions: 1024, pooling: 'cls' },
  'bge-m3': { dimensions: 1024, pooling: 'cls' },
  'gte-small': { dimensions: 384, pooling: 'mean' },
  'gte-base': { dimensions: 768, pooling: 'mean' },
  'gte-large': { dimensions: 1024, pooling: 'mean' },
  'e5-small-v2': { dimensions: 384, pooling: 'mean' },
  'e5-base-v2': { dimensions: 768, pooling: 'mean' },
  'multilingual-e5-small': { dimensions: 384, pooling: 'mean' },
  'multilingual-e5-base': { dimensions: 768, pooling: 'mean' },
  'multilingual-e5-large': { dimensions: 1024, pooling: 'mean' },
  'nomic-embed-text-v1.5': { dimensions: 768, pooling: 'mean' },
  'mxbai-embed-large-v1': { dimensions: 1024, pooling: 'cls' },
  'snowflake-arctic-embed-xs': { dimensions: 384, pooling: 'cls' },
  'snowflake-arctic-embed-s': { dimensions: 384, pooling: 'cls' },
  'snowflake-arctic-embed-m': { dimensions: 768, pooling: 'cls' },
  'jina-embeddings-v2-small-en': { dimensions: 512, pooling: 'mean' },
  'jina-embeddings-v2-base-en': { dimensions: 768, pooling: 'mean' },
};

/** Looks a model up by its Hub id, or by the last segment of a local directory path. */
export function knownTransformersModel(model: string): KnownTransformersModel | undefined {
  const name =
    model
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop()
      ?.toLowerCase() ?? '';
  return KNOWN_MODELS[name];
}
