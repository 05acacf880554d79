import { EmbedderError } from '@engram/core';

/**
 * The parts of @huggingface/transformers this package uses, typed structurally so that its
 * types (and the package itself) stay optional.
 */
export interface TransformersEnvironment {
  allowLocalModels: boolean;
  allowRemoteModels: boolean;
  localModelPath: string;
  cacheDir: string | null;
  useFSCache: boolean;
}

export interface TransformersTensor {
  type: string;
  dims: number[];
  data: ArrayLike<number>;
  to?(type: 'float32'): TransformersTensor;
}

export interface FeatureExtractionPipeline {
  (texts: string[], options: { pooling: string; normalize: boolean }): Promise<TransformersTensor>;
  dispose(): Promise<void>;
}

export interface PipelineOptions {
  dtype: string;
  cache_dir?: string;
  local_files_only: boolean;
  revision?: string;
}

export interface TransformersModule {
  env: TransformersEnvironment;
  pipeline(task: 'feature-extraction', model: string, options: PipelineOptions): Promise<FeatureExtractionPipeline>;
}

export const TRANSFORMERS_PACKAGE = '@huggingface/transformers';

/** Turns a failed `import()` into an error that says what to install. */
export function transformersImportError(error: unknown): EmbedderError {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(TRANSFORMERS_PACKAGE);
  if (missing) {
    return new EmbedderError(
      `The transformers embedder needs the optional package ${TRANSFORMERS_PACKAGE}, which is not installed. ` +
        `Run \`npm install ${TRANSFORMERS_PACKAGE}\`, or use another embedder.`,
      { cause: error },
    );
  }
  return new EmbedderError(
    `${TRANSFORMERS_PACKAGE} is installed but failed to load: ${message}. ` +
      'Its native ONNX runtime (onnxruntime-node) may be missing for this platform; reinstalling it usually helps.',
    { cause: error },
  );
}

let loading: Promise<TransformersModule> | undefined;

/**
 * Imports @huggingface/transformers on first use (it pulls in a native runtime, so nothing
 * loads it until an embedding is needed). A failed import is not remembered, so installing the
 * package and trying again works without a restart.
 */
export function loadTransformers(): Promise<TransformersModule> {
  loading ??= import('@huggingface/transformers').then(
    (module) => module as unknown as TransformersModule,
    (error: unknown) => {
      loading = undefined;
      throw transformersImportError(error);
    },
  );
  return loading;
}
