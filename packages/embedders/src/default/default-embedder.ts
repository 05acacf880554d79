import { type Embedder, type EmbedderFactory, hashEmbedder, ValidationError } from '@engram/core';

/**
 * The embedder `new Memory()` (engram) and `engram-mcp` use unless given one.
 *
 * - A store keeps the embedder it was built with: its recorded id is rebuilt (`hash-v1-<d>`,
 *   `transformers:<model>:<dtype>[:pooling][:unnormalized]`).
 * - A new store gets `choice`: 'auto' (the local transformers model when it loads offline, else
 *   the hash embedder, saying which in one line), 'hash', 'transformers' or 'transformers:<model>'.
 *
 * The transformers module is imported only when it is needed, so start-up stays fast.
 */
const HASH_ID = /^hash-v1-(\d+)$/;
const TRANSFORMERS_ID = /^transformers:(.+):(fp32|fp16|q8|int8|uint8|q4|bnb4|q4f16)(?::(cls|last_token))?(:unnormalized)?$/;

type TransformersModule = typeof import('../transformers/index.js');

async function loadTransformersModule(): Promise<TransformersModule> {
  return import('../transformers/index.js');
}

async function fromStoredId(id: string, dimensions: number): Promise<Embedder> {
  const hash = HASH_ID.exec(id);
  if (hash) return hashEmbedder({ dimensions: Number(hash[1]) });
  const transformers = TRANSFORMERS_ID.exec(id);
  if (transformers) {
    const [, model, dtype, pooling, unnormalized] = transformers;
    const { transformersEmbedder } = await loadTransformersModule();
    return transformersEmbedder({
      model: model as string,
      dtype: dtype as import('../transformers/index.js').TransformersDtype,
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

async function forNewStore(choice: string, log: (message: string) => void): Promise<Embedder> {
  const normalised = choice.trim();
  if (normalised === 'hash') return hashEmbedder();
  if (normalised === 'transformers' || normalised.startsWith('transformers:')) {
    const { DEFAULT_TRANSFORMERS_MODEL, knownTransformersModel, loadTransformersEmbedder, transformersEmbedder } =
      await loadTransformersModule();
    const model = normalised === 'transformers' ? DEFAULT_TRANSFORMERS_MODEL : normalised.slice('transformers:'.length);
    return knownTransformersModel(model) ? transformersEmbedder({ model }) : loadTransformersEmbedder({ model });
  }
  if (normalised !== 'auto' && normalised !== '') {
    throw new ValidationError([
      { field: 'ENGRAM_EMBEDDER', message: `"${choice}" is not one of auto, hash, transformers, transformers:<model id>` },
    ]);
  }
  const { DEFAULT_TRANSFORMERS_MODEL, canLoadTransformersModel, transformersEmbedder } = await loadTransformersModule();
  if (await canLoadTransformersModel({ model: DEFAULT_TRANSFORMERS_MODEL })) {
    log(`Using the local ${DEFAULT_TRANSFORMERS_MODEL} model for embeddings.`);
    return transformersEmbedder({ model: DEFAULT_TRANSFORMERS_MODEL });
  }
  log(
    `Using the offline hash embedder (no local ${DEFAULT_TRANSFORMERS_MODEL} model found). ` +
      'For semantic search, install @huggingface/transformers and download the model, or set ENGRAM_EMBEDDER.',
  );
  return hashEmbedder();
}

export interface DefaultEmbedderOptions {
  /** 'auto' | 'hash' | 'transformers' | 'transformers:<model id>'. Default: ENGRAM_EMBEDDER, else 'auto'. */
  choice?: string;
  /** Where the one-line notice about the choice goes. Default: stderr. */
  log?: (message: string) => void;
}

export function defaultEmbedder(options: DefaultEmbedderOptions = {}): EmbedderFactory {
  const log = options.log ?? ((message: string) => console.error(`[engram] ${message}`));
  return async ({ stored }) => {
    if (stored) return fromStoredId(stored.id, stored.dimensions);
    return forNewStore(options.choice ?? process.env.ENGRAM_EMBEDDER ?? 'auto', log);
  };
}
