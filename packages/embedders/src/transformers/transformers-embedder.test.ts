import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbedderError, ValidationError } from '@engram/core';
import { runEmbedderConformance } from '@engram/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canLoadTransformersModel } from './can-load-transformers-model.js';
import { transformersImportError } from './load-transformers.js';
import { type TinyBertModel, writeTinyBertModel } from './test-fixtures/tiny-bert-model.js';
import { loadTransformersEmbedder, transformersEmbedder } from './transformers-embedder.js';

// No network here (nor for most CI): transformers.js must never try the Hub in these tests.
const transformers = await import('@huggingface/transformers');
transformers.env.allowRemoteModels = false;

const root = await mkdtemp(join(tmpdir(), 'engram-transformers-'));
const tiny: TinyBertModel = await writeTinyBertModel(join(root, 'models'));
afterAll(() => rm(root, { recursive: true, force: true }));

const tinyEmbedder = (options: Parameters<typeof transformersEmbedder>[0] = {}) =>
  transformersEmbedder({
    model: tiny.model,
    localModelPath: tiny.localModelPath,
    localFilesOnly: true,
    dimensions: tiny.dimensions,
    dtype: 'fp32',
    ...options,
  });

const dot = (left: Float32Array | number[], right: Float32Array | number[]) => {
  let sum = 0;
  for (let index = 0; index < left.length; index++) sum += (left[index] ?? 0) * (right[index] ?? 0);
  return sum;
};
const norm = (vector: Float32Array | number[]) => Math.sqrt(dot(vector, vector));

runEmbedderConformance({ name: 'transformers (tiny BERT on disk)', create: () => tinyEmbedder() });

