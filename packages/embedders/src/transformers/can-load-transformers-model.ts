import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadTransformers, type TransformersEnvironment } from './load-transformers.js';
import { onnxFileName, requiredModelFiles } from './model-files.js';
import { DEFAULT_TRANSFORMERS_DTYPE, DEFAULT_TRANSFORMERS_MODEL, type TransformersEmbedderOptions } from './transformers-embedder.js';

export type CanLoadTransformersModelOptions = Pick<
  TransformersEmbedderOptions,
  'model' | 'dtype' | 'cacheDir' | 'localModelPath' | 'revision'
>;

/** transformers.js treats a string matching this as a Hub id, anything else as a path. */
const HUB_ID = /^(\b[\w\-.]+\b\/)?\b[\w\-.]{1,96}\b$/;

function isHubId(model: string): boolean {
  return HUB_ID.test(model) && !model.includes('..') && !model.includes('--');
}

async function isNonEmptyFile(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    return info.isFile() && info.size > 0;
  } catch {
    return false;
  }
}

/** The folders transformers.js would read a model's files from, in its own order. */
function candidateFolders(options: CanLoadTransformersModelOptions, environment: TransformersEnvironment): string[] {
  const model = options.model ?? DEFAULT_TRANSFORMERS_MODEL;
  if (options.localModelPath !== undefined) return [resolve(options.localModelPath, model)];
  if (!isHubId(model)) return environment.allowLocalModels ? [resolve(model)] : [];
  const folders: string[] = [];
  const cacheDir = options.cacheDir ?? environment.cacheDir;
  if (environment.useFSCache && cacheDir) {
    const revision = options.revision ?? 'main';
    folders.push(revision === 'main' ? join(resolve(cacheDir), model) : join(resolve(cacheDir), model, revision));
  }
  if (environment.allowLocalModels) folders.push(join(environment.localModelPath, model));
  return folders;
}

/**
 * True when a `transformersEmbedder` with these options can load its model right now without a
 * network: @huggingface/transformers is installed and loads, and every file the model needs
 * (config, tokenizer, ONNX weights for the dtype, external weight data if the config asks for
 * it) is in `localModelPath`, the cache or transformers.js' local model folder. It looks at files
 * only (a few `stat` calls, no model load), so it answers in milliseconds once the package is
 * imported; a corrupt file is only found by loading. Never throws.
 */
export async function canLoadTransformersModel(options: CanLoadTransformersModelOptions = {}): Promise<boolean> {
  let environment: TransformersEnvironment;
  try {
    environment = (await loadTransformers()).env;
  } catch {
    return false;
  }
  const dtype = options.dtype ?? DEFAULT_TRANSFORMERS_DTYPE;
  const files = requiredModelFiles(dtype);
  for (const folder of candidateFolders(options, environment)) {
    const present = await Promise.all(files.map((file) => isNonEmptyFile(join(folder, file))));
    if (!present.every(Boolean)) continue;
    const externalData = await externalDataFiles(join(folder, 'config.json'), dtype);
    if (externalData === undefined) continue;
    const dataPresent = await Promise.all(externalData.map((file) => isNonEmptyFile(join(folder, file))));
    if (dataPresent.every(Boolean)) return true;
  }
  return false;
}

/**
 * Large models keep their weights beside the .onnx file (`model.onnx_data`, `_data_1`…), as
 * declared by `transformers.js_config.use_external_data_format` in config.json. Undefined when
 * config.json cannot be parsed.
 */
async function externalDataFiles(configPath: string, dtype: Parameters<typeof onnxFileName>[0]): Promise<string[] | undefined> {
  let config: { 'transformers.js_config'?: { use_external_data_format?: unknown } };
  try {
    config = JSON.parse(await readFile(configPath, 'utf8'));
  } catch {
    return undefined;
  }
  const setting = config['transformers.js_config']?.use_external_data_format;
  const onnxFile = onnxFileName(dtype);
  const baseName = onnxFile.slice('onnx/'.length);
  let chunks: unknown = setting;
  if (setting !== null && typeof setting === 'object') {
    const perFile = setting as Record<string, unknown>;
    chunks = perFile[baseName] ?? perFile.model ?? false;
  }
  const count = chunks === true ? 1 : typeof chunks === 'number' ? chunks : 0;
  return Array.from({ length: count }, (_, index) => `${onnxFile}_data${index === 0 ? '' : `_${index}`}`);
}
