import { resolve } from 'node:path';
import type { Embedder } from '@engram/core';
import { EmbedderError, ValidationError } from '@engram/core';
import { knownTransformersModel, type TransformersPooling } from './known-models.js';
import { type FeatureExtractionPipeline, loadTransformers, type PipelineOptions, type TransformersTensor } from './load-transformers.js';
import { DTYPES, onnxFileName, type TransformersDtype } from './model-files.js';

const POOLINGS: readonly TransformersPooling[] = ['mean', 'cls', 'last_token'];

export interface TransformersEmbedderOptions {
  /**
   * A Hugging Face Hub model id with ONNX weights (default 'Xenova/all-MiniLM-L6-v2'), or the
   * name of a model folder under `localModelPath`.
   */
  model?: string;
  /**
   * Which ONNX weights to load. Default 'q8' (onnx/model_quantized.onnx: a quarter of the size of
   * fp32 with nearly the same quality). 'fp32' loads onnx/model.onnx.
   */
  dtype?: TransformersDtype;
  /** Where downloaded models are cached. Default: transformers.js' own (`env.cacheDir`). */
  cacheDir?: string;
  /**
   * A folder holding models as `<localModelPath>/<model>/config.json, tokenizer.json, onnx/…`.
   * Such a model is read from there and never downloaded; the embedder id stays
   * `transformers:<model>:…`, so the folder can move without invalidating a store.
   */
  localModelPath?: string;
  /** Never download: fail if the model is not in `localModelPath` or the cache. Default false. */
  localFilesOnly?: boolean;
  /** Hub revision (branch, tag or commit) to download. Default 'main'. */
  revision?: string;
  /**
   * How token vectors become one text vector. Default: what the model was trained with for
   * well-known models (bge, mxbai and arctic use 'cls'), else 'mean'.
   */
  pooling?: TransformersPooling;
  /** L2-normalise vectors (cosine similarity becomes a dot product). Default true. */
  normalize?: boolean;
  /**
   * Size of the vectors. Known for well-known models; required by `transformersEmbedder` for
   * others (it never loads a model to find out, so constructing it stays free), measured by
   * `loadTransformersEmbedder`. Checked against the model's output on every embed.
   */
  dimensions?: number;
  /** Most texts per forward pass (texts in one pass are padded to the longest). Default 32. */
  maxBatchSize?: number;
}

export interface TransformersEmbedder extends Embedder {
  readonly model: string;
  readonly dtype: TransformersDtype;
  /** Loads the model now instead of on the first `embed` (e.g. to warm up at start-up). */
  load(): Promise<void>;
  /** Releases the ONNX session; a later `embed` loads the model again. */
  dispose(): Promise<void>;
}

export const DEFAULT_TRANSFORMERS_MODEL = 'Xenova/all-MiniLM-L6-v2';
export const DEFAULT_TRANSFORMERS_DTYPE: TransformersDtype = 'q8';

function positiveInteger(field: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value <= 0)) {
    throw new ValidationError([{ field, message: `must be a positive integer, got ${value}` }]);
  }
}

/** The path handed to transformers.js: a local folder when `localModelPath` is set, else the Hub id. */
export function resolveModelLocation(model: string, localModelPath: string | undefined): string {
  // An absolute path never parses as a Hub id, so transformers.js reads it from disk and never
  // tries to download it, whatever `env.localModelPath` says.
  return localModelPath === undefined ? model : resolve(localModelPath, model);
}

interface Settings {
  model: string;
  dtype: TransformersDtype;
  pooling: TransformersPooling;
  normalize: boolean;
  dimensions: number | undefined;
  maxBatchSize: number;
  /** What transformers.js is given: the Hub id, or an absolute folder under localModelPath. */
  location: string;
  pipelineOptions: PipelineOptions;
  localModelPath: string | undefined;
  cacheDir: string | undefined;
}

