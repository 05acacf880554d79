import { type Embedder, type EmbedderFactory, hashEmbedder, ValidationError } from '@engram/core';
import {
  canLoadTransformersModel,
  DEFAULT_TRANSFORMERS_MODEL,
  knownTransformersModel,
  loadTransformersEmbedder,
  type TransformersDtype,
  transformersEmbedder,
} from '@engram/embedders/transformers';

export interface DefaultEmbedderOptions {
  /**
   * What to use for a new store: 'auto' (the local transformers model when it can be loaded
   * offline, else the hash embedder), 'hash', 'transformers', or 'transformers:<model id>'.
   * Default: the ENGRAM_EMBEDDER environment variable, else 'auto'.
   */
  choice?: string;
  /** Where the one-line notice about the choice goes. */
  log?: (message: string) => void;
}

const HASH_ID = /^hash-v1-(\d+)$/;
const TRANSFORMERS_ID = /^transformers:(.+):(fp32|fp16|q8|int8|uint8|q4|bnb4|q4f16)(?::(cls|last_token))?(:unnormalized)?$/;

/** Rebuilds the embedder a store records, so a store keeps its embedder across restarts. */
function fromStoredId(id: string, dimensions: number): Embedder {
  const hash = HASH_ID.exec(id);
  if (hash) return hashEmbedder({ dimensions: Number(hash[1]) });
  const transformers = TRANSFORMERS_ID.exec(id);
  if (transformers) {
    const [, model, dtype, pooling, unnormalized] = transformers;
    return transformersEmbedder({
      model: model as string,
      dtype: dtype as TransformersDtype,
      dimensions,
      pooling: pooling === 'cls' || pooling === 'last_token' ? pooling : 'mean',
      ...(unnormalized ? { normalize: false } : {}),
    });
  }
  throw new ValidationError([
    {
      field: 'embedder',
      message: `this store was built with embedder "${id}" (${dimensions} dimensions), which Engram cannot rebuild on its own: pass the same embedder, e.g. new Memory({ embedder: openaiEmbedder({ ... }) })`,
    },
  ]);
}

/** Parses ENGRAM_EMBEDDER-style choices into an embedder for a new store. */
async function forNewStore(choice: string, log: (message: string) => void): Promise<Embedder> {
  const normalised = choice.trim();
  if (normalised === 'hash') return hashEmbedder();
  if (normalised === 'transformers' || normalised.startsWith('transformers:')) {
    const model = normalised === 'transformers' ? DEFAULT_TRANSFORMERS_MODEL : normalised.slice('transformers:'.length);
    // A model Engram does not know the size of is loaded once to measure it.
    return knownTransformersModel(model) ? transformersEmbedder({ model }) : loadTransformersEmbedder({ model });
  }
  if (normalised !== 'auto' && normalised !== '') {
    throw new ValidationError([
      { field: 'ENGRAM_EMBEDDER', message: `"${choice}" is not one of auto, hash, transformers, transformers:<model id>` },
    ]);
  }
  if (await canLoadTransformersModel({ model: DEFAULT_TRANSFORMERS_MODEL })) {
    log(`Using the local ${DEFAULT_TRANSFORMERS_MODEL} model for embeddings.`);
    return transformersEmbedder({ model: DEFAULT_TRANSFORMERS_MODEL });
  }
  log(
    `Using the offline hash embedder (no local ${DEFAULT_TRANSFORMERS_MODEL} model found). ` +
      'For semantic search, install @huggingface/transformers and download the model, or pass an embedder.',
  );
  return hashEmbedder();
}

/**
 * The embedder factory `new Memory()` uses: a store keeps the embedder it was built with; a new
 * store gets the local transformers model when it loads offline, else the hash embedder.
 */
export function defaultEmbedder(options: DefaultEmbedderOptions = {}): EmbedderFactory {
  const log = options.log ?? ((message: string) => console.error(`[engram] ${message}`));
  return async ({ stored }) => {
    if (stored) return fromStoredId(stored.id, stored.dimensions);
    return forNewStore(options.choice ?? process.env.ENGRAM_EMBEDDER ?? 'auto', log);
  };
}