describe('transformersEmbedder', () => {
  const embedder = tinyEmbedder({ maxBatchSize: 4 });
  beforeAll(() => embedder.load());
  afterAll(() => embedder.dispose());

  it('names the model, dtype and non-default settings in its id', () => {
    expect(embedder.id).toBe('transformers:engram-test/tiny-bert:fp32');
    expect(tinyEmbedder({ pooling: 'cls', normalize: false }).id).toBe('transformers:engram-test/tiny-bert:fp32:cls:unnormalized');
    expect(transformersEmbedder().id).toBe('transformers:Xenova/all-MiniLM-L6-v2:q8');
  });

  it('knows the dimensions and pooling of well-known models without loading them', () => {
    expect(transformersEmbedder().dimensions).toBe(384);
    expect(transformersEmbedder({ model: 'BAAI/bge-base-en-v1.5' }).dimensions).toBe(768);
    expect(transformersEmbedder({ model: 'Xenova/bge-small-en-v1.5' }).id).toBe('transformers:Xenova/bge-small-en-v1.5:q8:cls');
    expect(transformersEmbedder({ model: 'Xenova/bge-small-en-v1.5', pooling: 'mean' }).id).toBe(
      'transformers:Xenova/bge-small-en-v1.5:q8',
    );
  });

  it('requires dimensions for a model it does not know, naming the option', () => {
    const attempt = () => transformersEmbedder({ model: 'someone/unknown-model' });
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(/dimensions/);
  });

  it('validates its options', () => {
    expect(() => tinyEmbedder({ dimensions: 0 })).toThrow(/dimensions/);
    expect(() => tinyEmbedder({ maxBatchSize: 1.5 })).toThrow(/maxBatchSize/);
    expect(() => tinyEmbedder({ dtype: 'fp64' as never })).toThrow(/dtype/);
    expect(() => tinyEmbedder({ pooling: 'max' as never })).toThrow(/pooling/);
    expect(() => tinyEmbedder({ model: ' ' })).toThrow(/model/);
  });

  it('returns L2-normalised Float32Array vectors', async () => {
    const vectors = await embedder.embed(['my cat and my dog', 'stock market prices fell']);
    for (const vector of vectors) {
      expect(vector).toBeInstanceOf(Float32Array);
      expect(norm(vector)).toBeCloseTo(1, 5);
    }
  });

  it('is bit-for-bit deterministic across calls and instances', async () => {
    const text = 'rain is expected tomorrow';
    const [first] = await embedder.embed([text]);
    const [second] = await embedder.embed([text]);
    const other = tinyEmbedder();
    const [third] = await other.embed([text]);
    await other.dispose();
    expect(Array.from(second as Float32Array)).toEqual(Array.from(first as Float32Array));
    expect(Array.from(third as Float32Array)).toEqual(Array.from(first as Float32Array));
  });

  it('places texts on one topic closer than texts on different topics', async () => {
    const [cats, puppies, stocks, weather] = (await embedder.embed([
      'my cat chased a mouse',
      'a puppy and a kitten are pets',
      'stock market prices fell sharply',
      'rain and snow are expected tomorrow',
    ])) as Float32Array[];
    const similar = dot(cats as Float32Array, puppies as Float32Array);
    expect(similar).toBeGreaterThan(dot(cats as Float32Array, stocks as Float32Array) + 0.3);
    expect(similar).toBeGreaterThan(dot(cats as Float32Array, weather as Float32Array) + 0.3);
  });

  it('mean-pools only real tokens: padding in a batch does not change a vector', async () => {
    const [short] = await embedder.embed(['cat']);
    const [padded] = await embedder.embed(['cat', 'a much longer text about stock market prices and interest rates']);
    for (let index = 0; index < tiny.dimensions; index++) expect(padded?.[index]).toBeCloseTo(short?.[index] ?? Number.NaN, 6);
  });

  it('splits inputs larger than maxBatchSize and keeps their order', async () => {
    const texts = Array.from({ length: 11 }, (_, index) => ['cat', 'money', 'rain', 'code'][index % 4] as string);
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(11);
    const [cat, money] = await embedder.embed(['cat', 'money']);
    expect(Array.from(vectors[8] as Float32Array)).toEqual(Array.from(cat as Float32Array));
    expect(Array.from(vectors[9] as Float32Array)).toEqual(Array.from(money as Float32Array));
  });

  it('supports cls pooling and unnormalised output', async () => {
    const raw = tinyEmbedder({ pooling: 'cls', normalize: false });
    const [vector] = await raw.embed(['cat']);
    await raw.dispose();
    // The [CLS] vector of the tiny model: 0.1 on axis 5, plus the token-type embedding 0.01.
    expect(Array.from(vector as Float32Array).map((value) => Number(value.toFixed(4)))).toEqual([0, 0, 0, 0, 0, 0.11, 0, 0]);
  });

  it('reports declared dimensions that differ from the model output, with the right number', async () => {
    const wrong = tinyEmbedder({ dimensions: 16 });
    await expect(wrong.embed(['cat'])).rejects.toThrow(/produces 8-dimensional vectors.*Pass dimensions: 8/);
  });

  it('loads the dtype-selected weights file (q8 reads onnx/model_quantized.onnx)', async () => {
    const quantized = tinyEmbedder({ dtype: 'q8' });
    expect(quantized.id).toBe('transformers:engram-test/tiny-bert:q8');
    expect(await quantized.embed(['cat'])).toHaveLength(1);
    await quantized.dispose();
  });

  it('fails with an EmbedderError that explains where it looked when the model is missing', async () => {
    const missing = tinyEmbedder({ model: 'engram-test/absent-model' });
    const error = await missing.embed(['cat']).catch((caught: unknown) => caught);
    expect(EmbedderError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/engram-test\/absent-model/);
    expect((error as Error).message).toMatch(/read from .*absent-model/);
  });

  it('rejects an abort that happens while the model is loading', async () => {
    const fresh = tinyEmbedder();
    const controller = new AbortController();
    const pending = fresh.embed(['cat'], { signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(pending).rejects.toThrow('caller gave up');
    await fresh.dispose();
  });
});

describe('loadTransformersEmbedder', () => {
  const where = { model: tiny.model, localModelPath: tiny.localModelPath, localFilesOnly: true, dtype: 'fp32' as const };

  it('measures the dimensions of a model nobody declared', async () => {
    expect(() => transformersEmbedder(where)).toThrow(/loadTransformersEmbedder/);
    const embedder = await loadTransformersEmbedder(where);
    expect(embedder.dimensions).toBe(tiny.dimensions);
    const [vector] = await embedder.embed(['cat']);
    const [reference] = await tinyEmbedder().embed(['cat']);
    expect(Array.from(vector as Float32Array)).toEqual(Array.from(reference as Float32Array));
    await embedder.dispose();
  });

  it('loads eagerly when the dimensions are declared, and rejects a model that cannot load', async () => {
    const embedder = await loadTransformersEmbedder({ ...where, dimensions: tiny.dimensions });
    expect(embedder.id).toBe('transformers:engram-test/tiny-bert:fp32');
    await embedder.dispose();
    const error = await loadTransformersEmbedder({ ...where, model: 'engram-test/absent-model' }).catch((caught: unknown) => caught);
    expect(EmbedderError.isInstance(error)).toBe(true);
  });
});

describe('canLoadTransformersModel', () => {
  it('is true when the package is installed and every file is on disk', async () => {
    expect(await canLoadTransformersModel({ model: tiny.model, localModelPath: tiny.localModelPath, dtype: 'fp32' })).toBe(true);
    expect(await canLoadTransformersModel({ model: tiny.model, localModelPath: tiny.localModelPath, dtype: 'q8' })).toBe(true);
  });

  it('is false when the weights for the dtype or the model are missing', async () => {
    expect(await canLoadTransformersModel({ model: tiny.model, localModelPath: tiny.localModelPath, dtype: 'fp16' })).toBe(false);
    expect(await canLoadTransformersModel({ model: 'engram-test/absent', localModelPath: tiny.localModelPath })).toBe(false);
  });

  it('finds models in a download cache folder laid out as <cacheDir>/<model>/', async () => {
    expect(await canLoadTransformersModel({ model: tiny.model, cacheDir: tiny.localModelPath, dtype: 'fp32' })).toBe(true);
    expect(await canLoadTransformersModel({ model: tiny.model, cacheDir: join(root, 'empty-cache'), dtype: 'fp32' })).toBe(false);
  });

  it('checks the external weight files a config declares', async () => {
    const copy = await writeTinyBertModel(join(root, 'external'), 'engram-test/external-data');
    const configPath = join(copy.localModelPath, copy.model, 'config.json');
    const { readFile, writeFile } = await import('node:fs/promises');
    const config = JSON.parse(await readFile(configPath, 'utf8'));
    config['transformers.js_config'] = { use_external_data_format: true };
    await writeFile(configPath, JSON.stringify(config));
    const probe = { model: copy.model, localModelPath: copy.localModelPath, dtype: 'fp32' as const };
    expect(await canLoadTransformersModel(probe)).toBe(false);
    await writeFile(join(copy.localModelPath, copy.model, 'onnx', 'model.onnx_data'), 'weights');
    expect(await canLoadTransformersModel(probe)).toBe(true);
    await unlink(join(copy.localModelPath, copy.model, 'tokenizer.json'));
    expect(await canLoadTransformersModel(probe)).toBe(false);
  });

  it('a model it approves of really loads offline', async () => {
    const options = { model: tiny.model, cacheDir: tiny.localModelPath, dtype: 'fp32' as const };
    expect(await canLoadTransformersModel(options)).toBe(true);
    const cached = transformersEmbedder({ ...options, dimensions: tiny.dimensions, localFilesOnly: true });
    expect(await cached.embed(['cat'])).toHaveLength(1);
    await cached.dispose();
  });
});

describe('transformersImportError', () => {
  it('names the npm install command when the package is missing', async () => {
    // The error Node itself gives when @huggingface/transformers cannot be resolved: imported
    // from a folder with no node_modules above it.
    const { execFileSync } = await import('node:child_process');
    const script =
      "import('@huggingface/transformers').catch((error) => console.log(JSON.stringify({ code: error.code, message: error.message })))";
    const reported = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' }));
    expect(reported.code).toBe('ERR_MODULE_NOT_FOUND');
    const translated = transformersImportError(Object.assign(new Error(reported.message), { code: reported.code }));
    expect(EmbedderError.isInstance(translated)).toBe(true);
    expect(translated.message).toContain('npm install @huggingface/transformers');
  });

  it('keeps other load failures distinct from a missing package', () => {
    const translated = transformersImportError(new Error('libonnxruntime.so.1: cannot open shared object file'));
    expect(translated.message).toContain('failed to load');
    expect(translated.message).not.toContain('not installed');
  });
});