function resolveSettings(options: TransformersEmbedderOptions): Settings {
  const model = options.model ?? DEFAULT_TRANSFORMERS_MODEL;
  if (typeof model !== 'string' || model.trim() === '') {
    throw new ValidationError([{ field: 'model', message: 'must be a non-empty model id, e.g. "Xenova/all-MiniLM-L6-v2"' }]);
  }
  const dtype = options.dtype ?? DEFAULT_TRANSFORMERS_DTYPE;
  if (!DTYPES.includes(dtype)) {
    throw new ValidationError([{ field: 'dtype', message: `must be one of ${DTYPES.join(', ')}, got ${JSON.stringify(dtype)}` }]);
  }
  const known = knownTransformersModel(model);
  const pooling = options.pooling ?? known?.pooling ?? 'mean';
  if (!POOLINGS.includes(pooling)) {
    throw new ValidationError([{ field: 'pooling', message: `must be one of ${POOLINGS.join(', ')}, got ${JSON.stringify(pooling)}` }]);
  }
  positiveInteger('dimensions', options.dimensions);
  positiveInteger('maxBatchSize', options.maxBatchSize);
  const cacheDir = options.cacheDir === undefined ? undefined : resolve(options.cacheDir);
  return {
    model,
    dtype,
    pooling,
    normalize: options.normalize ?? true,
    dimensions: options.dimensions ?? known?.dimensions,
    maxBatchSize: options.maxBatchSize ?? 32,
    location: resolveModelLocation(model, options.localModelPath),
    pipelineOptions: {
      dtype,
      local_files_only: options.localFilesOnly ?? false,
      ...(cacheDir === undefined ? {} : { cache_dir: cacheDir }),
      ...(options.revision === undefined ? {} : { revision: options.revision }),
    },
    localModelPath: options.localModelPath,
    cacheDir,
  };
}

/** Creates the feature-extraction pipeline, turning any failure into an actionable EmbedderError. */
async function openPipeline(settings: Settings): Promise<FeatureExtractionPipeline> {
  const transformers = await loadTransformers();
  try {
    return await transformers.pipeline('feature-extraction', settings.location, settings.pipelineOptions);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const where =
      settings.localModelPath === undefined
        ? `It is downloaded from the Hugging Face Hub on first use${settings.pipelineOptions.local_files_only ? ' (but localFilesOnly is set)' : ''} ` +
          `and cached in ${settings.cacheDir ?? transformers.env.cacheDir ?? "transformers.js' cache directory"}`
        : `It is read from ${settings.location}`;
    throw new EmbedderError(
      `Could not load transformers model ${JSON.stringify(settings.model)} (dtype ${settings.dtype}): ${reason}. ${where}. ` +
        `Check the model id and that its files exist (dtype ${settings.dtype} needs ${onnxFileName(settings.dtype)}); ` +
        'offline, download the model once while online, or copy its folder under localModelPath.',
      { cause: error },
    );
  }
}

function unknownDimensions(model: string): ValidationError {
  return new ValidationError([
    {
      field: 'dimensions',
      message:
        `the size of ${model}'s vectors is not known to Engram; pass it, e.g. transformersEmbedder({ model: ${JSON.stringify(model)}, dimensions: 768 }), ` +
        'or use `await loadTransformersEmbedder(options)`, which loads the model and measures it',
    },
  ]);
}

