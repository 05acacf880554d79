export { type CanLoadTransformersModelOptions, canLoadTransformersModel } from './can-load-transformers-model.js';
export { type KnownTransformersModel, knownTransformersModel, type TransformersPooling } from './known-models.js';
export type { TransformersDtype } from './model-files.js';
export {
  DEFAULT_TRANSFORMERS_DTYPE,
  DEFAULT_TRANSFORMERS_MODEL,
  loadTransformersEmbedder,
  type TransformersEmbedder,
  type TransformersEmbedderOptions,
  transformersEmbedder,
} from './transformers-embedder.js';