function createEmbedder(settings: Settings & { dimensions: number }, preloaded?: FeatureExtractionPipeline): TransformersEmbedder {
  const { model, dtype, pooling, normalize, dimensions, maxBatchSize } = settings;
  // The id names everything that changes the vectors, and nothing about where the files live.
  const id = `transformers:${model}:${dtype}${pooling === 'mean' ? '' : `:${pooling}`}${normalize ? '' : ':unnormalized'}`;

  let loading: Promise<FeatureExtractionPipeline> | undefined = preloaded ? Promise.resolve(preloaded) : undefined;
  const getPipeline = (): Promise<FeatureExtractionPipeline> => {
    if (loading === undefined) {
      const current = openPipeline(settings);
      loading = current;
      // A failed load is forgotten, so a later call can retry (e.g. once the network is back).
      current.catch(() => {
        if (loading === current) loading = undefined;
      });
    }
    return loading;
  };

  const runBatch = async (extractor: FeatureExtractionPipeline, texts: string[]): Promise<Float32Array[]> => {
    const output = await extractor(texts, { pooling, normalize });
    const { rows, columns, data } = readMatrix(output, texts.length, model);
    if (columns !== dimensions) {
      throw new EmbedderError(
        `transformers model ${model} produces ${columns}-dimensional vectors, but the embedder was configured with dimensions: ${dimensions}. ` +
          `Pass dimensions: ${columns}.`,
      );
    }
    const vectors: Float32Array[] = [];
    for (let row = 0; row < rows; row++) {
      const vector = new Float32Array(columns);
      for (let column = 0; column < columns; column++) vector[column] = data[row * columns + column] ?? Number.NaN;
      vectors.push(vector);
    }
    return vectors;
  };

  return {
    specificationVersion: 'v1',
    id,
    dimensions,
    maxBatchSize,
    model,
    dtype,

    async embed(texts, embedOptions) {
      const signal = embedOptions?.signal;
      signal?.throwIfAborted();
      if (texts.length === 0) return [];
      const extractor = await abortable(getPipeline(), signal);
      const vectors: Float32Array[] = [];
      // Core normally splits batches already; splitting here too keeps direct callers safe.
      for (let start = 0; start < texts.length; start += maxBatchSize) {
        signal?.throwIfAborted();
        // ONNX Runtime cannot stop a forward pass: an abort rejects at once and the pass finishes
        // in the background.
        vectors.push(...(await abortable(runBatch(extractor, texts.slice(start, start + maxBatchSize)), signal)));
      }
      return vectors;
    },

    async load() {
      await getPipeline();
    },

    async dispose() {
      const current = loading;
      loading = undefined;
      if (current) await (await current.catch(() => undefined))?.dispose();
    },
  };
}

/** Checks a pooled output is [texts, columns] and returns it as float32 data. */
function readMatrix(tensor: TransformersTensor, count: number, model: string): { rows: number; columns: number; data: ArrayLike<number> } {
  const output = tensor.type !== 'float32' && tensor.to ? tensor.to('float32') : tensor;
  const [rows, columns] = output.dims;
  if (output.dims.length !== 2 || rows !== count || columns === undefined || columns < 1) {
    throw new EmbedderError(
      `transformers model ${model} returned a tensor of shape [${output.dims.join(', ')}] for ${count} texts; expected [${count}, dimensions]. ` +
        'Is it a sentence-embedding (feature-extraction) model?',
    );
  }
  return { rows, columns, data: output.data };
}

/**
 * A local embedder running a sentence-embedding model through ONNX Runtime with
 * @huggingface/transformers (an optional peer dependency, imported on the first `embed`).
 * Constructing it does no I/O: the model is downloaded (once, into the cache) and loaded on the
 * first `embed` or `load()`. So `dimensions` must be known up front: from the option, or from
 * the table of well-known models; for any other model use `loadTransformersEmbedder`.
 */
export function transformersEmbedder(options: TransformersEmbedderOptions = {}): TransformersEmbedder {
  const settings = resolveSettings(options);
  const { dimensions } = settings;
  if (dimensions === undefined) throw unknownDimensions(settings.model);
  return createEmbedder({ ...settings, dimensions });
}

/**
 * Like `transformersEmbedder`, but loads the model before returning, so it works for any model:
 * when `dimensions` is neither given nor known, it embeds one probe text and uses the size it
 * gets. Rejects with an EmbedderError when the model cannot be loaded.
 */
export async function loadTransformersEmbedder(options: TransformersEmbedderOptions = {}): Promise<TransformersEmbedder> {
  const settings = resolveSettings(options);
  if (settings.dimensions !== undefined) {
    const embedder = createEmbedder({ ...settings, dimensions: settings.dimensions });
    await embedder.load();
    return embedder;
  }
  const extractor = await openPipeline(settings);
  try {
    const probe = readMatrix(
      await extractor(['dimension probe'], { pooling: settings.pooling, normalize: settings.normalize }),
      1,
      settings.model,
    );
    return createEmbedder({ ...settings, dimensions: probe.columns }, extractor);
  } catch (error) {
    await extractor.dispose();
    throw error;
  }
}

/** Resolves or rejects with `work`, or rejects with the signal's reason as soon as it aborts. */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  signal.throwIfAborted();
  return new Promise<T>((resolvePromise, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolvePromise(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
